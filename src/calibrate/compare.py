"""What-if comparison of two frameworks on the same enterprises.

:func:`compare` scores one enterprise table under a *base* and a *candidate* framework (any two:
official, suggested, hand-edited, a baseline) and returns a :class:`Comparison` that answers, for
all firms and per slice (ranking group, park, stage, industry, carrier):

* **rank agreement** — Spearman and Kendall correlation of the firms' positions, mean and largest
  rank moves;
* **tier transitions** — a matrix from base tier to candidate tier, with ``none`` (ranked, on no
  list) and ``vetoed`` (not ranked);
* **list entrants and leavers** — every firm that enters or leaves each list, the indicators whose
  points moved it most and its margin to each framework's cut-off;
* **subsidies** — firms that gain or lose a subsidy and the money moved, per stage;
* **seat shares** — the share of list seats held by each park, industry, stage and carrier under
  each framework;
* **every list by id** — members of each tier and named list (``list__<id>`` columns) under each
  framework, who stayed, entered and left (:attr:`Comparison.list_membership`);
* **credit lines** — firms covered by a credit line and their share, per stage, and the sum of
  lines under each framework (:attr:`Comparison.credit`, when either framework grants them);
* **outcomes** (with labels) — AUC, precision and lift in the top 5 / 10 / 20 % of both frameworks
  on the same firms.

Definitions
-----------
*Same firm.* Row ``i`` of the base scores and row ``i`` of the candidate scores are the same firm:
both frameworks score the same table.

*Slices use the base framework.* A firm's stage, ranking group (e.g. park × stage × year), park,
industry and carrier are taken from the base framework and the data, so every per-slice summary
counts the same firms on both sides. When the frameworks place firms in different stages or rank
them in different groups, ranks are still compared firm by firm (each framework ranks within its
own groups); ``stage_candidate`` in :attr:`Comparison.firms` shows the candidate's stage.

*Position.* Rank agreement is measured on the within-group ``percentile`` (1.0 = best), the one
position that is comparable across groups. Within one ranking group, when both frameworks rank in
the same groups, the Spearman and Kendall correlations of percentiles equal those of the totals.
Firms not ranked under either framework (vetoed, or outside the framework's eligible
categories: state ``ineligible``) are left out of rank agreement and of rank moves.

*Lists are matched by position.* Tiers are ordered from the smallest (best) list; list ``k`` of the
base is compared with list ``k`` of the candidate. When both frameworks use the same tier ids —
the usual case — this is matching by id. A list present in one framework only has every member
entering (or leaving). Lists are exclusive: a firm sits on the first list it makes, so a firm
moving from the 5 % list to the 10 % list *leaves* one and *enters* the other. ``none`` and
``vetoed`` are both "on no list".

*Cut-off and margin.* The cut-off of list ``k`` in a ranking group is the total of the firm at the
list's last seat (the ``seats``-th highest total; the list holds every firm with at least that
total, see :mod:`calibrate.scoring`). ``margin_base`` / ``margin_candidate`` are the firm's total
minus that framework's cut-off for the list in the firm's own group: >= 0 means on the list or
above it.

*Drivers.* The change of a firm's total is decomposed exactly into per-indicator points changes
over the union of both frameworks' indicators (an indicator missing from a framework earns 0
points there), the change of the bonus-cap effect (``bonus_cap``: capped bonus minus uncapped
bonus points) and the change of deductions (``deduction``, counted negative). For a firm that
moves up the drivers are its largest positive components, for a firm that moves down its largest
negative ones.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate import metrics
from calibrate.framework import Framework, load_framework
from calibrate.scoring import ScoreResult, score, tier_seats

__all__ = [
    "DEFAULT_TOP",
    "INELIGIBLE",
    "NO_TIER",
    "UNLISTED_STATES",
    "VETOED",
    "Comparison",
    "compare",
]

#: Transition state of a firm that is ranked but on no list.
NO_TIER = "none"
#: Transition state of a firm that is not ranked (one-vote veto).
VETOED = "vetoed"
#: Transition state of a firm outside the framework's evaluated categories (not ranked).
INELIGIBLE = "ineligible"
#: The states of a firm on no list (each has a ``state_<name>`` text in the report).
UNLISTED_STATES = (NO_TIER, VETOED, INELIGIBLE)
#: List sizes at which outcome precision and lift are reported.
DEFAULT_TOP = (0.05, 0.10, 0.20)
#: Slices summarised by :meth:`Comparison.write` (those present in the data).
SLICES = ("group", "park", "stage", "industry", "carrier")
#: Number of drivers named per entrant or leaver.
N_DRIVERS = 3
#: Extra components of a firm's points change besides the indicators.
BONUS_CAP = "bonus_cap"
DEDUCTION = "deduction"

_KEY_COLUMNS = ("enterprise_id", "year", "park", "industry", "carrier")

# --- messages (module constants so tests compare them exactly) ---------------------------

MSG_SCORES_FRAMEWORK = (
    "{which}_scores were computed with framework {got!r}, not with the {which} framework {want!r}; "
    "pass the scores of the same framework, or leave {which}_scores out to score the data here"
)
MSG_SCORES_LENGTH = (
    "{which}_scores has {got} rows but data has {want}; score the same enterprise table, or leave "
    "{which}_scores out to score the data here"
)
MSG_NO_TARGET = (
    "events were given without a target; pass target=EVENT (e.g. 'hte_certified') to compare "
    "outcome metrics, or leave events out"
)
MSG_LABELS_LENGTH = (
    "labels has {got} values but data has {want} rows; pass one label per row (1, 0 or NA)"
)
MSG_LABELS_VALUES = (
    "labels must be 1, 0 or missing; found {found}. Encode 1 = event happened, 0 = it did not"
)
MSG_UNKNOWN_LIST = (
    "no list {tier!r} in either framework; lists are {known} (or a position 0 to {last})"
)
MSG_UNKNOWN_SLICE = (
    "cannot summarise by {by!r}: no column {col!r} in the data; slices available: {known}"
)
MSG_FORMAT = "fmt must be 'csv' or 'parquet'; got {fmt!r}"
MSG_NORMALIZE = "normalize must be None, 'all' or 'index'; got {got!r}"

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


# --- the entry point -------------------------------------------------------------------------


def compare(  # noqa: PLR0913 - public entry: keyword options mirror the command line
    base: Framework | str,
    candidate: Framework | str,
    data: pd.DataFrame,
    *,
    events: pd.DataFrame | None = None,
    target: str | None = None,
    horizon: int = 1,
    labels: Any = None,
    base_scores: ScoreResult | None = None,
    candidate_scores: ScoreResult | None = None,
    top: Sequence[float] = DEFAULT_TOP,
    direction: str | None = None,
    years: Sequence[int] | None = None,
) -> Comparison:
    """Compare two frameworks on one enterprise table.

    Parameters
    ----------
    base, candidate : Framework or str
        The frameworks, or shipped ids / YAML paths (see :func:`calibrate.framework.load_framework`).
    data : pandas.DataFrame
        The enterprise-year table both frameworks score (an ``EnterpriseTable`` is accepted too).
    events : pandas.DataFrame, optional
        Long events table ``enterprise_id, year, event``; with ``target``, outcome labels are made
        by :func:`calibrate.outcomes.make_labels` and both frameworks' outcome metrics compared.
    target : str, optional
        The event to predict (e.g. ``"hte_certified"``); required with ``events``.
    horizon : int, default 1
        Years after the scoring year in which the event counts.
    labels : array-like, optional
        Ready-made labels instead of ``events``: one value per row of ``data`` (1, 0, or missing
        for censored / excluded firms).
    base_scores, candidate_scores : ScoreResult, optional
        Scores already computed for ``data`` under the same framework (skips re-scoring).
    top : sequence of float, default (0.05, 0.10, 0.20)
        List sizes at which outcome precision and lift are reported.
    direction : {"higher", "lower"}, optional
        Whether high scorers should have the event more often (certification) or less often
        (default); required for a target whose direction :mod:`calibrate.outcomes` does not know.
        Outcome metrics are computed for the *good* outcome, so higher is better for both.
    years : sequence of int, optional
        Data years the outcome metrics are computed on. Default: a suggested candidate's
        held-out years (its ``calibration.test_years``, for the same target), else every
        labelled year. :attr:`Comparison.outcome_scope` says which, and whether the candidate
        was fitted on them.

    Returns
    -------
    Comparison

    Raises
    ------
    calibrate.exceptions.DataContractError
        When a framework cannot score ``data`` (every problem listed).
    ValueError
        When given scores do not belong to the framework or the table, or ``events`` come without
        a ``target``.

    Examples
    --------
    >>> c = compare("longwan-2022", suggested, data)  # doctest: +SKIP
    >>> c.overall["spearman"], c.transitions()  # doctest: +SKIP
    >>> c.entered("leading")  # doctest: +SKIP
    """
    frame = getattr(data, "frame", data)  # EnterpriseTable or DataFrame
    base_fw = load_framework(base)
    cand_fw = load_framework(candidate)
    b = _scores(base_fw, frame, base_scores, "base")
    c = _scores(cand_fw, frame, candidate_scores, "candidate")
    label = _labels(frame, events, target, horizon, labels)
    good = "higher"
    if label is not None and target is not None:
        from calibrate.outcomes import resolve_target  # layer 3; imported where used

        good = str(resolve_target(target, direction).direction)
    elif direction is not None:
        good = direction
    cal = dict(cand_fw.calibration or {})
    fitted = (
        tuple(int(y) for y in cal.get("train_years") or ()) if cal.get("target") == target else ()
    )
    if years is None and fitted and cal.get("test_years"):
        years = [int(y) for y in cal["test_years"]]
    elif years is not None and label is not None:
        _check_years(frame, years)
    return Comparison(
        base_fw,
        cand_fw,
        b,
        c,
        label,
        target,
        horizon,
        tuple(float(t) for t in top),
        direction=good,
        outcome_years=tuple(sorted(int(y) for y in years)) if years is not None else None,
        fitted_years=fitted,
    )


def _check_years(data: pd.DataFrame, years: Sequence[int]) -> None:
    """Outcome years must be data years: an empty selection would report nothing, silently."""
    have = sorted({int(y) for y in pd.to_numeric(data["year"], errors="coerce").dropna()})
    missing = sorted(set(int(y) for y in years) - set(have))
    if missing:
        from calibrate.exceptions import ConstraintError, Problem

        raise ConstraintError(
            "years",
            [
                Problem(
                    "--years",
                    f"no data in {', '.join(map(str, missing))}; the data years are "
                    f"{have[0]}–{have[-1]}"
                    if have
                    else "the table has no data years",
                )
            ],
        )


def _scores(
    fw: Framework, data: pd.DataFrame, given: ScoreResult | None, which: str
) -> ScoreResult:
    if given is None:
        return score(fw, data)
    if given.framework is not fw and given.framework != fw:
        raise ValueError(
            MSG_SCORES_FRAMEWORK.format(which=which, got=given.framework.id, want=fw.id)
        )
    if given.n_firms != len(data):
        raise ValueError(MSG_SCORES_LENGTH.format(which=which, got=given.n_firms, want=len(data)))
    return given


def _labels(
    data: pd.DataFrame, events: Any, target: str | None, horizon: int, labels: Any
) -> pd.Series | None:
    if labels is None and events is None:
        return None
    if labels is None:
        if target is None:
            raise ValueError(MSG_NO_TARGET)
        from calibrate.outcomes import make_labels  # layer 3; imported where used

        events = getattr(events, "frame", events)  # EventsTable or DataFrame
        labels = make_labels(data, events, target, horizon).frame["label"]
    values = pd.array(np.asarray(labels, dtype=object), dtype="Float64")
    if len(values) != len(data):
        raise ValueError(MSG_LABELS_LENGTH.format(got=len(values), want=len(data)))
    present = values[~values.isna()]
    bad = present[(present != 0) & (present != 1)]
    if len(bad):
        raise ValueError(MSG_LABELS_VALUES.format(found=", ".join(repr(float(v)) for v in bad[:5])))
    return pd.Series(values.astype("Int8"), index=data.index, name="label")


# --- per-framework arrays ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class _Side:
    """The arrays of one framework's scores that a comparison needs."""

    n_tiers: int
    unranked: BoolArray  # vetoed or ineligible: not ranked, on no list
    total: FloatArray
    rank: IntArray  # 0 = not ranked
    percentile: FloatArray
    state: IntArray  # tier position, n_tiers = none, + 1 = vetoed, + 2 = ineligible
    subsidy: FloatArray
    group_code: IntArray
    #: (n_groups, n_tiers): total at the list's last seat, NaN when the list has no seat
    cutoff: FloatArray


