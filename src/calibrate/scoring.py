"""Vectorised policy scorer: enterprise table + framework → points, ranks, lists, subsidies.

Every step runs over whole columns; there is no per-row Python. The edge rules below are policy
decisions, documented in ``docs/scoring-rules.md`` and pinned by ``tests/cases/*.yaml``:

* **Stage**: ``revenue_min <= revenue < revenue_max`` (lower bound inclusive): a firm with revenue
  exactly 500 is in the stage that starts at 500.
* **Points**: ``points[stage] × fraction`` per indicator, rounded half-up to ``decimals`` places;
  subtotals, bonus and total are re-rounded after summing so published scores are exact decimals.
* **Bonus**: each bonus group's subtotal is capped at the group's ``cap``; ``bonus`` is the sum of
  the capped subtotals. ``total = core + bonus − deduction`` (it may be negative).
* **Veto**: a vetoed firm keeps its points on record but is not ranked, on no list, gets no subsidy.
* **Rank**: competition ranking ("1224") by total, descending, within the ranking group; tied
  firms share the best rank. ``percentile`` = share of ranked firms in the group whose total is
  ≤ the firm's (1.0 = best).
* **Lists (tiers)**: a list for the top fraction ``f`` of a group of ``n`` ranked firms has
  ``seats = floor(f·n)`` (``tier_seats`` may say ``ceil`` or ``round``); a firm is on it iff its rank
  ≤ seats. A tie at the cut-off therefore keeps *everyone* tied on the list (the list may run
  over its seats); "top 5 % of 7" has 0 seats under ``floor``. A firm sits on the first
  (smallest) list it makes.
* **Subsidies**: the same seat rule, counted over the firms of the subsidy's stage within each
  ranking group (so a ranking group without stage still pays the stage's best firms), capped at
  ``max_firms``; when a tie at the cut-off would push the number of winners past ``max_firms``,
  *no one* in that tie gets the subsidy (a cap is a budget, so it is never exceeded).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.exceptions import DataContractError, Problem
from calibrate.framework import (
    BandsRule,
    BinaryRule,
    CountRule,
    Framework,
    LinearRule,
    PercentileRule,
)
from calibrate.framework.model import value_at

__all__ = [
    "ScoreResult",
    "assign_stages",
    "competition_rank",
    "impute_group_median",
    "indicator_points",
    "ranking_codes",
    "rescore",
    "round_half_up",
    "score",
    "seats",
]

KEY_COLUMNS = ("enterprise_id", "year", "park")
#: From this many rows, two threads score indicators side by side (below it, thread start-up costs more).
PARALLEL_MIN_ROWS = 200_000
#: Descriptive columns carried into the scores output when present.
CARRIED_COLUMNS = ("industry", "carrier")

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


# --- small vectorised building blocks -------------------------------------------------------


def round_half_up(values: FloatArray, decimals: int) -> FloatArray:
    """Round half away from zero for positives (四舍五入), as parks publish scores.

    ``np.round`` rounds half to even on the binary value, so 0.125 → 0.12; parks write 0.13. The
    tiny epsilon absorbs binary representation error (1.005 is stored as 1.00499999…).
    """
    scale = 10.0**decimals
    return np.floor(values * scale + 0.5 + 1e-9) / scale


def _round_half_up_inplace(values: FloatArray, decimals: int) -> None:
    """:func:`round_half_up` without temporaries."""
    scale = 10.0**decimals
    values *= scale
    values += 0.5 + 1e-9
    np.floor(values, out=values)
    values /= scale


def seats(fraction: float, n: IntArray, rule: str = "floor") -> IntArray:
    """Number of list seats for the top ``fraction`` of groups of ``n`` firms."""
    raw = fraction * n
    if rule == "floor":
        out = np.floor(raw + 1e-9)  # 0.29 × 100 is 28.999… in binary; it means 29 seats
    elif rule == "ceil":
        out = np.ceil(raw - 1e-9)
    else:
        out = np.floor(raw + 0.5 + 1e-9)
    return out.astype(np.int64)


def _order_key(values: FloatArray) -> IntArray:
    """int64 keys that sort exactly like the (finite) floats: the IEEE-754 bit trick.

    Sorting int64 is several times faster than sorting float64 with many ties, and it keeps
    the comparison exact (no scaling of decimals).
    """
    bits = (values + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0 so they tie
    return bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))


def competition_rank(values: FloatArray, codes: IntArray, *, descending: bool = True) -> IntArray:
    """Rank within groups, ties sharing the best rank ("1224").

    Parameters
    ----------
    values : array of float
        What is ranked (finite, no NaN).
    codes : array of int
        Group code per element (dense, from 0).
    descending : bool
        Largest value gets rank 1 (scores); ``False`` ranks the smallest first.

    Notes
    -----
    One quicksort on order-preserving integer keys, then a stable radix sort on the group code
    (uint16 when there are fewer than 65,536 groups): the result is the same as
    ``np.lexsort((key, codes))`` at about a third of the cost. Ties may come out of the sort in
    any order; competition ranks do not depend on it.
    """
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    key = _order_key(values)
    if descending:
        np.negative(key, out=key)
    order = np.argsort(key)
    group_dtype = np.uint16 if codes.max() < 65_536 else np.int64
    order = order[np.argsort(codes[order].astype(group_dtype), kind="stable")]
    c = codes[order]
    v = key[order]
    idx = np.arange(n, dtype=np.int64)
    new_group = np.empty(n, dtype=bool)
    new_group[0] = True
    np.not_equal(c[1:], c[:-1], out=new_group[1:])
    new_value = new_group.copy()
    new_value[1:] |= v[1:] != v[:-1]
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
    value_start = np.maximum.accumulate(np.where(new_value, idx, 0))
    ranks = np.empty(n, dtype=np.int64)
    ranks[order] = value_start - group_start + 1
    return ranks


def assign_stages(revenue: FloatArray, framework: Framework) -> IntArray:
    """Stage index per firm (position in ``framework.stages``); -1 when no stage fits or revenue is missing."""
    lows = np.array([s.revenue_min for s in framework.stages], dtype=np.float64)
    last_max = framework.stages[-1].revenue_max
    idx = np.searchsorted(lows, revenue, side="right").astype(np.int64) - 1
    bad = np.isnan(revenue) | (idx < 0)
    if last_max is not None:
        bad |= revenue >= last_max
    idx[bad] = -1
    return idx


def ranking_codes(data: pd.DataFrame, stage_index: IntArray, columns: tuple[str, ...]) -> IntArray:
    """One integer code per ranking group (e.g. park × stage × year), dense from 0, sorted by key."""
    code = np.zeros(len(data), dtype=np.int64)
    for col in columns:
        if col == "stage":
            part = stage_index.astype(np.int64)
            size = int(part.max()) + 2 if part.size else 1
            part = part + 1  # -1 (no stage) becomes its own code
        else:
            part, uniques = pd.factorize(data[col], sort=True, use_na_sentinel=False)
            part = part.astype(np.int64)
            size = max(len(uniques), 1)
        code = code * size + part
    dense, _ = pd.factorize(code, sort=True)
    return dense.astype(np.int64)


# --- fractions ------------------------------------------------------------------------------


def _per_stage(value: Any, stages: tuple[str, ...], stage_index: IntArray) -> FloatArray | float:
    """A rule parameter for every firm: a scalar when it is the same in every stage (no gather)."""
    table = np.array([value_at(value, s) for s in stages], dtype=np.float64)
    if np.all(table == table[0]):
        return float(table[0])
    return table[stage_index]


def _fraction(
    rule: Any,
    x: FloatArray,
    stage_index: IntArray,
    stages: tuple[str, ...],
    points: FloatArray | float,
    codes: IntArray,
    out: FloatArray,
) -> None:
    """Write the fraction in [0, 1] of the indicator's points into ``out`` (NaN x → 0).

    Works in place on ``out`` (a column of the fraction matrix) to avoid temporaries: at a
    million firms each temporary costs a pass over 8 MB.
    """
    if isinstance(rule, LinearRule):
        low = _per_stage(rule.low, stages, stage_index)
        high = _per_stage(rule.high, stages, stage_index)
        np.subtract(x, low, out=out)
        np.multiply(out, 1.0 / (np.subtract(high, low)), out=out)
        np.clip(out, 0.0, 1.0, out=out)
        np.nan_to_num(out, copy=False, nan=0.0)
    elif isinstance(rule, BandsRule):
        per_stage = isinstance(rule.bands, Mapping)
        for s_pos, stage in enumerate(stages if per_stage else stages[:1]):
            mins, vals = _band_arrays(rule, stage)
            if per_stage:
                mask = stage_index == s_pos
                out[mask] = vals[np.searchsorted(mins, x[mask], side="right")]
            else:
                np.take(vals, np.searchsorted(mins, x, side="right"), out=out)
        out[np.isnan(x)] = 0.0  # NaN sorts past the last band
    elif isinstance(rule, PercentileRule):
        out[:] = 0.0
        present = ~np.isnan(x)
        if present.any():
            xs, cs = x[present], codes[present]
            below = competition_rank(xs, cs, descending=False) - 1  # firms strictly lower
            n = np.bincount(cs)[cs]
            out[present] = np.where(n > 1, below / np.maximum(n - 1, 1), 1.0)
    elif isinstance(rule, CountRule):
        per_unit = _per_stage(rule.per_unit, stages, stage_index)
        with np.errstate(divide="ignore", invalid="ignore"):
            np.multiply(x, np.divide(per_unit, points), out=out)
        np.clip(out, 0.0, 1.0, out=out)
        np.nan_to_num(out, copy=False, nan=0.0, posinf=0.0)
        if np.any(np.asarray(points) <= 0):
            out[np.broadcast_to(np.asarray(points) <= 0, out.shape)] = 0.0
    elif isinstance(rule, BinaryRule):
        np.greater(x, 0.0, out=out, casting="unsafe")
    else:  # pragma: no cover - the parser admits no other kinds
        raise TypeError(f"unknown rule {rule!r}")


def _band_arrays(rule: BandsRule, stage: str) -> tuple[FloatArray, FloatArray]:
    """Band minimums and the fraction for "below the first band" followed by each band's."""
    bands = rule.bands_at(stage)
    mins = np.array([b.min for b in bands], dtype=np.float64)
    vals = np.array([b.value for b in bands], dtype=np.float64)
    if rule.value_is == "points":
        top = vals.max() if vals.size else 0.0
        vals = vals / top if top > 0 else np.zeros_like(vals)
    return mins, np.append(0.0, vals)


