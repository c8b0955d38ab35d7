"""A deliberately plain, row-by-row reference implementation of the documented scoring rules.

Written from the ``calibrate.scoring`` module docstring and the framework schema
(``calibrate.framework.model``), not from the vectorised code: Python loops over firms, one rule
at a time, so that the oracle test can check the fast scorer on hundreds of random firms.

Where the documentation leaves a choice, this module says which reading it takes:

* **Rounding**: half-up to ``decimals`` the documented way, ``floor(v·10^d + 0.5 + 1e-9) / 10^d``
  (the epsilon absorbs binary representation error, e.g. 1.005 stored as 1.00499…).
* **Seats**: ``floor`` / ``ceil`` / ``round`` (half up) of ``f·n`` computed *exactly*, with ``f``
  read as the decimal written in the YAML file (``Fraction(str(f))``), so "0.29 × 100" is 29.
* **Subsidies**: the seat rule is applied among the ranked firms of the subsidy's stage within
  each ranking group (when the ranking group contains ``stage`` this is the ranking group).

The module also builds the test inputs shared by the oracle and property tests: a framework that
uses every rule kind (:func:`every_rule_document`) and random enterprise tables for any
framework (:func:`random_table`).
"""

from __future__ import annotations

import copy
import math
import statistics
from collections import defaultdict
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

import numpy as np
import pandas as pd

from calibrate.framework import (
    BandsRule,
    BinaryRule,
    CountRule,
    Framework,
    LinearRule,
    PercentileRule,
)

NAN = float("nan")

# --- documented arithmetic ------------------------------------------------------------------


def round_half_up(value: float, decimals: int) -> float:
    """四舍五入 to ``decimals`` places, the documented way."""
    scale = 10.0**decimals
    return math.floor(value * scale + 0.5 + 1e-9) / scale


def seats(fraction: float, n: int, rule: str) -> int:
    """Seats of a list for the top ``fraction`` of ``n`` firms, in exact decimal arithmetic."""
    exact = Fraction(str(fraction)) * n
    if rule == "floor":
        return math.floor(exact)
    if rule == "ceil":
        return math.ceil(exact)
    if rule == "round":
        return math.floor(exact + Fraction(1, 2))
    raise ValueError(rule)


def _at(value: Any, stage: str) -> float:
    """A per-stage parameter for one stage (a number for all stages, or a mapping)."""
    if isinstance(value, Mapping):
        return float(value[stage])
    return float(value)


def _number(value: Any) -> float:
    if value is None or value is pd.NA:
        return NAN
    if isinstance(value, float) and math.isnan(value):
        return NAN
    return float(value)


# --- rules ------------------------------------------------------------------------------------


def fraction_of(rule: Any, x: float, stage: str, points: float, peers: list[float]) -> float:
    """Fraction in [0, 1] of the indicator's points one firm earns.

    ``peers`` are the present values of the firm's ranking group (the firm included), used by
    the percentile rule only.
    """
    if math.isnan(x):
        return 0.0
    if isinstance(rule, LinearRule):
        low, high = _at(rule.low, stage), _at(rule.high, stage)
        f = (x - low) / (high - low)
        return min(max(f, 0.0), 1.0)
    if isinstance(rule, BandsRule):
        bands = rule.bands_at(stage)
        earned = 0.0
        for band in bands:  # bands are sorted by min; the last band reached wins
            if x >= band.min:
                earned = band.value
        if rule.value_is == "points":
            top = max(b.value for b in bands)
            return earned / top if top > 0 else 0.0
        return earned
    if isinstance(rule, PercentileRule):
        n = len(peers)
        if n <= 1:
            return 1.0
        lower = sum(1 for v in peers if v < x)
        return lower / (n - 1)
    if isinstance(rule, CountRule):
        if points <= 0:
            return 0.0
        f = x * _at(rule.per_unit, stage) / points
        return max(min(f, 1.0), 0.0)
    if isinstance(rule, BinaryRule):
        return 1.0 if x > 0 else 0.0
    raise TypeError(rule)