def _side(scores: ScoreResult) -> _Side:
    f = scores.frame
    fw = scores.framework
    nt = len(fw.tiers)
    vetoed = f["vetoed"].to_numpy(dtype=bool)
    unranked = ~scores.ranked
    total = f["total"].to_numpy(dtype=np.float64)
    tier_code = f["tier"].cat.codes.to_numpy().astype(np.int64)
    state = np.where(
        vetoed, nt + 1, np.where(unranked, nt + 2, np.where(tier_code < 0, nt, tier_code))
    )
    codes = scores.group_code.astype(np.int64)
    rank = f["rank"].to_numpy(dtype=np.int64, na_value=0)
    return _Side(
        n_tiers=nt,
        unranked=unranked,
        total=total,
        rank=rank,
        percentile=f["percentile"].to_numpy(dtype=np.float64),
        state=state,
        subsidy=f["subsidy_wan"].to_numpy(dtype=np.float64),
        group_code=codes,
        cutoff=_cutoffs(fw, total, tier_code, ~unranked, codes),
    )


def _cutoffs(
    fw: Framework, total: FloatArray, tier_code: IntArray, ranked: BoolArray, codes: IntArray
) -> FloatArray:
    """Total at each list's last seat per group: the lowest total among the firms the scorer put on
    that tier or a better one (its seat and tie rules decided who; none are re-derived here)."""
    n_groups = int(codes.max()) + 1 if codes.size else 0
    out = np.full((n_groups, len(fw.tiers)), np.nan)
    for k in range(len(fw.tiers)):
        on = ranked & (tier_code >= 0) & (tier_code <= k)
        low = np.full(n_groups, np.inf)
        np.minimum.at(low, codes[on], total[on])
        out[:, k] = np.where(np.isfinite(low), low, np.nan)
    return out


# --- rank agreement within groups, vectorised ----------------------------------------------------

#: Groups larger than this get one call to scipy's compiled Kendall each; smaller groups are done
#: all together, vectorised (a call per group costs about 2 ms of overhead, which dominates
#: thousands of small groups).
KENDALL_SCIPY_MIN = 4096


def _dense_rank(values: FloatArray) -> IntArray:
    """Dense 0-based rank of each value (ties share a rank)."""
    _, inverse = np.unique(values, return_inverse=True)
    return inverse.astype(np.int64).reshape(-1)


def _run_starts(*keys: npt.NDArray[Any]) -> BoolArray:
    """True where any of the (sorted) keys changes, and at 0."""
    n = keys[0].size
    out = np.zeros(n, dtype=bool)
    if n:
        out[0] = True
        for k in keys:
            out[1:] |= k[1:] != k[:-1]
    return out


def _tie_pairs(new_run: BoolArray, codes_sorted: IntArray, n_groups: int) -> FloatArray:
    """Sum over runs of t·(t − 1)/2 per group (pairs tied within a run)."""
    run_len = np.bincount(np.cumsum(new_run) - 1).astype(np.float64)
    out: FloatArray = np.bincount(
        codes_sorted[new_run], weights=run_len * (run_len - 1) / 2, minlength=n_groups
    ).astype(np.float64)
    return out


