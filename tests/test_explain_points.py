"""Tests for the exact points explanations (calibrate.explain.points).

Hand-built tiny frameworks carry the exact numbers (worked out in the comments); a synthetic
Longwan panel checks the invariants on realistic data: every decomposition adds up to the
published total, old-vs-new changes are the points differences, and every nearest path is
re-scored with ``score`` — the suggested value lands the firm on the target list, a slightly
smaller change does not.

Re-scoring a firm's ranking group alone gives the same ranks, lists and percentile-rule points
as scoring the whole table (all three look only inside the group); to re-score many variants at
once, each variant is a copy of the group under its own park id (its own ranking group).
"""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from calibrate.explain.points import (
    MANIPULABLE,
    REASONS,
    Decomposition,
    GamingTable,
    NearestPath,
    PointsChange,
    Portrait,
    compare_gaming,
    decompose,
    gaming_table,
    manipulability,
    nearest_path,
    points_change,
    portrait,
)
from calibrate.framework import Framework, load_framework
from calibrate.scoring import score

PROV = {"status": "official", "source": "hand-built test"}


def _name(text: str) -> dict[str, str]:
    return {"zh": f"{text}（中）", "en": text}


def _ind(
    ident: str, unit: str, group: str, rule: dict[str, Any], points: float | dict[str, float]
) -> dict[str, Any]:
    pts = points if isinstance(points, dict) else {"small": points, "big": points}
    return {
        "id": ident,
        "name": _name(ident),
        "unit": unit,
        "group": group,
        "rule": rule,
        "points": pts,
        "provenance": PROV,
    }


def _framework(
    indicators: list[dict[str, Any]],
    *,
    penalties: tuple[dict[str, Any], ...] = (),
    tiers: tuple[tuple[str, float], ...] = (("top", 0.25), ("good", 0.5)),
    cap: float = 10,
    fid: str = "tiny",
) -> Framework:
    doc = {
        "schema": "calibrate/framework@1",
        "id": fid,
        "version": "1",
        "name": _name(fid),
        "provenance": PROV,
        "core_budget": 100,
        "stages": [
            {
                "id": "small",
                "name": _name("small"),
                "revenue_min": 0,
                "revenue_max": 1000,
                "provenance": PROV,
            },
            {"id": "big", "name": _name("big"), "revenue_min": 1000, "provenance": PROV},
        ],
        "groups": [
            {"id": "core", "name": _name("core"), "kind": "core", "provenance": PROV},
            {"id": "aux", "name": _name("aux"), "kind": "bonus", "cap": cap, "provenance": PROV},
        ],
        "indicators": indicators,
        "penalties": [dict(p, name=_name(p["id"]), provenance=PROV) for p in penalties],
        "tiers": [
            {"id": t, "name": _name(t), "top_fraction": f, "provenance": PROV} for t, f in tiers
        ],
    }
    return Framework.from_document(doc)


def _table(rows: list[dict[str, Any]]) -> pd.DataFrame:
    base = {"year": 2023, "park": "p1", "revenue": 500.0}
    return pd.DataFrame([{**base, **r} for r in rows])


# --- framework A: every rule kind, a capped bonus, a deduction and a veto -------------------

FW_A = _framework(
    [
        _ind(
            "rd",
            "万元",
            "core",
            {"kind": "linear", "low": 0, "high": {"small": 100, "big": 200}},
            40,
        ),
        _ind(
            "share",
            "fraction",
            "core",
            {"kind": "bands", "bands": [{"min": 0.1, "value": 0.5}, {"min": 0.2, "value": 1}]},
            20,
        ),
        _ind("apps_apps", "count", "core", {"kind": "count", "per_unit": 5}, 20),
        _ind("tax", "fraction", "core", {"kind": "percentile"}, 20),
        _ind("cert", "0/1", "aux", {"kind": "binary"}, 8),
        _ind("plat", "count", "aux", {"kind": "count", "per_unit": 4}, 8),
    ],
    penalties=({"id": "env", "action": "deduct", "points": 5}, {"id": "fraud", "action": "veto"}),
)

# Points (stage small): rd 40·rd/100; share <0.1 → 0, [0.1, 0.2) → 10, ≥ 0.2 → 20; apps 5 per
# unit up to 20; tax = 20 × (others strictly below)/(present − 1) within the park; cert 8; plat 4
# per unit up to 8; aux capped at 10; env −5; fraud vetoes.
COLUMNS_A = (
    "enterprise_id",
    "park",
    "rd",
    "share",
    "apps_apps",
    "tax",
    "cert",
    "plat",
    "env",
    "fraud",
)
DATA_A = _table(
    [
        dict(zip(COLUMNS_A, row, strict=True))
        for row in [
            # A: 20 + 10 + 10 + 0 = 40; aux 8 + 8 = 16 → capped 10 (line −6); total 50
            ("A", "p1", 50, 0.15, 2, 10, 1, 3, 0, 0),
            # B: 32 + 20 + 5 + 20·2/3 = 13.33 → 70.33
            ("B", "p1", 80, 0.25, 1, 30, 0, 0, 0, 0),
            # C: 8 + 0 + 20 + 6.67 = 34.67; aux 4; env −5 → 33.67
            ("C", "p1", 20, 0.05, 4, 20, 0, 1, 1, 0),
            # D: 40 + 20 + 0 + 0 (tax missing) = 60; aux 8 → 68
            ("D", "p1", 100, 0.2, 0, np.nan, 1, 0, 0, 0),
            # E: 0 + 10 + 15 + 20 = 45, vetoed (its points stay on record)
            ("E", "p1", 0, 0.1, 3, 40, 0, 0, 0, 1),
            # park p2 — F: 24 + 20 + 10 + 0 = 54; G: 4 + 10 + 0 + 20 = 34, aux 8 + 4 → 10 → 44
            ("F", "p2", 60, 0.3, 2, 5, 0, 0, 0, 0),
            ("G", "p2", 10, 0.12, 0, 15, 1, 1, 0, 0),
        ]
    ]
)