# --- the reference scorer -------------------------------------------------------------------


def stage_of(framework: Framework, revenue: float) -> str:
    """The stage with ``revenue_min <= revenue < revenue_max``."""
    for stage in framework.stages:
        if stage.revenue_min <= revenue and (
            stage.revenue_max is None or revenue < stage.revenue_max
        ):
            return stage.id
    raise ValueError(f"revenue {revenue} fits no stage")


def reference_score(framework: Framework, data: pd.DataFrame) -> pd.DataFrame:
    """Score ``data`` firm by firm; returns the documented output columns, one row per input row."""
    records = data.to_dict("records")
    n = len(records)
    d = framework.decimals
    stage = [stage_of(framework, _number(r["revenue"])) for r in records]
    key = [
        tuple(stage[i] if col == "stage" else records[i][col] for col in framework.ranking_group)
        for i in range(n)
    ]
    members: dict[tuple[Any, ...], list[int]] = defaultdict(list)
    for i in range(n):
        members[key[i]].append(i)

    rows: list[dict[str, Any]] = [{"stage": stage[i]} for i in range(n)]

    # points per indicator
    for ind in framework.indicators:
        raw = [_number(r[ind.id]) for r in records]
        if ind.missing == "median":
            filled = list(raw)
            for firms in members.values():
                present = [raw[i] for i in firms if not math.isnan(raw[i])]
                if not present:
                    continue
                median = float(statistics.median(present))
                for i in firms:
                    if math.isnan(raw[i]):
                        filled[i] = median
            raw = filled
        for i in range(n):
            points = float(ind.points[stage[i]])
            peers = [raw[j] for j in members[key[i]] if not math.isnan(raw[j])]
            f = fraction_of(ind.rule, raw[i], stage[i], points, peers)
            rows[i][f"pts__{ind.id}"] = round_half_up(points * f, d)

    # subtotals, capped bonus, deductions, veto, total
    for i in range(n):
        row = rows[i]
        core = 0.0
        bonus = 0.0
        for group in framework.groups:
            sub = 0.0
            for ind in framework.indicators:
                if ind.group == group.id:
                    sub += row[f"pts__{ind.id}"]
            sub = round_half_up(sub, d)
            row[f"grp__{group.id}"] = sub
            if group.kind == "core":
                core += sub
            else:
                bonus += min(sub, group.cap)
        row["core"] = round_half_up(core, d)
        row["bonus"] = round_half_up(bonus, d)
        deduction = 0.0
        vetoed = False
        for pen in framework.penalties:
            flag = _number(records[i][pen.id])
            if not flag > 0:  # a missing flag is no penalty
                continue
            if pen.action == "veto":
                vetoed = True
            else:
                deduction += _at(pen.points, stage[i])
        row["deduction"] = round_half_up(deduction, d)
        row["vetoed"] = vetoed
        row["total"] = round_half_up(row["core"] + row["bonus"] - row["deduction"], d)

    # ranks, percentiles, lists
    for i in range(n):
        row = rows[i]
        row.update(rank=None, percentile=NAN, tier=None, subsidy_wan=0.0)
        if row["vetoed"]:
            continue
        ranked = [j for j in members[key[i]] if not rows[j]["vetoed"]]
        total = row["total"]
        row["rank"] = 1 + sum(1 for j in ranked if rows[j]["total"] > total)
        row["percentile"] = sum(1 for j in ranked if rows[j]["total"] <= total) / len(ranked)
        for tier in framework.tiers:
            if row["rank"] <= seats(tier.top_fraction, len(ranked), framework.tier_seats):
                row["tier"] = tier.id
                break

    # subsidies: seat rule among the ranked firms of the subsidy's stage in each ranking group
    for rule in framework.subsidies:
        for firms in members.values():
            eligible = [j for j in firms if not rows[j]["vetoed"] and stage[j] == rule.stage]
            if not eligible:
                continue
            place = {
                j: 1 + sum(1 for k in eligible if rows[k]["total"] > rows[j]["total"])
                for j in eligible
            }
            cut = seats(rule.top_fraction, len(eligible), framework.tier_seats)
            if rule.max_firms is not None:
                cut = min(cut, rule.max_firms)
            winners = [j for j in eligible if place[j] <= cut]
            if rule.max_firms is not None and len(winners) > rule.max_firms:
                last = max(place[j] for j in winners)  # the tie at the cut-off
                winners = [j for j in winners if place[j] != last]
            for j in winners:
                rows[j]["subsidy_wan"] = float(rule.amount_wan)

    return pd.DataFrame(rows, index=data.index)


