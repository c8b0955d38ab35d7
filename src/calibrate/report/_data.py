"""Small read-only views of the result objects that both the plots and the HTML use.

Nothing here fits or scores: every number comes from a result object (``Suggestion``,
``Comparison``, ``ScoreResult``, ``FitResult``, ``RankUncertainty``); these helpers only select,
rename and arrange it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from calibrate.framework import Framework
from calibrate.framework.model import Name
from calibrate.scoring import ScoreResult, tier_seats

if TYPE_CHECKING:
    from calibrate.compare import Comparison
    from calibrate.models import FitResult
    from calibrate.suggest import Suggestion

__all__ = [
    "METRIC_ORDER",
    "FirmChange",
    "NextTierPath",
    "firm_change",
    "indicator_name",
    "metrics_table",
    "nearest_path",
    "normalise_metrics",
    "parse_drivers",
]

#: Metric rows in display order (names of :func:`calibrate.suggest.evaluate_policy`).
METRIC_ORDER = (
    "n",
    "events",
    "base_rate",
    "auc_within_group",
    "auc_pooled",
    "pr_auc",
    "brier",
    "prec_top5",
    "prec_top10",
    "prec_top20",
    "lift_top5",
    "lift_top10",
    "lift_top20",
)
#: Metric keys are those of :data:`calibrate.metrics.METRIC_NAMES`; no other spelling exists.
ALIASES: dict[str, str] = {}

BONUS_CAP = "bonus_cap"
DEDUCTION = "deduction"


def normalise_metrics(values: Mapping[Any, Any]) -> dict[str, float]:
    """Metric names mapped to :data:`METRIC_ORDER` spellings; values as floats (NaN if missing)."""
    out: dict[str, float] = {}
    for key, value in values.items():
        name = ALIASES.get(str(key), str(key))
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            out[name] = math.nan
    return out


@dataclass(frozen=True)
class MetricsTable:
    """Held-out metrics side by side: ``frame`` (rows metric ids, columns labels) and each column's role."""

    frame: pd.DataFrame
    roles: tuple[str, ...]  # "current", "suggested", "base", "candidate", "fit", "extra"
    source: str  # "suggestion" | "comparison" | "other"


def metrics_table(
    labels: Mapping[str, str],
    *,
    suggestion: Suggestion | None = None,
    comparison: Comparison | None = None,
    fit: FitResult | None = None,
    extra: Mapping[str, Mapping[str, Any]] | None = None,
) -> MetricsTable | None:
    """Assemble the held-out metrics of everything given, one column per way of ranking.

    ``labels`` maps the roles ``current``, ``suggested``, ``base``, ``candidate`` and ``fit`` to
    column labels. A suggestion's held-out metrics win over a comparison's outcome metrics
    (which cover all labelled years, not held-out ones).
    """
    cols: dict[str, dict[str, float]] = {}
    roles: list[str] = []
    source = "other"
    if suggestion is not None:
        for role in ("current", "suggested"):
            cols[labels[role]] = normalise_metrics(suggestion.metrics[role].to_dict())
            roles.append(role)
        source = "suggestion"
    elif comparison is not None and comparison.outcome_metrics is not None:
        om = comparison.outcome_metrics
        for role in ("base", "candidate"):
            cols[labels[role]] = normalise_metrics(om[role].to_dict())
            roles.append(role)
        source = "comparison"
    if fit is not None and "pooled" in fit.overall.index:
        cols[labels["fit"]] = normalise_metrics(fit.overall.loc["pooled"].to_dict())
        roles.append("fit")
    for name, values in (extra or {}).items():
        cols[str(name)] = normalise_metrics(values)
        roles.append("extra")
    if not cols:
        return None
    keys = [m for m in METRIC_ORDER if any(m in c for c in cols.values())]
    keys += [k for c in cols.values() for k in c if k not in keys and k not in METRIC_ORDER]
    keys = list(dict.fromkeys(keys))
    frame = pd.DataFrame(
        {label: [c.get(k, math.nan) for k in keys] for label, c in cols.items()},
        index=pd.Index(keys, name="metric"),
    )
    return MetricsTable(frame, tuple(roles), source)


def indicator_name(ident: str, *frameworks: Framework | None) -> Name | None:
    """The name of an indicator (or penalty) id in the first framework that has it."""
    for fw in frameworks:
        if fw is None:
            continue
        if ident in fw.indicator_ids:
            return fw.indicator(ident).name
        if ident in fw.penalty_ids:
            return fw.penalty(ident).name
    return None


_DRIVER = re.compile(r"^\s*(\S+)\s+([+\-−]?\d+(?:\.\d+)?)\s*$")