@pytest.fixture(scope="module")
def result_a():
    return score(FW_A, DATA_A)


def test_decomposition_by_hand(result_a):
    dec = decompose(result_a)
    assert isinstance(dec, Decomposition)
    assert list(dec.values.columns) == [
        "rd",
        "share",
        "apps_apps",
        "tax",
        "cert",
        "plat",
        "cap__aux",
        "deduction",
    ]
    got = dec.values.set_axis(dec.keys["enterprise_id"]).to_dict(orient="index")
    assert got["A"] == {
        "rd": 20,
        "share": 10,
        "apps_apps": 10,
        "tax": 0,
        "cert": 8,
        "plat": 8,
        "cap__aux": -6,
        "deduction": 0,
    }
    assert got["C"] == {
        "rd": 8,
        "share": 0,
        "apps_apps": 20,
        "tax": 6.67,
        "cert": 0,
        "plat": 4,
        "cap__aux": 0,
        "deduction": -5,
    }
    assert got["E"] == {
        "rd": 0,
        "share": 10,
        "apps_apps": 15,
        "tax": 20,
        "cert": 0,
        "plat": 0,
        "cap__aux": 0,
        "deduction": 0,
    }
    assert got["G"]["cap__aux"] == -2
    assert dec.keys["total"].tolist() == [50, 70.33, 33.67, 68, 45, 54, 44]
    assert (dec.sum() == dec.keys["total"]).all()
    assert dec.keys["vetoed"].tolist() == [False, False, False, False, True, False, False]
    lines = dec.firm("A", 2023)
    assert lines.loc["cap__aux", "name_en"] == "bonus above cap (aux)"
    assert lines.loc["cap__aux", "name_zh"] == "超出加分上限（aux（中））"
    assert lines.loc["rd", "share"] == 20 / 50
    text = dec.text("A", 2023)
    assert "bonus above cap (aux)  −6.00" in text
    assert text.splitlines()[-1].split() == ["total", "50.00"]
    assert "扣分" not in dec.text("A", 2023, lang="zh") and "扣分" in dec.text("C", 2023, lang="zh")
    assert len(decompose(result_a, ["A", "F"]).keys) == 2
    long = dec.long()
    assert len(long) == 7 * 8 and set(long.columns) >= {"line", "points", "name_zh", "name_en"}
    json.dumps(dec.to_dict())


def test_portrait_by_hand(result_a):
    por = portrait(result_a, DATA_A, "A", 2023)
    assert isinstance(por, Portrait)
    rd = por.frame.loc["rd"]
    # ranking group (p1, small, 2023) = A..E: rd 50 80 20 100 0 → median 50; points 20 32 8 40 0
    # → median 20; A's 50 is >= 3 of 5 values (50, 20, 0) → 0.6
    # stage small 2023 = A..G: rd 0 10 20 50 60 80 100 → median 50, 4 of 7 not above 50
    assert (rd["value"], rd["points"], rd["max_points"]) == (50, 20, 40)
    assert (rd["group_median"], rd["group_median_points"], rd["group_percentile"]) == (50, 20, 0.6)
    assert (rd["stage_median"], rd["stage_median_points"], rd["stage_percentile"]) == (
        50,
        20,
        4 / 7,
    )
    assert (rd["name_zh"], rd["name_en"]) == ("rd（中）", "rd")
    tax = por.frame.loc["tax"]
    # present in the group: 10 30 20 40 (D missing) → median 25, A lowest → 1/4; points
    # 0 13.33 6.67 0 20 → median 6.67; stage: 5 10 15 20 30 40 → median 17.5, A ≥ 5, 10 → 2/6
    assert (tax["group_median"], tax["group_median_points"], tax["group_percentile"]) == (
        25,
        6.67,
        0.25,
    )
    assert (tax["stage_median"], tax["stage_median_points"], tax["stage_percentile"]) == (
        17.5,
        6.67,
        2 / 6,
    )
    s = por.summary
    assert (s["total"], s["core"], s["bonus"], s["bonus_uncapped"], s["bonus_cap_effect"]) == (
        50,
        40,
        10,
        16,
        -6,
    )
    assert (s["rank"], s["n_ranked"], s["percentile"], s["tier"]) == (3, 4, 0.5, None)
    # ranked totals of p1: 70.33 68 50 33.67 → median 59; of the stage (E vetoed): median of
    # 33.67 44 50 54 68 70.33 → 52
    assert (s["group_median_total"], s["stage_median_total"]) == (59, 52)
    assert (s["n_group"], s["n_stage"], s["penalties"]) == (5, 7, [])
    assert portrait(result_a, DATA_A, "C", 2023).summary["penalties"] == ["env"]
    d = portrait(result_a, DATA_A, "D", 2023)
    assert math.isnan(d.frame.loc["tax", "value"]) and math.isnan(
        d.frame.loc["tax", "group_percentile"]
    )
    assert d.summary["tier"] == "good"  # n = 4: good has floor(2) = 2 seats: B and D
    json.dumps(por.to_dict())