# --- comparison -----------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    if value is None or value is pd.NA:
        return None
    if isinstance(value, float | np.floating) and math.isnan(value):
        return None
    if hasattr(value, "item"):
        return value.item()
    return value


def _same(got: Any, want: Any) -> bool:
    if got is None or want is None:
        return got is None and want is None
    if isinstance(got, bool) or isinstance(want, bool):
        return isinstance(got, bool) and isinstance(want, bool) and got == want
    if isinstance(got, int | float) and isinstance(want, int | float):
        return got == want
    return type(got) is type(want) and got == want


def differences(fast: pd.DataFrame, reference: pd.DataFrame, limit: int = 20) -> list[str]:
    """Every cell where the scorer and the reference disagree (exact equality; NaN equals NaN)."""
    out = []
    for col in reference.columns:
        if col not in fast.columns:
            out.append(f"column {col} missing from the scorer output")
            continue
        got = [_plain(v) for v in fast[col].astype(object)]
        want = [_plain(v) for v in reference[col].astype(object)]
        for pos, (g, w) in enumerate(zip(got, want, strict=True)):
            if not _same(g, w):
                out.append(f"row {pos} ({fast.index[pos]}), {col}: scorer {g!r}, reference {w!r}")
                if len(out) >= limit:
                    return out
    return out


# --- inputs: a framework using every rule kind, random tables -------------------------------

_P = {"status": "official", "source": "test"}
_N = {"zh": "测试", "en": "test"}


def _ind(
    ident: str, group: str, rule: dict[str, Any], points: dict[str, float], **extra: Any
) -> dict[str, Any]:
    return {
        "id": ident,
        "name": _N,
        "unit": "x",
        "group": group,
        "rule": rule,
        "points": points,
        "provenance": _P,
        **extra,
    }