def impute_group_median(x: FloatArray, codes: IntArray) -> FloatArray:
    """Missing values replaced by the median of their ranking group (``missing: median``)."""
    medians = pd.Series(x).groupby(codes).transform("median").to_numpy(dtype=np.float64)
    return np.where(np.isnan(x), medians, x)


def indicator_points(
    framework: Framework,
    indicator: Any,
    x: FloatArray,
    stage_index: IntArray,
    codes: IntArray,
    *,
    fraction_out: FloatArray | None = None,
    points_out: FloatArray | None = None,
) -> FloatArray:
    """Points of one indicator for raw values ``x`` — the scorer's own arithmetic, exactly.

    Parameters
    ----------
    framework : Framework
    indicator : Indicator
        One of ``framework.indicators``.
    x : array of float
        Raw values (NaN = missing; handled by the indicator's missing policy).
    stage_index : array of int
        Stage position per firm (>= 0).
    codes : array of int
        Ranking-group codes (percentile rules and median imputation work within them).
    fraction_out, points_out : array of float, optional
        Where to write the fraction and the points (e.g. columns of larger matrices).

    Returns
    -------
    numpy.ndarray
        The points, rounded half-up to ``framework.decimals`` (``points_out`` when given).
    """
    stages = framework.stage_ids
    if indicator.missing == "median" and np.isnan(x).any():
        x = impute_group_median(x, codes)
    stage_points = _per_stage(indicator.points, stages, stage_index)
    f = np.empty(x.shape[0]) if fraction_out is None else fraction_out
    _fraction(indicator.rule, x, stage_index, stages, stage_points, codes, out=f)
    col = np.empty(x.shape[0]) if points_out is None else points_out
    np.multiply(f, stage_points, out=col)
    _round_half_up_inplace(col, framework.decimals)
    return col