def test_portrait_rejects_unknown_firm_and_other_data(result_a):
    with pytest.raises(KeyError, match="no firm 'Z' in year 2023"):
        portrait(result_a, DATA_A, "Z", 2023)
    with pytest.raises(ValueError, match="data has 6 rows but the scores have 7"):
        portrait(result_a, DATA_A.iloc[:6], "A", 2023)


def test_gaming_table_by_hand():
    table = gaming_table(FW_A)
    assert isinstance(table, GamingTable) and not table.with_data
    rate = table.pivot()
    # linear: P / (high − low) per 万元 — small 40/100, big 40/200 (per-stage goalposts)
    assert (rate.loc["rd", "small"], rate.loc["rd", "big"]) == (0.4, 0.2)
    # count: per_unit until the cap (20 points = 4 units); binary: P for 0 → 1
    assert rate.loc["apps_apps", "small"] == 5 and rate.loc["plat", "small"] == 4
    assert rate.loc["cert", "small"] == 8
    f = table.frame.set_index(["indicator", "stage"])
    assert (
        f.loc[("apps_apps", "small"), "range_low"],
        f.loc[("apps_apps", "small"), "range_high"],
    ) == (0, 4)
    assert f.loc[("plat", "small"), "range_high"] == 2 and f.loc[("plat", "small"), "capped"]
    assert f.loc[("rd", "small"), "range_points"] == 40
    # bands without data: from 0 to the first band (0.1) earns 10 points → 100 per unit, 1 per
    # percentage point
    assert f.loc[("share", "small"), "per_unit"] == pytest.approx(100, rel=1e-12)
    assert f.loc[("share", "small"), "per_step"] == pytest.approx(1, rel=1e-12)
    assert math.isnan(f.loc[("tax", "small"), "per_unit"])  # percentile needs data

    with_data = gaming_table(FW_A, DATA_A).frame.set_index(["indicator", "stage"])
    # stage small median share 0.15 → next band 0.2 earns 10 more: 10 / 0.05 = 200 per unit
    assert with_data.loc[("share", "small"), "per_unit"] == pytest.approx(200, rel=1e-12)
    assert with_data.loc[("share", "small"), "reference"] == 0.15
    # tax in stage small: 5 10 15 20 30 40 → q40 = 15, q60 = 20 → 20 × 0.2 / 5 = 0.8
    assert with_data.loc[("tax", "small"), "per_unit"] == pytest.approx(0.8, rel=1e-12)
    assert math.isnan(with_data.loc[("tax", "big"), "per_unit"])  # no firm in stage big
    # paper work: money (万元) and application counts; hard: certificates, shares
    flags = f.xs("small", level="stage")["manipulable"]
    assert flags.to_dict() == {
        "rd": True,
        "share": False,
        "apps_apps": True,
        "tax": False,
        "cert": False,
        "plat": False,
    }
    cheapest = table.cheapest("small", manipulable=True)
    assert cheapest["indicator"].tolist() == ["apps_apps", "rd"]
    json.dumps(table.to_dict())


CANDIDATE_A = FW_A.with_points(
    {
        "rd": {"small": 50, "big": 50},
        "share": {"small": 12.5, "big": 12.5},
        "apps_apps": {"small": 12.5, "big": 12.5},
        "tax": {"small": 25, "big": 25},
    },
    id="tiny-b",
)


def test_compare_gaming_finds_what_became_cheaper():
    candidate = CANDIDATE_A
    comp = compare_gaming(FW_A, candidate)
    f = comp.frame.set_index(["indicator", "stage"])
    assert f.loc[("rd", "small"), "per_unit_candidate"] == 0.5
    assert f.loc[("rd", "small"), "ratio"] == 1.25
    # count per_unit is rescaled with the points: 5 × 12.5 / 20
    assert f.loc[("apps_apps", "small"), "per_unit_candidate"] == 3.125
    assert comp.cheaper()["indicator"].unique().tolist() == ["rd"]
    assert comp.cheaper(manipulable=False).empty
    by = comp.by_indicator()
    assert by.loc["rd", "stages_cheaper"] == 2 and by.loc["apps_apps", "stages_dearer"] == 2
    assert list(comp.frame["indicator"].unique()) == list(FW_A.indicator_ids)
    json.dumps(comp.to_dict())


def test_points_change_by_hand(result_a):
    change = points_change(result_a, score(CANDIDATE_A, DATA_A))
    assert isinstance(change, PointsChange)
    a = change.firm("A", 2023)
    # A: rd 20 → 25, share 10 → 6.25, apps 10 → 6.25, bonus unchanged → 50 → 47.5
    assert a.loc["rd", "change"] == 5 and a.loc["share", "change"] == -3.75
    assert (a.loc["rd", "points_base"], a.loc["rd", "points_candidate"]) == (20, 25)
    row = change.frame.set_index("enterprise_id").loc["A"]
    assert (row["total_base"], row["total_candidate"], row["total_change"]) == (50, 47.5, -2.5)
    assert (row["tier_base"], row["tier_candidate"]) == ("none", "none")
    assert change.frame.set_index("enterprise_id").loc["E", "tier_base"] == "vetoed"
    with pytest.raises(ValueError, match="do not hold the same firms"):
        points_change(result_a, score(FW_A, DATA_A.iloc[::-1].reset_index(drop=True)))
    json.dumps(change.to_dict())


