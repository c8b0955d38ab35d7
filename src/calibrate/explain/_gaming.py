"""Gaming check: marginal points per unit of every indicator, and which are cheap to inflate.

A points table rewards whatever moves points most cheaply. :func:`gaming_table` gives, per
indicator and stage, the points a firm gains per unit of the raw value (per 万元 for money, per
item for counts, per percentage point — ``step`` 0.01 — for shares and growth rates), where that
rate holds, and whether the indicator can be moved by paper work (:data:`MANIPULABLE`).
:func:`compare_gaming` shows which indicators a candidate weighting makes cheaper to game.

Marginal points per unit (``per_unit``), with ``P`` the indicator's points in the stage
------------------------------------------------------------------------------------------
* **linear**: ``P / |high − low|`` between the stage's goalposts (``range_low`` … ``range_high``),
  0 outside them.
* **count**: ``per_unit`` points per item until the ``P`` cap (``0 … P / per_unit`` items).
* **binary**: ``P`` for switching 0 → 1.
* **bands**: from a reference value — the stage median of the raw value when ``data`` is given,
  else 0 — to the nearest band edge that earns more: the points gained divided by the distance
  (unrounded points). 0 when no band earns more.
* **percentile**: ``P × 0.2 / (q60 − q40)``, the quantiles of the raw value of all firms of the
  stage in ``data`` (every park and year pooled): the fraction is the within-group empirical
  distribution function, whose slope around the median is the share 0.2 between the 40th and
  60th percentiles over their distance. NaN without data, or when q60 = q40.

Points are before the bonus cap: a bonus indicator (``capped`` True) earns a firm nothing once its
group is at the cap.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd

from calibrate.explain._shared import FloatArray, frame_to_records, numeric
from calibrate.framework import (
    BandsRule,
    BinaryRule,
    CountRule,
    Framework,
    Indicator,
    LinearRule,
    Name,
)
from calibrate.framework.model import value_at
from calibrate.scoring import stage_index_of

__all__ = [
    "MANIPULABLE",
    "STEPS",
    "GamingComparison",
    "GamingTable",
    "ManipulableRule",
    "compare_gaming",
    "gaming_table",
    "manipulability",
]


@dataclass(frozen=True)
class ManipulableRule:
    """One entry of :data:`MANIPULABLE`: indicators matching ``field == value`` can be moved on paper.

    ``field`` is ``unit`` (the indicator's unit), ``kind`` (its rule kind), ``id`` (its id) or
    ``id_suffix`` (the end of its id).
    """

    field: Literal["unit", "kind", "id", "id_suffix"]
    value: str
    reason: Name

    def matches(self, ind: Indicator) -> bool:
        if self.field == "unit":
            return ind.unit.strip() == self.value
        if self.field == "kind":
            return ind.rule.kind == self.value
        if self.field == "id":
            return ind.id == self.value
        return ind.id.endswith(self.value)


#: Indicators a firm can move by paper work, first matching entry wins: money amounts (booking,
#: reclassifying or timing costs and income moves them without new activity), counts of
#: *applications* (a filing needs no grant) and registrations or agreements that are checked for
#: form only. Everything else is "hard": shares and growth rates need several audited figures to
#: move together, granted patents and certificates are examined by a third party, statuses are
#: awarded by an authority, staff and hires are on the social-insurance record.
MANIPULABLE: tuple[ManipulableRule, ...] = (
    ManipulableRule(
        "unit",
        "万元",
        Name(
            "金额：可通过记账、费用归集或确认时点调整",
            "money amount: moved by booking, reclassifying or timing costs and income",
        ),
    ),
    ManipulableRule(
        "unit",
        "万元 / person",
        Name(
            "人均金额：金额与人数均由企业申报",
            "money per head: both the amount and the head count are declared by the firm",
        ),
    ),
    ManipulableRule(
        "id_suffix",
        "_apps",
        Name(
            "申请数量：提交申请即可，无需授权",
            "count of applications: a filing is paper work and needs no grant",
        ),
    ),
    ManipulableRule(
        "id",
        "software_copyrights",
        Name(
            "软件著作权登记仅作形式审查",
            "software copyright registration is examined for form only",
        ),
    ),
    ManipulableRule(
        "id",
        "industry_university_projects",
        Name(
            "产学研合作协议可低成本签订",
            "co-operation agreements can be signed with little substance",
        ),
    ),
)

_HARD = {
    "binary": Name("由主管部门认定的资格或状态", "a status or certificate granted by an authority"),
    "fraction": Name(
        "比率或增速，需多项经审计数据同时变动",
        "a ratio or growth rate: several audited figures must move together",
    ),
    "other": Name("经审查或登记在册的记录", "an examined or registered record"),
}

#: Step in which the marginal rate is also shown (``per_step``), by unit: shares and growth rates
#: per percentage point; everything else per one unit (per 万元, per item, per 0/1 switch).
STEPS: dict[str, float] = {"fraction": 0.01}


def manipulability(ind: Indicator) -> tuple[bool, Name]:
    """Whether an indicator can be moved by paper work, and why (first :data:`MANIPULABLE` match).

    Returns
    -------
    (bool, Name)
        ``True`` and the matching entry's reason, or ``False`` and why it is hard to move.
    """
    for rule in MANIPULABLE:
        if rule.matches(ind):
            return True, rule.reason
    if isinstance(ind.rule, BinaryRule):
        return False, _HARD["binary"]
    if ind.unit.strip() == "fraction":
        return False, _HARD["fraction"]
    return False, _HARD["other"]


def _band_points(rule: BandsRule, stage: str, points: float, x: float) -> float:
    bands = rule.bands_at(stage)
    mins = np.array([b.min for b in bands], dtype=np.float64)
    vals = np.array([b.value for b in bands], dtype=np.float64)
    if rule.value_is == "points":
        top = vals.max() if vals.size else 0.0
        vals = vals / top if top > 0 else np.zeros_like(vals)
    frac = np.append(0.0, vals)[np.searchsorted(mins, x, side="right")]
    return float(frac * points)


def _bands_rate(
    rule: BandsRule, stage: str, points: float, ref: float
) -> tuple[float, float, float]:
    """Points per unit from ``ref`` to the nearest band edge that earns more: (rate, low, high)."""
    here = _band_points(rule, stage, points, ref)
    best: tuple[float, float, float, float] | None = None  # distance, rate, low, high
    for b in rule.bands_at(stage):
        if b.min > ref:  # up into the band starting at b.min
            gain = _band_points(rule, stage, points, b.min) - here
            dist, low, high = b.min - ref, ref, b.min
        elif b.min < ref:  # down to just below b.min
            gain = _band_points(rule, stage, points, float(np.nextafter(b.min, -math.inf))) - here
            dist, low, high = ref - b.min, b.min, ref
        else:
            continue
        if gain > 0 and (best is None or dist < best[0]):
            best = (dist, gain / dist, low, high)
    if best is None:
        return 0.0, ref, ref
    return best[1], best[2], best[3]


def _rows(framework: Framework, data: pd.DataFrame | None) -> list[dict[str, Any]]:
    stages = framework.stage_ids
    kinds = {g.id: g for g in framework.groups}
    stage_index = None
    if data is not None:
        stage_index = stage_index_of(data, framework)
    rows: list[dict[str, Any]] = []
    for ind in framework.indicators:
        flag, why = manipulability(ind)
        group = kinds[ind.group]
        x: FloatArray | None = None
        if data is not None and ind.id in data.columns:
            x = numeric(data, ind.id)
        for s_pos, stage in enumerate(stages):
            points = float(ind.points[stage])
            present = None
            if x is not None and stage_index is not None:
                vals = x[stage_index == s_pos]
                present = vals[~np.isnan(vals)]
            rule = ind.rule
            ref = math.nan
            if isinstance(rule, LinearRule):
                low, high = value_at(rule.low, stage), value_at(rule.high, stage)
                rate = points / abs(high - low) if high != low else 0.0
                lo, hi = min(low, high), max(low, high)
                measure = "P / |high − low| between the goalposts"
            elif isinstance(rule, CountRule):
                per_unit = value_at(rule.per_unit, stage)
                rate = per_unit if points > 0 else 0.0
                lo, hi = 0.0, points / per_unit if per_unit > 0 else 0.0
                measure = "per_unit points per item up to the P cap"
            elif isinstance(rule, BinaryRule):
                rate, lo, hi = points, 0.0, 1.0
                measure = "P for switching 0 → 1"
            elif isinstance(rule, BandsRule):
                ref = float(np.median(present)) if present is not None and present.size else 0.0
                rate, lo, hi = _bands_rate(rule, stage, points, ref)
                measure = "points to the nearest better band per unit of distance from the " + (
                    "stage median" if present is not None and present.size else "value 0"
                )
            else:
                if present is not None and present.size:
                    q40, q60 = np.quantile(present, [0.4, 0.6])
                    ref = float(np.median(present))
                    rate = points * 0.2 / (q60 - q40) if q60 > q40 else math.nan
                    lo, hi = float(q40), float(q60)
                else:
                    rate, lo, hi = math.nan, math.nan, math.nan
                measure = "P × 0.2 / (q60 − q40) of the stage's values (needs data)"
            step = STEPS.get(ind.unit.strip(), 1.0)
            rows.append(
                {
                    "indicator": ind.id,
                    "stage": stage,
                    "name_zh": ind.name.zh,
                    "name_en": ind.name.en,
                    "group": ind.group,
                    "group_kind": group.kind,
                    "capped": group.kind == "bonus" and group.cap is not None,
                    "kind": rule.kind,
                    "unit": ind.unit,
                    "direction": "up" if ind.direction > 0 else "down",
                    "points": points,
                    "per_unit": rate,
                    "step": step,
                    "per_step": rate * step,
                    "units_per_point": 1.0 / rate if rate and not math.isnan(rate) else math.nan,
                    "range_low": lo,
                    "range_high": hi,
                    "range_points": rate * (hi - lo) if rate else 0.0,
                    "reference": ref,
                    "measure": measure,
                    "manipulable": flag,
                    "manipulable_reason": why.en,
                    "manipulable_reason_zh": why.zh,
                }
            )
    return rows


@dataclass(frozen=True, eq=False)
class GamingTable:
    """Marginal points per unit of every indicator in every stage of one framework.

    Attributes
    ----------
    framework : Framework
    frame : pandas.DataFrame
        One row per indicator and stage: ``indicator``, ``stage``, names, ``group``,
        ``group_kind``, ``capped``, ``kind``, ``unit``, ``direction``, ``points``, ``per_unit``
        (marginal points per unit of the raw value), ``step`` and ``per_step`` (per 0.01 for
        shares), ``units_per_point``, ``range_low`` / ``range_high`` (where the rate holds) and
        ``range_points`` (the points it is worth over that range),
        ``reference`` (bands and percentile: the value the rate is measured from), ``measure``,
        ``manipulable`` and its reason in both languages.
    with_data : bool
        Whether data informed the bands and percentile rates.
    """

    framework: Framework
    frame: pd.DataFrame
    with_data: bool

    def pivot(self, values: str = "per_unit") -> pd.DataFrame:
        """Indicator × stage table of one column (``per_unit`` by default)."""
        table = self.frame.pivot(index="indicator", columns="stage", values=values)
        return table.loc[list(self.framework.indicator_ids), list(self.framework.stage_ids)]

    def cheapest(
        self,
        stage: str | None = None,
        *,
        unit: str | None = None,
        manipulable: bool | None = None,
        n: int | None = None,
    ) -> pd.DataFrame:
        """Indicators that give the most points per step of raw value, most first.

        Rates in different units are not comparable; pass ``unit`` (e.g. ``"万元"``) to compare
        like with like, ``manipulable=True`` for the paper-work indicators only.
        """
        out = self.frame
        if stage is not None:
            out = out[out["stage"] == stage]
        if unit is not None:
            out = out[out["unit"] == unit]
        if manipulable is not None:
            out = out[out["manipulable"] == manipulable]
        out = out.sort_values("per_step", ascending=False, kind="stable")
        return out if n is None else out.head(n)

    def to_frame(self) -> pd.DataFrame:
        """The long table (one row per indicator and stage)."""
        return self.frame

    def to_dict(self) -> dict[str, Any]:
        """Plain data: framework id and one record per indicator and stage."""
        return {
            "framework": self.framework.id,
            "with_data": self.with_data,
            "rows": frame_to_records(self.frame),
        }


def gaming_table(framework: Framework, data: pd.DataFrame | None = None) -> GamingTable:
    """Marginal points per unit of each indicator and stage, with manipulability flags.

    Parameters
    ----------
    framework : Framework
    data : pandas.DataFrame, optional
        An enterprise table: the bands rates are measured from each stage's median and the
        percentile rates estimated from each stage's values (NaN without data).

    Returns
    -------
    GamingTable

    Notes
    -----
    The measure per rule kind is in :mod:`calibrate.explain._gaming`.
    """
    return GamingTable(framework, pd.DataFrame(_rows(framework, data)), data is not None)


@dataclass(frozen=True, eq=False)
class GamingComparison:
    """Which indicators a candidate framework makes cheaper (or dearer) to game.

    Attributes
    ----------
    base, candidate : GamingTable
    frame : pandas.DataFrame
        One row per indicator and stage in either framework: names, ``unit``, ``manipulable``,
        ``per_unit_base``, ``per_unit_candidate`` (NaN where the framework lacks the indicator
        or stage; an indicator missing from a framework earns nothing there, counted 0 in
        ``change``), ``change``, ``ratio`` (candidate / base; inf when the base rate is 0),
        ``cheaper`` (more points per unit under the candidate).
    """

    base: GamingTable
    candidate: GamingTable
    frame: pd.DataFrame

    def cheaper(self, *, manipulable: bool | None = None) -> pd.DataFrame:
        """Rows that became cheaper to game, by ratio (largest first)."""
        out = self.frame[self.frame["cheaper"]]
        if manipulable is not None:
            out = out[out["manipulable"] == manipulable]
        return out.sort_values(["ratio", "change"], ascending=False, kind="stable")

    def by_indicator(self) -> pd.DataFrame:
        """Per indicator: stages where it became cheaper / dearer, median ratio."""
        f = self.frame
        dearer = f["per_unit_candidate"].fillna(0.0) < f["per_unit_base"].fillna(0.0)
        out = (
            f.assign(dearer=dearer)
            .groupby("indicator", sort=False)
            .agg(
                name_zh=("name_zh", "first"),
                name_en=("name_en", "first"),
                manipulable=("manipulable", "first"),
                stages_cheaper=("cheaper", "sum"),
                stages_dearer=("dearer", "sum"),
                median_ratio=("ratio", "median"),
            )
        )
        return out

    def to_frame(self) -> pd.DataFrame:
        """The long table."""
        return self.frame

    def to_dict(self) -> dict[str, Any]:
        """Plain data: both framework ids and one record per indicator and stage."""
        return {
            "base": self.base.framework.id,
            "candidate": self.candidate.framework.id,
            "rows": frame_to_records(self.frame),
        }


def compare_gaming(
    base: Framework, candidate: Framework, data: pd.DataFrame | None = None
) -> GamingComparison:
    """Compare two frameworks' marginal points per unit: which indicators became cheaper to game.

    Parameters
    ----------
    base, candidate : Framework
    data : pandas.DataFrame, optional
        Enterprise table for the bands and percentile rates (see :func:`gaming_table`).

    Returns
    -------
    GamingComparison
    """
    b, c = gaming_table(base, data), gaming_table(candidate, data)
    keys = ["indicator", "stage"]
    info = ["name_zh", "name_en", "unit", "manipulable"]
    left = b.frame[keys + info + ["kind", "per_unit"]]
    right = c.frame[keys + info + ["kind", "per_unit"]]
    merged = left.merge(right, on=keys, how="outer", suffixes=("_base", "_candidate"), sort=False)
    # outer merges sort their keys: restore base order, then what only the candidate has
    order_ind = list(base.indicator_ids) + [
        i for i in candidate.indicator_ids if i not in base.indicator_ids
    ]
    order_stage = list(base.stage_ids) + [s for s in candidate.stage_ids if s not in base.stage_ids]
    merged = (
        merged.assign(
            _i=merged["indicator"].map({k: n for n, k in enumerate(order_ind)}),
            _s=merged["stage"].map({k: n for n, k in enumerate(order_stage)}),
        )
        .sort_values(["_i", "_s"], kind="stable")
        .drop(columns=["_i", "_s"])
    )
    for col in info:
        merged[col] = merged[f"{col}_base"].where(
            merged[f"{col}_base"].notna(), merged[f"{col}_candidate"]
        )
        merged = merged.drop(columns=[f"{col}_base", f"{col}_candidate"])
    merged["manipulable"] = merged["manipulable"].astype(bool)
    pb = merged["per_unit_base"].fillna(0.0).to_numpy(dtype=np.float64)
    pc = merged["per_unit_candidate"].fillna(0.0).to_numpy(dtype=np.float64)
    merged["change"] = pc - pb
    with np.errstate(divide="ignore", invalid="ignore"):
        merged["ratio"] = np.where(
            pb > 0, pc / np.where(pb > 0, pb, 1.0), np.where(pc > 0, np.inf, np.nan)
        )
    merged["cheaper"] = pc > pb * (1 + 1e-12)
    order = (
        keys
        + info
        + [
            "kind_base",
            "kind_candidate",
            "per_unit_base",
            "per_unit_candidate",
            "change",
            "ratio",
            "cheaper",
        ]
    )
    return GamingComparison(b, c, merged[order].reset_index(drop=True))