# --- result -----------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class ScoreResult:
    """Scores of one framework on one enterprise table.

    Attributes
    ----------
    framework : Framework
    frame : pandas.DataFrame
        The scores output of DESIGN.md (keys, stage, ``pts__*``, group subtotals, bonus,
        deduction, vetoed, total, rank, percentile, tier, subsidy_wan), one row per input row, in
        input order.
    fractions : ndarray, shape (n_firms, n_indicators)
        Fraction of each indicator's points each firm earns; ``points = fraction × table`` — reused
        by comparison, sensitivity and re-weighting so raw data are scored once.
    stage_index, group_code : ndarray of int
        Stage position and ranking-group code per firm.
    missing : pandas.Series
        Missing raw values per indicator.
    """

    framework: Framework
    frame: pd.DataFrame
    fractions: FloatArray = field(repr=False)
    stage_index: IntArray = field(repr=False)
    group_code: IntArray = field(repr=False)
    missing: pd.Series = field(repr=False)

    @property
    def n_firms(self) -> int:
        return len(self.frame)

    @cached_property
    def points(self) -> pd.DataFrame:
        """Points per indicator (``pts__`` prefix dropped), one row per firm."""
        cols = [f"pts__{i}" for i in self.framework.indicator_ids]
        out = self.frame[cols]
        out.columns = list(self.framework.indicator_ids)
        return out

    def tier_counts(self) -> pd.DataFrame:
        """Firms per stage and tier (tiers in framework order, then ``none`` and ``vetoed``)."""
        f = self.frame
        tier = f["tier"].astype("string").fillna("none").where(~f["vetoed"], "vetoed")
        order = [t.id for t in self.framework.tiers] + ["none", "vetoed"]
        table = pd.crosstab(f["stage"], pd.Categorical(tier, categories=order), dropna=False)
        table.columns.name = "tier"
        return table

    def lists(self) -> dict[str, pd.DataFrame]:
        """The published lists: ``{tier_id: firms on it, best first}``."""
        out = {}
        for t in self.framework.tiers:
            members = self.frame[self.frame["tier"] == t.id]
            out[t.id] = members.sort_values(["stage", "rank", "enterprise_id"])
        return out

    def missing_report(self) -> pd.DataFrame:
        """Missing values per indicator, count and share, with both names."""
        rows = []
        n = max(self.n_firms, 1)
        for ind in self.framework.indicators:
            k = int(self.missing[ind.id])
            rows.append(
                {
                    "indicator": ind.id,
                    "name_zh": ind.name.zh,
                    "name_en": ind.name.en,
                    "missing": k,
                    "share": k / n,
                    "policy": ind.missing,
                }
            )
        return pd.DataFrame(rows)

    def to_frame(self) -> pd.DataFrame:
        """The scores output table."""
        return self.frame