# --- nearest path: exact cases -------------------------------------------------------------


def _tier_after(
    fw: Framework, data: pd.DataFrame, eid: str, column: str, value: float
) -> str | None:
    changed = data.copy()
    x = changed[column].astype(float).to_numpy().copy()
    x[(changed["enterprise_id"] == eid).to_numpy()] = value
    changed[column] = x
    res = score(fw, changed)
    tier = res.frame.loc[res.frame["enterprise_id"] == eid, "tier"].iloc[0]
    return None if pd.isna(tier) else str(tier)


FW_LIN = _framework(
    [
        _ind(
            "lin",
            "万元",
            "core",
            {"kind": "linear", "low": 0, "high": {"small": 100, "big": 300}},
            40,
        ),
        _ind("rest", "fraction", "core", {"kind": "linear", "low": 0, "high": 1}, 60),
    ]
)
DATA_LIN = _table(
    [
        {"enterprise_id": "X", "lin": 43.75, "rest": 0.5},  # 17.5 + 30 = 47.5
        {"enterprise_id": "Y", "lin": 50, "rest": 0.6},  # 20 + 36 = 56: the one "good" seat of 2
        {
            "enterprise_id": "B1",
            "revenue": 2000,
            "lin": 150,
            "rest": 0.5,
        },  # big: 40·150/300 = 20, + 30
        {"enterprise_id": "B2", "revenue": 2000, "lin": 240, "rest": 0.5},  # 32 + 30 = 62
    ]
)


def test_path_linear_rounding_tie_and_per_stage_goalposts():
    res = score(FW_LIN, DATA_LIN)
    path = nearest_path(FW_LIN, DATA_LIN, res, "X", 2023, verify=True)
    assert isinstance(path, NearestPath)
    assert (path.tier, path.target, path.cutoff, path.need, path.seats) == (
        None,
        "good",
        56,
        8.5,
        1,
    )
    lin = path.frame.loc["lin"]
    # lin must reach 17.5 + 8.5 = 26 points after half-up rounding: 40 × f ≥ 25.995 →
    # f = 0.649875 → 64.9875 (a tie with Y at 56 is enough)
    assert lin["value"] == pytest.approx(64.9875, abs=1e-8)
    assert (lin["direction"], lin["inclusive"], lin["points_after"], lin["total_after"]) == (
        "up",
        True,
        26,
        56,
    )
    assert lin["change"] == pytest.approx(64.9875 - 43.75, abs=1e-8)
    assert lin["verified"]
    assert path.frame.loc["rest", "value"] == pytest.approx(
        100 * (38.5 - 0.005) / 60 / 100, abs=1e-12
    )
    for ind in ("lin", "rest"):
        value = path.frame.loc[ind, "value"]
        assert _tier_after(FW_LIN, DATA_LIN, "X", ind, value) == "good"
        assert _tier_after(FW_LIN, DATA_LIN, "X", ind, np.nextafter(value, -np.inf)) is None
    # stage big: goalposts 0 → 300, B1 needs 32 points: 300 × 31.995 / 40 = 239.9625
    big = nearest_path(FW_LIN, DATA_LIN, res, "B1", 2023).frame.loc["lin"]
    assert big["value"] == pytest.approx(239.9625, abs=1e-8)
    assert _tier_after(FW_LIN, DATA_LIN, "B1", "lin", big["value"]) == "good"
    assert _tier_after(FW_LIN, DATA_LIN, "B1", "lin", np.nextafter(big["value"], 0)) is None
    assert nearest_path(FW_LIN, DATA_LIN, None, "Y", 2023).reason == "no_seats"  # top: 0 seats of 2
    json.dumps(path.to_dict())
    assert "lin (lin): >= 64.98" in path.text()


FW_PCT = _framework(
    [
        _ind("pct", "fraction", "core", {"kind": "percentile"}, 30),
        _ind("base", "万元", "core", {"kind": "linear", "low": 0, "high": 100}, 70),
    ]
)
DATA_PCT = _table(
    [
        {"enterprise_id": "W", "pct": 0.4, "base": 100},  # 30 + 70 = 100 (top: 1 seat of 4)
        {"enterprise_id": "Y", "pct": 0.3, "base": 50},  # 20 + 35 = 55 (good: 2 seats)
        {"enterprise_id": "X", "pct": 0.2, "base": 60},  # 10 + 42 = 52
        {"enterprise_id": "Z", "pct": 0.1, "base": 0},  # 0
    ]
)