def parse_drivers(text: Any) -> list[tuple[str, float]]:
    """``"rd_intensity +4.50; pct_apps -2.00"`` → ``[("rd_intensity", 4.5), ("pct_apps", -2.0)]``."""
    if not isinstance(text, str) or not text.strip():
        return []
    out = []
    for part in text.split(";"):
        m = _DRIVER.match(part)
        if m:
            out.append((m.group(1), float(m.group(2).replace("−", "-"))))
    return out


# --- one firm under two frameworks ---------------------------------------------------------------


@dataclass(frozen=True)
class FirmChange:
    """One firm's points under the base and the candidate framework (from a :class:`Comparison`).

    ``components`` is the exact decomposition of ``candidate_total − base_total``: the change of
    each indicator's points, then ``bonus_cap`` and ``deduction`` (see
    :attr:`calibrate.compare.Comparison.points_change`).
    """

    enterprise_id: str
    year: int
    row: int
    park: str | None
    stage: str
    base_total: float
    candidate_total: float
    rank_base: float
    rank_candidate: float
    tier_base: str
    tier_candidate: str
    subsidy_base: float
    subsidy_candidate: float
    components: pd.Series
    base_points: pd.Series = field(repr=False)
    candidate_points: pd.Series = field(repr=False)
    names: dict[str, Name] = field(default_factory=dict, repr=False)


def _row_of(frame: pd.DataFrame, enterprise_id: str, year: int) -> int | None:
    hit = np.flatnonzero(
        (frame["enterprise_id"].astype(str).to_numpy() == str(enterprise_id))
        & (frame["year"].to_numpy(dtype=np.int64) == int(year))
    )
    return int(hit[0]) if hit.size else None


def _cell(frame: pd.DataFrame, column: str, row: int) -> float:
    """One numeric cell as a float (NaN for missing)."""
    return float(frame[column].to_numpy(dtype=np.float64, na_value=np.nan)[row])


def _points_row(scores: ScoreResult, row: int, ids: list[str]) -> pd.Series:
    f = scores.frame
    values = [_cell(f, f"pts__{i}", row) if f"pts__{i}" in f.columns else 0.0 for i in ids]
    return pd.Series(values, index=ids, dtype=np.float64)


def _num(value: Any) -> float:
    if value is None or value is pd.NA:
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def firm_change(comparison: Comparison, enterprise_id: str, year: int) -> FirmChange | None:
    """The :class:`FirmChange` of one firm-year, or None when the comparison does not have it."""
    firms = comparison.firms
    row = _row_of(firms, enterprise_id, year)
    if row is None:
        return None
    rec = firms.iloc[row]
    change = comparison.points_change.iloc[row].astype(np.float64)
    ids = list(comparison.indicator_ids)
    return FirmChange(
        enterprise_id=str(rec["enterprise_id"]),
        year=int(rec["year"]),
        row=row,
        park=str(rec["park"]) if "park" in firms.columns else None,
        stage=str(rec["stage"]),
        base_total=float(rec["total_base"]),
        candidate_total=float(rec["total_candidate"]),
        rank_base=_num(rec["rank_base"]),
        rank_candidate=_num(rec["rank_candidate"]),
        tier_base=str(rec["tier_base"]),
        tier_candidate=str(rec["tier_candidate"]),
        subsidy_base=float(rec["subsidy_base"]),
        subsidy_candidate=float(rec["subsidy_candidate"]),
        components=change,
        base_points=_points_row(comparison.base_scores, row, ids),
        candidate_points=_points_row(comparison.candidate_scores, row, ids),
        names={
            i: n
            for i in ids
            if (n := indicator_name(i, comparison.candidate, comparison.base)) is not None
        },
    )


# --- nearest path to the next list ---------------------------------------------------------------


@dataclass(frozen=True)
class NextTierPath:
    """How far one firm is from the next better list, and the fewest indicators that close the gap.

    ``status``: ``"gap"`` (``steps`` close it), ``"impossible"`` (all room is not enough),
    ``"top"`` (already on the best list), ``"vetoed"``, ``"ineligible"`` (not ranked under the
    eligibility rules) or ``"no_seat"`` (the list has no seat in the firm's ranking group).
    ``steps`` are ``(indicator, earned, full, room)``, most room first.
    """

    status: str
    tier: str | None
    cutoff: float
    gap: float
    steps: tuple[tuple[str, float, float, float], ...] = ()