# --- the scorer -------------------------------------------------------------------------------


def _show(value: float) -> str:
    return "missing" if np.isnan(value) else f"{float(value):g}"


def _require(data: pd.DataFrame, framework: Framework, source: str) -> None:
    problems: list[Problem] = []
    needed = ["revenue", *[c for c in framework.ranking_group if c != "stage"]]
    needed += [i.id for i in framework.indicators] + [p.id for p in framework.penalties]
    seen: set[str] = set()
    for col in needed:
        if col in seen:
            continue
        seen.add(col)
        if col not in data.columns:
            problems.append(
                Problem(
                    f"{source}, column {col}",
                    f"required by framework {framework.id} but missing; add the column",
                )
            )
    if problems:
        raise DataContractError(source, problems)


def _numeric(data: pd.DataFrame, col: str) -> FloatArray:
    series = data[col]
    if series.dtype == np.float64:
        return series.to_numpy()  # a view: no copy for the common case
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    return pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)


def score(framework: Framework, data: pd.DataFrame, *, source: str = "<data>") -> ScoreResult:
    """Score every firm-year in ``data`` under ``framework``.

    Parameters
    ----------
    framework : Framework
    data : pandas.DataFrame
        An enterprise-year table (see ``calibrate.data.load_enterprises`` for validated
        intake); one column per indicator id and penalty id, plus revenue and the ranking-group
        columns.
    source : str
        Name used in error messages.

    Returns
    -------
    ScoreResult

    Raises
    ------
    DataContractError
        Missing columns, a missing value where the framework says ``missing: error``, or firms
        that fit no stage — every such row listed.
    """
    _require(data, framework, source)
    n = len(data)
    revenue = _numeric(data, "revenue")
    stage_index = assign_stages(revenue, framework)
    problems: list[Problem] = []
    unstaged = np.flatnonzero(stage_index < 0)
    for pos in unstaged[:50]:
        problems.append(
            Problem(
                f"{source}, row {pos + 1}, column revenue",
                f"revenue {_show(revenue[pos])} fits no stage of {framework.id} "
                f"(stages start at {framework.stages[0].revenue_min:g}); fix the value",
            )
        )
    if len(unstaged) > 50:
        problems.append(
            Problem(source, f"... and {len(unstaged) - 50} more rows that fit no stage")
        )

    codes = ranking_codes(data, stage_index, framework.ranking_group)
    k = len(framework.indicators)
    fractions = np.empty((n, k), dtype=np.float64, order="F")
    pts = np.empty((n, k), dtype=np.float64, order="F")
    missing = {}
    safe_stage = np.maximum(stage_index, 0)

    def one_indicator(j: int) -> tuple[int, list[Problem]]:
        """Fraction and points of indicator ``j``: writes column ``j`` only, so columns can run in parallel."""
        ind = framework.indicators[j]
        found: list[Problem] = []
        x = _numeric(data, ind.id)
        nan = np.isnan(x)
        n_missing = int(nan.sum())
        if ind.missing == "error" and n_missing:
            for pos in np.flatnonzero(nan)[:20]:
                found.append(
                    Problem(
                        f"{source}, row {pos + 1}, column {ind.id}",
                        "missing, and the framework says missing: error; supply the value",
                    )
                )
        indicator_points(
            framework, ind, x, safe_stage, codes, fraction_out=fractions[:, j], points_out=pts[:, j]
        )
        return n_missing, found

    # numpy releases the GIL on whole-column work, so two threads score two indicators at once on
    # large tables; results are identical to the serial loop (each column is written by one thread).
    if n >= PARALLEL_MIN_ROWS and k > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as pool:
            outcomes = list(pool.map(one_indicator, range(k)))
    else:
        outcomes = [one_indicator(j) for j in range(k)]
    for ind, (n_missing, found) in zip(framework.indicators, outcomes, strict=True):
        missing[ind.id] = n_missing
        problems.extend(found)
    if problems:
        raise DataContractError(source, problems)

    return _finish(framework, data, stage_index, codes, fractions, pts, missing)