def test_path_percentile_counts_the_peers_it_passes():
    path = nearest_path(FW_PCT, DATA_PCT, None, "X", 2023, verify=True)
    assert (path.target, path.cutoff, path.need) == ("good", 55, 3)
    pct = path.frame.loc["pct"]
    # With the peers fixed X would need 13 points, i.e. pass Y (0.3 exclusive). But tying Y at
    # 0.3 already takes X out of the firms strictly below Y: Y falls to 10 points (total 45), the
    # cut-off falls to 45 and X's unchanged 52 clears it. The exact answer is 0.3, inclusive.
    assert (pct["value"], pct["threshold"], pct["inclusive"]) == (0.3, 0.3, True)
    assert (pct["points_after"], pct["total_after"], pct["cutoff_after"]) == (10, 52, 45)
    assert pct["verified"]
    assert _tier_after(FW_PCT, DATA_PCT, "X", "pct", 0.3) == "good"
    assert _tier_after(FW_PCT, DATA_PCT, "X", "pct", np.nextafter(0.3, 0)) is None
    # Z: even above everyone (30 points, peers lowered) it stays under the new cut-off of 45
    z = nearest_path(FW_PCT, DATA_PCT, None, "Z", 2023).frame.loc["pct"]
    assert (z["reachable"], z["reason"]) == (False, "max_points")
    assert _tier_after(FW_PCT, DATA_PCT, "Z", "pct", 1e9) is None


FW_MIX = _framework(
    [
        _ind(
            "band",
            "count",
            "core",
            {"kind": "bands", "bands": [{"min": 1, "value": 0.5}, {"min": 3, "value": 1}]},
            20,
        ),
        _ind("cnt", "count", "core", {"kind": "count", "per_unit": 3}, 20),
        _ind("base", "万元", "core", {"kind": "linear", "low": 0, "high": 100}, 60),
        _ind("flag", "0/1", "aux", {"kind": "binary"}, 6),
        _ind("plat", "count", "aux", {"kind": "count", "per_unit": 4}, 8),
    ],
    penalties=({"id": "fraud", "action": "veto"},),
)
_ZERO = {"band": 0, "cnt": 0, "base": 0, "flag": 0, "plat": 0, "fraud": 0}
# T 60 + 20 + 12 + 6 = 98 (top: 1 seat of 4); Y 40.5 + 10 + 6 = 56.5 (good: 2 seats);
# X 27 + 10 + 6 + 8 = 51; Q aux 6 + 8 = 14 → capped at 10. Park p2: U1 30, U2 36 (its one good
# seat), V vetoed. Park p3: S alone (no seats).
DATA_MIX = _table(
    [
        {**_ZERO, "enterprise_id": "T", "base": 100, "band": 3, "cnt": 4, "flag": 1},
        {**_ZERO, "enterprise_id": "Y", "base": 67.5, "band": 1, "cnt": 2},
        {**_ZERO, "enterprise_id": "X", "base": 45, "band": 1, "cnt": 2, "plat": 2},
        {**_ZERO, "enterprise_id": "Q", "flag": 1, "plat": 3},
        {**_ZERO, "enterprise_id": "U1", "park": "p2", "base": 50},
        {**_ZERO, "enterprise_id": "U2", "park": "p2", "base": 50, "flag": 1},
        {**_ZERO, "enterprise_id": "V", "park": "p2", "base": 100, "fraud": 1},
        {**_ZERO, "enterprise_id": "S", "park": "p3", "base": 10},
    ]
)


def test_path_bands_count_binary_bonus_cap_and_unreachable():
    res = score(FW_MIX, DATA_MIX)
    x = nearest_path(FW_MIX, DATA_MIX, res, "X", 2023, verify=True)
    assert (x.target, x.cutoff, x.need) == ("good", 56.5, 5.5)
    f = x.frame
    assert f.loc["band", "value"] == 3  # the band from 3 gives 20 (+10)
    assert f.loc["cnt", "value"] == 4  # 11.5 points at 3 per unit: ceil(3.83) = 4 units
    assert f.loc["base", "value"] == pytest.approx(100 * 32.495 / 60, abs=1e-9)
    # flag: +6 but only 2 left under the cap; plat: already at its 8 points
    assert (f.loc["flag", "reachable"], f.loc["flag", "reason"]) == (False, "bonus_cap")
    assert (f.loc["plat", "reachable"], f.loc["plat", "reason"]) == (False, "max_points")
    assert f.loc[f["reachable"], "verified"].all()
    assert _tier_after(FW_MIX, DATA_MIX, "X", "cnt", 4) == "good"
    assert _tier_after(FW_MIX, DATA_MIX, "X", "cnt", 3) is None
    assert _tier_after(FW_MIX, DATA_MIX, "X", "band", 2) is None

    q = nearest_path(FW_MIX, DATA_MIX, res, "Q", 2023).frame  # bonus capped, needs 46.5
    assert q["reason"].fillna("-").to_dict() == {
        "band": "max_points",
        "cnt": "max_points",
        "base": "-",
        "flag": "bonus_cap",
        "plat": "bonus_cap",
    }

    u1 = nearest_path(FW_MIX, DATA_MIX, res, "U1", 2023, verify=True).frame  # needs 6
    assert u1["value"].to_dict() == pytest.approx(
        {"band": 1, "cnt": 2, "base": 100 * 35.995 / 60, "flag": 1, "plat": 2}, abs=1e-9
    )
    assert u1["verified"].all()
    assert _tier_after(FW_MIX, DATA_MIX, "U1", "cnt", 1) is None
    assert _tier_after(FW_MIX, DATA_MIX, "U1", "plat", 1) is None

    for eid, reason in (("T", "top"), ("V", "vetoed"), ("S", "no_seats")):
        path = nearest_path(FW_MIX, DATA_MIX, res, eid, 2023)
        assert path.reason == reason
        assert (path.frame["reason"] == reason).all() and not path.frame["reachable"].any()
        assert path.reachable().empty
    assert nearest_path(FW_MIX, DATA_MIX, res, "Y", 2023, target="good").reason == "top"
    with pytest.raises(ValueError, match="target 'gold' is not a list"):
        nearest_path(FW_MIX, DATA_MIX, res, "X", 2023, target="gold")
    with pytest.raises(ValueError, match="scored under framework 'tiny'"):
        nearest_path(FW_LIN, DATA_MIX, res, "X", 2023)
    assert set(REASONS) >= set(q["reason"].dropna())


