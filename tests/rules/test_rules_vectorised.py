"""Vectorised evaluation of 100k rows equals a plain row-by-row reference implementation.

The reference below is written from the rule text, independently of ``calibrate.rules``: one
firm at a time, plain ``if`` chains and Python floats. Random rows are drawn from grids that
put many values exactly on band edges, with missing values sprinkled in.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from calibrate.rules import hnte, innovative_sme, tech_sme

TOL = 1e-9
N_ROWS = 100_000
N_CHECK = 200


# --- reference implementation -------------------------------------------------------------


def nan(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def ge(x: float, t: float) -> bool:
    return x >= t - TOL


def half_up(x: float) -> int:
    return math.floor(x + 0.5 + TOL)


def within(q: float, lo: int, hi: int) -> int:
    return lo + half_up(q * (hi - lo))


def staff_share(r: dict) -> tuple[float | None, bool]:
    st, emp, given = r.get("st_staff"), r.get("employees"), r.get("st_staff_share")
    if not nan(st) and not nan(emp) and emp > 0:
        return st / emp, False
    if not nan(given):
        return given, False
    undefined = not nan(st) and not nan(emp) and emp <= 0
    return None, not undefined


def ref_hnte(r: dict, q: float) -> dict:
    failed = []

    def check(cid: str, ok: bool, missing: bool) -> None:
        if missing:
            failed.append(cid + ":missing")
        elif not ok:
            failed.append(cid)

    age = r["year"] - r["founded_year"]
    check("registered", not nan(age) and ge(age, 1), nan(age))
    inv, c2 = r["invention_patents_owned"], r["class2_ip_owned"]
    check("core_ip", not nan(inv) and not nan(c2) and ge(inv + c2, 1), nan(inv) or nan(c2))
    field = r["in_supported_field"]
    check("supported_field", not nan(field) and field != 0, nan(field))
    share, share_missing = staff_share(r)
    check("st_staff_share", share is not None and ge(share, 0.10), share_missing)
    rd3, rev3, rev = r["rd_expense_3y"], r["revenue_3y"], r["revenue"]
    rd_missing = nan(rd3) or nan(rev3) or nan(rev)
    if rd_missing:
        check("rd_ratio", False, True)
    else:
        need = 0.05 if rev <= 5000 + TOL else (0.04 if rev <= 20000 + TOL else 0.03)
        check("rd_ratio", rev3 > 0 and ge(rd3 / rev3, need), False)
    dom = r["rd_domestic_share"]
    check("rd_domestic_share", not nan(dom) and ge(dom, 0.6), nan(dom))
    hi = r["hitech_product_revenue"]
    if nan(hi) or nan(rev):
        check("hitech_revenue_share", False, True)
    else:
        check("hitech_revenue_share", rev > 0 and ge(hi / rev, 0.6), False)
    for cid, flag in [
        ("no_safety_accident", "major_safety_accident"),
        ("no_env_violation", "env_violation"),
    ]:
        check(cid, r[flag] == 0, nan(r[flag]))

    inv0 = 0.0 if nan(inv) else inv
    c20 = 0.0 if nan(c2) else c2
    adv = half_up(8 * q)
    core = half_up(8 * q)
    if ge(inv0, 1):
        count = within(q, 7, 8)
    elif ge(c20, 5):
        count = within(q, 5, 6)
    elif ge(c20, 3):
        count = within(q, 3, 4)
    elif ge(c20, 1):
        count = within(q, 1, 2)
    else:
        count = 0
    any_ip = ge(inv0 + c20, 1)
    transfer = r["ip_transfer_only"]
    if not any_ip:
        acq = 0
    elif transfer == 0:
        acq = within(q, 1, 6)
    else:
        acq = within(q, 1, 3)
    std = 2 if (not nan(r["standards_drafted"]) and r["standards_drafted"] > 0) else 0
    ip = min(30, adv + core + count + acq + std)

    conv_n = r["conversions_3y"]
    conv = 0
    if not nan(conv_n):
        for k, lo, hi_ in [(5, 25, 30), (4, 19, 24), (3, 13, 18), (2, 7, 12), (1, 1, 6)]:
            if ge(conv_n / 3, k):
                conv = within(q, lo, hi_)
                break
    rd_org = half_up(20 * q)

    def growth(x3: float, x2: float, x1: float) -> int:
        x2 = 0.0 if nan(x2) else x2
        x1 = 0.0 if nan(x1) else x1
        if nan(x3) or x2 <= 0:
            return 0
        g = 0.5 * (x2 / x1 + x3 / x2) - 1 if x1 > 0 else x3 / x2 - 1
        for t, lo, hi_ in [(0.35, 9, 10), (0.25, 7, 8), (0.15, 5, 6), (0.05, 3, 4)]:
            if ge(g, t):
                return within(q, lo, hi_)
        return within(q, 1, 2) if g > TOL else 0

    na = growth(r["net_assets"], r["net_assets_lag1"], r["net_assets_lag2"])
    sales = growth(r["revenue"], r["revenue_lag1"], r["revenue_lag2"])
    score = ip + conv + rd_org + na + sales
    score_missing = (
        nan(inv)
        or nan(c2)
        or (nan(transfer) and any_ip)
        or nan(r["standards_drafted"])
        or nan(conv_n)
        or nan(r["net_assets"])
        or nan(r["revenue"])
    )
    if not ge(score, 71):
        failed.append("score:missing" if score_missing else "score")
    items = {
        "ip_advancement": adv,
        "ip_core_support": core,
        "ip_count": count,
        "ip_acquisition": acq,
        "ip_standards": std,
        "conversion": conv,
        "rd_org": rd_org,
        "net_asset_growth": na,
        "sales_growth": sales,
    }
    return {"passed": not failed, "score": float(score), "failed": ";".join(failed), **items}


def ref_tech_sme(r: dict) -> dict:
    failed = []
    for cid, column, cap in [
        ("size_employees", "employees", 500),
        ("size_revenue", "revenue", 20000),
        ("size_assets", "total_assets", 20000),
    ]:
        if nan(r[column]):
            failed.append(cid + ":missing")
        elif r[column] > cap + TOL:
            failed.append(cid)
    for cid, flag in [
        ("no_dishonest_debtor", "dishonest_debtor"),
        ("no_research_misconduct", "research_misconduct"),
    ]:
        if nan(r[flag]):
            failed.append(cid + ":missing")
        elif r[flag] != 0:
            failed.append(cid)

    share, share_missing = staff_share(r)
    st = 0
    if share is not None:
        for t, p in [(0.30, 20), (0.25, 16), (0.20, 12), (0.15, 8), (0.10, 4)]:
            if ge(share, t):
                st = p
                break
    rd, rev, cost, given = r["rd_expense"], r["revenue"], r["total_cost"], r["rd_intensity"]
    if not nan(given):
        sales_ratio, sales_missing = given, False
    elif not nan(rd) and not nan(rev) and rev > 0:
        sales_ratio, sales_missing = rd / rev, False
    else:
        sales_ratio, sales_missing = None, not (not nan(rd) and not nan(rev) and rev <= 0)
    cost_ratio = rd / cost if (not nan(rd) and not nan(cost) and cost > 0) else None

    def pts(x: float | None, edges: list[float]) -> int:
        if x is None:
            return 0
        for t, p in zip(reversed(edges), [50, 40, 30, 20, 10], strict=True):
            if ge(x, t):
                return p
        return 0

    rd_pts = max(
        pts(sales_ratio, [0.02, 0.03, 0.04, 0.05, 0.06]),
        pts(cost_ratio, [0.10, 0.15, 0.20, 0.25, 0.30]),
    )
    inv, c2 = r["invention_patents_owned"], r["class2_ip_owned"]
    if not nan(inv) and ge(inv, 1):
        ip = 30
    else:
        c = 0.0 if nan(c2) else c2
        ip = 24 if ge(c, 4) else 18 if ge(c, 3) else 12 if ge(c, 2) else 6 if ge(c, 1) else 0
    score = st + rd_pts + ip
    score_missing = share_missing or sales_missing or nan(rd) or nan(cost) or nan(inv) or nan(c2)

    routes = []
    for name in ["hte_valid", "national_st_award", "led_standard", "platforms_provincial"]:
        v = r[name]
        if not nan(v) and (v > 0 if name == "platforms_provincial" else v != 0):
            routes.append(name)
    order = ["hte_valid", "national_st_award", "platforms_provincial", "led_standard"]
    routes.sort(key=order.index)
    score_ok = st > 0 and ge(score, 60)
    if not routes:
        if st == 0:
            failed.append("st_staff_item:missing" if share_missing else "st_staff_item")
        if not ge(score, 60):
            failed.append("score:missing" if score_missing else "score")
    passed = not failed
    route = "" if not passed else (routes[0] if routes else "score")
    assert passed == (not failed) and (passed <= (bool(routes) or score_ok))
    return {
        "passed": passed,
        "score": float(score),
        "failed": ";".join(failed),
        "route": route,
        "st_staff": st,
        "rd": rd_pts,
        "ip": ip,
    }


def ref_innovative_sme(r: dict) -> dict:
    inv, c2, transfer, se = (
        r["invention_patents_owned"],
        r["class2_ip_owned"],
        r["ip_transfer_only"],
        r["strategic_emerging"],
    )
    class1 = not nan(inv) and ge(inv, 1)
    if class1 and se == 2:
        ip = 20
    elif class1 and transfer == 0:
        ip = 15
    elif class1:
        ip = 10
    elif not nan(c2) and ge(c2, 1):
        ip = 5
    else:
        ip = 0
    given, rd, rev = r["rd_intensity"], r.get("rd_expense"), r.get("revenue")
    if not nan(given):
        x, rd_missing = given, False
    elif not nan(rd) and not nan(rev) and rev > 0:
        x, rd_missing = rd / rev, False
    else:
        x, rd_missing = None, not (not nan(rd) and not nan(rev) and rev <= 0)
    if x is None:
        rd_pts = 0
    elif x > 0.05 + TOL:
        rd_pts = 20
    elif ge(x, 0.03):
        rd_pts = 15
    elif ge(x, 0.02):
        rd_pts = 10
    elif ge(x, 0.01):
        rd_pts = 5
    else:
        rd_pts = 0
    g = r["revenue_growth"]
    if nan(g):
        g_pts = 0
    elif g > 0.15 + TOL:
        g_pts = 20
    elif ge(g, 0.10):
        g_pts = 15
    elif ge(g, 0.05):
        g_pts = 10
    elif ge(g, 0.0):
        g_pts = 5
    else:
        g_pts = 0
    d = r["debt_ratio"]
    d_pts = 0 if nan(d) else (10 if d < 0.55 - TOL else (5 if d <= 0.75 + TOL else 0))
    se_pts = 0 if nan(se) else (10 if ge(se, 2) else (5 if ge(se, 1) else 0))
    m = r["main_business_share"]
    if nan(m):
        m_pts = 0
    elif m > 0.70 + TOL:
        m_pts = 20
    elif ge(m, 0.60):
        m_pts = 15
    elif ge(m, 0.55):
        m_pts = 10
    elif ge(m, 0.50):
        m_pts = 5
    else:
        m_pts = 0
    innovation, growth, spec = ip + rd_pts, g_pts + d_pts, se_pts + m_pts
    miss_i = nan(inv) or nan(c2) or (class1 and (nan(transfer) or nan(se))) or rd_missing
    miss_g = nan(g) or nan(d)
    miss_s = nan(se) or nan(m)
    score = innovation + growth + spec
    failed = []
    for cid, value, floor, missing in [
        ("score", score, 60, miss_i or miss_g or miss_s),
        ("innovation", innovation, 20, miss_i),
        ("growth", growth, 15, miss_g),
        ("specialisation", spec, 15, miss_s),
    ]:
        if not ge(value, floor):
            failed.append(cid + ":missing" if missing else cid)
    return {
        "passed": not failed,
        "score": float(score),
        "failed": ";".join(failed),
        "ip": ip,
        "rd_intensity": rd_pts,
        "revenue_growth": g_pts,
        "debt_ratio": d_pts,
        "strategic_emerging": se_pts,
        "main_business_share": m_pts,
    }


# --- random tables ------------------------------------------------------------------------

GRIDS: dict[str, list[float]] = {
    "year": [2020, 2021, 2022, 2023],
    "founded_year": [2010, 2015, 2015, 2019, 2020, 2021, 2022, 2023],
    "invention_patents_owned": [0, 0, 0, 1, 2, 5],
    "class2_ip_owned": [0, 1, 2, 3, 4, 5, 8],
    "ip_transfer_only": [0, 0, 1],
    "standards_drafted": [0, 0, 1, 3],
    "in_supported_field": [0, 1, 1, 1],
    "st_staff": [0, 1, 3, 9, 10, 15, 20, 25, 30, 45, 60, 150],
    "employees": [0, 10, 50, 100, 200, 500, 501],
    "st_staff_share": [0.05, 0.1, 0.15, 0.2, 0.25, 0.3],
    "rd_expense_3y": [0, 90, 150, 180, 240, 300, 450, 600, 900],
    "revenue_3y": [0, 3000, 6000, 9000, 15000],
    "revenue": [0, 50, 1000, 4000, 5000, 5001, 20000, 20001, 30000],
    "revenue_lag1": [0, 800, 1000, 3000, 4000, 5000],
    "revenue_lag2": [0, 500, 800, 1000, 2500],
    "rd_domestic_share": [0.5, 0.59, 0.6, 0.9, 0.9, 0.9],
    "hitech_product_revenue": [0, 600, 2400, 3000, 12000, 20000, 30000],
    "major_safety_accident": [0, 0, 0, 0, 0, 0, 0, 1],
    "env_violation": [0, 0, 0, 0, 0, 0, 0, 1],
    "conversions_3y": [0, 2, 3, 5, 6, 9, 12, 14, 15, 20],
    "net_assets": [-100, 0, 1000, 1050, 1100, 1300, 1500, 1700, 2000],
    "net_assets_lag1": [-50, 0, 1000, 1200],
    "net_assets_lag2": [-50, 0, 800, 1000],
    "total_assets": [1000, 8000, 20000, 20001],
    "dishonest_debtor": [0, 0, 0, 1],
    "research_misconduct": [0, 0, 0, 1],
    "rd_expense": [0, 10, 20, 30, 50, 99, 100, 150, 200, 250, 300],
    "rd_intensity": [0.0, 0.0099, 0.01, 0.02, 0.03, 0.05, 0.0501, 0.06],
    "total_cost": [0, 500, 1000, 4000],
    "hte_valid": [0, 0, 0, 0, 1],
    "national_st_award": [0, 0, 0, 0, 1],
    "platforms_provincial": [0, 0, 0, 0, 1, 2],
    "led_standard": [0, 0, 0, 0, 1],
    "revenue_growth": [-0.1, -0.0001, 0.0, 0.05, 0.0999, 0.1, 0.15, 0.1501, 0.3],
    "debt_ratio": [0.2, 0.5499, 0.55, 0.75, 0.7501, 0.9],
    "main_business_share": [0.3, 0.4999, 0.5, 0.55, 0.6, 0.7, 0.7001, 0.9],
    "strategic_emerging": [0, 1, 2],
}


def random_table(n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    data = {}
    for name, grid in GRIDS.items():
        values = rng.choice(np.asarray(grid, dtype=np.float64), size=n)
        values[rng.random(n) < 0.03] = np.nan  # missing values everywhere, 3 %
        if name in ("st_staff", "rd_intensity", "st_staff_share"):
            values[rng.random(n) < 0.3] = np.nan  # exercise the fallbacks
        data[name] = values
    quality = rng.choice(np.array([0.0, 0.1, 0.25, 0.45, 0.5, 0.55, 0.7, 0.75, 1.0]), size=n)
    return pd.DataFrame(data), quality


@pytest.fixture(scope="module")
def table() -> tuple[pd.DataFrame, np.ndarray]:
    return random_table(N_ROWS, seed=20240817)


def stratified_sample(passed: pd.Series, seed: int) -> np.ndarray:
    """Half the rows at random, half among the rows that pass (passes are rare for hnte)."""
    rng = np.random.default_rng(seed)
    winners = np.flatnonzero(passed.to_numpy())
    take = min(N_CHECK // 2, winners.size)
    picked = rng.choice(winners, size=take, replace=False)
    rest = np.setdiff1d(np.arange(passed.size), picked)
    return np.sort(np.concatenate([picked, rng.choice(rest, size=N_CHECK - take, replace=False)]))


def _compare(
    result_frame: pd.DataFrame, df: pd.DataFrame, sample: np.ndarray, ref, keys, q=None
) -> None:
    records = df.iloc[sample].to_dict("records")
    got_rows, want_rows = [], []
    for j, (pos, rec) in enumerate(zip(sample, records, strict=True)):
        want = ref(rec, float(q[pos])) if q is not None else ref(rec)
        row = result_frame.iloc[pos]
        got = {
            "passed": bool(row["passed"]),
            "score": float(row["score"]),
            "failed": str(row["failed"]),
            **{k: (str(row[k]) if k == "route" else float(row[f"item__{k}"])) for k in keys},
        }
        want = {k: want[k] for k in got}
        got_rows.append((j, got))
        want_rows.append((j, want))
    assert got_rows == want_rows


def test_hnte_vectorised_equals_reference(table) -> None:
    df, quality = table
    result = hnte.evaluate(df, quality)
    assert len(result.frame) == N_ROWS
    sample = stratified_sample(result.passed, seed=1)
    _compare(result.frame, df, sample, ref_hnte, list(hnte.ITEMS), q=quality)
    sub = result.frame.iloc[sample]
    assert sub["passed"].sum() == N_CHECK // 2
    assert sub["failed"].nunique() > 10


def test_tech_sme_vectorised_equals_reference(table) -> None:
    df, _ = table
    result = tech_sme.evaluate(df)
    sample = stratified_sample(result.passed, seed=2)
    _compare(result.frame, df, sample, ref_tech_sme, ["route", *tech_sme.ITEMS])
    assert 0 < result.pass_rate() < 1


def test_innovative_sme_vectorised_equals_reference(table) -> None:
    df, _ = table
    result = innovative_sme.evaluate(df)
    sample = stratified_sample(result.passed, seed=3)
    _compare(result.frame, df, sample, ref_innovative_sme, list(innovative_sme.ITEMS))
    assert 0 < result.pass_rate() < 1


def test_hnte_reference_agrees_on_the_whole_pass_set_for_a_larger_sample(table) -> None:
    """A second, larger sample checked on pass / fail only (cheap, more edge coverage)."""
    df, quality = table
    positions = np.arange(0, N_ROWS, 37)
    result = hnte.evaluate(df.iloc[positions], quality[positions])
    want = [
        ref_hnte(rec, float(quality[p]))["passed"]
        for p, rec in zip(positions, df.iloc[positions].to_dict("records"), strict=True)
    ]
    assert result.frame["passed"].tolist() == want