def _finish(
    framework: Framework,
    data: pd.DataFrame,
    stage_index: IntArray,
    codes: IntArray,
    fractions: FloatArray,
    pts: FloatArray,
    missing: Mapping[str, int],
) -> ScoreResult:
    """Everything after the indicator points: subtotals, bonus cap, penalties, ranks, lists."""
    n = len(data)
    stages = framework.stage_ids
    decimals = framework.decimals
    safe_stage = np.maximum(stage_index, 0)
    # group subtotals, capped bonus
    subtotals: dict[str, FloatArray] = {}
    core = np.zeros(n)
    bonus = np.zeros(n)
    group_of = np.array([ind.group for ind in framework.indicators])
    for g in framework.groups:
        sub = np.zeros(n)
        for c in np.flatnonzero(group_of == g.id):
            sub += pts[:, c]
        _round_half_up_inplace(sub, decimals)
        subtotals[g.id] = sub
        if g.kind == "core":
            core += sub
        else:
            bonus += np.minimum(sub, g.cap if g.cap is not None else math.inf)
    core = round_half_up(core, decimals)
    bonus = round_half_up(bonus, decimals)

    deduction = np.zeros(n)
    vetoed = np.zeros(n, dtype=bool)
    for p in framework.penalties:
        flag = _numeric(data, p.id)
        hit = np.nan_to_num(flag, nan=0.0) > 0
        if p.action == "veto":
            vetoed |= hit
        else:
            deduction += np.where(hit, _per_stage(p.points, stages, safe_stage), 0.0)
    deduction = round_half_up(deduction, decimals)
    total = round_half_up(core + bonus - deduction, decimals)

    rank, percentile, tier_code, subsidy = _rank_and_lists(
        framework, total, vetoed, codes, stage_index
    )

    frame = _assemble(
        data,
        framework,
        stage_index,
        pts,
        subtotals,
        core,
        bonus,
        deduction,
        vetoed,
        total,
        rank,
        percentile,
        tier_code,
        subsidy,
    )
    return ScoreResult(
        framework,
        frame,
        fractions,
        stage_index,
        codes,
        pd.Series(missing, name="missing", dtype="int64"),
    )