FW_STAGE = _framework(
    [
        _ind("revenue", "万元", "core", {"kind": "linear", "low": 0, "high": 2000}, 60),
        _ind("debt", "fraction", "core", {"kind": "linear", "low": 1.0, "high": 0.0}, 20),
        _ind("other", "0/1", "core", {"kind": "binary"}, 20),
    ]
)
# L 15 + 10 = 25; T 27 + 16 + 20 = 63 (the one good seat of 3); M 24 + 12 + 20 = 56
DATA_STAGE = _table(
    [
        {"enterprise_id": "L", "revenue": 500, "debt": 0.5, "other": 0},
        {"enterprise_id": "T", "revenue": 900, "debt": 0.2, "other": 1},
        {"enterprise_id": "M", "revenue": 800, "debt": 0.4, "other": 1},
    ]
)


def test_path_stage_bound_and_smaller_is_better():
    path = nearest_path(FW_STAGE, DATA_STAGE, None, "M", 2023, verify=True)
    assert path.need == 7
    f = path.frame
    # revenue would need 2000 × 30.995 / 60 = 1033.2 — past the small stage's bound of 1000
    assert (f.loc["revenue", "reachable"], f.loc["revenue", "reason"]) == (False, "stage")
    # debt (less is better): 19 points → f ≥ 0.94975 → debt ≤ 0.05025
    assert f.loc["debt", "direction"] == "down"
    assert f.loc["debt", "value"] == pytest.approx(0.05025, abs=1e-12) and f.loc["debt", "verified"]
    assert (
        _tier_after(FW_STAGE, DATA_STAGE, "M", "debt", np.nextafter(f.loc["debt", "value"], 1))
        is None
    )
    assert f.loc["other", "reason"] == "max_points"  # already 1


# --- the synthetic Longwan panel -------------------------------------------------------------


@pytest.fixture(scope="module")
def longwan():
    import calibrate.synth as synth

    data = synth.generate(
        synth.SynthConfig(enterprises=800, parks=2, years=(2020, 2023), seed=1), progress=False
    ).enterprises
    fw = load_framework("longwan-2022")
    # more firms at the bonus cap: 150 firms get every auxiliary item (67 points, cap 50)
    rng = np.random.default_rng(7)
    rows = rng.choice(len(data), 150, replace=False)
    capped = data.copy()
    for col, value in (
        ("hte_valid", 1),
        ("specialised_sme", 1),
        ("platforms_provincial", 3),
        ("awards_provincial", 2),
        ("listed_reserve", 1),
        ("tech_sme_registered", 1),
        ("talent_programs", 3),
        ("standards_drafted", 3),
        ("graduates_hired", 10),
        ("vc_financing", 2000),
    ):
        x = capped[col].to_numpy().copy()
        x[rows] = value
        capped[col] = x
    return fw, data, score(fw, data), capped, score(fw, capped)


def test_decomposition_adds_up_exactly_on_longwan(longwan):
    fw, _, _, _, res = longwan
    dec = decompose(res)
    frame = res.frame
    assert frame["vetoed"].sum() > 0 and (frame["deduction"] > 0).sum() > 0
    capped = frame["bonus"] < frame["grp__auxiliary"]
    assert capped.sum() > 100
    assert (dec.sum().to_numpy() == frame["total"].to_numpy()).all()
    # in whole cents, line by line: every line is an exact decimal and they add up
    cents = dec.values.to_numpy() * 100
    assert np.abs(cents - np.rint(cents)).max() < 1e-6
    assert (
        np.rint(cents).astype(np.int64).sum(axis=1) == np.rint(frame["total"].to_numpy() * 100)
    ).all()
    cap_line = dec.values["cap__auxiliary"].to_numpy()
    assert (cap_line[capped.to_numpy()] < 0).all() and (cap_line[~capped.to_numpy()] == 0).all()
    want = np.rint(frame["bonus"].to_numpy() * 100) - np.rint(
        frame["grp__auxiliary"].to_numpy() * 100
    )
    assert (np.rint(cap_line * 100) == want).all()
    assert (dec.values["deduction"] == -frame["deduction"]).all()
    for ind in fw.indicator_ids:
        assert (dec.values[ind] == frame[f"pts__{ind}"]).all()


