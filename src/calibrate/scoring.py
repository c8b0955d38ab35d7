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
* **Seat options**: ``min_seats`` (a non-empty group gets at least one seat) and ``ties`` (``all``,
  ``none``, ``tie_breaker``) apply to tiers, lists, subsidies and pools; :func:`select_top` is the
  one place seats are decided.
* **Named lists** are independent of each other and of the tiers (``list__<id>`` per tier and
  list); **eligibility** keeps ineligible firms in the output, unranked, in groups of their own;
  **pools** rank ranked firms on a subset of indicators; **credit lines** map totals and lists to
  万元. See ``docs/scoring-rules.md``.
"""

from __future__ import annotations

import itertools
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
    SeatOptions,
)
from calibrate.framework.model import value_at

__all__ = [
    "ScoreResult",
    "CarrierScores",
    "DrawEngine",
    "DrawScores",
    "assign_stages",
    "carrier_scores",
    "competition_rank",
    "impute_group_median",
    "indicator_points",
    "ranking_codes",
    "rescore",
    "round_half_up",
    "score",
    "score_many",
    "seat_options",
    "tier_seats",
    "seats",
    "select_top",
    "tie_broken_rank",
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


def seats(fraction: float, n: IntArray, rule: str = "floor", min_seats: int = 0) -> IntArray:
    """Number of list seats for the top ``fraction`` of groups of ``n`` firms.

    ``rule`` is ``floor``, ``ceil`` or ``round`` (half up); ``min_seats`` (0 or 1) gives every
    non-empty group at least that many seats (so "top 1 % of 40" can be 1 instead of 0).
    """
    raw = fraction * np.asarray(n)
    if rule == "floor":
        out = np.floor(raw + 1e-9)  # 0.29 × 100 is 28.999… in binary; it means 29 seats
    elif rule == "ceil":
        out = np.ceil(raw - 1e-9)
    else:
        out = np.floor(raw + 0.5 + 1e-9)
    out = out.astype(np.int64)
    if min_seats:
        out = np.where(np.asarray(n) > 0, np.maximum(out, min_seats), out)
    return out


def seat_options(framework: Framework, options: SeatOptions | None = None) -> tuple[str, int, str]:
    """``(rounding, min_seats, ties)`` of a list or subsidy: its own options, else the framework's."""
    o = options if options is not None else SeatOptions()
    return (
        o.rounding or framework.tier_seats,
        framework.min_seats if o.min_seats is None else o.min_seats,
        o.ties or framework.ties,
    )


def tier_seats(framework: Framework, t_pos: int, n_ranked: Any) -> IntArray:
    """Seats of tier ``t_pos`` in ranking groups of ``n_ranked`` ranked firms, by the rule the
    scorer applies (the framework's seat rounding and ``min_seats``; tier seats count the firms
    on the tier or a better one)."""
    rounding, min_seats, _ = seat_options(framework)
    return seats(framework.tiers[t_pos].top_fraction, np.asarray(n_ranked), rounding, min_seats)


def select_top(
    rank: IntArray,
    codes: IntArray,
    size: IntArray,
    fraction: float,
    *,
    rounding: str = "floor",
    min_seats: int = 0,
    ties: str = "all",
    max_firms: int | None = None,
) -> npt.NDArray[np.bool_]:
    """Who makes a top-``fraction`` selection: the one place list and subsidy seats are decided.

    Parameters
    ----------
    rank : array of int, shape (m,) or (n_draws, m)
        Competition rank within the group (1 = best; 0 = not ranked, never selected). With
        ``ties='tie_breaker'`` pass ranks already ordered by the tie-breaker.
    codes : array of int, shape (m,)
        Group code per firm; ``size`` (per group code) is the number of ranked firms it counts.
    fraction, rounding, min_seats
        Seats per group are :func:`seats` ``(fraction, size, rounding, min_seats)``, at most
        ``max_firms``.
    ties : {"all", "none", "tie_breaker"}
        Firms tied at the last seat: ``all`` are selected (the list may run over its seats),
        ``none`` of them is when they would run over the seats. Under every rule a ``max_firms``
        cap is a budget: a tie that would exceed it is left out entirely.

    Returns
    -------
    ndarray of bool, shaped like ``rank``
    """
    n_groups = size.shape[0]
    k = seats(fraction, size, rounding, min_seats)
    if max_firms is not None:
        k = np.minimum(k, max_firms)
    on = (rank > 0) & (rank <= k[codes])
    if ties == "none":
        limit: IntArray | None = k
    elif max_firms is not None:
        limit = np.full(n_groups, max_firms, dtype=np.int64)
    else:
        limit = None
    if limit is None or not on.any():
        return on
    draws = 1 if rank.ndim == 1 else rank.shape[0]
    cell = (np.arange(draws, dtype=np.int64)[:, None] * n_groups + codes[None, :]).reshape(
        rank.shape
    )
    count = np.bincount(cell[on], minlength=draws * n_groups)
    over = count > np.tile(limit, draws)
    if over.any():
        # the tie at the cut-off would run over the seats (or the cap): nobody in that tie is in
        last = np.zeros(draws * n_groups, dtype=np.int64)
        np.maximum.at(last, cell[on], rank[on])
        on &= ~(over[cell] & (rank == last[cell]))
    return on


def tie_broken_rank(
    total: FloatArray, breaker: FloatArray, codes: IntArray, order: str = "higher_first"
) -> IntArray:
    """Competition rank by total, firms with equal totals ordered by ``breaker`` (missing last).

    Firms equal on both still share a rank.
    """
    if total.size == 0:
        return np.zeros(0, dtype=np.int64)
    t_key = np.unique(-total, return_inverse=True)[1].reshape(-1).astype(np.int64)
    b = -breaker if order == "higher_first" else breaker
    b_key = np.unique(b, return_inverse=True)[1].reshape(-1).astype(np.int64)  # NaN sorts last
    key = (t_key * (int(b_key.max()) + 1) + b_key).astype(np.float64)  # exact below 2**53
    return competition_rank(key, codes, descending=False, decimals=0)


def _order_key(values: FloatArray) -> IntArray:
    """int64 keys that sort exactly like the (finite) floats: the IEEE-754 bit trick.

    Sorting int64 is several times faster than sorting float64 with many ties, and it keeps
    the comparison exact (no scaling of decimals).
    """
    bits = (values + 0.0).view(np.int64)  # + 0.0 turns -0.0 into 0.0 so they tie
    return bits ^ ((bits >> 63) & np.int64(0x7FFFFFFFFFFFFFFF))


