"""Pure, vectorised metric functions.

Layer 0 of the package: imports only numpy and pandas (scipy lazily, in :func:`kendall_tau`).
Used by model fitting (:func:`roc_auc`, :func:`pr_auc`, :func:`brier`, :func:`log_loss`), by the
constrained re-weighting search loop (:func:`batch_evaluate`, :func:`batch_evaluate_weights`, which score
thousands of candidate weightings at once) and by framework comparison (:func:`top_k_mask`,
:func:`spearman`, :func:`kendall_tau`, :func:`rank_moves`, :func:`churn`).

Conventions
-----------
* ``y`` is a binary outcome coded 0/1 (or ``False``/``True``); 1 is the event.
* A higher score is better: rank 1 is the highest score.
* A *ranking group* is any 1-D array of group labels (usually integer codes for
  park x stage x year); ``group=None`` means one group of all firms.
* Scores must be finite; NaN and infinity are rejected with a message, never ranked silently.
* Tie rules are exact. AUC counts a tied positive/negative pair as 1/2 (Mann-Whitney). The
  top-k list rule is the product's documented one: a firm is on the top ``fraction`` of its
  group iff its competition rank (ties share the best rank, ``method='min'`` on descending
  score) is at most ``floor(fraction * n_group + 1e-9)`` -- so a tie at the cut-off keeps every
  tied firm on the list.
* The batch functions return exactly (bit for bit) what the single-column functions return
  for each column.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = [
    "AUC_POOLED",
    "AUC_WITHIN_GROUP",
    "DEFAULT_BLOCK_ELEMENTS",
    "METRIC_NAMES",
    "MetricName",
    "TOP_K_EPS",
    "Churn",
    "RankMoves",
    "SingleClassError",
    "batch_auc",
    "batch_evaluate",
    "batch_evaluate_weights",
    "batch_precision_at_top",
    "brier",
    "by_group",
    "churn",
    "grouped_auc",
    "kendall_tau",
    "lift_at_top",
    "log_loss",
    "pr_auc",
    "precision_at_top",
    "rank_moves",
    "ranking_metrics",
    "roc_auc",
    "spearman",
    "top_k_mask",
]

ArrayLike = npt.ArrayLike
FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]
BoolArray = npt.NDArray[np.bool_]

#: Added before flooring ``fraction * n_group`` so that e.g. 0.1 * 30 = 3.0000000000000004
#: and 0.3 * 10 = 2.9999999999999996 both give the intended whole number of list places.
TOP_K_EPS = 1e-9

#: Elements (firms x weightings) scored per block in the batch functions: 2**21 float64
#: values = 16 MiB per block (a little more with group padding). Peak extra memory is about
#: 2 blocks per worker thread (the block, sorted in place, and its negatives' sorted copy);
#: measured with tracemalloc at 100,000 firms: 35 MiB for one worker, 67 MiB for two.
DEFAULT_BLOCK_ELEMENTS = 2**21

# --- the vocabulary: every output names its metrics with these keys -------------------------


@dataclass(frozen=True)
class MetricName:
    """What a metric key means, in both languages (reports, CLI tables and MLflow use the key)."""

    key: str
    zh: str
    en: str
    meaning: str


#: AUC over pairs of firms in the same ranking group (how a list compares firms).
AUC_WITHIN_GROUP = "auc_within_group"
#: AUC over all pairs of firms, whatever their group (fair for probabilities, not for points).
AUC_POOLED = "auc_pooled"


def _names() -> dict[str, MetricName]:
    rows = [
        MetricName(
            AUC_WITHIN_GROUP,
            "组内AUC",
            "within-group AUC",
            "share of (event, non-event) pairs in the same ranking group ordered correctly",
        ),
        MetricName(
            AUC_POOLED,
            "全体AUC",
            "pooled AUC",
            "share of all (event, non-event) pairs ordered correctly, across groups",
        ),
        MetricName("pr_auc", "PR曲线下面积", "PR AUC", "average precision"),
        MetricName("brier", "Brier分数", "Brier score", "mean squared error of probabilities"),
        MetricName("n", "样本数", "rows", "firm-years measured"),
        MetricName("events", "事件数", "events", "firm-years with the outcome"),
        MetricName("base_rate", "基准率", "base rate", "share of firm-years with the outcome"),
    ]
    for k in (5, 10, 20):
        rows.append(
            MetricName(
                f"prec_top{k}",
                f"前{k}%命中率",
                f"top-{k} % precision",
                f"outcome rate on a list of the top {k} % of each ranking group",
            )
        )
        rows.append(
            MetricName(
                f"lift_top{k}",
                f"前{k}%提升度",
                f"top-{k} % lift",
                f"top-{k} % precision divided by the base rate",
            )
        )
    return {r.key: r for r in rows}


#: Every metric key an output may carry, with its names; look names up here, never re-spell them.
METRIC_NAMES: dict[str, MetricName] = _names()


# --- messages (module constants so tests compare them exactly) ---------------------------

_MSG_EMPTY = "{name} is empty; pass at least one firm."
_MSG_NOT_1D = "{name} must be one-dimensional (one value per firm); got shape {shape}."
_MSG_NOT_2D = "{name} must be two-dimensional {expected}; got shape {shape}."
_MSG_LENGTH = (
    "{name_a} has {n_a} rows but {name_b} has {n_b}; pass one value per firm in the same order."
)
_MSG_NOT_BINARY = (
    "y must hold only 0/1 (or False/True); found {found}. "
    "Encode the outcome as 1 = event happened, 0 = it did not."
)
_MSG_SINGLE_CLASS = (
    "y has a single class ({value} in all {n} rows); {metric} needs at least one positive (1) "
    "and one negative (0). Evaluate on a sample with both classes, or use by_group(), which "
    "returns NaN for single-class groups."
)
_MSG_ZERO_WEIGHT_CLASS = (
    "all {cls} in y have sample_weight 0; {metric} needs positive weight on both classes."
)
_MSG_NO_POSITIVE = (
    "y has no positive (1) rows; average precision is undefined without positives. "
    "Evaluate on a sample with at least one event."
)
_MSG_NONFINITE = (
    "{name} has {count} NaN or infinite value(s), the first at {where}; "
    "give every firm a finite value, or drop those rows first."
)
_MSG_NONFINITE_COLUMN = (
    "{name} column {col} has {count} NaN or infinite value(s), the first at row {row}; "
    "give every firm a finite score (check for missing indicator values)."
)
_MSG_PROB_RANGE = (
    "{name} must be probabilities in [0, 1]; found values from {lo!r} to {hi!r}. "
    "Pass predicted probabilities, not scores or logits."
)
_MSG_FRACTION = "fraction must be a number in [0, 1] (0.1 = top 10 %); got {value!r}."
_MSG_WEIGHT = (
    "sample_weight must be finite and non-negative with a positive total; found {problem}."
)
_MSG_GROUP_MISSING = (
    "group has {count} missing value(s), the first at row {first}; every firm needs a ranking "
    "group (use one code for 'no group')."
)
_MSG_SHAPES = (
    "F has {k_f} indicator columns but W has {k_w} rows; W must be (n_indicators, "
    "n_weightings) with rows in the order of F's columns."
)
_MSG_UNKNOWN_METRIC = "unknown metric {name!r}; use one of {known} or pass a callable."
_MSG_MASK = "{name} must be boolean (or 0/1); found {found}."


class SingleClassError(ValueError):
    """``y`` holds only one class, so a metric that needs both classes is undefined.

    A subclass of :class:`ValueError`; :func:`by_group` turns it into NaN for that group.
    """


# --- validation helpers -------------------------------------------------------------------


def _as_1d(x: ArrayLike, name: str) -> np.ndarray:
    arr = np.asarray(x)
    if arr.ndim != 1:
        raise ValueError(_MSG_NOT_1D.format(name=name, shape=arr.shape))
    if arr.shape[0] == 0:
        raise ValueError(_MSG_EMPTY.format(name=name))
    return arr


def _check_same_length(a: np.ndarray, name_a: str, b: np.ndarray, name_b: str) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            _MSG_LENGTH.format(name_a=name_a, n_a=a.shape[0], name_b=name_b, n_b=b.shape[0])
        )


def _show(values: Any, limit: int = 5) -> str:
    """Render the first few offending values as plain Python reprs ('nan', not 'np.float64(nan)')."""
    items = [v.item() if isinstance(v, np.generic) else v for v in list(values)]
    shown = ", ".join(repr(v) for v in items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def _as_binary(y: ArrayLike) -> npt.NDArray[np.int8]:
    """Validate a 0/1 outcome and return it as int8."""
    arr = _as_1d(y, "y")
    if arr.dtype == np.bool_:
        return arr.astype(np.int8)
    if arr.dtype.kind in "iuf":
        bad = ~((arr == 0) | (arr == 1))
        if not bad.any():
            return arr.astype(np.int8)
        found_vals = pd.unique(pd.Series(arr[bad]))
    else:
        ser = pd.Series(arr, dtype=object)
        ok = ser.isin([0, 1, True, False]) & ser.notna()
        if ok.all():
            return np.asarray(ser.to_numpy(dtype=np.int8))
        found_vals = pd.unique(ser[~ok])
    raise ValueError(_MSG_NOT_BINARY.format(found=_show(found_vals)))


def _as_finite(x: ArrayLike, name: str) -> FloatArray:
    """Validate a 1-D finite numeric array and return it as float64."""
    arr = _as_1d(x, name).astype(np.float64)
    bad = ~np.isfinite(arr)
    if bad.any():
        first = int(np.flatnonzero(bad)[0])
        raise ValueError(
            _MSG_NONFINITE.format(name=name, count=int(bad.sum()), where=f"row {first}")
        )
    return arr


def _as_prob(x: ArrayLike, name: str) -> FloatArray:
    arr = _as_finite(x, name)
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        raise ValueError(_MSG_PROB_RANGE.format(name=name, lo=lo, hi=hi))
    return arr


def _as_weight(w: ArrayLike | None, n: int) -> FloatArray | None:
    if w is None:
        return None
    arr = _as_1d(w, "sample_weight").astype(np.float64)
    if arr.shape[0] != n:
        raise ValueError(
            _MSG_LENGTH.format(name_a="y", n_a=n, name_b="sample_weight", n_b=arr.shape[0])
        )
    if not np.isfinite(arr).all():
        raise ValueError(_MSG_WEIGHT.format(problem="NaN or infinite weights"))
    if (arr < 0).any():
        raise ValueError(_MSG_WEIGHT.format(problem=f"{int((arr < 0).sum())} negative weight(s)"))
    if not arr.sum() > 0:
        raise ValueError(_MSG_WEIGHT.format(problem="weights summing to 0"))
    return arr


def _check_fraction(fraction: float) -> float:
    try:
        f = float(fraction)
    except (TypeError, ValueError):
        raise ValueError(_MSG_FRACTION.format(value=fraction)) from None
    if not 0.0 <= f <= 1.0:  # also rejects NaN
        raise ValueError(_MSG_FRACTION.format(value=fraction))
    return f


def _group_codes(group: ArrayLike | None, n: int) -> tuple[np.ndarray, IntArray]:
    """Return (sorted unique labels, dense code per row) for a group array (None = one group)."""
    if group is None:
        return np.zeros(1, dtype=np.intp), np.zeros(n, dtype=np.intp)
    arr = _as_1d(group, "group")
    if arr.shape[0] != n:
        raise ValueError(_MSG_LENGTH.format(name_a="y", n_a=n, name_b="group", n_b=arr.shape[0]))
    missing = pd.isna(arr)
    if missing.any():
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(_MSG_GROUP_MISSING.format(count=int(missing.sum()), first=first))
    labels, codes = np.unique(arr, return_inverse=True)
    return labels, codes.astype(np.intp, copy=False)


def _class_check(y: npt.NDArray[np.int8], metric: str) -> tuple[int, int]:
    n_pos = int(np.count_nonzero(y))
    n_neg = y.shape[0] - n_pos
    if n_pos == 0 or n_neg == 0:
        raise SingleClassError(
            _MSG_SINGLE_CLASS.format(value=int(y[0]), n=y.shape[0], metric=metric)
        )
    return n_pos, n_neg


def _safe_ratio(num: float | np.ndarray, den: float | np.ndarray) -> Any:
    """num / den with NaN where den == 0, and no RuntimeWarning."""
    num_a = np.asarray(num, dtype=np.float64)
    den_a = np.asarray(den, dtype=np.float64)
    out = np.full(np.broadcast(num_a, den_a).shape, np.nan)
    np.divide(num_a, den_a, out=out, where=den_a != 0)
    return out if out.ndim else float(out)


# --- AUC core shared by the single and the batch path -------------------------------------


def _twice_u(pos_sorted: FloatArray, neg_sorted: FloatArray) -> int:
    """Twice the Mann-Whitney U of positives over negatives, as an exact integer.

    For each positive p, ``left`` counts negatives < p and ``right`` negatives <= p, so
    ``left + right`` = 2 * (#neg below p) + (#neg tied with p). Tied positives are searched
    once (weighted by their multiplicity) and ``right`` is searched only where some negative
    equals p.
    """
    n_neg = neg_sorted.shape[0]
    new = np.empty(pos_sorted.shape[0], dtype=bool)
    new[0] = True
    np.not_equal(pos_sorted[1:], pos_sorted[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    values = pos_sorted[starts]
    mult = np.diff(starts, append=pos_sorted.shape[0])
    left = np.searchsorted(neg_sorted, values, side="left")
    right = left.copy()
    tied = neg_sorted[np.minimum(left, n_neg - 1)] == values
    tied &= left < n_neg
    if tied.any():
        right[tied] = np.searchsorted(neg_sorted, values[tied], side="right")
    return int(np.dot(mult, left + right))


def _auc_from_twice_u(twice_u: int | np.ndarray, n_pos: int, n_neg: int) -> Any:
    return np.asarray(twice_u, dtype=np.float64) / float(2 * n_pos * n_neg)


# --- single-column classification metrics -------------------------------------------------


def roc_auc(y: ArrayLike, score: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float:
    """Area under the ROC curve, with ties counted as 1/2 (Mann-Whitney).

    Equals :func:`sklearn.metrics.roc_auc_score` (up to floating-point rounding when weights
    are given; exact integer arithmetic otherwise).

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcome, 0/1 or bool; 1 is the event.
    score : array-like of shape (n,)
        Finite scores, higher = more likely an event.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float
        P(score of a random positive > score of a random negative) + 1/2 P(tie).

    Raises
    ------
    SingleClassError
        (a ValueError) if ``y`` holds only one class.
    ValueError
        If inputs are not binary / finite / of equal length.

    Examples
    --------
    >>> roc_auc([0, 0, 1, 1], [1, 2, 2, 3])
    0.875
    """
    yy = _as_binary(y)
    s = _as_finite(score, "score")
    _check_same_length(yy, "y", s, "score")
    w = _as_weight(sample_weight, yy.shape[0])
    n_pos, n_neg = _class_check(yy, "AUC")
    pos = yy == 1
    if w is None:
        twice_u = _twice_u(np.sort(s[pos]), np.sort(s[~pos]))
        return float(_auc_from_twice_u(twice_u, n_pos, n_neg))
    w_pos = np.where(pos, w, 0.0)
    w_neg = np.where(pos, 0.0, w)
    total_pos, total_neg = float(w_pos.sum()), float(w_neg.sum())
    if total_pos == 0.0 or total_neg == 0.0:
        cls = "positives (1)" if total_pos == 0.0 else "negatives (0)"
        raise SingleClassError(_MSG_ZERO_WEIGHT_CLASS.format(cls=cls, metric="AUC"))
    # Tie blocks: weighted positives of each distinct score times the weighted negatives
    # strictly below it, plus half of those tied with it.
    _, inv = np.unique(s, return_inverse=True)
    block_pos = np.bincount(inv, weights=w_pos)
    block_neg = np.bincount(inv, weights=w_neg)
    neg_below = np.cumsum(block_neg) - block_neg
    u = float(np.sum(block_pos * (neg_below + 0.5 * block_neg)))
    return u / (total_pos * total_neg)


def grouped_auc(y: ArrayLike, score: ArrayLike, group: ArrayLike | None) -> float:
    """AUC over pairs of firms in the **same** ranking group, pooled over groups.

    ``Σ_g U_g / Σ_g n⁺_g n⁻_g`` where ``U_g`` is the Mann–Whitney statistic of group ``g`` (ties
    count ½). This is how well a score orders firms *where a list actually compares them*: it
    ignores whether totals are comparable across groups (they are not, for points policies), and
    unlike an AUC of within-group percentiles it is not distorted by ties.

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcome, 0/1 or bool.
    score : array-like of shape (n,)
        Finite scores, higher = better.
    group : array-like of shape (n,) or None
        Ranking-group label of each firm; None = one group (then this is :func:`roc_auc`).

    Returns
    -------
    float
        NaN when no group holds both an event and a non-event.

    Examples
    --------
    >>> grouped_auc([1, 0, 1, 0], [0.9, 0.1, 0.2, 0.8], ["a", "a", "b", "b"])
    0.5
    """
    yy = _as_binary(y)
    s = _as_finite(score, "score")
    _check_same_length(yy, "y", s, "score")
    _, codes = _group_codes(group, len(yy))
    return _grouped_auc(yy, np.asarray(codes), _runs(s, np.asarray(codes)))


def _grouped_auc(
    yy: npt.NDArray[np.int8], codes: IntArray, runs: tuple[IntArray, IntArray, IntArray, IntArray]
) -> float:
    """:func:`grouped_auc` from the group-major descending order of :func:`_runs`."""
    # average ascending ranks within each group (ties share the mean rank), one sort: with
    # positions in descending order, the ascending rank of position p in a group of size m is
    # m - (p - start); a tie's mean rank is that of the middle of its run
    _, group_start, run_start, run_end = runs
    size_of = np.bincount(codes)[codes].astype(np.float64)
    middle = (run_start + run_end) / 2.0 - group_start
    ranks = size_of - middle
    n_groups = int(codes.max()) + 1 if len(codes) else 0
    pos = np.bincount(codes, weights=yy.astype(np.float64), minlength=n_groups)
    size = np.bincount(codes, minlength=n_groups).astype(np.float64)
    neg = size - pos
    rank_sum = np.bincount(codes, weights=ranks * yy, minlength=n_groups)
    u = rank_sum - pos * (pos + 1) / 2
    pairs = pos * neg
    total = float(pairs.sum())
    if total == 0:
        return float("nan")
    return float(u.sum() / total)


def ranking_metrics(
    y: ArrayLike,
    score: ArrayLike,
    group: ArrayLike | None,
    fractions: Sequence[float] = (0.05, 0.1, 0.2),
) -> dict[str, float]:
    """Outcome metrics of any score — points total, model probability, oracle — on the same footing.

    ``auc_within_group`` (:func:`grouped_auc`): how well the score orders the firms a
    list actually compares, since points totals are not comparable across ranking groups;
    ``auc_pooled`` is the AUC over all firms (fair for probabilities); ``prec_topK`` /
    ``lift_topK`` are event rates on lists of exactly ``floor(K % × n)`` seats per group with
    a tie at the cut-off sharing the remaining seats (``ties="fractional"``), so a score that is
    exactly 0 for most firms is not credited with a list holding most of the group.

    Returns
    -------
    dict
        ``n``, ``events``, ``base_rate``, ``auc_within_group``, ``auc_pooled``, ``prec_topK``,
        ``lift_topK``
        (NaN where undefined: one class, no seats).
    """
    yy = _as_binary(y)
    s = _as_finite(score, "score")
    _check_same_length(yy, "y", s, "score")
    n, events = len(yy), int(np.count_nonzero(yy))
    out: dict[str, float] = {
        "n": float(n),
        "events": float(events),
        "base_rate": events / n if n else math.nan,
    }
    both = 0 < events < n
    _, codes = _group_codes(group, n)
    runs = _runs(s, codes)  # one sort serves the AUC and every list size
    out[AUC_WITHIN_GROUP] = _grouped_auc(yy, codes, runs) if both else math.nan
    out[AUC_POOLED] = roc_auc(yy, s) if both else math.nan
    for f in fractions:
        key = f"{round(f * 100)}"
        weight = _fractional_from_runs(codes, runs, f) if n else np.zeros(0)
        seats = float(weight.sum())
        prec = float(weight @ yy) / seats if seats > 0 else math.nan
        out[f"prec_top{key}"] = prec
        out[f"lift_top{key}"] = prec / (events / n) if events else math.nan
    return out


def pr_auc(y: ArrayLike, score: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float:
    """Average precision (area under the precision-recall step curve).

    Equals :func:`sklearn.metrics.average_precision_score`:
    ``sum_n (R_n - R_{n-1}) * P_n`` over the distinct score thresholds, highest first.

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcome, 0/1 or bool.
    score : array-like of shape (n,)
        Finite scores, higher = more likely an event.
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float

    Raises
    ------
    SingleClassError
        If ``y`` has no positive row (average precision is then undefined).

    Examples
    --------
    >>> pr_auc([0, 1, 0, 1], [0.1, 0.9, 0.8, 0.3])  # 0.5 * 1 (at 0.9) + 0.5 * 2/3 (at 0.3)
    0.8333333333333333
    """
    yy = _as_binary(y)
    s = _as_finite(score, "score")
    _check_same_length(yy, "y", s, "score")
    w = _as_weight(sample_weight, yy.shape[0])
    if not yy.any():
        raise SingleClassError(_MSG_NO_POSITIVE)
    weight = np.ones(yy.shape[0]) if w is None else w
    order = np.argsort(-s, kind="stable")
    s_desc = s[order]
    tp = np.cumsum(weight[order] * yy[order])
    fp = np.cumsum(weight[order] * (1 - yy[order]))
    ends = np.flatnonzero(np.r_[s_desc[1:] != s_desc[:-1], True])  # last row of each tie block
    tp, fp = tp[ends], fp[ends]
    if tp[-1] == 0.0:
        raise SingleClassError(_MSG_NO_POSITIVE)
    precision = _safe_ratio(tp, tp + fp)
    precision = np.nan_to_num(precision, nan=0.0)  # zero-weight blocks at the top
    recall = tp / tp[-1]
    return float(np.sum(np.diff(recall, prepend=0.0) * precision))


def brier(y: ArrayLike, prob: ArrayLike, *, sample_weight: ArrayLike | None = None) -> float:
    """Brier score: mean squared difference between predicted probability and outcome.

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcome, 0/1 or bool.
    prob : array-like of shape (n,)
        Predicted probability of the event, in [0, 1].
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.

    Returns
    -------
    float
        0 is perfect; lower is better.

    Examples
    --------
    >>> brier([0, 1], [0.25, 0.5])  # (0.0625 + 0.25) / 2
    0.15625
    """
    yy = _as_binary(y)
    p = _as_prob(prob, "prob")
    _check_same_length(yy, "y", p, "prob")
    w = _as_weight(sample_weight, yy.shape[0])
    return float(np.average((p - yy) ** 2, weights=w))


def log_loss(
    y: ArrayLike,
    prob: ArrayLike,
    *,
    sample_weight: ArrayLike | None = None,
    eps: float | None = None,
) -> float:
    """Mean negative log-likelihood of a binary outcome (cross-entropy).

    Probabilities are clipped to ``[eps, 1 - eps]`` so a confident miss costs a large but
    finite amount, as in :func:`sklearn.metrics.log_loss`.

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcome, 0/1 or bool.
    prob : array-like of shape (n,)
        Predicted probability of the event, in [0, 1].
    sample_weight : array-like of shape (n,), optional
        Non-negative weights.
    eps : float, optional
        Clipping bound; default ``np.finfo(np.float64).eps`` (sklearn's default).

    Returns
    -------
    float
        Natural-log loss; lower is better.
    """
    yy = _as_binary(y)
    p = _as_prob(prob, "prob")
    _check_same_length(yy, "y", p, "prob")
    w = _as_weight(sample_weight, yy.shape[0])
    e = float(np.finfo(np.float64).eps) if eps is None else float(eps)
    p = np.clip(p, e, 1.0 - e)
    losses = -np.where(yy == 1, np.log(p), np.log1p(-p))
    return float(np.average(losses, weights=w))


# --- tier-aligned metrics -----------------------------------------------------------------


def _k_per_group(fraction: float, sizes: np.ndarray) -> IntArray:
    return np.floor(fraction * sizes + TOP_K_EPS).astype(np.intp)


def top_k_mask(score: ArrayLike, group: ArrayLike | None, fraction: float) -> BoolArray:
    """Which firms are on the top-``fraction`` list of their ranking group.

    A firm is on the list iff its competition rank within its group (1 = highest score; tied
    firms share the best rank of the tie, ``method='min'``) is at most
    ``floor(fraction * n_group + 1e-9)``. A tie at the cut-off therefore keeps every tied firm
    on the list, and a group too small for one place (``fraction * n_group < 1``) has none.

    Parameters
    ----------
    score : array-like of shape (n,)
        Finite scores, higher = better.
    group : array-like of shape (n,) or None
        Ranking-group label of each firm; None = one group.
    fraction : float
        Share of each group's firms with places on the list, in [0, 1].

    Returns
    -------
    numpy.ndarray of bool, shape (n,)

    Examples
    --------
    >>> top_k_mask([5, 4, 4, 1], None, 0.5).tolist()  # 2 places; ranks 1, 2, 2, 4
    [True, True, True, False]
    """
    s = _as_finite(score, "score")
    f = _check_fraction(fraction)
    n = s.shape[0]
    _, codes = _group_codes(group, n)
    sizes = np.bincount(codes)
    # Group-major, descending score within group.
    order = np.lexsort((-s, codes))
    g_sorted, s_sorted = codes[order], s[order]
    idx = np.arange(n)
    new_group = np.r_[True, g_sorted[1:] != g_sorted[:-1]]
    new_value = new_group | np.r_[True, s_sorted[1:] != s_sorted[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0))
    run_start = np.maximum.accumulate(np.where(new_value, idx, 0))
    rank_sorted = run_start - group_start + 1  # competition ('min') rank within group
    rank = np.empty(n, dtype=np.intp)
    rank[order] = rank_sorted
    return rank <= _k_per_group(f, sizes)[codes]


def _precision_on_mask(yy: npt.NDArray[np.int8], mask: BoolArray) -> float:
    n_in = int(np.count_nonzero(mask))
    if n_in == 0:
        return math.nan
    return int(np.count_nonzero(yy[mask])) / n_in


def precision_at_top(
    y: ArrayLike,
    score: ArrayLike,
    group: ArrayLike | None,
    fraction: float,
    *,
    ties: str = "inclusive",
) -> float:
    """Share of events among the firms on the top-``fraction`` lists (see :func:`top_k_mask`).

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcome, 0/1 or bool.
    score : array-like of shape (n,)
        Finite scores, higher = better.
    group : array-like of shape (n,) or None
        Ranking-group label of each firm; None = one group.
    fraction : float
        List size as a share of each group, in [0, 1].
    ties : {"inclusive", "fractional"}
        ``inclusive``: the published-list rule — every firm tied at the cut-off is listed (the
        list may run over its seats). ``fractional``: exactly ``floor(fraction × n)`` seats per
        group; a tie at the cut-off shares the remaining seats, each tied firm counting
        ``remaining / tie size`` — the expected precision under random tie-breaking. Use it to
        compare scores with many identical values (e.g. probabilities that are exactly 0) with
        scores that have few; both agree when the cut-off is not tied.

    Returns
    -------
    float
        Mean of ``y`` over all listed firms (pooled over groups); NaN if no firm is listed.

    Examples
    --------
    >>> precision_at_top([1, 0, 1, 0], [9, 8, 8, 1], None, 0.5)  # 3 listed (tie), 2 events
    0.6666666666666666
    >>> precision_at_top([1, 0, 1, 0], [9, 8, 8, 1], None, 0.5, ties="fractional")  # 1 + ½ + ½ seats
    0.75
    """
    yy = _as_binary(y)
    s = _as_finite(score, "score")
    _check_same_length(yy, "y", s, "score")
    if ties == "fractional":
        weight = _fractional_top_k(s, group, fraction)
        seats = float(weight.sum())
        return float(weight @ yy) / seats if seats > 0 else float("nan")
    if ties != "inclusive":
        raise ValueError(f"ties must be 'inclusive' or 'fractional', not {ties!r}")
    return _precision_on_mask(yy, top_k_mask(s, group, fraction))


def _runs(score: FloatArray, codes: IntArray) -> tuple[IntArray, IntArray, IntArray, IntArray]:
    """Group-major order by descending score, and per firm: its group's first position, and the
    first and last position of its run of tied scores (positions in that order)."""
    n = score.shape[0]
    order = np.lexsort((-score, codes))
    g_sorted, s_sorted = codes[order], score[order]
    idx = np.arange(n)
    new_group = np.r_[True, g_sorted[1:] != g_sorted[:-1]] if n else np.zeros(0, dtype=bool)
    new_value = new_group | (np.r_[True, s_sorted[1:] != s_sorted[:-1]] if n else new_group)
    group_start = np.maximum.accumulate(np.where(new_group, idx, 0)) if n else idx
    run_start = np.maximum.accumulate(np.where(new_value, idx, 0)) if n else idx
    end_flag = np.r_[new_value[1:], True] if n else new_value
    run_end = np.minimum.accumulate(np.where(end_flag, idx, n)[::-1])[::-1] if n else idx
    out = [np.empty(n, dtype=np.intp) for _ in range(3)]
    for arr, sorted_values in zip(out, (group_start, run_start, run_end), strict=True):
        arr[order] = sorted_values
    return order, out[0], out[1], out[2]


def _fractional_top_k(score: FloatArray, group: ArrayLike | None, fraction: float) -> FloatArray:
    """Seat share of every firm on a list of exactly ``floor(fraction·n + eps)`` seats per group."""
    _, codes = _group_codes(group, score.shape[0])
    return _fractional_from_runs(codes, _runs(score, codes), fraction)


def _fractional_from_runs(
    codes: IntArray, runs: tuple[IntArray, IntArray, IntArray, IntArray], fraction: float
) -> FloatArray:
    fraction = _check_fraction(fraction)
    _, group_start, run_start, run_end = runs
    rank_min = (run_start - group_start + 1).astype(np.float64)  # 1 = best, ties share it
    tie = (run_end - run_start + 1).astype(np.float64)
    k = _k_per_group(fraction, np.bincount(codes)).astype(np.float64)[codes]
    rank_max = rank_min + tie - 1
    return np.where(rank_max <= k, 1.0, np.where(rank_min > k, 0.0, (k - rank_min + 1) / tie))


def lift_at_top(
    y: ArrayLike,
    score: ArrayLike,
    group: ArrayLike | None,
    fraction: float,
    *,
    ties: str = "inclusive",
) -> float:
    """Precision on the top lists divided by the overall event rate.

    Parameters
    ----------
    y : array-like of shape (n,)
        Outcome, 0/1 or bool.
    score : array-like of shape (n,)
        Finite scores, higher = better.
    group : array-like of shape (n,) or None
        Ranking-group label of each firm; None = one group.
    fraction : float
        List size as a share of each group, in [0, 1].
    ties : {"inclusive", "fractional"}
        How a tie at the cut-off is counted (see :func:`precision_at_top`).

    Returns
    -------
    float
        ``precision_at_top / mean(y)``; 1 = no better than chance. NaN if no firm is listed or
        ``y`` has no events.
    """
    yy = _as_binary(y)
    prec = precision_at_top(yy, score, group, fraction, ties=ties)
    base = int(np.count_nonzero(yy)) / yy.shape[0]
    return float(_safe_ratio(prec, base))


# --- rank agreement and churn -------------------------------------------------------------


def _pair(a: ArrayLike, b: ArrayLike, name_a: str, name_b: str) -> tuple[FloatArray, FloatArray]:
    aa = _as_finite(a, name_a)
    bb = _as_finite(b, name_b)
    _check_same_length(aa, name_a, bb, name_b)
    return aa, bb


def spearman(a: ArrayLike, b: ArrayLike, group: ArrayLike | None = None) -> float | pd.Series:
    """Spearman rank correlation (Pearson correlation of average ranks).

    Matches :func:`scipy.stats.spearmanr`. Where either side is constant, or a group has fewer
    than two firms, the result is NaN (no warning).

    Parameters
    ----------
    a, b : array-like of shape (n,)
        Finite scores or ranks of the same firms under two frameworks.
    group : array-like of shape (n,), optional
        If given, the correlation is computed within each group.

    Returns
    -------
    float or pandas.Series
        A float for ``group=None``; otherwise a Series indexed by group label, named
        ``'spearman'``.
    """
    aa, bb = _pair(a, b, "a", "b")
    labels, codes = _group_codes(group, aa.shape[0])
    frame = pd.DataFrame({"g": codes, "a": aa, "b": bb})
    ranks = frame.groupby("g", sort=False)[["a", "b"]].rank(method="average")
    ra, rb = ranks["a"].to_numpy(), ranks["b"].to_numpy()
    n_groups = labels.shape[0]
    size = np.bincount(codes, minlength=n_groups).astype(np.float64)
    da = ra - (np.bincount(codes, weights=ra, minlength=n_groups) / size)[codes]
    db = rb - (np.bincount(codes, weights=rb, minlength=n_groups) / size)[codes]
    cov = np.bincount(codes, weights=da * db, minlength=n_groups)
    va = np.bincount(codes, weights=da * da, minlength=n_groups)
    vb = np.bincount(codes, weights=db * db, minlength=n_groups)
    # Ranks are integers or half-integers, so a constant side gives exactly 0 variance.
    rho = np.clip(_safe_ratio(cov, np.sqrt(va * vb)), -1.0, 1.0)
    if group is None:
        return float(rho[0])
    return pd.Series(rho, index=pd.Index(labels, name="group"), name="spearman")


def _kendall_one(a: FloatArray, b: FloatArray) -> float:
    from scipy import stats  # imported here: scipy.stats is slow to import (lean imports)

    if a.shape[0] < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return math.nan
    return float(stats.kendalltau(a, b, variant="b").statistic)


def kendall_tau(a: ArrayLike, b: ArrayLike, group: ArrayLike | None = None) -> float | pd.Series:
    """Kendall's tau-b rank correlation (ties handled), via :func:`scipy.stats.kendalltau`.

    NaN where either side is constant or a group has fewer than two firms (no warning).

    Parameters
    ----------
    a, b : array-like of shape (n,)
        Finite scores or ranks of the same firms under two frameworks.
    group : array-like of shape (n,), optional
        If given, tau-b is computed within each group (one O(n_g log n_g) call per group).

    Returns
    -------
    float or pandas.Series
        A float for ``group=None``; otherwise a Series indexed by group label, named
        ``'kendall_tau'``.
    """
    aa, bb = _pair(a, b, "a", "b")
    if group is None:
        return _kendall_one(aa, bb)
    labels, codes = _group_codes(group, aa.shape[0])
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=labels.shape[0]))[:-1]
    a_parts = np.split(aa[order], bounds)
    b_parts = np.split(bb[order], bounds)
    taus = [_kendall_one(pa, pb) for pa, pb in zip(a_parts, b_parts, strict=True)]
    return pd.Series(taus, index=pd.Index(labels, name="group"), name="kendall_tau", dtype=float)


@dataclass(frozen=True)
class RankMoves:
    """How far firms moved between two rankings (rank 1 = best).

    Attributes
    ----------
    n : int
        Firms compared.
    n_moved : int
        Firms whose rank changed.
    mean_abs_move : float
        Mean of ``|rank_b - rank_a|``.
    median_abs_move : float
        Median of ``|rank_b - rank_a|``.
    max_move : float
        Largest ``|rank_b - rank_a|``.
    mean_move : float
        Mean of ``rank_b - rank_a``; negative = firms moved up on average.
    """

    n: int
    n_moved: int
    mean_abs_move: float
    median_abs_move: float
    max_move: float
    mean_move: float

    @property
    def share_moved(self) -> float:
        """Share of firms whose rank changed."""
        return self.n_moved / self.n

    def to_dict(self) -> dict[str, float]:
        """Fields and ``share_moved`` as a plain dict."""
        return {**asdict(self), "share_moved": self.share_moved}


def rank_moves(rank_a: ArrayLike, rank_b: ArrayLike) -> RankMoves:
    """Summarise rank changes of the same firms between ranking ``a`` and ranking ``b``.

    Parameters
    ----------
    rank_a, rank_b : array-like of shape (n,)
        Finite ranks (1 = best) of the same firms, in the same order. Compare only firms
        ranked under both: missing ranks are an error, not skipped.

    Returns
    -------
    RankMoves

    Examples
    --------
    >>> rank_moves([1, 2, 3, 4], [2, 1, 3, 4]).mean_abs_move  # (1 + 1 + 0 + 0) / 4
    0.5
    """
    ra, rb = _pair(rank_a, rank_b, "rank_a", "rank_b")
    move = rb - ra
    absm = np.abs(move)
    return RankMoves(
        n=int(ra.shape[0]),
        n_moved=int(np.count_nonzero(move)),
        mean_abs_move=float(absm.mean()),
        median_abs_move=float(np.median(absm)),
        max_move=float(absm.max()),
        mean_move=float(move.mean()),
    )


@dataclass(frozen=True)
class Churn:
    """Turnover of a list (e.g. a tier list) between framework ``a`` and framework ``b``.

    Attributes
    ----------
    n_a, n_b : int
        List sizes under ``a`` and under ``b``.
    entered : int
        Firms on the list under ``b`` but not under ``a``.
    left : int
        Firms on the list under ``a`` but not under ``b``.
    stayed : int
        Firms on both lists.
    """

    n_a: int
    n_b: int
    entered: int
    left: int
    stayed: int

    @property
    def churn(self) -> float:
        """Share of the ``a`` list that is not on the ``b`` list (``left / n_a``); NaN if empty."""
        return self.left / self.n_a if self.n_a else math.nan

    def to_dict(self) -> dict[str, float]:
        """Fields and ``churn`` as a plain dict."""
        return {**asdict(self), "churn": self.churn}


def _as_mask(x: ArrayLike, name: str) -> BoolArray:
    arr = _as_1d(x, name)
    if arr.dtype == np.bool_:
        return arr
    if arr.dtype.kind in "iuf" and bool(np.isin(arr, (0, 1)).all()):
        return arr.astype(bool)
    found = pd.unique(pd.Series(arr, dtype=object))
    raise ValueError(_MSG_MASK.format(name=name, found=_show(found)))


def churn(mask_a: ArrayLike, mask_b: ArrayLike) -> Churn:
    """Compare list membership of the same firms under two frameworks.

    Parameters
    ----------
    mask_a, mask_b : array-like of bool, shape (n,)
        ``True`` where the firm is on the list (e.g. from :func:`top_k_mask`).

    Returns
    -------
    Churn
        Counts of entered / left / stayed and ``churn = left / n_a``.

    Examples
    --------
    >>> c = churn([1, 1, 0, 0], [1, 0, 1, 1])
    >>> (c.entered, c.left, c.churn)
    (2, 1, 0.5)
    """
    a = _as_mask(mask_a, "mask_a")
    b = _as_mask(mask_b, "mask_b")
    _check_same_length(a, "mask_a", b, "mask_b")
    return Churn(
        n_a=int(np.count_nonzero(a)),
        n_b=int(np.count_nonzero(b)),
        entered=int(np.count_nonzero(b & ~a)),
        left=int(np.count_nonzero(a & ~b)),
        stayed=int(np.count_nonzero(a & b)),
    )


# --- grouped summaries --------------------------------------------------------------------

_NAMED_METRICS: dict[str, Callable[..., float]] = {
    "roc_auc": roc_auc,
    "pr_auc": pr_auc,
    "brier": brier,
    "log_loss": log_loss,
    "precision_at_top": precision_at_top,
    "lift_at_top": lift_at_top,
}


def by_group(
    metric: str | Callable[..., float],
    y: ArrayLike,
    score: ArrayLike,
    group: ArrayLike,
    *,
    skip_single_class: bool = False,
    **kwargs: Any,
) -> pd.Series:
    """Evaluate a metric separately within each group.

    Groups where the metric needs both classes and ``y`` has one get NaN, not an error: this
    package's metrics signal that with :class:`SingleClassError`, which is caught here.

    Parameters
    ----------
    metric : str or callable
        One of ``'roc_auc'``, ``'pr_auc'``, ``'brier'``, ``'log_loss'``,
        ``'precision_at_top'``, ``'lift_at_top'``, or a callable ``metric(y, score, **kwargs)``.
        The top-list metrics are called with ``group=None`` inside each group, so pass
        ``fraction=...``.
    y : array-like of shape (n,)
        Outcome, 0/1 or bool.
    score : array-like of shape (n,)
        Scores or probabilities.
    group : array-like of shape (n,)
        Group label of each firm.
    skip_single_class : bool, default False
        Return NaN without calling ``metric`` for groups whose ``y`` has one class. Use this
        for third-party metrics that raise their own error (e.g. sklearn's
        ``roc_auc_score``).
    **kwargs
        Passed to ``metric``.

    Returns
    -------
    pandas.Series
        Indexed by group label (sorted), named after the metric.
    """
    if isinstance(metric, str):
        if metric not in _NAMED_METRICS:
            raise ValueError(
                _MSG_UNKNOWN_METRIC.format(name=metric, known=", ".join(sorted(_NAMED_METRICS)))
            )
        func, name = _NAMED_METRICS[metric], metric
    else:
        func, name = metric, getattr(metric, "__name__", "metric")
    if func in (precision_at_top, lift_at_top):
        kwargs = {"group": None, **kwargs}
    yy = _as_binary(y)
    s = _as_1d(score, "score")
    _check_same_length(yy, "y", s, "score")
    labels, codes = _group_codes(group, yy.shape[0])
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=labels.shape[0]))[:-1]
    values = []
    for y_g, s_g in zip(np.split(yy[order], bounds), np.split(s[order], bounds), strict=True):
        if skip_single_class and (y_g.min() == y_g.max()):
            values.append(math.nan)
            continue
        try:
            values.append(float(func(y_g, s_g, **kwargs)))
        except SingleClassError:
            values.append(math.nan)
    return pd.Series(values, index=pd.Index(labels, name="group"), name=name, dtype=float)


# --- batched evaluation for search loops --------------------------------------------------


def _fraction_label(fraction: float) -> str:
    return f"top{fraction * 100:g}"


@dataclass
class _Bucket:
    """Groups padded to a common length ``p_len``, stored side by side in the block layout."""

    groups: IntArray  # dense group codes, shape (G_b,)
    start: int  # first layout column of the bucket; it spans G_b * p_len columns
    p_len: int
    kth: IntArray  # (n_fractions, G_b): sorted position of the k-th best firm, -1 if no place
    top_len: int  # largest list size in the bucket: only the top_len best per group are sorted


@dataclass
class _Plan:
    """Everything about (y, group, fractions) that does not depend on the scores.

    A *block* is a (n_cols, n_layout) float64 array of scores for a few weightings whose
    columns follow ``layout``: groups that can have list places come first, group-major,
    each padded at its front with ``-inf`` to a bucket length so that one in-place sort per
    bucket ranks every group; then the firms of groups with no places. All index arrays are
    increasing, so gathers from a block stream through memory.
    """

    n: int
    n_pos: int
    n_neg: int
    layout: IntArray  # original row of each layout column, -1 for padding
    pad_idx: IntArray
    pos_idx: IntArray  # layout columns of positives / negatives (increasing)
    neg_idx: IntArray
    pos_group: IntArray  # dense group code of each positive, in pos_idx order
    fractions: tuple[float, ...]
    n_groups: int
    buckets: list[_Bucket]


def _padded_length(size: int) -> int:
    """Round a group size up to 1/8 of its power of two (< 12.5 % padding)."""
    if size <= 16:
        return size
    step = 1 << (size.bit_length() - 4)
    return -(-size // step) * step


def _make_plan(
    yy: npt.NDArray[np.int8], group: ArrayLike | None, fractions: Sequence[float]
) -> _Plan:
    n = yy.shape[0]
    fr = tuple(_check_fraction(f) for f in fractions)
    labels = [_fraction_label(f) for f in fr]
    if len(set(labels)) != len(labels):
        raise ValueError(f"fractions must be distinct; got {list(fractions)!r}.")
    group_labels, codes = _group_codes(group, n)
    n_groups = group_labels.shape[0]
    sizes = np.bincount(codes, minlength=n_groups)
    k = np.stack([_k_per_group(f, sizes) for f in fr]) if fr else np.zeros((0, n_groups), np.intp)
    listable: BoolArray = np.asarray((k >= 1).any(axis=0))
    order = np.argsort(codes, kind="stable")  # group-major rows
    starts = np.r_[0, np.cumsum(sizes)[:-1]]
    p_lens = np.array([_padded_length(int(sz)) for sz in sizes], dtype=np.intp)

    pieces: list[IntArray] = []
    buckets: list[_Bucket] = []
    offset = 0
    for p_len in np.unique(p_lens[listable]):
        gs = np.flatnonzero(listable & (p_lens == p_len))
        size_b = sizes[gs]
        # Row j of a padded group holds the group's firm (j - pad), or padding for j < pad.
        within = np.arange(p_len)[None, :] - (p_len - size_b)[:, None]
        src = starts[gs][:, None] + np.maximum(within, 0)
        rows = np.where(within >= 0, order[np.minimum(src, n - 1)], -1)
        pieces.append(rows.ravel().astype(np.intp))
        kth = np.where(k[:, gs] >= 1, p_len - k[:, gs], -1).astype(np.intp)
        top_len = int(k[:, gs].max())
        buckets.append(_Bucket(gs.astype(np.intp), offset, int(p_len), kth, top_len))
        offset += gs.shape[0] * int(p_len)
    pieces.append(order[~listable[codes[order]]].astype(np.intp))
    layout = np.concatenate(pieces)
    real: BoolArray = np.asarray(layout >= 0)
    is_pos = np.zeros(layout.shape[0], dtype=bool)
    is_pos[real] = yy[layout[real]] == 1
    pos_idx = np.flatnonzero(is_pos)
    return _Plan(
        n=n,
        n_pos=int(pos_idx.shape[0]),
        n_neg=n - int(pos_idx.shape[0]),
        layout=layout,
        pad_idx=np.flatnonzero(~real),
        pos_idx=pos_idx,
        neg_idx=np.flatnonzero(real & ~is_pos),
        pos_group=codes[layout[pos_idx]],
        fractions=fr,
        n_groups=n_groups,
        buckets=buckets,
    )


def _check_block_finite(block: FloatArray, col0: int, plan: _Plan, name: str) -> None:
    """Raise if any score in the block is NaN or infinite (call before padding is written)."""
    finite = np.isfinite(block)
    if finite.all():
        return
    finite[:, plan.pad_idx] = True  # padding holds arbitrary finite-or-not copies
    if finite.all():
        return
    col = int(np.flatnonzero(~finite.all(axis=1))[0])
    bad = np.flatnonzero(~finite[col])
    row = int(plan.layout[bad].min())
    raise ValueError(
        _MSG_NONFINITE_COLUMN.format(name=name, col=col0 + col, count=bad.shape[0], row=row)
    )


def _first_at_least(
    cube: FloatArray, col: IntArray, grp: IntArray, lo0: int, hi: IntArray, target: FloatArray
) -> IntArray:
    """Vectorised binary search over sorted runs ``cube[col, grp, lo0:]``.

    Returns, per query, the first position j in [lo0, hi] with ``cube[col, grp, j] >= target``;
    ``cube[col, grp, hi] >= target`` must hold.
    """
    lo = np.full_like(hi, lo0)
    hi = hi.copy()
    for _ in range(max(int(hi.max() - lo0 + 1).bit_length(), 1)):
        mid = (lo + hi) >> 1
        below = cube[col, grp, mid] < target
        lo = np.where(below, mid + 1, lo)
        hi = np.where(below, hi, mid)
    return lo


def _narrow(block: FloatArray) -> Any:
    """``block`` as float32 when that is exact for every value, else ``block`` itself.

    Policy totals (whole points times fractions on a coarse grid) usually fit float32
    exactly; the float64 -> float32 map is then one-to-one and order-preserving, so sorting,
    ties and counts are unchanged while sorts touch half the memory.
    """
    with np.errstate(over="ignore"):  # huge values become inf, fail the check, stay float64
        first = block[0]
        if not np.array_equal(first.astype(np.float32), first):
            return block
        narrow = block.astype(np.float32)
    return narrow if np.array_equal(narrow, block) else block


def _evaluate_block(
    block: FloatArray, plan: _Plan, want_auc: bool
) -> tuple[FloatArray, FloatArray]:
    """AUC (n_cols,) and top-list precision (n_fractions, n_cols) for one block of scores.

    ``block`` is in the plan's layout with padding already set to ``-inf``; it is sorted in
    place (destroyed).
    """
    n_cols = block.shape[0]
    block = _narrow(block)
    pos = block[:, plan.pos_idx]
    auc = np.full(n_cols, np.nan)
    if want_auc:
        neg = block[:, plan.neg_idx]
        neg.sort(axis=1)
        pos_sorted = np.sort(pos, axis=1)
        twice_u = np.array([_twice_u(pos_sorted[c], neg[c]) for c in range(n_cols)], dtype=np.int64)
        del neg, pos_sorted
        auc = _auc_from_twice_u(twice_u, plan.n_pos, plan.n_neg)
    n_fr = len(plan.fractions)
    n_in = np.zeros((n_fr, n_cols), dtype=np.int64)
    hits = np.zeros((n_fr, n_cols), dtype=np.int64)
    if n_fr and plan.buckets:
        # Threshold = score of the k-th best firm of each group; +inf where a group has no place.
        thresh = np.full((n_fr, n_cols, plan.n_groups), np.inf, dtype=block.dtype)
        for b in plan.buckets:
            g_b = b.groups.shape[0]
            cube = block[:, b.start : b.start + g_b * b.p_len].reshape(n_cols, g_b, b.p_len)
            # Only the best b.top_len of each padded group matter: select them (O(n)), then
            # sort just that part. ``cube`` is a view, so this rearranges ``block`` in place.
            top = b.p_len - b.top_len
            cube.partition(top, axis=2)
            cube[:, :, top:].sort(axis=2)
            for f in range(n_fr):
                has = np.flatnonzero(b.kth[f] >= 0)
                if not has.shape[0]:
                    continue
                col = np.repeat(np.arange(n_cols), has.shape[0])
                grp = np.tile(has, n_cols)
                kpos = np.tile(b.kth[f][has], n_cols)
                t = cube[col, grp, kpos]
                thresh[f][:, b.groups[has]] = t.reshape(n_cols, has.shape[0])
                first = _first_at_least(cube, col, grp, top, kpos, t)
                count = b.p_len - first
                # Firms tied with the threshold may also sit below the selected part.
                spill = np.flatnonzero(first == top) if top else np.zeros(0, np.intp)
                if spill.shape[0]:
                    below = cube[col[spill], grp[spill], :top]
                    count[spill] += np.count_nonzero(below == t[spill, None], axis=1)
                n_in[f] += count.reshape(n_cols, has.shape[0]).sum(axis=1)
        if plan.n_pos:
            for f in range(n_fr):
                hits[f] = np.count_nonzero(pos >= thresh[f][:, plan.pos_group], axis=1)
    precision = _safe_ratio(hits, n_in)
    return auc, np.asarray(precision, dtype=np.float64).reshape(n_fr, n_cols)


def _column_chunks(n_cols: int, n_rows: int, chunk_size: int | None) -> list[tuple[int, int]]:
    if chunk_size is None:
        chunk_size = max(1, DEFAULT_BLOCK_ELEMENTS // max(n_rows, 1))
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer; got {chunk_size!r}.")
    return [(j, min(j + chunk_size, n_cols)) for j in range(0, n_cols, chunk_size)]


def _run_blocks(
    make_block: Callable[[int, int], FloatArray],
    plan: _Plan,
    n_cols: int,
    chunk_size: int | None,
    n_jobs: int | None,
    want_auc: bool,
    name: str,
) -> tuple[FloatArray, FloatArray]:
    chunks = _column_chunks(n_cols, plan.layout.shape[0], chunk_size)

    def work(bounds: tuple[int, int]) -> tuple[FloatArray, FloatArray]:
        block = make_block(*bounds)
        _check_block_finite(block, bounds[0], plan, name)
        block[:, plan.pad_idx] = -np.inf
        return _evaluate_block(block, plan, want_auc)

    if n_jobs is None or n_jobs == -1:
        workers = os.cpu_count() or 1
    elif isinstance(n_jobs, int | np.integer) and n_jobs >= 1:
        workers = int(n_jobs)
    else:
        raise ValueError(
            f"n_jobs must be a positive integer, -1 or None (all CPUs); got {n_jobs!r}."
        )
    if workers <= 1 or len(chunks) == 1:
        results = [work(b) for b in chunks]
    else:
        with ThreadPoolExecutor(max_workers=workers) as pool:  # numpy sorts release the GIL
            results = list(pool.map(work, chunks))
    auc = np.concatenate([r[0] for r in results]) if results else np.zeros(0)
    prec = (
        np.concatenate([r[1] for r in results], axis=1)
        if results
        else np.zeros((len(plan.fractions), 0))
    )
    return auc, prec


def _as_matrix(x: ArrayLike, name: str, expected: str) -> FloatArray:
    arr = np.asarray(x)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ValueError(_MSG_NOT_2D.format(name=name, expected=expected, shape=arr.shape))
    return arr.astype(np.float64, copy=False)


def _column_labels(x: ArrayLike, n_cols: int) -> pd.Index:
    if isinstance(x, pd.DataFrame):
        return pd.Index(x.columns, name="weighting")
    return pd.RangeIndex(n_cols, name="weighting")


def _scores_block_maker(S: FloatArray, plan: _Plan) -> Callable[[int, int], FloatArray]:
    rows = np.maximum(plan.layout, 0)  # padding reads row 0 and is overwritten with -inf

    def make(j0: int, j1: int) -> FloatArray:
        return np.ascontiguousarray(S[rows, j0:j1].T)

    return make


def _frame(auc: FloatArray | None, prec: FloatArray, plan: _Plan, index: pd.Index) -> pd.DataFrame:
    cols: dict[str, FloatArray] = {}
    if auc is not None:
        cols[AUC_POOLED] = auc
    labels = [_fraction_label(f) for f in plan.fractions]
    for lab, p in zip(labels, prec, strict=True):
        cols[f"prec_{lab}"] = p
    base = plan.n_pos / plan.n
    for lab, p in zip(labels, prec, strict=True):
        cols[f"lift_{lab}"] = np.asarray(_safe_ratio(p, base), dtype=np.float64).reshape(-1)
    return pd.DataFrame(cols, index=index)


def _prepare(
    y: ArrayLike,
    n_rows: int,
    name: str,
    group: ArrayLike | None,
    fractions: Sequence[float],
    auc: bool,
) -> _Plan:
    yy = _as_binary(y)
    if yy.shape[0] != n_rows:
        raise ValueError(_MSG_LENGTH.format(name_a="y", n_a=yy.shape[0], name_b=name, n_b=n_rows))
    if auc:
        _class_check(yy, "AUC")
    return _make_plan(yy, group, fractions)


def batch_evaluate(
    y: ArrayLike,
    S: ArrayLike,
    group: ArrayLike | None = None,
    fractions: Sequence[float] = (0.05, 0.1, 0.2),
    *,
    auc: bool = True,
    chunk_size: int | None = None,
    n_jobs: int | None = 1,
) -> pd.DataFrame:
    """AUC and top-list precision / lift for every column of a score matrix.

    Each column gives exactly what :func:`roc_auc`, :func:`precision_at_top` and
    :func:`lift_at_top` give for that column, ties included, at a fraction of the cost of
    calling them in a loop: everything that does not depend on the scores (class split,
    group layout, list sizes) is prepared once, and each column costs two sorts.

    Parameters
    ----------
    y : array-like of shape (n_firms,)
        Outcome, 0/1 or bool.
    S : array-like of shape (n_firms, n_weightings)
        Finite scores, one column per candidate weighting. A DataFrame's column labels
        become the result's index.
    group : array-like of shape (n_firms,), optional
        Ranking group of each firm; None = one group.
    fractions : sequence of float, default (0.05, 0.1, 0.2)
        List sizes as a share of each group (see :func:`top_k_mask`).
    auc : bool, default True
        Compute the AUC column (requires both classes in ``y``).
    chunk_size : int, optional
        Columns scored per block. Default ``DEFAULT_BLOCK_ELEMENTS // n_firms`` (16 MiB of
        float64 per block, e.g. 20 columns for 100,000 firms); peak extra memory is about
        2 blocks per worker.
    n_jobs : int or None, default 1
        Worker threads over blocks (numpy's sorts release the GIL); None or -1 = all CPUs.

    Returns
    -------
    pandas.DataFrame
        One row per column of ``S`` (index ``weighting``) with columns ``auc``,
        ``prec_top5``, ``prec_top10``, ``prec_top20``, ``lift_top5``, ... (labels follow
        ``fractions``: 0.05 -> ``top5``, 0.025 -> ``top2.5``). Precision is NaN where no firm
        is listed; lift is NaN also when ``y`` has no events.

    Raises
    ------
    SingleClassError
        If ``auc=True`` and ``y`` has one class.
    ValueError
        If a score is NaN or infinite (the message names the column).
    """
    mat = _as_matrix(S, "S", "(n_firms, n_weightings)")
    plan = _prepare(y, mat.shape[0], "S", group, fractions, auc)
    auc_v, prec = _run_blocks(
        _scores_block_maker(mat, plan), plan, mat.shape[1], chunk_size, n_jobs, auc, "S"
    )
    return _frame(auc_v if auc else None, prec, plan, _column_labels(S, mat.shape[1]))


def batch_evaluate_weights(  # noqa: PLR0913 - batch evaluator: the arrays and their evaluation options
    y: ArrayLike,
    F: ArrayLike,
    W: ArrayLike,
    group: ArrayLike | None = None,
    fractions: Sequence[float] = (0.05, 0.1, 0.2),
    *,
    auc: bool = True,
    decimals: int | None = None,
    chunk_size: int | None = None,
    n_jobs: int | None = 1,
) -> pd.DataFrame:
    """:func:`batch_evaluate` of ``S = F @ W``, computed block by block.

    The full (n_firms, n_weightings) score matrix is never held in memory: each block of
    ``chunk_size`` weightings is multiplied, scored and dropped.

    Parameters
    ----------
    y : array-like of shape (n_firms,)
        Outcome, 0/1 or bool.
    F : array-like of shape (n_firms, n_indicators)
        Indicator fractions or points per firm.
    W : array-like of shape (n_indicators, n_weightings)
        One column of indicator weights per candidate; a 1-D array is one candidate. A
        DataFrame's column labels become the result's index.
    group : array-like of shape (n_firms,), optional
        Ranking group of each firm; None = one group.
    fractions : sequence of float, default (0.05, 0.1, 0.2)
        List sizes as a share of each group.
    auc : bool, default True
        Compute the AUC column.
    decimals : int, optional
        Round each score to this many decimals before ranking, so that totals that are equal
        on paper but differ by floating-point noise (0.1 + 0.2 vs 0.3) tie as the policy
        intends.
    chunk_size : int, optional
        Weightings per block; default ``DEFAULT_BLOCK_ELEMENTS // n_firms`` (20 for 100,000
        firms, i.e. 16 MiB of scores per block). Peak extra memory is about 2 blocks per
        worker plus one float64 copy of ``F`` rearranged by ranking group (8 bytes x n_firms
        x n_indicators: 25 MiB for 100,000 x 32).
    n_jobs : int or None, default 1
        Worker threads over blocks; None or -1 = all CPUs.

    Returns
    -------
    pandas.DataFrame
        As :func:`batch_evaluate`.

    Notes
    -----
    Scores are computed as ``W[:, block].T @ F.T`` with the BLAS. With integer-valued
    points and weights this is exact; otherwise the product can differ in the last bit from
    one computed another way, which matters only for near-ties -- use ``decimals``.
    """
    f_mat = _as_matrix(F, "F", "(n_firms, n_indicators)")
    w_mat = _as_matrix(W, "W", "(n_indicators, n_weightings)")
    if f_mat.shape[1] != w_mat.shape[0]:
        raise ValueError(_MSG_SHAPES.format(k_f=f_mat.shape[1], k_w=w_mat.shape[0]))
    plan = _prepare(y, f_mat.shape[0], "F", group, fractions, auc)
    # (n_indicators, n_layout): firms in the plan's layout; padding columns stay 0 here and
    # become -inf after the product.
    f_layout_t = np.zeros((f_mat.shape[1], plan.layout.shape[0]))
    real = plan.layout >= 0
    f_layout_t[:, real] = f_mat[plan.layout[real]].T

    def make(j0: int, j1: int) -> FloatArray:
        block = np.ascontiguousarray(w_mat[:, j0:j1].T) @ f_layout_t
        if decimals is not None:
            np.round(block, decimals, out=block)
        return block

    auc_v, prec = _run_blocks(make, plan, w_mat.shape[1], chunk_size, n_jobs, auc, "F @ W")
    return _frame(auc_v if auc else None, prec, plan, _column_labels(W, w_mat.shape[1]))


def batch_auc(
    y: ArrayLike, S: ArrayLike, *, chunk_size: int | None = None, n_jobs: int | None = 1
) -> FloatArray:
    """AUC of every column of ``S``; equals :func:`roc_auc` column by column.

    Parameters
    ----------
    y : array-like of shape (n_firms,)
        Outcome, 0/1 or bool, with both classes.
    S : array-like of shape (n_firms, n_weightings)
        Finite scores.
    chunk_size, n_jobs
        As in :func:`batch_evaluate`.

    Returns
    -------
    numpy.ndarray of shape (n_weightings,)
    """
    return batch_evaluate(y, S, None, (), auc=True, chunk_size=chunk_size, n_jobs=n_jobs)[
        AUC_POOLED
    ].to_numpy()


def batch_precision_at_top(
    y: ArrayLike,
    S: ArrayLike,
    group: ArrayLike | None,
    fraction: float,
    *,
    chunk_size: int | None = None,
    n_jobs: int | None = 1,
) -> FloatArray:
    """Top-list precision of every column of ``S``; equals :func:`precision_at_top` per column.

    Parameters
    ----------
    y : array-like of shape (n_firms,)
        Outcome, 0/1 or bool.
    S : array-like of shape (n_firms, n_weightings)
        Finite scores.
    group : array-like of shape (n_firms,) or None
        Ranking group of each firm; None = one group.
    fraction : float
        List size as a share of each group.
    chunk_size, n_jobs
        As in :func:`batch_evaluate`.

    Returns
    -------
    numpy.ndarray of shape (n_weightings,)
        NaN for columns where no firm is listed.
    """
    frame = batch_evaluate(
        y, S, group, (fraction,), auc=False, chunk_size=chunk_size, n_jobs=n_jobs
    )
    return frame.iloc[:, 0].to_numpy()