def test_points_change_equals_points_differences(longwan):
    fw, data, base, _, _ = longwan
    candidate = fw.drop(["pct_apps"]).reweight({"tech": 1.5})
    cand = score(candidate, data)
    change = points_change(base, cand)
    ch = change.changes()
    for ind in fw.indicator_ids:
        after = cand.frame[f"pts__{ind}"] if ind in candidate.indicator_ids else 0.0
        want = np.rint((after - base.frame[f"pts__{ind}"]) * 100)
        assert (np.rint(ch[ind] * 100) == want).all()
    assert (ch["pct_apps"] == -base.frame["pts__pct_apps"]).all()
    total = np.rint((cand.frame["total"] - base.frame["total"]).to_numpy() * 100)
    assert (np.rint(ch.to_numpy() * 100).astype(np.int64).sum(axis=1) == total).all()
    assert (np.rint(change.frame["total_change"] * 100) == total).all()
    assert (change.frame["rank_base"].astype("Int64") == base.frame["rank"]).fillna(True).all()
    assert (
        change.frame["tier_candidate"]
        .isin(["leading", "racing", "striving", "none", "vetoed"])
        .all()
    )
    # the reverse direction lists the indicator only the candidate has
    back = points_change(cand, base)
    assert (
        "pct_apps" in back.line_ids
        and (back.changes()["pct_apps"] == base.frame["pts__pct_apps"]).all()
    )
    summary = change.summary()
    assert summary.loc["pct_apps", "firms_gaining"] == 0


def _smaller(row: pd.Series) -> float:
    """A value just short of the answer, in the direction of the current value."""
    integer = row["unit"] in ("count", "0/1") or row["kind"] in ("count", "binary")
    down = row["direction"] == "down"
    if row["kind"] == "binary":
        return 0.0
    if integer:
        return row["value"] + (1 if down else -1)
    if row["kind"] == "percentile" and not row["inclusive"]:
        return row["threshold"]  # a tie with the peer it must pass
    return float(np.nextafter(row["value"], np.inf if down else -np.inf))


def _rescore_paths(
    fw: Framework,
    data: pd.DataFrame,
    res: Any,
    firms: np.ndarray,
    seen: dict[str, int],
    reasons: dict[str, int],
) -> int:
    """Re-score every reachable answer and the value just short of it; return how many."""
    frame = res.frame
    tier_ids = [t.id for t in fw.tiers]
    checked = 0
    for i in firms:
        eid, year = frame["enterprise_id"].iloc[i], frame["year"].iloc[i]
        path = nearest_path(fw, data, res, eid, year)
        for reason in path.frame["reason"].dropna():
            reasons[reason] = reasons.get(reason, 0) + 1
        if path.reason is not None:
            continue
        target = tier_ids.index(path.target)
        group = np.flatnonzero(res.group_code == res.group_code[i])
        gi = int(np.flatnonzero(group == i)[0])
        variants = []
        for ind, row in path.reachable().iterrows():
            seen[row["kind"]] = seen.get(row["kind"], 0) + 1
            for label, value in (("at", row["value"]), ("short", _smaller(row))):
                copy = data.iloc[group].copy()
                x = copy[ind].astype(float).to_numpy().copy()
                x[gi] = value
                copy[ind] = x
                copy["park"] = f"{ind}|{label}"  # its own ranking group
                variants.append(copy)
        if not variants:
            continue
        rescored = score(fw, pd.concat(variants, ignore_index=True)).frame
        me = rescored[rescored["enterprise_id"] == eid]
        codes = me["tier"].cat.codes.to_numpy()
        for park, code in zip(me["park"], codes, strict=True):
            ind, label = park.split("|")
            on_target = 0 <= code <= target
            assert on_target == (label == "at"), (eid, ind, label, path.frame.loc[ind].to_dict())
            checked += 1
    return checked


def _just_below(res: Any, fraction: float) -> np.ndarray:
    """Ranked firms one place below the last seat of the list for the top ``fraction``."""
    frame = res.frame
    ranked = ~frame["vetoed"]
    n = frame[ranked].groupby(res.group_code[ranked.to_numpy()]).size()
    size = n.reindex(res.group_code).to_numpy()
    rank = frame["rank"].fillna(0).to_numpy()
    return np.flatnonzero(ranked.to_numpy() & (rank == np.floor(fraction * size + 1e-9) + 1))


def test_nearest_path_rescored_on_longwan(longwan):
    fw, data, res, capped, res_capped = longwan
    seen: dict[str, int] = {}
    reasons: dict[str, int] = {}
    checked = _rescore_paths(fw, data, res, _just_below(res, 0.2)[:10], seen, reasons)
    checked += _rescore_paths(fw, data, res, _just_below(res, 0.1)[:4], seen, reasons)
    # firms at the bonus cap: bonus indicators cannot lift them
    at_cap = _just_below(res_capped, 0.2)
    at_cap = at_cap[(res_capped.frame["bonus"].to_numpy()[at_cap] == 50)][:4]
    assert at_cap.size
    checked += _rescore_paths(fw, capped, res_capped, at_cap, seen, reasons)
    assert checked > 150
    assert set(seen) == {"linear", "bands", "count", "binary", "percentile"}, seen
    assert {"max_points", "bonus_cap"} <= set(reasons), reasons
    frame = res.frame
    tier_ids = [t.id for t in fw.tiers]
    firms = _just_below(res, 0.2)
    # scoring the group alone equals scoring the whole table
    i = firms[0]
    eid, year = frame["enterprise_id"].iloc[i], frame["year"].iloc[i]
    row = nearest_path(fw, data, res, eid, year).reachable().iloc[0]
    whole = data.copy()
    x = whole[row.name].astype(float).to_numpy().copy()
    x[i] = row["value"]
    whole[row.name] = x
    again = score(fw, whole).frame
    assert (
        0
        <= again["tier"].cat.codes.iloc[i]
        <= tier_ids.index(nearest_path(fw, data, res, eid, year).target)
    )