def competition_rank(
    values: FloatArray, codes: IntArray, *, descending: bool = True, decimals: int | None = None
) -> IntArray:
    """Rank within groups, ties sharing the best rank ("1224").

    Parameters
    ----------
    values : array of float
        What is ranked (finite, no NaN).
    codes : array of int
        Group code per element (dense, from 0).
    descending : bool
        Largest value gets rank 1 (scores); ``False`` ranks the smallest first.
    decimals : int, optional
        The values are multiples of ``10**-decimals`` (rounded scores, integer ranks): they are
        ranked by counting, without a sort, when their range times the number of groups is
        small, else by radix sorts when the range is below 65,536 units.

    Notes
    -----
    Values in units of ``10**-decimals`` spanning fewer than 65,536 units are sorted by two
    stable radix sorts (the value, then the group code; uint16 when there are fewer than 65,536
    groups). Other values become order-preserving integer keys, sorted group by group when groups
    are large (cache-sized sorts), else by one global quicksort and the stable group sort. Ties
    may come out of a sort in any order; competition ranks do not depend on it.
    """
    n = values.shape[0]
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    group_dtype = np.uint16 if codes.max() < 65_536 else np.int64
    key: npt.NDArray[Any] | None = None
    if decimals is not None:
        units = np.rint(values * 10.0**decimals).astype(np.int64)
        if descending:
            np.negative(units, out=units)
        counted = _rank_by_counting(units, codes)
        if counted is not None:
            return counted
        low = int(units.min())
        if int(units.max()) - low < 65_536:  # a radix sort on 16 bits
            key = (units - low).astype(np.uint16)
            order = np.argsort(key, kind="stable")
            order = order[np.argsort(codes[order].astype(group_dtype), kind="stable")]
    if key is None:
        key = _order_key(values)
        if descending:
            np.negative(key, out=key)
        if n >= SEGMENT_MIN_MEAN * (int(codes.max()) + 1):
            by_group = np.argsort(codes.astype(group_dtype), kind="stable")
            order = by_group[_sort_within_groups(key[by_group], codes[by_group])]
        else:
            order = np.argsort(key)
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


#: Mean group size from which :func:`competition_rank` sorts group by group.
SEGMENT_MIN_MEAN = 512
#: Most bins (range × groups) ranking by counting may use, as a multiple of the rows, and at
#: least :data:`COUNTING_MIN_BINS` (a histogram of that size costs less than a sort).
COUNTING_MAX_BINS = 4
COUNTING_MIN_BINS = 1 << 16


def _sort_within_groups(key: IntArray, codes: IntArray) -> IntArray:
    """Positions that sort ``key`` within each run of equal (already grouped) ``codes``."""
    n = key.shape[0]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    edges = [0, *bounds.tolist(), n]
    order = np.empty(n, dtype=np.int64)
    for a, b in itertools.pairwise(edges):
        segment = order[a:b]
        segment[:] = np.argsort(key[a:b])
        segment += a
    return order


def _rank_by_counting(units: IntArray, codes: IntArray) -> IntArray | None:
    """Competition ranks (smallest first) of integers with a small range: a histogram per group
    and its running sum give, for each value, the firms strictly below it. ``None`` when the
    histogram would be large."""
    n = units.shape[0]
    lo = int(units.min())
    span = int(units.max()) - lo + 1
    n_groups = int(codes.max()) + 1
    if span * n_groups > max(COUNTING_MAX_BINS * n, COUNTING_MIN_BINS):
        return None
    bins = codes * span + (units - lo)
    hist = np.bincount(bins, minlength=span * n_groups)
    below = np.cumsum(hist) - hist  # firms in earlier bins, earlier groups included
    return below[bins] - below[codes * span] + 1