def _reusable(old: Any, new: Any) -> str:
    """What of an indicator's previous scoring still holds: ``points``, ``fractions`` or ``none``.

    The same rule, missing policy and points give the same points column; the same rule and
    missing policy give the same fractions, except for count rules and points-valued bands, whose
    fraction depends on the points (:meth:`Framework.with_points` rescales them together).
    """
    if old.id != new.id or old.missing != new.missing or old.rule != new.rule:
        return "none"
    if dict(old.points) == dict(new.points):
        return "points"
    rule = new.rule
    scaled = isinstance(rule, CountRule) or (
        isinstance(rule, BandsRule) and rule.value_is == "points"
    )
    return "none" if scaled else "fractions"


def rescore(
    previous: ScoreResult, framework: Framework, data: pd.DataFrame, *, source: str = "<data>"
) -> ScoreResult:
    """Score ``data`` under ``framework``, re-using the fractions of ``previous`` where they hold.

    The result is the same as ``score(framework, data)``; only the work differs. ``previous``
    must be a score of the same table. When the stages, the ranking group or the indicator list
    (ids, order, missing policies) differ, everything is scored afresh. Otherwise an indicator
    with the same rule and points keeps its points column; one whose points changed multiplies
    its stored fraction by the new points (count rules and points-valued bands, whose fraction
    depends on the points, read their raw column again, as does an indicator whose rule changed,
    e.g. moved goalposts). Ranks, lists and subsidies are then computed as :func:`score` does.
    This is what lets the ``calibrate serve`` workbench re-score 50,000 firms per edit.

    Parameters
    ----------
    previous : ScoreResult
        Scores of ``data`` under any framework.
    framework : Framework
    data : pandas.DataFrame
        The table ``previous`` scored.
    source : str
        Name used in error messages.

    Returns
    -------
    ScoreResult
    """
    old = previous.framework
    if (
        previous.n_firms != len(data)
        or old.stages != framework.stages
        or old.ranking_group != framework.ranking_group
        or old.indicator_ids != framework.indicator_ids
        or any(
            a.missing != b.missing
            for a, b in zip(old.indicators, framework.indicators, strict=True)
        )
    ):
        return score(framework, data, source=source)
    _require(data, framework, source)
    n, k = len(data), len(framework.indicators)
    stage_index, codes = previous.stage_index, previous.group_code
    safe_stage = np.maximum(stage_index, 0)
    reuse = [_reusable(a, b) for a, b in zip(old.indicators, framework.indicators, strict=True)]
    # Score results are never written to, so unchanged fractions are shared, not copied.
    fractions = (
        previous.fractions
        if "none" not in reuse
        else np.array(previous.fractions, dtype=np.float64, order="F")
    )
    pts = np.empty((n, k), dtype=np.float64, order="F")
    for j, ind in enumerate(framework.indicators):
        if reuse[j] == "points" and old.decimals == framework.decimals:
            pts[:, j] = previous.frame[f"pts__{ind.id}"].to_numpy(dtype=np.float64)
        elif reuse[j] != "none":
            np.multiply(
                fractions[:, j],
                _per_stage(ind.points, framework.stage_ids, safe_stage),
                out=pts[:, j],
            )
            _round_half_up_inplace(pts[:, j], framework.decimals)
        else:
            x = _numeric(data, ind.id)
            indicator_points(
                framework,
                ind,
                x,
                safe_stage,
                codes,
                fraction_out=fractions[:, j],
                points_out=pts[:, j],
            )
    missing = {str(k): int(v) for k, v in previous.missing.items()}
    return _finish(framework, data, stage_index, codes, fractions, pts, missing)