EVERY_RULE_DOCUMENT: dict[str, Any] = {
    "schema": "calibrate/framework@1",
    "id": "every-rule",
    "version": "1",
    "name": _N,
    "provenance": _P,
    "core_budget": 100,
    "stages": [
        {"id": "seed", "name": _N, "revenue_min": 0, "revenue_max": 500, "provenance": _P},
        {"id": "growth", "name": _N, "revenue_min": 500, "revenue_max": 2000, "provenance": _P},
        {"id": "scale", "name": _N, "revenue_min": 2000, "provenance": _P},
    ],
    "groups": [
        {"id": "tech", "name": _N, "kind": "core", "provenance": _P},
        {"id": "growth", "name": _N, "kind": "core", "provenance": _P},
        {"id": "awards", "name": _N, "kind": "bonus", "cap": 10, "provenance": _P},
        {"id": "finance", "name": _N, "kind": "bonus", "cap": 6, "provenance": _P},
    ],
    "indicators": [
        # core: seed 30+20+10 + 10+15+15 = 100; growth 25+25+15 + 10+15+10 = 100;
        # scale 20+25+15 + 10+20+10 = 100
        _ind(
            "rd_intensity",
            "tech",
            {"kind": "linear", "low": 0, "high": {"seed": 0.1, "growth": 0.08, "scale": 0.05}},
            {"seed": 30, "growth": 25, "scale": 20},
        ),
        _ind(
            "invention_patent_apps",
            "tech",
            {
                "kind": "bands",
                "bands": [
                    {"min": 1, "value": 0.3},
                    {"min": 3, "value": 0.6},
                    {"min": 6, "value": 1},
                ],
            },
            {"seed": 20, "growth": 25, "scale": 25},
        ),
        _ind(
            "st_staff_share",
            "tech",
            {
                "kind": "bands",
                "value_is": "points",
                "bands": {
                    "seed": [{"min": 0.1, "value": 5}, {"min": 0.3, "value": 10}],
                    "growth": [
                        {"min": 0.1, "value": 4},
                        {"min": 0.2, "value": 8.5},
                        {"min": 0.4, "value": 15},
                    ],
                    "scale": [{"min": 0.2, "value": 15}],
                },
            },
            {"seed": 10, "growth": 15, "scale": 15},
        ),
        _ind(
            "debt_ratio",
            "growth",
            {"kind": "linear", "low": 0.8, "high": 0.2},
            {"seed": 10, "growth": 10, "scale": 10},
            missing="median",
        ),
        _ind(
            "revenue_growth",
            "growth",
            {"kind": "percentile"},
            {"seed": 15, "growth": 15, "scale": 20},
        ),
        _ind(
            "talent_programs",
            "growth",
            {"kind": "count", "per_unit": {"seed": 2, "growth": 1.5, "scale": 1.25}},
            {"seed": 15, "growth": 10, "scale": 10},
        ),
        _ind("hte_valid", "awards", {"kind": "binary"}, {"seed": 6, "growth": 6, "scale": 6}),
        _ind(
            "awards_provincial", "awards", {"kind": "binary"}, {"seed": 5, "growth": 5, "scale": 5}
        ),
        _ind(
            "vc_financing",
            "finance",
            {"kind": "count", "per_unit": 0.01},
            {"seed": 8, "growth": 8, "scale": 8},
        ),
        _ind(
            "rd_growth",
            "finance",
            {"kind": "percentile"},
            {"seed": 2.35, "growth": 2.35, "scale": 3.7},
            missing="median",
        ),
    ],
    "penalties": [
        {
            "id": "env_violation",
            "name": _N,
            "action": "deduct",
            "points": {"seed": 3, "growth": 5, "scale": 7.5},
            "provenance": _P,
        },
        {
            "id": "major_safety_accident",
            "name": _N,
            "action": "deduct",
            "points": 2.25,
            "provenance": _P,
        },
        {"id": "research_misconduct", "name": _N, "action": "veto", "provenance": _P},
    ],
    "tiers": [
        {"id": "leading", "name": _N, "top_fraction": 0.1, "provenance": _P},
        {"id": "racing", "name": _N, "top_fraction": 0.3, "provenance": _P},
        {"id": "running", "name": _N, "top_fraction": 0.55, "provenance": _P},
    ],
    "subsidies": [
        {"stage": "seed", "top_fraction": 0.2, "amount_wan": 5, "max_firms": 3, "provenance": _P},
        {
            "stage": "growth",
            "top_fraction": 0.15,
            "amount_wan": 10,
            "max_firms": 2,
            "provenance": _P,
        },
        {"stage": "scale", "top_fraction": 0.3, "amount_wan": 20, "provenance": _P},
    ],
}


def every_rule_document(**changes: Any) -> dict[str, Any]:
    """A fresh copy of the every-rule framework document, with top-level keys changed."""
    doc = copy.deepcopy(EVERY_RULE_DOCUMENT)
    doc.update(copy.deepcopy(changes))
    return doc


def every_rule_framework(**changes: Any) -> Framework:
    return Framework.from_document(every_rule_document(**changes), "every-rule (tests)")


def _grid(low: float, high: float, steps: int) -> list[float]:
    """A coarse grid with exact decimal points (so ties happen and goalposts are hit exactly)."""
    return [round(low + (high - low) * k / steps, 6) for k in range(steps + 1)]