def stage_index_of(data: pd.DataFrame, framework: Framework) -> IntArray:
    """Stage index per row: from revenue, or 0 for every firm of a framework with one open stage
    when the data carry no revenue (:attr:`Framework.needs_revenue`)."""
    if not framework.needs_revenue and "revenue" not in data.columns:
        return np.zeros(len(data), dtype=np.int64)
    return assign_stages(_numeric(data, "revenue"), framework)


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
        """Firms per stage and tier (tiers in framework order, then ``none``, ``vetoed`` and, when
        the framework declares eligibility, ``ineligible``)."""
        f = self.frame
        order = [t.id for t in self.framework.tiers] + ["none", "vetoed"]
        column = f["tier"].cat.codes.to_numpy(dtype=np.int64)
        column[column < 0] = len(order) - 2  # none
        vetoed = f["vetoed"].to_numpy(dtype=bool)
        column[vetoed] = len(order) - 1
        if self.framework.eligibility is not None:
            order.append("ineligible")
            column[~(f["eligible"].to_numpy(dtype=bool) | vetoed)] = len(order) - 1
        stage = f["stage"]
        row = stage.cat.codes.to_numpy(dtype=np.int64)
        kept = row >= 0
        n_rows, n_cols = len(stage.cat.categories), len(order)
        counts = np.bincount(row[kept] * n_cols + column[kept], minlength=n_rows * n_cols)
        return pd.DataFrame(
            counts.reshape(n_rows, n_cols),
            index=pd.CategoricalIndex(stage.cat.categories, stage.cat.categories, name="stage"),
            columns=pd.CategoricalIndex(order, order, name="tier"),
        )

    @property
    def ranked(self) -> npt.NDArray[np.bool_]:
        """Firms that are ranked: eligible and not vetoed (only they can be listed or paid)."""
        return self.frame["rank"].notna().to_numpy(dtype=bool)

    @property
    def list_ids(self) -> list[str]:
        """Ids of every list with a ``list__<id>`` column: the tiers, then the named lists."""
        return [t.id for t in self.framework.tiers] + [li.id for li in self.framework.lists]

    def lists(self) -> dict[str, pd.DataFrame]:
        """Every published list: ``{list_id: firms on it, best first}`` (tiers and named lists)."""
        out = {}
        for ident in self.list_ids:
            members = self.frame[self.frame[f"list__{ident}"].to_numpy(dtype=bool)]
            out[ident] = members.sort_values(["stage", "rank", "enterprise_id"])
        return out

    def seat_table(self) -> pd.DataFrame:
        """Seats and members of every list and subsidy per ranking group and stage.

        Columns: the ranking-group columns, ``stage``, ``selection`` (``list:<id>`` or
        ``subsidy:<stage>``), ``ranked`` (firms ranked in the group and stage), ``seats`` (by the
        selection's rounding and minimum, before ties and caps) and ``members`` (firms selected;
        for a tier, firms on it or on a better tier, since tier seats are cumulative).
        A subsidy row with 0 seats shows, for instance, that floor rounding of 1 % pays nobody
        in a stage with fewer than 100 ranked firms.
        """
        f, fw = self.frame, self.framework
        keys = [c for c in fw.ranking_group if c != "stage"]
        ranked = self.ranked
        base = f.loc[ranked, [*keys, "stage"]].copy()
        rows = []
        tier = f["tier"].cat.codes.to_numpy()
        selections: list[tuple[str, float, Any, Any, Any]] = [
            (f"list:{t.id}", t.top_fraction, None, None, (tier >= 0) & (tier <= k))
            for k, t in enumerate(fw.tiers)  # tier seats are cumulative: count this tier or better
        ]
        selections += [
            (f"list:{li.id}", li.top_fraction, li.seats, li.stages, f"list__{li.id}")
            for li in fw.lists
        ]
        for sub in fw.subsidies:
            paid = (f["subsidy_wan"] > 0) & (f["stage"] == sub.stage)
            selections.append(
                (f"subsidy:{sub.stage}", sub.top_fraction, sub.seats, (sub.stage,), paid)
            )
        for name, fraction, options, stages, member in selections:
            rounding, min_seats, _ = seat_options(fw, options)
            part = base.assign(
                member=np.asarray(f[member] if isinstance(member, str) else member)[ranked]
            )
            if stages:
                part = part[part["stage"].isin(stages)]
            table = part.groupby([*keys, "stage"], observed=True, sort=True).agg(
                ranked=("member", "size"), members=("member", "sum")
            )
            table = table.reset_index()
            table.insert(len(keys) + 1, "selection", name)
            table.insert(
                len(keys) + 3,
                "seats",
                seats(fraction, table["ranked"].to_numpy(), rounding, min_seats),
            )
            rows.append(table)
        if not rows:
            return pd.DataFrame(columns=[*keys, "stage", "selection", "ranked", "seats", "members"])
        out = pd.concat(rows, ignore_index=True)
        out["stage"] = out["stage"].astype("string")
        return out

    def credit_table(self) -> pd.DataFrame | None:
        """Credit lines per stage and ``total``: ``firms``, ``covered`` (credit line > 0), ``share``
        of firms covered and ``credit_wan`` (sum of lines); ``None`` when the framework has none."""
        if "credit_wan" not in self.frame.columns:
            return None
        f = self.frame
        covered = f["credit_wan"] > 0
        stage = f["stage"].astype("string")
        table = pd.DataFrame(
            {
                "firms": stage.value_counts(sort=False),
                "covered": stage[covered].value_counts(sort=False),
            }
        ).reindex(list(self.framework.stage_ids), fill_value=0)
        table["covered"] = table["covered"].fillna(0).astype(np.int64)
        table["credit_wan"] = (
            f.groupby(stage, sort=False)["credit_wan"].sum().reindex(table.index, fill_value=0.0)
        )
        table.loc["total"] = [len(f), int(covered.sum()), float(f["credit_wan"].sum())]
        table["firms"] = table["firms"].astype(np.int64)
        table["covered"] = table["covered"].astype(np.int64)
        table.insert(2, "share", table["covered"] / table["firms"].where(table["firms"] > 0))
        table.index.name = "stage"
        return table

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


def _policy_columns(framework: Framework) -> list[str]:
    """Data columns read by eligibility, the tie-breaker and pool ranking groups."""
    out: list[str] = []
    if framework.eligibility is not None:
        out += [c.column for c in framework.eligibility.conditions]
    if framework.tie_breaker is not None:
        out.append(framework.tie_breaker.column)
    for pool in framework.pools:
        out += [c for c in pool.ranking_group if c != "stage"] + list(pool.exclude)
    return out


def _require(data: pd.DataFrame, framework: Framework, source: str) -> None:
    problems: list[Problem] = []
    needed = ["revenue"] if framework.needs_revenue else []
    needed += [c for c in framework.ranking_group if c != "stage"]
    needed += [i.id for i in framework.indicators] + [p.id for p in framework.penalties]
    needed += _policy_columns(framework)
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
    stage_index = stage_index_of(data, framework)
    problems: list[Problem] = []
    unstaged = np.flatnonzero(stage_index < 0)
    revenue = _numeric(data, "revenue") if len(unstaged) else np.zeros(0)
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

    eligible, reason = _eligibility(framework, data)
    codes = ranking_codes(data, stage_index, framework.ranking_group)
    if framework.eligibility is not None:
        # ineligible firms form groups of their own: percentile rules and median imputation of
        # eligible firms are then the same as if the data had been filtered first
        codes = pd.factorize(codes * 2 + ~eligible, sort=True)[0].astype(np.int64)
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

    return _finish(framework, data, stage_index, codes, fractions, pts, missing, (eligible, reason))