def _inversions(seq: IntArray, codes_sorted: IntArray, n_groups: int) -> FloatArray:
    """Pairs i < j of the same group with ``seq[i] > seq[j]``, per group (``codes_sorted`` sorted).

    A bottom-up merge sort run on all groups at once: in each pass every group-aligned block of
    ``2·width`` elements merges its two sorted halves with one global sort, and the inversions the
    merge removes equal the sum, over right-half elements, of how far they moved left
    (``off · (was_right − is_right)`` summed over positions). Blocks never cross groups, so the
    passes stop at the largest group's size.
    """
    n = seq.size
    if n == 0:
        return np.zeros(n_groups)
    pos = np.arange(n, dtype=np.int64)
    start = _run_starts(codes_sorted)
    within = pos - np.maximum.accumulate(np.where(start, pos, 0))
    largest = int(np.bincount(codes_sorted, minlength=n_groups).max())
    big = np.int64(n + 1)
    cur = seq.astype(np.int64)
    acc = np.zeros(n, dtype=np.int64)
    width = 1
    while width < largest:
        off = within & (2 * width - 1)
        base = (pos - off) * big
        right = (off >= width).view(np.int8)
        key = base + cur
        key <<= 1
        key |= right
        key.sort()  # merges the two sorted halves of every block
        moved = right - (key & 1)
        moved *= off
        acc += moved
        key >>= 1
        key -= base
        cur = key
        width *= 2
    out: FloatArray = np.bincount(codes_sorted, weights=acc, minlength=n_groups).astype(np.float64)
    return out


def _rank_agreement(
    xr: IntArray,
    yr: IntArray,
    codes: IntArray,
    n_groups: int,
    sorted_xy: IntArray | None = None,
    sorted_y: IntArray | None = None,
) -> tuple[FloatArray, FloatArray]:
    """Spearman rho and Kendall tau-b of ``x`` and ``y`` within each group.

    ``xr`` and ``yr`` are dense integer ranks of the two variables. Same results as
    :func:`scipy.stats.spearmanr` and :func:`scipy.stats.kendalltau` (variant b) per group; NaN
    where a group has fewer than two firms or either side is constant. ``sorted_xy`` and
    ``sorted_y`` (orders of all firms by (x, y) and by y) may be given to share the expensive sorts
    between calls: each call then only sorts group codes, stably (a radix sort for < 65,536 groups).
    """
    from scipy import stats  # scipy is a dependency; imported where used

    size = np.bincount(codes, minlength=n_groups).astype(np.float64)
    nx, ny = int(xr.max()) + 1, int(yr.max()) + 1
    if sorted_xy is not None and sorted_y is not None and n_groups < 2**16:
        small = codes.astype(np.uint16)
        order = sorted_xy[np.argsort(small[sorted_xy], kind="stable")]
        order_y = sorted_y[np.argsort(small[sorted_y], kind="stable")]
    elif n_groups * nx * ny < 2**62:
        order = np.argsort((codes * nx + xr) * ny + yr)
        order_y = np.argsort(codes * ny + yr)
    else:  # pragma: no cover - beyond ~2 million firms
        order = np.lexsort((yr, xr, codes))
        order_y = np.lexsort((yr, codes))
    c, xs, ys = codes[order], xr[order], yr[order]
    cy, yy = codes[order_y], yr[order_y]
    new_x = _run_starts(c, xs)
    new_xy = new_x | _run_starts(ys)
    new_y = _run_starts(cy, yy)

    # Spearman: Pearson correlation of average ranks (groups occupy the same positions in both orders)
    def average_position(new_run: BoolArray, order_: IntArray) -> FloatArray:
        run = np.cumsum(new_run) - 1
        starts = np.flatnonzero(new_run)
        ends = np.r_[starts[1:], new_run.size] - 1
        out = np.empty(new_run.size)
        out[order_] = ((starts + ends) / 2.0)[run]
        return out

    ax, ay = average_position(new_x, order), average_position(new_y, order_y)
    dx = ax - (np.bincount(codes, weights=ax, minlength=n_groups) / np.maximum(size, 1))[codes]
    dy = ay - (np.bincount(codes, weights=ay, minlength=n_groups) / np.maximum(size, 1))[codes]
    cov = np.bincount(codes, weights=dx * dy, minlength=n_groups)
    var = np.bincount(codes, weights=dx * dx, minlength=n_groups) * np.bincount(
        codes, weights=dy * dy, minlength=n_groups
    )
    rho = np.clip(_safe_div(cov, np.sqrt(var)), -1.0, 1.0)

    # Kendall tau-b = (n0 − n1 − n2 + n3 − 2·swaps) / sqrt((n0 − n1)(n0 − n2))
    n0 = size * (size - 1) / 2
    n1 = _tie_pairs(new_x, c, n_groups)
    n2 = _tie_pairs(new_y, cy, n_groups)
    n3 = _tie_pairs(new_xy, c, n_groups)
    den = np.sqrt((n0 - n1) * (n0 - n2))
    large = size > KENDALL_SCIPY_MIN
    small_rows = ~large[c]
    swaps = _inversions(ys[small_rows], c[small_rows], n_groups)
    tau = _safe_div(n0 - n1 - n2 + n3 - 2 * swaps, den)
    starts = np.r_[0, np.cumsum(size)].astype(np.int64)
    for g in np.flatnonzero(large & (den > 0)):
        lo, hi = starts[g], starts[g + 1]
        tau[g] = stats.kendalltau(xs[lo:hi], ys[lo:hi]).statistic
    return rho, np.clip(tau, -1.0, 1.0)


def _state_labels(fw: Framework) -> list[str]:
    extra = [INELIGIBLE] if fw.eligibility is not None else []
    return [t.id for t in fw.tiers] + [NO_TIER, VETOED, *extra]


def _safe_div(num: Any, den: Any) -> Any:
    num_a = np.asarray(num, dtype=np.float64)
    den_a = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num_a, den_a).shape, np.nan)
    np.divide(num_a, den_a, out=out, where=den_a != 0)
    return out