def value_pool(framework: Framework, ind_id: str) -> list[float]:
    """Candidate raw values for one indicator: goalposts, band edges and just-below values."""
    ind = framework.indicator(ind_id)
    rule = ind.rule
    stages = framework.stage_ids
    if isinstance(rule, LinearRule):
        ends = [_at(rule.low, s) for s in stages] + [_at(rule.high, s) for s in stages]
        lo, hi = min(ends), max(ends)
        span = hi - lo
        return sorted(set(_grid(lo - 0.2 * span, hi + 0.2 * span, 14) + ends))
    if isinstance(rule, BandsRule):
        mins = sorted({b.min for s in stages for b in rule.bands_at(s)})
        step = min((b - a for a, b in zip(mins, mins[1:], strict=False)), default=1.0) / 2
        pool = set(mins) | {round(m - step, 6) for m in mins} | {round(m + step, 6) for m in mins}
        return sorted(pool | {0.0, round(mins[-1] * 2 + 1, 6)})
    if isinstance(rule, CountRule):
        most = max(ind.points[s] / max(_at(rule.per_unit, s), 1e-9) for s in stages)
        top = int(min(most, 1e6)) + 2
        return sorted(
            {0.0, 1.0, 2.0, 3.0, float(top // 3), float(top // 2), float(top - 2), float(top)}
        )
    if isinstance(rule, BinaryRule):
        return [0.0, 1.0]
    return [-0.2, -0.1, 0.0, 0.05, 0.1, 0.2, 0.35, 0.5]  # percentile: coarse, with ties


def revenue_pool(framework: Framework) -> list[float]:
    """Every stage boundary, just below it, 0, and values inside every stage."""
    pool = {0.0}
    for s in framework.stages:
        pool.add(s.revenue_min)
        if s.revenue_min > 0:
            pool.add(round(s.revenue_min - 0.01, 2))
        if s.revenue_max is not None:
            pool.add(round(s.revenue_max - 0.01, 2))
            pool.add(round((s.revenue_min + s.revenue_max) / 2, 2))
        else:
            pool.update({s.revenue_min * 2 + 100, s.revenue_min * 10 + 1000})
    last = framework.stages[-1]
    return sorted(
        v
        for v in pool
        if v >= framework.stages[0].revenue_min
        and (last.revenue_max is None or v < last.revenue_max)
    )


def random_table(
    framework: Framework,
    rng: np.random.Generator,
    n: int = 400,
    *,
    missing: float = 0.08,
    flags: float = 0.06,
    parks: tuple[str, ...] = ("p1", "p2"),
    years: tuple[int, ...] = (2022, 2023),
) -> pd.DataFrame:
    """A random enterprise table for ``framework``: coarse values, boundary revenues, NaN, flags."""
    revenues = revenue_pool(framework)
    columns: dict[str, Any] = {
        "enterprise_id": [f"e{i:04d}" for i in range(n)],
        "park": rng.choice(list(parks), n),
        "year": rng.choice(list(years), n),
    }
    if "revenue" not in framework.indicator_ids:
        columns["revenue"] = rng.choice(revenues, n)
    for col in framework.ranking_group:
        if col not in ("stage", *columns):
            columns[col] = rng.choice(["i1", "i2", "i3"], n)
    for ind in framework.indicators:
        if ind.id == "revenue":  # the stage column is also scored (e.g. a percentile on revenue)
            columns["revenue"] = rng.choice(revenues, n)
            continue
        values = rng.choice(value_pool(framework, ind.id), n).astype(float)
        values[rng.random(n) < missing] = np.nan
        columns[ind.id] = values
    for pen in framework.penalties:
        flag = (rng.random(n) < flags).astype(float)
        flag[rng.random(n) < missing / 2] = np.nan
        columns[pen.id] = flag
    return pd.DataFrame(columns)