def _finish(
    framework: Framework,
    data: pd.DataFrame,
    stage_index: IntArray,
    codes: IntArray,
    fractions: FloatArray,
    pts: FloatArray,
    missing: Mapping[str, int],
    who: tuple[npt.NDArray[np.bool_], Any],
) -> ScoreResult:
    """Everything after the indicator points: subtotals, bonus cap, penalties, ranks, lists.

    ``who`` is ``(eligible, ineligible_reason)`` from the framework's eligibility rules.
    """
    eligible, reason = who
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

    ctx = _ranking(framework, data, total, vetoed, eligible, codes, stage_index)
    tier_code = _tiers(framework, ctx)
    subsidy = _subsidies(framework, ctx)
    lists = _named_lists(framework, ctx, tier_code, subsidy)
    extra = _pools(framework, data, ctx, pts)
    credit = _credit(framework, ctx, lists)
    if credit is not None:
        extra["credit_wan"] = credit
    policy = {"eligible": eligible, "ineligible_reason": reason, "ranked": ctx.ranked}
    frame = _assemble(
        data,
        framework,
        stage_index,
        pts,
        {**subtotals, "": core, "_bonus": bonus, "_deduction": deduction, "_total": total},
        vetoed,
        policy,
        ctx,
        tier_code,
        subsidy,
        {**lists, **extra},
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
        or old.eligibility != framework.eligibility
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
    who = _eligibility(framework, data)
    return _finish(framework, data, stage_index, codes, fractions, pts, missing, who)


# --- who is evaluated --------------------------------------------------------------------------

_OPS = {
    ">": np.greater,
    ">=": np.greater_equal,
    "<": np.less,
    "<=": np.less_equal,
    "==": np.equal,
    "!=": np.not_equal,
}


def _eligibility(framework: Framework, data: pd.DataFrame) -> tuple[npt.NDArray[np.bool_], Any]:
    """``eligible`` per firm and the reason (Chinese names of the unmet conditions) for the others.

    A missing value never meets a condition. Without an ``eligibility`` section everyone is
    eligible. The reason is a categorical (a handful of distinct texts; empty when eligible).
    """
    n = len(data)
    rule = framework.eligibility
    if rule is None:
        no_reason = pd.Categorical.from_codes(
            np.full(n, -1, dtype=np.int8), categories=pd.Index([], dtype="str")
        )
        return np.ones(n, dtype=bool), no_reason
    met = np.zeros((n, len(rule.conditions)), dtype=bool)
    for j, c in enumerate(rule.conditions):
        x = _numeric(data, c.column)
        met[:, j] = _OPS[c.op](x, c.value) & ~np.isnan(x)
    eligible = np.asarray(met.any(axis=1) if rule.mode == "any" else met.all(axis=1), dtype=bool)
    # one text per distinct pattern of unmet conditions, not per row
    bits = (~met).astype(np.int64) @ (1 << np.arange(met.shape[1], dtype=np.int64))
    bits[eligible] = -1
    patterns, inverse = np.unique(bits, return_inverse=True)
    names = [c.name.zh for c in rule.conditions]
    texts: list[str] = []
    for pattern in patterns[patterns >= 0]:
        if rule.mode == "any":
            texts.append("不属于任一评价对象类别：" + "、".join(dict.fromkeys(names)))
        else:
            unmet = (nm for j, nm in enumerate(names) if pattern >> j & 1)
            texts.append("未满足：" + "、".join(dict.fromkeys(unmet)))  # a category named once
    codes = inverse.reshape(-1).astype(np.int64) - int((patterns < 0).any())
    reason = pd.Categorical.from_codes(codes, categories=pd.Index(texts, dtype="str"))
    return eligible, reason


# --- ranks, lists, subsidies, pools, credit ------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Ranking:
    """What every selection needs: totals, who is ranked, ranks and group sizes."""

    total: FloatArray
    ranked: npt.NDArray[np.bool_]
    codes: IntArray
    stage_index: IntArray
    rank: IntArray  # 0 = not ranked
    size: IntArray  # ranked firms per group code
    breaker: FloatArray | None
    breaker_order: str

    @cached_property
    def rank_tie_broken(self) -> IntArray:
        """Ranks with equal totals ordered by the tie-breaker column (0 = not ranked)."""
        assert self.breaker is not None  # the parser requires a tie_breaker for this rule
        out = np.zeros(self.total.shape[0], dtype=np.int64)
        r = self.ranked
        out[r] = tie_broken_rank(self.total[r], self.breaker[r], self.codes[r], self.breaker_order)
        return out

    def ranks_for(self, ties: str) -> IntArray:
        return self.rank_tie_broken if ties == "tie_breaker" else self.rank


def _ranking(
    framework: Framework,
    data: pd.DataFrame,
    total: FloatArray,
    vetoed: npt.NDArray[np.bool_],
    eligible: npt.NDArray[np.bool_],
    codes: IntArray,
    stage_index: IntArray,
) -> _Ranking:
    n = total.shape[0]
    ranked = ~vetoed & eligible
    rank = np.zeros(n, dtype=np.int64)  # 0 = not ranked
    rank[ranked] = competition_rank(total[ranked], codes[ranked], decimals=framework.decimals)
    n_groups = int(codes.max()) + 1 if n else 0
    tb = framework.tie_breaker
    return _Ranking(
        total=total,
        ranked=ranked,
        codes=codes,
        stage_index=stage_index,
        rank=rank,
        size=np.bincount(codes[ranked], minlength=n_groups),
        breaker=None if tb is None else _numeric(data, tb.column),
        breaker_order="higher_first" if tb is None else tb.order,
    )


def _select(
    framework: Framework,
    ctx: _Ranking,
    rows: IntArray | None,
    fraction: float,
    options: SeatOptions,
    max_firms: int | None,
) -> npt.NDArray[np.bool_]:
    """Members of a selection among ``rows`` (all firms when ``None``), as a mask over all firms.

    Ranks and group sizes are the ranking group's when the rows fill whole groups (e.g. a stage's
    firms under a ranking group that includes the stage); otherwise the rows are ranked anew
    within their groups.
    """
    rounding, min_seats, ties = seat_options(framework, options)
    n = ctx.total.shape[0]
    if rows is None:
        return select_top(
            ctx.ranks_for(ties), ctx.codes, ctx.size, fraction,
            rounding=rounding, min_seats=min_seats, ties=ties, max_firms=max_firms,
        )  # fmt: skip
    out = np.zeros(n, dtype=bool)
    rows = rows[ctx.ranked[rows]]
    if rows.size == 0:
        return out
    sub_codes = ctx.codes[rows]
    if "stage" in framework.ranking_group:
        sub_rank, size = ctx.ranks_for(ties)[rows], ctx.size
    else:
        total = ctx.total[rows]
        sub_rank = (
            tie_broken_rank(total, ctx.breaker[rows], sub_codes, ctx.breaker_order)
            if ties == "tie_breaker" and ctx.breaker is not None
            else competition_rank(total, sub_codes, decimals=framework.decimals)
        )
        size = np.bincount(sub_codes, minlength=ctx.size.shape[0])
    won = select_top(
        sub_rank, sub_codes, size, fraction,
        rounding=rounding, min_seats=min_seats, ties=ties, max_firms=max_firms,
    )  # fmt: skip
    out[rows[won]] = True
    return out


def _stage_rows(framework: Framework, ctx: _Ranking, stages: tuple[str, ...]) -> IntArray:
    """Rows of firms in these stages (a lookup table: ``np.isin`` costs several passes)."""
    wanted = np.zeros(len(framework.stages) + 1, dtype=bool)  # the last entry serves index -1
    wanted[[framework.stage_ids.index(s) for s in stages]] = True
    return np.flatnonzero(wanted[ctx.stage_index])


def _tiers(framework: Framework, ctx: _Ranking) -> IntArray:
    """Tier position per firm (-1 = on no tier): the first (smallest) tier the firm makes."""
    tier_code = np.full(ctx.total.shape[0], -1, dtype=np.int64)
    for t_pos in range(len(framework.tiers) - 1, -1, -1):  # smallest list written last, so it wins
        made = _select(
            framework, ctx, None, framework.tiers[t_pos].top_fraction, SeatOptions(), None
        )
        tier_code[made] = t_pos
    return tier_code


def _subsidies(framework: Framework, ctx: _Ranking) -> FloatArray:
    """Subsidy per firm (万元): a stage's ranked firms compete within their ranking group."""
    subsidy = np.zeros(ctx.total.shape[0])
    for rule in framework.subsidies:
        rows = _stage_rows(framework, ctx, (rule.stage,))
        won = _select(framework, ctx, rows, rule.top_fraction, rule.seats, rule.max_firms)
        subsidy[won] = rule.amount_wan
    return subsidy


def _named_lists(
    framework: Framework, ctx: _Ranking, tier_code: IntArray, subsidy: FloatArray
) -> dict[str, npt.NDArray[np.bool_]]:
    """``list__<id>`` per tier (exclusive) and per named list (independent); list subsidies paid."""
    out: dict[str, npt.NDArray[np.bool_]] = {}
    for t_pos, tier in enumerate(framework.tiers):
        out[tier.id] = tier_code == t_pos
    for li in framework.lists:
        rows = _stage_rows(framework, ctx, li.stages) if li.stages else None
        on = _select(framework, ctx, rows, li.top_fraction, li.seats, li.max_firms)
        if li.within is not None:
            on &= out[li.within]
        out[li.id] = on
        for b in li.benefits:
            if b.kind == "subsidy" and b.amount is not None:
                subsidy[on] += b.amount
    return {f"list__{k}": v for k, v in out.items()}


def _pools(
    framework: Framework, data: pd.DataFrame, ctx: _Ranking, pts: FloatArray
) -> dict[str, Any]:
    """``pool_score__<id>`` and ``pool__<id>`` per cultivation pool."""
    out: dict[str, Any] = {}
    position = {ind.id: j for j, ind in enumerate(framework.indicators)}
    rows = np.flatnonzero(ctx.ranked)
    group_codes: dict[tuple[str, ...], IntArray] = {}  # pools sharing a ranking group share codes
    for pool in framework.pools:
        pool_score = np.zeros(ctx.total.shape[0])
        for ind in pool.indicators:
            pool_score += pts[:, position[ind]]
        pool_score = round_half_up(pool_score, framework.decimals)
        if pool.ranking_group not in group_codes:
            codes = ranking_codes(data, ctx.stage_index, pool.ranking_group)
            group_codes[pool.ranking_group] = pd.factorize(codes[rows], sort=True)[0].astype(
                np.int64
            )
        _, min_seats, ties = seat_options(framework)
        cand = np.ones(rows.size, dtype=bool)  # candidates: not already certified
        for col in pool.exclude:
            cand &= ~(np.nan_to_num(_numeric(data, col)[rows], nan=0.0) > 0)
        groups = group_codes[pool.ranking_group]
        sub, cand_rows = groups[cand], rows[cand]
        rank = (
            tie_broken_rank(pool_score[cand_rows], ctx.breaker[cand_rows], sub, ctx.breaker_order)
            if ties == "tie_breaker" and ctx.breaker is not None
            else competition_rank(pool_score[cand_rows], sub)
        )
        size = np.bincount(sub, minlength=int(groups.max()) + 1 if groups.size else 0)
        won = select_top(
            rank, sub, size, 1.0 if pool.top_fraction is None else pool.top_fraction,
            rounding=framework.tier_seats, min_seats=min_seats, ties=ties,
            max_firms=pool.max_firms,
        )  # fmt: skip
        member = np.zeros(ctx.total.shape[0], dtype=bool)
        member[cand_rows[won]] = True
        member &= pool_score > 0
        if pool.min_score is not None:
            member &= pool_score >= pool.min_score
        out[f"pool_score__{pool.id}"] = pool_score
        out[f"pool__{pool.id}"] = member
    return out


def _credit(
    framework: Framework, ctx: _Ranking, lists: Mapping[str, npt.NDArray[np.bool_]]
) -> FloatArray | None:
    """Credit line per ranked firm (万元): base line, raised by total bands and list benefits."""
    benefits = [
        (li.id, b.amount)
        for li in framework.lists
        for b in li.benefits
        if b.kind == "credit" and b.amount is not None
    ]
    if framework.credit is None and not benefits:
        return None
    credit = np.zeros(ctx.total.shape[0])
    if framework.credit is not None:
        credit[ctx.ranked] = framework.credit.base_wan
        for band in framework.credit.bands:
            hit = ctx.ranked & (ctx.total >= band.min_total)
            credit[hit] = np.maximum(credit[hit], band.amount_wan)
    for list_id, amount in benefits:
        on = lists[f"list__{list_id}"]
        credit[on] = np.maximum(credit[on], amount)
    return credit


def _assemble(  # noqa: PLR0913 - assembles the scores table from the scorer's intermediate arrays
    data: pd.DataFrame,
    framework: Framework,
    stage_index: IntArray,
    pts: FloatArray,
    sums: dict[str, FloatArray],
    vetoed: npt.NDArray[np.bool_],
    policy: dict[str, Any],
    ctx: _Ranking,
    tier_code: IntArray,
    subsidy: FloatArray,
    extra: dict[str, Any],
) -> pd.DataFrame:
    """The scores table: keys, stage, points, sums, flags, rank, lists, pools, credit.

    ``sums`` holds the group subtotals by group id, then core (key ``""``), bonus, deduction and
    total (keys ``_bonus``, ``_deduction``, ``_total``).
    """
    index = data.index
    keys = [c for c in (*KEY_COLUMNS, *CARRIED_COLUMNS) if c in data.columns]
    for c in framework.ranking_group:
        if c != "stage" and c not in keys:
            keys.append(c)
    n = len(data)
    groups = [g.id for g in framework.groups]
    float_names = [*(f"grp__{g}" for g in groups), "core", "bonus", "deduction", "total"]
    # Float outputs are written into F-ordered blocks and handed to pandas without a copy.
    floats = np.empty((n, len(float_names)), dtype=np.float64, order="F")
    for j, key in enumerate([*groups, "", "_bonus", "_deduction", "_total"]):
        floats[:, j] = sums[key]
    ranked = policy["ranked"]
    size = ctx.size[ctx.codes]
    percentile = np.full(n, np.nan)
    percentile[ranked] = (size[ranked] - ctx.rank[ranked] + 1) / size[ranked]
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
                "eligible": policy["eligible"],
                "ineligible_reason": policy["ineligible_reason"],
                # vetoed and ineligible firms are not ranked
                "rank": pd.arrays.IntegerArray(ctx.rank, mask=~ranked),
                "percentile": percentile,
                "tier": pd.Categorical.from_codes(
                    tier_code, categories=pd.Index([t.id for t in framework.tiers], dtype="str")
                ),
                "subsidy_wan": subsidy,
                **extra,
            },
            index=index,
        ),
    ]
    return pd.concat(parts, axis=1)