def test_nearest_path_unreachable_on_longwan(longwan):
    fw, data, res, _, _ = longwan
    frame = res.frame
    vetoed = np.flatnonzero(frame["vetoed"].to_numpy())[0]
    path = nearest_path(
        fw, data, res, frame["enterprise_id"].iloc[vetoed], frame["year"].iloc[vetoed]
    )
    assert path.reason == "vetoed" and path.rank is None
    leading = np.flatnonzero((frame["tier"] == "leading").to_numpy())[0]
    path = nearest_path(
        fw, data, res, frame["enterprise_id"].iloc[leading], frame["year"].iloc[leading]
    )
    assert path.reason == "top" and path.target is None
    json.dumps(path.to_dict())


def _below_last_seat(res: Any, t_pos: int) -> np.ndarray:
    """Ranked firms one place below the last firm on list ``t_pos`` (or a better one), by the
    scorer's own membership."""
    frame = res.frame
    codes = frame["tier"].cat.codes.to_numpy()
    rank = frame["rank"].to_numpy(dtype=float, na_value=np.nan)
    on = (codes >= 0) & (codes <= t_pos)
    last = pd.Series(np.where(on, rank, np.nan)).groupby(res.group_code).transform("max")
    return np.flatnonzero(res.ranked & ~on & (rank == last.to_numpy() + 1))


def test_nearest_path_competes_with_ranked_firms_under_the_declared_seat_rule(longwan):
    """Eligibility (longwan-2022-text) takes firms out of the race and min_seats gives a small
    group its one seat: the path knows both, and every answer holds when re-scored."""
    import dataclasses

    _, data, _, _, _ = longwan
    fw = dataclasses.replace(load_framework("longwan-2022-text"), min_seats=1)
    res = score(fw, data)
    frame = res.frame
    outside = np.flatnonzero(~res.ranked & ~frame["vetoed"].to_numpy(dtype=bool))
    assert outside.size  # firms the eligibility rules leave unranked
    i = outside[0]
    path = nearest_path(fw, data, res, frame["enterprise_id"].iloc[i], frame["year"].iloc[i])
    assert path.reason == "ineligible" and path.rank is None
    assert set(path.frame["reason"]) == {"ineligible"}
    size = np.bincount(res.group_code[res.ranked], minlength=int(res.group_code.max()) + 1)
    firms = np.concatenate([_below_last_seat(res, 0)[:8], _below_last_seat(res, 1)[:4]])
    # groups so small that floor(5 % of them) is no seat: min_seats=1 gives one
    small = [j for j in _below_last_seat(res, 0) if 0.05 * size[res.group_code[j]] < 1]
    assert small
    firms = np.concatenate([firms, small[:3]])
    for j in firms:
        got = nearest_path(fw, data, res, frame["enterprise_id"].iloc[j], frame["year"].iloc[j])
        assert got.reason is None, got.reason
    seen: dict[str, int] = {}
    assert _rescore_paths(fw, data, res, firms, seen, {}) > 50


def test_gaming_on_longwan_and_manipulable_list(longwan):
    fw, data, _, _, _ = longwan
    table = gaming_table(fw, data)
    assert len(table.frame) == len(fw.indicators) * len(fw.stages)
    rate = table.pivot()
    assert rate.loc["rd_expense", "growth"] == 7 / 200  # 7 points over 0 → 200 万元
    per_unit = fw.indicator("invention_patent_apps").rule.per_unit
    assert rate.loc["invention_patent_apps"].to_dict() == dict(per_unit)
    assert rate.loc["hte_valid", "mature"] == 8
    assert rate.loc[["revenue", "tax_growth"]].notna().all().all()  # percentile rules, from data
    flags = {ind.id: manipulability(ind)[0] for ind in fw.indicators}
    assert flags["rd_expense"] and flags["invention_patent_apps"] and flags["software_copyrights"]
    assert (
        not flags["hte_valid"]
        and not flags["rd_intensity"]
        and not flags["invention_patents_owned"]
    )
    assert all(rule.reason.zh and rule.reason.en for rule in MANIPULABLE)
    money = table.cheapest("growth", unit="万元")
    assert money["per_step"].is_monotonic_decreasing and money["manipulable"].all()
    comp = compare_gaming(fw, fw.reweight({"invention_patent_apps": 2.0}), data)
    assert comp.cheaper(manipulable=True)["indicator"].unique().tolist() == [
        "invention_patent_apps"
    ]


def test_path_with_median_imputation_is_enough_but_flagged():
    fw = _framework(
        [
            {**_ind("pct", "fraction", "core", {"kind": "percentile"}, 30), "missing": "median"},
            _ind("base", "万元", "core", {"kind": "linear", "low": 0, "high": 100}, 70),
        ]
    )
    data = DATA_PCT.copy()
    data = pd.concat(
        [data, _table([{"enterprise_id": "N", "pct": np.nan, "base": 10}])], ignore_index=True
    )
    path = nearest_path(fw, data, None, "X", 2023, verify=True)
    row = path.frame.loc["pct"]
    # N is imputed with the median, which moves with X's value: the answer is re-scored for the
    # whole group (always enough) but not promised to be the smallest
    assert row["reachable"] and row["verified"] and not row["exact"]
    assert bool(path.frame.loc["base", "exact"])
    assert _tier_after(fw, data, "X", "pct", row["value"]) == "good"