def _rank_and_lists(
    framework: Framework,
    total: FloatArray,
    vetoed: npt.NDArray[np.bool_],
    codes: IntArray,
    stage_index: IntArray,
) -> tuple[IntArray, FloatArray, IntArray, FloatArray]:
    n = total.shape[0]
    ranked = ~vetoed
    rank = np.zeros(n, dtype=np.int64)  # 0 = not ranked
    rank[ranked] = competition_rank(total[ranked], codes[ranked])
    n_groups = int(codes.max()) + 1 if n else 0
    group_size = np.bincount(codes[ranked], minlength=n_groups)
    size = group_size[codes]
    percentile = np.full(n, np.nan)
    percentile[ranked] = (size[ranked] - rank[ranked] + 1) / size[ranked]

    tier_code = np.full(n, -1, dtype=np.int64)
    for t_pos in range(len(framework.tiers) - 1, -1, -1):  # smallest list written last, so it wins
        cut = seats(framework.tiers[t_pos].top_fraction, group_size, framework.tier_seats)[codes]
        tier_code[ranked & (rank <= cut)] = t_pos

    subsidy = np.zeros(n)
    for rule in framework.subsidies:
        # A subsidy belongs to one stage: firms of that stage are ranked against each other
        # within their ranking group (the same as `rank` when the group includes the stage).
        s_pos = framework.stage_ids.index(rule.stage)
        rows = np.flatnonzero(ranked & (stage_index == s_pos))
        if rows.size == 0:
            continue
        sub_codes = codes[rows]
        sub_rank = competition_rank(total[rows], sub_codes)
        k = seats(
            rule.top_fraction, np.bincount(sub_codes, minlength=n_groups), framework.tier_seats
        )
        if rule.max_firms is not None:
            k = np.minimum(k, rule.max_firms)
        wins = sub_rank <= k[sub_codes]
        if rule.max_firms is not None and wins.any():
            winners = np.bincount(sub_codes[wins], minlength=n_groups)
            over = winners > rule.max_firms
            if over.any():
                # the tie at the cut-off would break the cap: nobody in that tie wins
                last = np.zeros(n_groups, dtype=np.int64)
                np.maximum.at(last, sub_codes[wins], sub_rank[wins])
                wins &= ~(over[sub_codes] & (sub_rank == last[sub_codes]))
        subsidy[rows[wins]] = rule.amount_wan
    return rank, percentile, tier_code, subsidy


def _assemble(
    data: pd.DataFrame,
    framework: Framework,
    stage_index: IntArray,
    pts: FloatArray,
    subtotals: dict[str, FloatArray],
    core: FloatArray,
    bonus: FloatArray,
    deduction: FloatArray,
    vetoed: npt.NDArray[np.bool_],
    total: FloatArray,
    rank: IntArray,
    percentile: FloatArray,
    tier_code: IntArray,
    subsidy: FloatArray,
) -> pd.DataFrame:
    index = data.index
    keys = [c for c in (*KEY_COLUMNS, *CARRIED_COLUMNS) if c in data.columns]
    for c in framework.ranking_group:
        if c != "stage" and c not in keys:
            keys.append(c)
    n = len(data)
    # Float outputs are written into F-ordered blocks and handed to pandas without a copy.
    float_names = [*(f"grp__{g}" for g in subtotals), "core", "bonus", "deduction", "total"]
    floats = np.empty((n, len(float_names)), dtype=np.float64, order="F")
    for j, arr in enumerate([*subtotals.values(), core, bonus, deduction, total]):
        floats[:, j] = arr
    parts = [
        data[keys],
        pd.DataFrame(
            {
                "stage": pd.Categorical.from_codes(
                    stage_index, categories=pd.Index(framework.stage_ids)
                )
            },
            index=index,
        ),
        pd.DataFrame(
            pts, columns=[f"pts__{i}" for i in framework.indicator_ids], index=index, copy=False
        ),
        pd.DataFrame(floats, columns=float_names, index=index, copy=False),
        pd.DataFrame(
            {
                "vetoed": vetoed,
                "rank": pd.arrays.IntegerArray(
                    rank, mask=vetoed.copy()
                ),  # vetoed firms are not ranked
                "percentile": percentile,
                "tier": pd.Categorical.from_codes(
                    tier_code, categories=pd.Index([t.id for t in framework.tiers], dtype="str")
                ),
                "subsidy_wan": subsidy,
            },
            index=index,
        ),
    ]
    return pd.concat(parts, axis=1)