# --- many points tables at once (rank uncertainty, search) --------------------------------------

#: Cells (firms × draws) per block of the draw engine: working arrays stay in cache.
CACHE_CELLS = 2**16
MSG_TIE_BREAKER = (
    "scoring many points tables does not support ties: tie_breaker (draws rank by total only); "
    "use ties: all or none for this analysis"
)


@dataclass(frozen=True, eq=False)
class DrawScores:
    """Totals, ranks, lists and subsidies of every firm under each of a batch of points tables.

    All arrays have shape (n_firms, n_draws), firms in input order.

    Attributes
    ----------
    total : ndarray of float
        Total points, exactly as the scorer would publish them.
    rank : ndarray of int
        Competition rank within the ranking group; 0 for vetoed firms (not ranked).
    tier : ndarray of int
        Position of the firm's list in ``framework.tiers``; -1 when on no list (or vetoed).
    subsidy : ndarray of float
        Subsidy in 万元.
    """

    total: FloatArray
    rank: IntArray
    tier: IntArray
    subsidy: FloatArray


class DrawEngine:
    """Pre-computed, per-framework state for scoring many points tables from a :class:`ScoreResult`.

    Totals are computed in integer units of 10**-decimals with the scorer's rounding and caps,
    ranks per draw, and tiers and subsidies through :func:`select_top` (the scorer's seat rule).
    Named lists, pools and credit lines are not re-scored per draw.
    """

    def __init__(self, scores: ScoreResult):
        fw = scores.framework
        self.framework = fw
        frame = scores.frame
        self.n = scores.n_firms
        self.scale = 10.0**fw.decimals
        fractions = np.asarray(scores.fractions, dtype=np.float64)
        self.stage_index = scores.stage_index.astype(np.int64)
        self.stage_rows = [np.flatnonzero(self.stage_index == s) for s in range(len(fw.stages))]
        self.stage_fractions = [np.ascontiguousarray(fractions[rows]) for rows in self.stage_rows]
        # indicators anyone in the stage scores on, and columns with few distinct fractions
        self.live: list[list[bool]] = [
            [bool(f[:, j].any()) for j in range(f.shape[1])] for f in self.stage_fractions
        ]
        self.distinct: list[list[tuple[FloatArray, npt.NDArray[np.intp]] | None]] = [
            [_distinct(f[:, j]) for j in range(f.shape[1])] for f in self.stage_fractions
        ]
        group_of = [ind.group for ind in fw.indicators]
        self.core = np.array([fw.group(g).kind == "core" for g in group_of], dtype=bool)
        self.bonus_groups = []
        for g in fw.groups:
            if g.kind == "bonus":
                cols = np.array(
                    [j for j, gid in enumerate(group_of) if gid == g.id], dtype=np.int64
                )
                cap = math.inf if g.cap is None else g.cap * self.scale
                self.bonus_groups.append((cols, cap))
        self.bonus_of = {int(j): b for b, (cols, _) in enumerate(self.bonus_groups) for j in cols}
        self.deduction = np.rint(frame["deduction"].to_numpy(dtype=np.float64) * self.scale)
        self.ranked = np.flatnonzero(scores.ranked)  # eligible and not vetoed
        codes = scores.group_code.astype(np.int64)
        n_groups = int(codes.max()) + 1 if codes.size else 0
        self.n_groups = n_groups
        rc = codes[self.ranked]
        self.ranked_codes = rc
        size = np.bincount(rc, minlength=n_groups)
        self.max_group = int(size.max()) if size.size else 0
        # sorted by (group, -total) the group sequence is the same in every draw
        sorted_codes = np.sort(rc)
        idx = np.arange(rc.size, dtype=np.int64)
        starts = (
            np.r_[True, sorted_codes[1:] != sorted_codes[:-1]] if rc.size else np.zeros(0, bool)
        )
        self.group_start = np.maximum.accumulate(np.where(starts, idx, 0)) if rc.size else idx
        self.size = size
        # seats and ties are decided by scoring.select_top, the scorer's own rule, per draw
        uses = [seat_options(fw)[2]] + [seat_options(fw, r.seats)[2] for r in fw.subsidies]
        if "tie_breaker" in uses:
            raise ValueError(MSG_TIE_BREAKER)
        self.subsidies = []
        ranked_stage = self.stage_index[self.ranked]
        for rule in fw.subsidies:
            cols = np.flatnonzero(ranked_stage == fw.stage_ids.index(rule.stage))
            self.subsidies.append((cols, rule))

    # -- totals ---------------------------------------------------------------------------------
    def totals(self, points: FloatArray) -> FloatArray:
        """Totals in integer units of 10**-decimals points, shape (n_firms, n_draws)."""
        n_draws = points.shape[0]
        out = np.empty((self.n, n_draws))
        step = max(1, CACHE_CELLS // n_draws)  # rows per block: working arrays stay in cache
        for s, rows in enumerate(self.stage_rows):
            frac = self.stage_fractions[s]
            p = points[:, s, :]
            live = [j for j in range(frac.shape[1]) if p[:, j].any() and self.live[s][j]]
            # indicators with few distinct fractions: round each distinct value once per draw
            tables = {}
            for j in live:
                distinct = self.distinct[s][j]
                if distinct is not None:
                    tables[j] = _round_points(distinct[0][:, None] * p[None, :, j], self.scale)
            for lo in range(0, rows.size, step):
                block = slice(lo, lo + step)
                out[rows[block]] = self._block_totals(s, block, p, live, tables, rows[block])
        return out

    def _block_totals(
        self,
        s: int,
        block: slice,
        points: FloatArray,
        live: list[int],
        tables: dict[int, FloatArray],
        rows: IntArray,
    ) -> FloatArray:
        frac = self.stage_fractions[s][block]
        m, n_draws = frac.shape[0], points.shape[0]
        core = np.zeros((m, n_draws))
        bonus = [np.zeros((m, n_draws)) for _ in self.bonus_groups]
        term = np.empty((m, n_draws))
        for j in live:
            distinct = self.distinct[s][j]
            if j in tables and distinct is not None:
                np.take(tables[j], distinct[1][block], axis=0, out=term)
            else:
                # the scorer's round_half_up(points × fraction), step by step for identical bits
                np.multiply(frac[:, j, None], points[None, :, j], out=term)
                _round_points(term, self.scale, out=term)
            if self.core[j]:
                core += term
            elif j in self.bonus_of:
                bonus[self.bonus_of[j]] += term
        if bonus:
            capped = np.zeros_like(core)
            for b, (_, cap) in enumerate(self.bonus_groups):
                capped += np.minimum(bonus[b], cap)
            capped += 0.5 + 1e-9  # a no-op unless a cap is off the decimals grid
            core += np.floor(capped, out=capped)
        core -= self.deduction[rows, None]
        return core

    # -- ranks, lists, subsidies ---------------------------------------------------------------------
    def ranks(self, totals: FloatArray) -> IntArray:
        """Competition ranks of the ranked firms, shape (n_draws, n_ranked)."""
        t = totals[self.ranked]  # (n_ranked, n_draws), integer-valued
        n_r, n_draws = t.shape
        if t.size == 0:
            return np.zeros((n_draws, 0), dtype=np.int64)
        hi = float(t.max())
        span = int(hi - float(t.min())) + 1
        value = self.ranked_codes[:, None] * span + (hi - t).astype(
            np.int64
        )  # ascending = best first
        idx_bits = max(1, (n_r - 1).bit_length())
        if (self.n_groups * span).bit_length() + idx_bits <= 62:
            # pack (group, −total, firm) into one int64 and sort values (much faster than argsort)
            key = (value << idx_bits).T.copy()
            key |= np.arange(n_r, dtype=np.int64)
            key.sort(axis=1)
            order = key & ((1 << idx_bits) - 1)
            key >>= idx_bits
        else:  # pragma: no cover - astronomically wide totals
            key = value.T.copy()
            order = np.argsort(key, axis=1)
            key = np.take_along_axis(key, order, axis=1)
        flat = key.reshape(-1)
        new_value = np.empty(flat.size, dtype=bool)
        new_value[0] = True
        np.not_equal(flat[1:], flat[:-1], out=new_value[1:])
        new_value.reshape(n_draws, n_r)[:, 0] = True
        pos = np.arange(flat.size, dtype=np.int64)
        start = np.maximum.accumulate(np.where(new_value, pos, 0)).reshape(n_draws, n_r)
        start -= (np.arange(n_draws, dtype=np.int64) * n_r)[:, None] + self.group_start - 1
        ranks = np.empty((n_draws, n_r), dtype=np.int64)
        order += (np.arange(n_draws, dtype=np.int64) * n_r)[:, None]
        ranks.reshape(-1)[order.reshape(-1)] = start.reshape(
            -1
        )  # flat scatter: faster than put_along_axis
        return ranks

    def tiers(self, ranks: IntArray) -> IntArray:
        """List position per ranked firm and draw (-1 = no list), shape like ``ranks``."""
        fw = self.framework
        rounding, min_seats, ties = seat_options(fw)
        out = np.full(ranks.shape, -1, dtype=np.int64)
        for t in range(len(fw.tiers) - 1, -1, -1):  # smallest list last, so it wins
            made = select_top(
                ranks, self.ranked_codes, self.size, fw.tiers[t].top_fraction,
                rounding=rounding, min_seats=min_seats, ties=ties,
            )  # fmt: skip
            out[made] = t
        return out

    def winners(self, ranks: IntArray) -> tuple[IntArray, IntArray, FloatArray]:
        """Subsidy winners as (draw, ranked-firm position, amount 万元); the scorer's seat rule."""
        draws, firms, amounts = [], [], []
        pooled = "stage" not in self.framework.ranking_group
        for cols, rule in self.subsidies:
            rounding, min_seats, ties = seat_options(self.framework, rule.seats)
            codes = self.ranked_codes[cols]
            r, size = ranks[:, cols], self.size
            if pooled:  # groups span stages: the stage's firms compete among themselves, as scored
                r, size = (
                    _within(r, codes, self.n_groups),
                    np.bincount(codes, minlength=self.n_groups),
                )
            won = select_top(
                r, codes, size, rule.top_fraction,
                rounding=rounding, min_seats=min_seats, ties=ties, max_firms=rule.max_firms,
            )  # fmt: skip
            d, c = np.nonzero(won)
            draws.append(d)
            firms.append(cols[c])
            amounts.append(np.full(d.size, rule.amount_wan))
        if not draws:
            return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
        return np.concatenate(draws), np.concatenate(firms), np.concatenate(amounts)

    def subsidy(self, ranks: IntArray) -> FloatArray:
        """Subsidy per ranked firm and draw (万元), shape like ``ranks``."""
        out = np.zeros(ranks.shape)
        d, f, amount = self.winners(ranks)
        out[d, f] = amount
        return out


def _within(ranks: IntArray, codes: IntArray, n_groups: int) -> IntArray:
    """Competition ranks among a subset of each group's firms, from their ranks in the group.

    Order within the subset is the group order, so ranking the group ranks (smallest first) per
    draw and group gives the subset's own competition ranks (ties still share a rank).
    """
    n_draws, m = ranks.shape
    if m == 0:
        return ranks
    cells = (np.arange(n_draws, dtype=np.int64)[:, None] * n_groups + codes[None, :]).reshape(-1)
    out = competition_rank(
        ranks.reshape(-1).astype(np.float64), cells, descending=False, decimals=0
    )
    return out.reshape(n_draws, m)


def _round_points(values: FloatArray, scale: float, out: FloatArray | None = None) -> FloatArray:
    """``round_half_up`` of the scorer in units of 10**-decimals: floor(v·scale + 0.5 + 1e-9)."""
    values = np.multiply(values, scale, out=out)
    values += 0.5
    values += 1e-9
    return np.floor(values, out=values)


def _distinct(column: FloatArray, most: int = 64) -> tuple[FloatArray, IntArray] | None:
    """(distinct values, index of each row) when a fraction column has at most ``most`` values."""
    if column.size == 0:
        return None
    values, index = np.unique(column, return_inverse=True)
    if values.size > most or values.size * 8 > column.size:
        return None
    return values, index.astype(np.intp).reshape(-1)


def score_many(scores: ScoreResult, points: FloatArray) -> DrawScores:
    """Score a batch of points tables at once, re-using the fractions of ``scores`` (no raw data).

    Parameters
    ----------
    scores : ScoreResult
        Scores of the framework on the enterprise table.
    points : array of shape (n_draws, n_stages, n_indicators)
        Points tables in framework order (stages × indicators per draw), finite and >= 0 (callers
        check; see ``calibrate.sensitivity.points_array`` and ``score_draws``). The framework's own
        table as one draw reproduces ``scores`` exactly.

    Returns
    -------
    DrawScores
    """
    engine = DrawEngine(scores)
    totals = engine.totals(np.asarray(points, dtype=np.float64))
    n, d = totals.shape
    rank = np.zeros((n, d), dtype=np.int64)
    tier = np.full((n, d), -1, dtype=np.int64)
    subsidy = np.zeros((n, d))
    r = engine.ranks(totals)
    rank[engine.ranked] = r.T
    tier[engine.ranked] = engine.tiers(r).T
    subsidy[engine.ranked] = engine.subsidy(r).T
    return DrawScores(total=totals / engine.scale, rank=rank, tier=tier, subsidy=subsidy)


# --- carriers (incubators, accelerators, park buildings) ---------------------------------------

#: Raw indicators in these units are summed over a carrier's residents; others are averaged.
SUMMED_UNITS = ("万元", "count")


@dataclass(frozen=True, eq=False)
class CarrierScores:
    """Carriers scored from their resident firms and ranked among carriers.

    Attributes
    ----------
    frame : pandas.DataFrame
        One row per carrier and ``by`` group: ``firms`` (residents), ``ranked`` (eligible, not
        vetoed), ``mean_total`` and ``median_total`` over ranked residents, mean group subtotals
        (``mean_grp__<group>``), ``listed`` (residents on any list), ``subsidy_wan`` and
        ``credit_wan`` (sums), raw indicators aggregated when data were given (``sum__<id>`` for
        万元 and counts, ``mean__<id>`` otherwise), then ``rank`` (competition rank of
        ``mean_total`` among carriers of the same ``by`` group; empty without ranked residents).
    by : tuple of str
        Columns carriers are compared within (default park × year).
    unassigned : int
        Firms with no carrier (left out of every carrier).
    """

    frame: pd.DataFrame
    by: tuple[str, ...]
    unassigned: int

    def to_frame(self) -> pd.DataFrame:
        return self.frame


def carrier_scores(
    result: ScoreResult,
    data: pd.DataFrame | None = None,
    *,
    by: tuple[str, ...] = ("park", "year"),
) -> CarrierScores:
    """Aggregate resident firms' scores (and raw indicators) per carrier and rank the carriers.

    Parameters
    ----------
    result : ScoreResult
        Scores whose frame has a ``carrier`` column (carried from the data).
    data : pandas.DataFrame, optional
        The scored table, to aggregate raw indicator values as well.
    by : tuple of str
        Columns within which carriers are ranked (present ones are used).

    Raises
    ------
    DataContractError
        When the scores have no ``carrier`` column.
    """
    f = result.frame
    if "carrier" not in f.columns:
        raise DataContractError(
            "<scores>",
            [
                Problem(
                    "column carrier", "no carrier column; add the incubator / carrier of each firm"
                )
            ],
        )
    keys = [c for c in by if c in f.columns]
    has = f["carrier"].notna().to_numpy()
    ranked = result.ranked
    groups = [g.id for g in result.framework.groups]
    lists = [f"list__{i}" for i in result.list_ids]
    work = f.loc[has, ["carrier", *keys]].copy()
    work["_ranked"] = ranked[has]
    work["_total"] = f["total"].where(ranked)[has]
    for g in groups:
        work[f"mean_grp__{g}"] = f[f"grp__{g}"].where(ranked)[has]
    work["_listed"] = f[lists].any(axis=1)[has] if lists else False
    work["subsidy_wan"] = f["subsidy_wan"][has]
    work["credit_wan"] = f["credit_wan"][has] if "credit_wan" in f.columns else 0.0
    agg: dict[str, tuple[str, str]] = {
        "firms": ("_ranked", "size"),
        "ranked": ("_ranked", "sum"),
        "mean_total": ("_total", "mean"),
        "median_total": ("_total", "median"),
        **{f"mean_grp__{g}": (f"mean_grp__{g}", "mean") for g in groups},
        "listed": ("_listed", "sum"),
        "subsidy_wan": ("subsidy_wan", "sum"),
        "credit_wan": ("credit_wan", "sum"),
    }
    if data is not None:
        for ind in result.framework.indicators:
            how = "sum" if ind.unit in SUMMED_UNITS else "mean"
            work[f"{how}__{ind.id}"] = pd.to_numeric(data[ind.id], errors="coerce").to_numpy()[has]
            agg[f"{how}__{ind.id}"] = (f"{how}__{ind.id}", how)
    table = work.groupby([*keys, "carrier"], observed=True, sort=True).agg(**agg).reset_index()
    mean = table["mean_total"].to_numpy(dtype=np.float64)
    scored = ~np.isnan(mean)
    codes = (
        pd.MultiIndex.from_frame(table[keys]).factorize()[0].astype(np.int64)
        if keys
        else np.zeros(len(table), dtype=np.int64)
    )
    rank = np.zeros(len(table), dtype=np.int64)
    rank[scored] = competition_rank(mean[scored], codes[scored])
    table["rank"] = pd.arrays.IntegerArray(rank, mask=~scored)
    return CarrierScores(table, tuple(keys), int((~has).sum()))