# --- the result ------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False, repr=False)
class Comparison:
    """Two frameworks scored on the same firms, side by side (see the module docstring).

    Build one with :func:`compare`. Tables are computed on first use and cached.

    Attributes
    ----------
    base, candidate : Framework
    base_scores, candidate_scores : ScoreResult
    labels : pandas.Series or None
        Outcome label per firm (nullable ``Int8``: 1, 0, NA), when events or labels were given.
    target : str or None
    horizon : int
    top : tuple of float
        List sizes for outcome precision and lift.
    """

    base: Framework
    candidate: Framework
    base_scores: ScoreResult
    candidate_scores: ScoreResult
    labels: pd.Series | None = None
    target: str | None = None
    horizon: int = 1
    top: tuple[float, ...] = DEFAULT_TOP
    direction: str = "higher"
    """``higher``: the event is good; ``lower``: bad — outcome metrics then score its absence."""
    outcome_years: tuple[int, ...] | None = None
    """Years the outcome metrics use (None = every labelled year)."""
    fitted_years: tuple[int, ...] = ()
    """Years the candidate's points were fitted on (from its calibration block)."""

    @property
    def outcome_scope(self) -> dict[str, Any]:
        """Which firm-years the outcome metrics describe, and whether that is held-out evidence.

        ``held_out`` is True only when the candidate carries the years it was fitted on and none
        of them is measured; False when some are; None when nothing says how it was made.
        """
        years = self._outcome_years_used()
        overlap = sorted(set(years) & set(self.fitted_years))
        held: bool | None
        if not self.fitted_years:
            held = None
        else:
            held = not overlap
        return {
            "years": list(years),
            "fitted_years": list(self.fitted_years),
            "held_out": held,
            "outcome": self.target if self.direction == "higher" else f"no {self.target}",
        }

    def _outcome_mask(self) -> BoolArray:
        if self.labels is None:
            return np.zeros(self.n_firms, dtype=bool)
        lab = self.labels.to_numpy(dtype=np.float64, na_value=np.nan)
        use = self._both & ~np.isnan(lab)
        if self.outcome_years is not None:
            year = self.base_scores.frame["year"].to_numpy(dtype=np.int64)
            use &= np.isin(year, self.outcome_years)
        return use

    def _outcome_years_used(self) -> list[int]:
        use = self._outcome_mask()
        year = self.base_scores.frame["year"].to_numpy(dtype=np.int64)
        return sorted({int(v) for v in year[use]})

    def __repr__(self) -> str:
        return (
            f"Comparison(base={self.base.id!r}, candidate={self.candidate.id!r}, "
            f"n_firms={self.n_firms}, target={self.target!r})"
        )

    # -- core arrays -------------------------------------------------------------------------------
    @cached_property
    def _b(self) -> _Side:
        return _side(self.base_scores)

    @cached_property
    def _c(self) -> _Side:
        return _side(self.candidate_scores)

    @cached_property
    def fingerprints(self) -> tuple[str, str]:
        """Fingerprints of the base and the candidate framework (computed once)."""
        return self.base.fingerprint, self.candidate.fingerprint

    @property
    def n_firms(self) -> int:
        """Firms compared."""
        return self.base_scores.n_firms

    @property
    def n_lists(self) -> int:
        """Lists compared: the larger number of tiers of the two frameworks."""
        return max(self._b.n_tiers, self._c.n_tiers)

    @cached_property
    def _pos(self) -> tuple[IntArray, IntArray]:
        """List position per firm under each framework; ``n_lists`` = on no list."""
        m = self.n_lists
        b, c = self._b, self._c
        return (
            np.where(b.state < b.n_tiers, b.state, m),
            np.where(c.state < c.n_tiers, c.state, m),
        )

    @cached_property
    def _both(self) -> BoolArray:
        return ~self._b.unranked & ~self._c.unranked

    @cached_property
    def _percentile_ranks(self) -> tuple[IntArray, IntArray, IntArray, IntArray]:
        """Dense ranks of both percentiles over the firms ranked under both, and the orders of
        those firms by (base, candidate) and by candidate percentile (rank agreement input)."""
        both = self._both
        xr, yr = _dense_rank(self._b.percentile[both]), _dense_rank(self._c.percentile[both])
        ny = int(yr.max()) + 1 if yr.size else 1
        return xr, yr, np.argsort(xr * ny + yr), np.argsort(yr)

    @cached_property
    def list_ids(self) -> list[str]:
        """Label of each list position: the tier id, or ``base/candidate`` where the ids differ."""
        out: list[str] = []
        bt = [t.id for t in self.base.tiers]
        ct = [t.id for t in self.candidate.tiers]
        for k in range(self.n_lists):
            b = bt[k] if k < len(bt) else None
            c = ct[k] if k < len(ct) else None
            if b is None or c is None or b == c:
                out.append(str(b if b is not None else c))
            else:
                out.append(f"{b}/{c}")
        return out

    def _list_position(self, tier: str | int) -> int:
        if isinstance(tier, int | np.integer) and 0 <= int(tier) < self.n_lists:
            return int(tier)
        for ids in (
            self.list_ids,
            [t.id for t in self.base.tiers],
            [t.id for t in self.candidate.tiers],
        ):
            if tier in ids:
                return ids.index(str(tier))
        raise ValueError(
            MSG_UNKNOWN_LIST.format(
                tier=tier, known=", ".join(self.list_ids) or "(none)", last=self.n_lists - 1
            )
        )

    # -- per-firm table --------------------------------------------------------------------------
    @cached_property
    def _keys(self) -> pd.DataFrame:
        bf, cf = self.base_scores.frame, self.candidate_scores.frame
        cols = [c for c in _KEY_COLUMNS if c in bf.columns]
        extra = [
            c
            for c in (*self.base.ranking_group, *self.candidate.ranking_group)
            if c != "stage" and c not in cols
        ]
        keys = bf[cols].copy()
        for c in extra:
            keys[c] = bf[c] if c in bf.columns else cf[c]
        return keys

    @cached_property
    def firms(self) -> pd.DataFrame:
        """One row per firm, in input order: keys, both frameworks' stage, total, rank, percentile,
        tier (``none`` / ``vetoed`` when on no list), subsidy and their changes (candidate − base);
        ``label`` when labels were given. ``rank_change < 0`` means the firm moved up."""
        b, c = self._b, self._c
        bf, cf = self.base_scores.frame, self.candidate_scores.frame
        rank_b = pd.array(b.rank, dtype="Int64")
        rank_b[b.unranked] = pd.NA
        rank_c = pd.array(c.rank, dtype="Int64")
        rank_c[c.unranked] = pd.NA
        out = self._keys.copy()
        out["stage"] = bf["stage"].to_numpy()
        out["stage_candidate"] = cf["stage"].to_numpy()
        cols: dict[str, Any] = {
            "total_base": b.total,
            "total_candidate": c.total,
            "total_change": c.total - b.total,
            "rank_base": rank_b,
            "rank_candidate": rank_c,
            "rank_change": pd.arrays.IntegerArray(c.rank - b.rank, mask=~self._both),
            "percentile_base": b.percentile,
            "percentile_candidate": c.percentile,
            "tier_base": pd.Categorical.from_codes(
                b.state, categories=pd.Index(_state_labels(self.base))
            ),
            "tier_candidate": pd.Categorical.from_codes(
                c.state, categories=pd.Index(_state_labels(self.candidate))
            ),
            "subsidy_base": b.subsidy,
            "subsidy_candidate": c.subsidy,
            "subsidy_change": c.subsidy - b.subsidy,
        }
        for name, values in cols.items():
            out[name] = values.to_numpy() if isinstance(values, pd.Series) else values
        if self.labels is not None:
            out["label"] = self.labels.to_numpy()
        return out

    @property
    def unchanged(self) -> bool:
        """True when no firm's total, rank, tier or subsidy differs between the frameworks."""
        b, c = self._b, self._c
        return bool(
            np.array_equal(b.total, c.total)
            and np.array_equal(b.unranked, c.unranked)
            and np.array_equal(b.rank, c.rank)
            and np.array_equal(*self._pos)
            and np.array_equal(b.subsidy, c.subsidy)
        )

    # -- points decomposition ---------------------------------------------------------------------
    @cached_property
    def indicator_ids(self) -> list[str]:
        """Union of both frameworks' indicators: the base's, then the candidate's extras."""
        ids = list(self.base.indicator_ids)
        return ids + [i for i in self.candidate.indicator_ids if i not in ids]

    def _components(self, scores: ScoreResult, rows: IntArray | None) -> FloatArray:
        f = scores.frame
        fw = scores.framework

        def column(name: str) -> FloatArray:
            values = f[name].to_numpy(dtype=np.float64)
            return values if rows is None else values[rows]

        n = scores.n_firms if rows is None else rows.size
        out = np.zeros((n, len(self.indicator_ids) + 2))
        bonus_ids = set(fw.bonus_indicator_ids)
        uncapped = np.zeros(n)
        for j, ind in enumerate(self.indicator_ids):
            if ind in fw.indicator_ids:
                out[:, j] = column(f"pts__{ind}")
                if ind in bonus_ids:
                    uncapped += out[:, j]
        out[:, -2] = column("bonus") - uncapped
        out[:, -1] = -column("deduction")
        return out

    def _points_change(self, rows: IntArray | None = None) -> FloatArray:
        diff = self._components(self.candidate_scores, rows) - self._components(
            self.base_scores, rows
        )
        return np.round(diff, max(self.base.decimals, self.candidate.decimals) + 2)

    @property
    def points_change(self) -> pd.DataFrame:
        """Candidate minus base points per firm: one column per indicator (union), plus
        ``bonus_cap`` (change of the cap's effect) and ``deduction`` (negative = more deducted).
        Rows add up to ``total_change`` (up to rounding of the published scores)."""
        return pd.DataFrame(
            self._points_change(),
            index=self.base_scores.frame.index,
            columns=[*self.indicator_ids, BONUS_CAP, DEDUCTION],
        )

    # -- transitions --------------------------------------------------------------------------------
    def transitions(
        self,
        normalize: Literal["all", "index"] | None = None,
        *,
        by: str | Sequence[str] | None = None,
    ) -> pd.DataFrame:
        """Firms by base tier (rows) and candidate tier (columns), ``none`` and ``vetoed`` included.

        Parameters
        ----------
        normalize : {None, "all", "index"}
            Counts (default), shares of all firms, or shares of each base tier (row).
        by : str or sequence of str, optional
            A slice (``"group"``, ``"park"``, ``"stage"``, ``"industry"``, ``"carrier"`` or
            columns of :attr:`firms`): returns a long table, one row per slice and non-empty
            (base, candidate) cell, with ``count`` and ``share`` (of the slice's firms).

        Returns
        -------
        pandas.DataFrame
            Rows are every base tier, ``none``, ``vetoed``; columns the candidate's. Without
            ``normalize`` the counts add up to the number of firms.
        """
        if normalize not in (None, "all", "index"):
            raise ValueError(MSG_NORMALIZE.format(got=normalize))
        rows, cols = _state_labels(self.base), _state_labels(self.candidate)
        n_cols = len(cols)
        cell = self._b.state * n_cols + self._c.state
        if by is not None:
            codes, index = self._slice(by)
            n_cells = len(rows) * n_cols
            counts = np.bincount(codes * n_cells + cell, minlength=len(index) * n_cells)
            hit = np.flatnonzero(counts)
            slice_pos, c = np.divmod(hit, n_cells)
            long = index.to_frame(index=False).iloc[slice_pos].reset_index(drop=True)
            long["base"] = np.asarray(rows, dtype=object)[c // n_cols]
            long["candidate"] = np.asarray(cols, dtype=object)[c % n_cols]
            long["count"] = counts[hit]
            per_slice = np.bincount(codes, minlength=len(index))
            long["share"] = counts[hit] / per_slice[slice_pos]
            return long
        counts = np.bincount(cell, minlength=len(rows) * n_cols).reshape(len(rows), n_cols)
        values: Any = counts
        if normalize == "all":
            values = _safe_div(counts, counts.sum())
        elif normalize == "index":
            values = _safe_div(counts, counts.sum(axis=1, keepdims=True))
        return pd.DataFrame(
            values, index=pd.Index(rows, name="base"), columns=pd.Index(cols, name="candidate")
        )

    # -- entrants and leavers ------------------------------------------------------------------------
    @cached_property
    def movers(self) -> pd.DataFrame:
        """Every firm that enters or leaves a list: one row per (firm, list, ``entered``/``left``).

        Columns: the firm's keys and base stage, ``list`` (see :attr:`list_ids`), ``change``,
        ``direction`` (``up`` / ``down`` to a better / worse list or off the lists), both tiers,
        ranks and totals, ``total_change``, ``margin_base`` and ``margin_candidate`` (total minus
        that framework's cut-off of the list in the firm's group; NaN where the framework has no
        such list or the firm is vetoed) and ``drivers`` (up to three components of the points
        change that moved the firm most, e.g. ``"rd_intensity +4.5; pct_apps +2"``).
        Sorted by list, then entrants before leavers, stage and rank.
        """
        pos_b, pos_c = self._pos
        m = self.n_lists
        changed = pos_b != pos_c
        entered = np.flatnonzero(changed & (pos_c < m))
        left = np.flatnonzero(changed & (pos_b < m))
        rows = np.concatenate([entered, left]).astype(np.int64)
        lst = np.concatenate([pos_c[entered], pos_b[left]]).astype(np.int64)
        is_entry = np.r_[np.ones(entered.size, bool), np.zeros(left.size, bool)]
        b, c = self._b, self._c
        firms = self.firms
        order_rank = np.where(is_entry, c.rank[rows], b.rank[rows])
        stage_code = (
            pd.Categorical(firms["stage"]).codes[rows] if len(rows) else np.zeros(0, np.int64)
        )
        order = np.lexsort((order_rank, stage_code, ~is_entry, lst))
        rows, lst, is_entry = rows[order], lst[order], is_entry[order]
        keep = [
            *self._keys.columns,
            "stage",
            "tier_base",
            "tier_candidate",
            "rank_base",
            "rank_candidate",
            "total_base",
            "total_candidate",
            "total_change",
        ]
        out = firms[keep].iloc[rows].reset_index(drop=True)
        up = pos_c[rows] < pos_b[rows]
        out.insert(
            len(self._keys.columns) + 1,
            "list",
            np.asarray(self.list_ids, dtype=object)[lst]
            if len(rows)
            else np.zeros(0, dtype=object),
        )
        out.insert(len(self._keys.columns) + 2, "change", np.where(is_entry, "entered", "left"))
        out.insert(len(self._keys.columns) + 3, "direction", np.where(up, "up", "down"))
        out["margin_base"] = _margin(b, rows, lst)
        out["margin_candidate"] = _margin(c, rows, lst)
        out["drivers"] = self._drivers(rows, up)
        return out

    def _drivers(self, rows: IntArray, up: BoolArray) -> npt.NDArray[Any]:
        if rows.size == 0:
            return np.zeros(0, dtype=object)
        diff = self._points_change(rows)
        names = np.asarray([*self.indicator_ids, BONUS_CAP, DEDUCTION], dtype=object)
        decimals = max(self.base.decimals, self.candidate.decimals)
        helped = diff * np.where(up, 1.0, -1.0)[:, None]  # > 0: pushed the firm the way it moved
        k = min(N_DRIVERS, diff.shape[1])
        top = np.argsort(-helped, axis=1, kind="stable")[:, :k]
        vals = np.take_along_axis(diff, top, axis=1)
        ok = np.take_along_axis(helped, top, axis=1) > 0.5 * 10.0**-decimals
        text = np.full(rows.size, "", dtype=object)
        for i in range(k):  # a few columns, each vectorised over firms
            part = (
                names[top[:, i]]
                + " "
                + np.strings.mod(f"%+.{decimals}f", vals[:, i]).astype(object)
            )
            part = np.where(ok[:, i], part, "")
            sep = np.where((text != "") & (part != ""), "; ", "")
            text = text + sep + part
        return text

    def entered(self, tier: str | int | None = None) -> pd.DataFrame:
        """Firms entering list ``tier`` (an id, a :attr:`list_ids` label or a position); all lists if None."""
        mv = self.movers
        sel = mv["change"] == "entered"
        if tier is not None:
            sel &= mv["list"] == self.list_ids[self._list_position(tier)]
        return mv[sel].reset_index(drop=True)

    def left(self, tier: str | int | None = None) -> pd.DataFrame:
        """Firms leaving list ``tier`` (an id, a :attr:`list_ids` label or a position); all lists if None."""
        mv = self.movers
        sel = mv["change"] == "left"
        if tier is not None:
            sel &= mv["list"] == self.list_ids[self._list_position(tier)]
        return mv[sel].reset_index(drop=True)

    @cached_property
    def lists(self) -> pd.DataFrame:
        """Per list: its tier id in each framework, members under each, stayed, entered, left and
        churn (share of the base list that left)."""
        pos_b, pos_c = self._pos
        recs = []
        bt = [t.id for t in self.base.tiers]
        ct = [t.id for t in self.candidate.tiers]
        for k, label in enumerate(self.list_ids):
            on_b, on_c = pos_b == k, pos_c == k
            n_b = int(on_b.sum())
            recs.append(
                {
                    "list": label,
                    "tier_base": bt[k] if k < len(bt) else None,
                    "tier_candidate": ct[k] if k < len(ct) else None,
                    "firms_base": n_b,
                    "firms_candidate": int(on_c.sum()),
                    "stayed": int((on_b & on_c).sum()),
                    "entered": int((on_c & ~on_b).sum()),
                    "left": int((on_b & ~on_c).sum()),
                    "churn": float((on_b & ~on_c).sum() / n_b) if n_b else math.nan,
                }
            )
        cols = [
            "list",
            "tier_base",
            "tier_candidate",
            "firms_base",
            "firms_candidate",
            "stayed",
            "entered",
            "left",
            "churn",
        ]
        return pd.DataFrame(recs, columns=cols)

    @cached_property
    def cutoffs(self) -> pd.DataFrame:
        """Cut-off total of every list in every ranking group, per framework (long table):
        ``framework`` (``base`` / ``candidate``), the group's key columns, ``tier``, ``seats`` and
        ``cutoff`` (NaN when the list has no seat in the group)."""
        parts = []
        for which, scores, side in (
            ("base", self.base_scores, self._b),
            ("candidate", self.candidate_scores, self._c),
        ):
            fw = scores.framework
            n_groups = side.cutoff.shape[0]
            if n_groups == 0 or not fw.tiers:
                continue
            _, first = np.unique(side.group_code, return_index=True)
            cols = list(fw.ranking_group)
            keys = scores.frame.iloc[first][cols].reset_index(drop=True)
            size = np.bincount(side.group_code[~side.unranked], minlength=n_groups)
            for k, tier in enumerate(fw.tiers):
                part = keys.copy()
                part.insert(0, "framework", which)
                part["tier"] = tier.id
                part["ranked"] = size
                part["seats"] = tier_seats(fw, k, size)
                part["cutoff"] = side.cutoff[:, k]
                parts.append(part)
        if not parts:
            return pd.DataFrame(columns=["framework", "tier", "ranked", "seats", "cutoff"])
        out = pd.concat(parts, ignore_index=True)
        for col in out.columns:
            if isinstance(out[col].dtype, pd.CategoricalDtype):
                out[col] = out[col].astype("string")
        return out

    @cached_property
    def list_membership(self) -> pd.DataFrame:
        """Every list of either framework (``list__<id>`` columns: tiers and named lists), matched
        by id: ``members_base``, ``members_candidate``, ``stayed``, ``entered``, ``left``.
        Named lists are independent, so a firm can enter one and stay on another."""
        bf, cf = self.base_scores.frame, self.candidate_scores.frame
        ids = self.base_scores.list_ids
        ids += [i for i in self.candidate_scores.list_ids if i not in ids]
        none = np.zeros(self.n_firms, dtype=bool)
        recs = []
        for ident in ids:
            col = f"list__{ident}"
            on_b = bf[col].to_numpy(dtype=bool) if col in bf.columns else none
            on_c = cf[col].to_numpy(dtype=bool) if col in cf.columns else none
            recs.append(
                {
                    "list": ident,
                    "members_base": int(on_b.sum()),
                    "members_candidate": int(on_c.sum()),
                    "stayed": int((on_b & on_c).sum()),
                    "entered": int((on_c & ~on_b).sum()),
                    "left": int((on_b & ~on_c).sum()),
                }
            )
        cols = ["list", "members_base", "members_candidate", "stayed", "entered", "left"]
        return pd.DataFrame(recs, columns=cols)

    @cached_property
    def credit(self) -> pd.DataFrame | None:
        """Credit lines per base stage and ``total``: ``firms``, firms covered (credit line > 0)
        and their share under each framework, and the sum of lines (万元); ``None`` when neither
        framework grants credit lines. A framework without lines covers no firm."""
        tables = [s.credit_table() for s in (self.base_scores, self.candidate_scores)]
        if all(t is None for t in tables):
            return None
        stage = self.base_scores.frame["stage"].cat.codes.to_numpy().astype(np.int64)
        n_stages = len(self.base.stage_ids)

        def per_stage(values: FloatArray) -> FloatArray:
            sums = np.bincount(stage[stage >= 0], values[stage >= 0], minlength=n_stages)
            return np.append(sums, values.sum())

        cols: dict[str, Any] = {"firms": per_stage(np.ones(self.n_firms)).astype(np.int64)}
        for which, scores in (("base", self.base_scores), ("candidate", self.candidate_scores)):
            f = scores.frame
            line = (
                f["credit_wan"].to_numpy(dtype=np.float64)
                if "credit_wan" in f.columns
                else np.zeros(self.n_firms)
            )
            covered = per_stage((line > 0).astype(np.float64)).astype(np.int64)
            cols[f"covered_{which}"] = covered
            cols[f"share_{which}"] = _safe_div(covered, cols["firms"])
            cols[f"credit_{which}_wan"] = per_stage(line)
        index = pd.Index([*self.base.stage_ids, "total"], name="stage")
        return pd.DataFrame(cols, index=index)

    # -- subsidies ----------------------------------------------------------------------------------
    @cached_property
    def subsidy_changes(self) -> pd.DataFrame:
        """Every firm whose subsidy differs: keys, stage, ranks, tiers, both amounts (万元), the
        change and its kind (``gained`` / ``lost`` / ``changed``). Sorted by stage and change."""
        b, c = self._b, self._c
        rows = np.flatnonzero(b.subsidy != c.subsidy)
        keep = [
            *self._keys.columns,
            "stage",
            "rank_base",
            "rank_candidate",
            "tier_base",
            "tier_candidate",
            "subsidy_base",
            "subsidy_candidate",
            "subsidy_change",
        ]
        out = self.firms[keep].iloc[rows].reset_index(drop=True)
        kind = np.where(
            b.subsidy[rows] == 0, "gained", np.where(c.subsidy[rows] == 0, "lost", "changed")
        )
        out["kind"] = kind
        order = np.lexsort(
            (-np.abs(out["subsidy_change"].to_numpy()), kind, pd.Categorical(out["stage"]).codes)
        )
        return out.iloc[order].reset_index(drop=True)

    @cached_property
    def subsidies(self) -> pd.DataFrame:
        """Per base stage, and ``total``: firms subsidised under each framework, firms that gain
        or lose a subsidy, money paid under each (万元), money gained, lost and the net change."""
        b, c = self._b, self._c
        codes, index = self._slice("stage")
        g = len(index)

        def tally(codes: IntArray, g: int) -> dict[str, Any]:
            def cnt(mask: BoolArray) -> Any:
                return np.bincount(codes[mask], minlength=g)

            def add(w: FloatArray) -> Any:
                return np.bincount(codes, weights=w, minlength=g)

            delta = c.subsidy - b.subsidy
            return {
                "firms_base": cnt(b.subsidy > 0),
                "firms_candidate": cnt(c.subsidy > 0),
                "gained": cnt((b.subsidy == 0) & (c.subsidy > 0)),
                "lost": cnt((b.subsidy > 0) & (c.subsidy == 0)),
                "paid_base_wan": add(b.subsidy),
                "paid_candidate_wan": add(c.subsidy),
                "gained_wan": add(np.maximum(delta, 0.0)),
                "lost_wan": add(np.maximum(-delta, 0.0)),
                "net_wan": add(delta),
            }

        per = pd.DataFrame(
            tally(codes, g), index=pd.Index(index.get_level_values(0).astype(str), name="stage")
        )
        total = pd.DataFrame(
            tally(np.zeros(self.n_firms, np.int64), 1), index=pd.Index(["total"], name="stage")
        )
        return pd.concat([per, total])

    # -- seat shares ----------------------------------------------------------------------------------
    def seat_shares(
        self, by: str | Sequence[str] = "park", tier: str | int | None = None
    ) -> pd.DataFrame:
        """Share of list seats held by each slice under each framework.

        Parameters
        ----------
        by : str or sequence of str, default "park"
            ``"park"``, ``"industry"``, ``"stage"`` (base stage), ``"carrier"``, ``"group"`` or
            columns of :attr:`firms`.
        tier : str or int, optional
            One list (id, label or position); all lists together by default.

        Returns
        -------
        pandas.DataFrame
            Indexed by slice: ``seats_base``, ``seats_candidate``, ``share_base``,
            ``share_candidate`` and ``share_change`` (candidate − base, in share points). Each
            share column sums to 1 (NaN when the framework fills no seat).
        """
        codes, index = self._slice(by)
        pos_b, pos_c = self._pos
        m = self.n_lists
        if tier is None:
            on_b, on_c = pos_b < m, pos_c < m
        else:
            k = self._list_position(tier)
            on_b, on_c = pos_b == k, pos_c == k
        g = len(index)
        sb = np.bincount(codes[on_b], minlength=g)
        sc = np.bincount(codes[on_c], minlength=g)
        share_b = _safe_div(sb, sb.sum())
        share_c = _safe_div(sc, sc.sum())
        return pd.DataFrame(
            {
                "seats_base": sb,
                "seats_candidate": sc,
                "share_base": share_b,
                "share_candidate": share_c,
                "share_change": share_c - share_b,
            },
            index=index,
        )

    # -- slices and summaries ---------------------------------------------------------------------------
    def _slice_columns(self, by: str | Sequence[str]) -> list[str]:
        if isinstance(by, str):
            cols = [c for c in self.base.ranking_group] if by == "group" else [by]
        else:
            cols = list(by)
        for col in cols:
            if col not in self.firms.columns:
                raise ValueError(
                    MSG_UNKNOWN_SLICE.format(by=by, col=col, known=", ".join(self.slices))
                )
        return cols

    @property
    def slices(self) -> list[str]:
        """Slices this comparison can be summarised by (those whose columns the data has)."""
        cols = set(self.firms.columns)
        return [s for s in SLICES if s == "group" or s in cols]

    @cached_property
    def _slice_cache(self) -> dict[tuple[str, ...], tuple[IntArray, pd.Index]]:
        return {}

    def _slice(self, by: str | Sequence[str]) -> tuple[IntArray, pd.Index]:
        cols = self._slice_columns(by)
        key = tuple(cols)
        if key not in self._slice_cache:
            self._slice_cache[key] = self._make_slice(cols)
        return self._slice_cache[key]

    def _make_slice(self, cols: list[str]) -> tuple[IntArray, pd.Index]:
        frame = self.firms[cols]
        if len(cols) == 1:
            codes, uniques = pd.factorize(frame[cols[0]], sort=True, use_na_sentinel=False)
            return codes.astype(np.int64), pd.Index(uniques, name=cols[0])
        grouped = frame.groupby(cols, sort=True, dropna=False, observed=True)
        codes = grouped.ngroup().to_numpy().astype(np.int64)
        return codes, grouped.size().index

    def by_group(self, by: str | Sequence[str] = "group") -> pd.DataFrame:
        """All summary measures per slice.

        Parameters
        ----------
        by : str or sequence of str, default "group"
            ``"group"`` (the base framework's ranking group, e.g. park × stage × year),
            ``"park"``, ``"stage"`` (base stage), ``"industry"``, ``"carrier"``, or columns of
            :attr:`firms`.

        Returns
        -------
        pandas.DataFrame
            One row per slice with the columns of :attr:`overall`.
        """
        codes, index = self._slice(by)
        return self._measures(codes, index)

    @cached_property
    def overall(self) -> pd.Series:
        """Summary measures over all firms.

        ``firms``; ``ranked_both`` (ranked under both); ``spearman`` and ``kendall`` (of the
        within-group percentile, firms ranked under both); ``mean_abs_rank_move``,
        ``max_abs_rank_move``, ``share_rank_moved``; ``listed_base``, ``listed_candidate``,
        ``entered`` and ``left`` (firms entering / leaving some list), ``newly_listed`` and
        ``delisted`` (from / to no list), ``moved_up`` and ``moved_down`` (to a better / worse
        list or off the lists); ``seat_share_base`` / ``seat_share_candidate`` (share of all list
        seats); ``subsidised_base`` / ``subsidised_candidate``, ``subsidy_gained`` /
        ``subsidy_lost`` (firms), ``subsidy_base_wan``, ``subsidy_candidate_wan``,
        ``subsidy_net_wan``.
        """
        frame = self._measures(np.zeros(self.n_firms, np.int64), pd.Index(["all"], name="slice"))
        return frame.iloc[0].rename("overall")

    def _measures(self, codes: IntArray, index: pd.Index) -> pd.DataFrame:
        g = len(index)
        b, c = self._b, self._c
        both = self._both
        pos_b, pos_c = self._pos
        m = self.n_lists

        def cnt(mask: BoolArray) -> Any:
            return np.bincount(codes[mask], minlength=g)

        def add(w: FloatArray) -> Any:
            return np.bincount(codes, weights=w, minlength=g)

        n_both = cnt(both)
        spear = np.full(g, np.nan)
        kend = np.full(g, np.nan)
        max_move = np.full(g, np.nan)
        mean_move = np.full(g, np.nan)
        if both.any():
            cb = codes[both]
            xr, yr, sorted_xy, sorted_y = self._percentile_ranks
            spear, kend = _rank_agreement(xr, yr, cb, g, sorted_xy, sorted_y)
            move = np.abs(c.rank[both] - b.rank[both]).astype(np.float64)
            mean_move = _safe_div(np.bincount(cb, weights=move, minlength=g), n_both)
            mx = np.full(g, -1.0)
            np.maximum.at(mx, cb, move)
            max_move = np.where(n_both > 0, mx, np.nan)
        on_b, on_c = pos_b < m, pos_c < m
        listed_b, listed_c = cnt(on_b), cnt(on_c)
        changed = pos_b != pos_c
        out = {
            "firms": np.bincount(codes, minlength=g),
            "ranked_both": n_both,
            "spearman": spear,
            "kendall": kend,
            "mean_abs_rank_move": mean_move,
            "max_abs_rank_move": max_move,
            "share_rank_moved": _safe_div(cnt(both & (b.rank != c.rank)), n_both),
            "listed_base": listed_b,
            "listed_candidate": listed_c,
            "entered": cnt(changed & on_c),
            "left": cnt(changed & on_b),
            "newly_listed": cnt(~on_b & on_c),
            "delisted": cnt(on_b & ~on_c),
            "moved_up": cnt(pos_c < pos_b),
            "moved_down": cnt(pos_c > pos_b),
            "seat_share_base": _safe_div(listed_b, on_b.sum()),
            "seat_share_candidate": _safe_div(listed_c, on_c.sum()),
            "subsidised_base": cnt(b.subsidy > 0),
            "subsidised_candidate": cnt(c.subsidy > 0),
            "subsidy_gained": cnt((b.subsidy == 0) & (c.subsidy > 0)),
            "subsidy_lost": cnt((b.subsidy > 0) & (c.subsidy == 0)),
            "subsidy_base_wan": add(b.subsidy),
            "subsidy_candidate_wan": add(c.subsidy),
            "subsidy_net_wan": add(c.subsidy - b.subsidy),
        }
        return pd.DataFrame(out, index=index)

    # -- outcomes ---------------------------------------------------------------------------------------
    @cached_property
    def outcome_metrics(self) -> pd.DataFrame | None:
        """Outcome metrics of both frameworks on the same firms, or None without labels.

        Evaluated on the firms with a label (not censored or excluded) that both frameworks rank.
        Rows are the keys of :func:`calibrate.metrics.ranking_metrics` (the one vocabulary every
        output uses: ``n``, ``events``, ``base_rate``, ``auc_within_group``, ``auc_pooled``,
        ``prec_topK``, ``lift_topK``), computed for the good outcome (the event, or its absence
        for a bad event) on the years :attr:`outcome_scope` names; columns ``base``,
        ``candidate``, ``change``.
        """
        if self.labels is None:
            return None
        use = self._outcome_mask()
        lab = self.labels.to_numpy(dtype=np.float64, na_value=np.nan)[use]
        y = (lab if self.direction == "higher" else 1.0 - lab).astype(np.int8)
        if not use.any():  # no labelled firm ranked by both: every metric is undefined
            keys = metrics.ranking_metrics([0, 1], [0.0, 1.0], None, self.top)
            empty = {k: (0.0 if k in ("n", "events") else math.nan) for k in keys}
            sides = [empty, empty]
        else:
            sides = [
                metrics.ranking_metrics(y, s.total[use], s.group_code[use], self.top)
                for s in (self._b, self._c)
            ]
        rows = {key: [side[key] for side in sides] for key in sides[0]}
        out = pd.DataFrame.from_dict(rows, orient="index", columns=["base", "candidate"])
        out["change"] = out["candidate"] - out["base"]
        out.index.name = "metric"
        return out

    # -- export ---------------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary: frameworks, overall measures, transitions, lists, subsidies per
        stage and outcome metrics (detailed firm tables are in :meth:`write`)."""
        trans = self.transitions()
        outcomes = self.outcome_metrics
        return _jsonable(
            {
                "base": {
                    "id": self.base.id,
                    "version": self.base.version,
                    "fingerprint": self.fingerprints[0],
                },
                "candidate": {
                    "id": self.candidate.id,
                    "version": self.candidate.version,
                    "fingerprint": self.fingerprints[1],
                },
                "n_firms": self.n_firms,
                "unchanged": self.unchanged,
                "overall": self.overall.to_dict(),
                "transitions": {r: trans.loc[r].to_dict() for r in trans.index},
                "lists": self.lists.to_dict(orient="records"),
                "subsidies": self.subsidies.reset_index().to_dict(orient="records"),
                "list_membership": self.list_membership.to_dict(orient="records"),
                "credit": None
                if self.credit is None
                else self.credit.reset_index().to_dict(orient="records"),
                "target": self.target,
                "horizon": self.horizon if self.target else None,
                "outcomes": None if outcomes is None else outcomes.to_dict(orient="index"),
            }
        )

    def tables(self) -> dict[str, pd.DataFrame]:
        """Every table :meth:`write` writes, by file stem (index turned into columns)."""
        out: dict[str, pd.DataFrame] = {
            "firms": self.firms.reset_index(drop=True),
            "transitions": self.transitions().reset_index(),
            "transitions_by_stage": self.transitions(by="stage"),
            "lists": self.lists,
            "movers": self.movers,
            "cutoffs": self.cutoffs,
            "subsidies": self.subsidies.reset_index(),
            "subsidy_changes": self.subsidy_changes,
            "list_membership": self.list_membership,
        }
        if self.credit is not None:
            out["credit"] = self.credit.reset_index()
        shares = []
        for dim in ("park", "industry", "stage", "carrier"):
            if dim in self.firms.columns:
                part = self.seat_shares(dim).reset_index()
                part = part.rename(columns={dim: "value"})
                part.insert(0, "dimension", dim)
                part["value"] = part["value"].astype("string")
                shares.append(part)
        out["seat_shares"] = pd.concat(shares, ignore_index=True)
        for s in self.slices:
            out[f"by_{s}"] = self.by_group(s).reset_index()
        if self.outcome_metrics is not None:
            out["outcome_metrics"] = self.outcome_metrics.reset_index()
        return out

    def summary(self) -> str:
        """A short markdown summary (what ``summary.md`` holds)."""
        return _summary(self)

    def write(self, out_dir: str | Path, fmt: Literal["csv", "parquet"] = "csv") -> dict[str, Path]:
        """Write the tables, ``comparison.json`` and ``summary.md`` to ``out_dir``.

        Parameters
        ----------
        out_dir : str or Path
            Created if needed; existing files of the same names are replaced.
        fmt : {"csv", "parquet"}
            Table format (CSV is UTF-8 with BOM, for Excel).

        Returns
        -------
        dict of str to Path
            The written files by name (``firms``, ``transitions``, ``movers``, … ``summary``).
        """
        if fmt not in ("csv", "parquet"):
            raise ValueError(MSG_FORMAT.format(fmt=fmt))
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written: dict[str, Path] = {}
        for name, table in self.tables().items():
            path = out / f"{name}.{fmt}"
            if fmt == "csv":
                table.to_csv(path, index=False, encoding="utf-8-sig")  # BOM: Excel shows 中文
            else:
                _for_parquet(table).to_parquet(path, index=False)
            written[name] = path
        path = out / "comparison.json"
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=2), encoding="utf-8")
        written["json"] = path
        path = out / "summary.md"
        path.write_text(self.summary(), encoding="utf-8")
        written["summary"] = path
        return written


# --- helpers -----------------------------------------------------------------------------------


def _margin(side: _Side, rows: IntArray, lst: IntArray) -> FloatArray:
    out = np.full(rows.size, np.nan)
    ok = (lst < side.n_tiers) & ~side.unranked[rows]
    if ok.any():
        r, k = rows[ok], lst[ok]
        out[ok] = side.total[r] - side.cutoff[side.group_code[r], k]
    return np.round(out, 10)


def _jsonable(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    if obj is pd.NA or obj is pd.NaT:
        return None
    return obj


def _for_parquet(table: pd.DataFrame) -> pd.DataFrame:
    out = table.copy()
    for col in out.columns:
        if out[col].dtype == object:
            out[col] = out[col].astype("string")
    return out


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float | np.floating):
        if float(value).is_integer() and abs(float(value)) < 1e15:
            return f"{int(value):,}"
        return f"{value:,.{digits}f}"
    if isinstance(value, int | np.integer):
        return f"{int(value):,}"
    return str(value)


def _md_table(frame: pd.DataFrame, *, index: bool = True, digits: int = 3) -> str:
    data = frame.reset_index() if index else frame
    head = "| " + " | ".join(str(c) for c in data.columns) + " |"
    rule = "|" + "|".join("---" for _ in data.columns) + "|"
    body = [
        "| " + " | ".join(_fmt(v, digits) for v in row) + " |"
        for row in data.itertuples(index=False)
    ]
    return "\n".join([head, rule, *body])


def _top_shifts(c: Comparison, dim: str, n: int = 5) -> pd.DataFrame:
    shares = c.seat_shares(dim)
    order = np.argsort(-shares["share_change"].abs().to_numpy(), kind="stable")[:n]  # NaN last
    return shares.iloc[order]


def _summary(c: Comparison) -> str:
    o = c.overall
    lines = [
        f"# Comparison: {c.base.id} → {c.candidate.id}",
        "",
        f"Base **{c.base.id}** (version {c.base.version}, fingerprint `{c.fingerprints[0]}`) and candidate "
        f"**{c.candidate.id}** (version {c.candidate.version}, fingerprint `{c.fingerprints[1]}`), "
        f"scored on the same {c.n_firms:,} firms.",
        "",
    ]
    if c.unchanged:
        lines += ["**No change**: every firm keeps its total, rank, tier and subsidy.", ""]
    lines += [
        "## Rank agreement",
        "",
        f"- Firms ranked under both: {_fmt(o['ranked_both'])}",
        f"- Spearman {_fmt(o['spearman'])}, Kendall {_fmt(o['kendall'])} (within-group percentile)",
        f"- Mean rank move {_fmt(o['mean_abs_rank_move'], 2)} places, largest {_fmt(o['max_abs_rank_move'])}; "
        f"{_fmt(100 * o['share_rank_moved'], 1)} % of firms changed rank",
        "",
        "## Lists",
        "",
    ]
    if c.n_lists:
        lines += [_md_table(c.lists, index=False), ""]
        lines += [
            f"{_fmt(o['newly_listed'])} firms join the lists from no list, {_fmt(o['delisted'])} drop off; "
            f"{_fmt(o['moved_up'])} move up, {_fmt(o['moved_down'])} move down. "
            "Lists are matched by position (see `lists`); entrants and leavers with their drivers "
            "and margins are in `movers`.",
            "",
        ]
    else:
        lines += ["Neither framework publishes lists.", ""]
    lines += [
        "## Tier transitions (rows: base, columns: candidate)",
        "",
        _md_table(c.transitions()),
        "",
    ]
    lines += ["## Subsidies (万元, by base stage)", ""]
    subs = c.subsidies
    if (subs[["paid_base_wan", "paid_candidate_wan"]].to_numpy() > 0).any():
        lines += [_md_table(subs), ""]
    else:
        lines += ["No subsidies under either framework.", ""]
    if len(c.list_membership) > c.n_lists:  # named lists besides the tiers
        lines += ["## Every list (tiers and named lists, by id)", ""]
        lines += [_md_table(c.list_membership, index=False), ""]
    if c.credit is not None:
        lines += ["## Credit lines (万元; share = firms with a line / firms, by base stage)", ""]
        lines += [_md_table(c.credit), ""]
    lines += ["## Seat shares (largest shifts)", ""]
    for dim in ("park", "stage", "industry", "carrier"):
        if dim in c.firms.columns and c.n_lists:
            lines += [f"By {dim}:", "", _md_table(_top_shifts(c, dim)), ""]
    outcomes = c.outcome_metrics
    if outcomes is not None:
        what = f"{c.target} within {c.horizon} year(s)" if c.target else "given labels"
        lines += [f"## Outcomes ({what})", "", _md_table(outcomes), ""]
    lines += [
        "## Notes",
        "",
        "- Slices (ranking group, stage, park, industry, carrier) use the base framework's stage and "
        "groups; ranks are compared firm by firm, each framework ranking within its own groups.",
        "- `none` = ranked but on no list; `vetoed` and `ineligible` (outside the evaluated "
        "categories) = not ranked. Firms not ranked under either framework are left out of rank "
        "agreement.",
        "",
    ]
    return "\n".join(lines)