def nearest_path(scores: ScoreResult, row: int) -> NextTierPath:
    """The nearest path of firm ``row`` to the next better list of ``scores.framework``.

    The cut-off of a list in a ranking group is the total of the firm at its last seat (the
    scorer's seat rule); reaching it puts the firm on the list. Each indicator can add at most
    the points it does not earn yet (bonus indicators also up to their group's cap); indicators
    are taken largest room first until the gap is closed.
    """
    fw = scores.framework
    f = scores.frame
    tiers = [t.id for t in fw.tiers]
    if not tiers:
        return NextTierPath("no_seat", None, math.nan, math.nan)
    if bool(f["vetoed"].iat[row]):
        return NextTierPath("vetoed", None, math.nan, math.nan)
    ranked = scores.ranked  # eligible and not vetoed: the firms that compete for seats
    if not ranked[row]:
        return NextTierPath("ineligible", None, math.nan, math.nan)
    tier = f["tier"].iat[row]
    pos = tiers.index(str(tier)) if isinstance(tier, str) and str(tier) in tiers else len(tiers)
    if pos == 0:
        return NextTierPath("top", tiers[0], math.nan, 0.0)
    target = pos - 1
    code = scores.group_code[row]
    in_group = (scores.group_code == code) & ranked
    totals = np.sort(f["total"].to_numpy(dtype=np.float64)[in_group])[::-1]
    k = int(tier_seats(fw, target, [totals.size])[0])
    if k <= 0:
        return NextTierPath("no_seat", tiers[target], math.nan, math.nan)
    cutoff = float(totals[k - 1])
    total = _cell(f, "total", row)
    gap = round(cutoff - total, fw.decimals + 2)
    stage = fw.stage_ids[int(scores.stage_index[row])]
    rooms: list[tuple[str, str, float, float, float]] = []  # (indicator, group, earned, full, room)
    group_left: dict[str, float] = {}
    for g in fw.groups:
        members = [i for i in fw.indicators if i.group == g.id]
        earned_group = math.fsum(_cell(f, f"pts__{i.id}", row) for i in members)
        group_left[g.id] = (
            math.inf if g.kind == "core" or g.cap is None else max(0.0, g.cap - earned_group)
        )
        for ind in members:
            full = float(ind.points[stage])
            earned = _cell(f, f"pts__{ind.id}", row)
            room = min(full - earned, group_left[g.id])
            if room > 0:
                rooms.append((ind.id, g.id, earned, full, room))
    order = sorted(range(len(rooms)), key=lambda j: (-rooms[j][4], j))
    steps: list[tuple[str, float, float, float]] = []
    got = 0.0
    for j in order:
        if got >= gap:
            break
        ident, gid, earned, full, room = rooms[j]
        room = round(min(room, group_left[gid]), fw.decimals + 2)
        if room <= 0:
            continue
        group_left[gid] -= room
        steps.append((ident, earned, full, room))
        got += room
    status = "gap" if got >= gap else "impossible"
    return NextTierPath(status, tiers[target], cutoff, gap, tuple(steps))


# --- the year under review -----------------------------------------------------------------------


def latest_year(scores: ScoreResult) -> int | None:
    """The latest data year of a scores table (None without a ``year`` column)."""
    if "year" not in scores.frame.columns or not len(scores.frame):
        return None
    return int(scores.frame["year"].to_numpy(dtype=np.int64).max())


def year_scores(scores: ScoreResult, year: int) -> ScoreResult:
    """The rows of one data year (ranks are within ``(park, stage, year)``, so they stay valid)."""
    mask = scores.frame["year"].to_numpy(dtype=np.int64) == int(year)
    return ScoreResult(
        framework=scores.framework,
        frame=scores.frame.loc[mask].reset_index(drop=True),
        fractions=scores.fractions[mask],
        stage_index=scores.stage_index[mask],
        group_code=scores.group_code[mask],
        missing=scores.missing,
    )


def year_comparison(comparison: Comparison, year: int) -> Comparison:
    """The same comparison restricted to the firms of one data year (counts per year, not pooled)."""
    from calibrate.compare import Comparison

    mask = comparison.base_scores.frame["year"].to_numpy(dtype=np.int64) == int(year)
    labels = comparison.labels
    return Comparison(
        comparison.base,
        comparison.candidate,
        year_scores(comparison.base_scores, year),
        year_scores(comparison.candidate_scores, year),
        labels=labels[mask].reset_index(drop=True) if labels is not None else None,
        target=comparison.target,
        horizon=comparison.horizon,
        top=comparison.top,
    )


def outcome_values(outcome_metrics: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """``Comparison.outcome_metrics`` as ``{metric: (base, candidate)}``."""
    return {
        str(k): (_num(outcome_metrics.at[k, "base"]), _num(outcome_metrics.at[k, "candidate"]))
        for k in outcome_metrics.index
    }
