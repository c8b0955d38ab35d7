"""Evidence of a suggestion: the train/held-out split, held-out metrics, warnings, points table.

Every metric here is computed with :func:`calibrate.metrics.ranking_metrics` (one vocabulary:
``auc_within_group``, ``auc_pooled``, ``prec_topK`` …) on the good outcome, and carries the years
it was computed on and whether they were used for fitting.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate import metrics
from calibrate.constraints import Box
from calibrate.exceptions import DataContractError, Problem
from calibrate.scoring import ScoreResult

FloatArray = npt.NDArray[np.float64]
FRACTIONS = (0.05, 0.10, 0.20)
INTERVAL = (0.05, 0.95)  # bootstrap interval: 5th–95th percentile (a 90 % interval)
#: Fewer outcome events (of the rarer class) per free point value than this, and a stage's
#: suggestion is flagged: ~10 events per parameter is the usual floor for a stable logistic fit
#: (Peduzzi et al., J Clin Epidemiol 1996).
MIN_EVENTS_PER_POINT = 10
MSG_FEW_EVENTS = (
    "{where}: {events} training firm-years with {rarer} for {free} free point values "
    "({ratio:.1f} per value; {minimum} is the usual minimum) — the suggested points there are mostly "
    "noise; pool stages (same_across_stages), tighten max_change, or add years or parks"
)


def evaluate_ranking(
    y: npt.ArrayLike, score_values: npt.ArrayLike, group: npt.ArrayLike
) -> dict[str, float]:
    """Held-out metrics of any score on the same footing: :func:`calibrate.metrics.ranking_metrics`."""
    return metrics.ranking_metrics(y, score_values, group, FRACTIONS)


def evaluate_policy(
    y: npt.ArrayLike, result: ScoreResult, mask: npt.NDArray[np.bool_]
) -> dict[str, float]:
    """:func:`evaluate_ranking` of a scored framework's totals on the rows in ``mask``."""
    total = result.frame["total"].to_numpy(dtype=np.float64)
    return evaluate_ranking(y, total[mask], result.group_code[mask])


def split_years(
    years: npt.NDArray[np.int64],
    labelled: npt.NDArray[np.bool_],
    train_years: Sequence[int] | None,
    test_years: Sequence[int] | None,
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    available = sorted({int(v) for v in years[labelled]})
    if not available:
        raise DataContractError(
            "labels",
            [
                Problem(
                    "labels",
                    "no firm-year has a label: every year is censored "
                    "or excluded; use more years of events or a shorter horizon",
                )
            ],
        )
    test = tuple(sorted(test_years)) if test_years else (available[-1],)
    train = (
        tuple(sorted(train_years)) if train_years else tuple(y for y in available if y < min(test))
    )
    if not train:
        raise DataContractError(
            "labels",
            [
                Problem(
                    "labels",
                    f"no labelled year before the held-out years {test}; "
                    "give --train-years or use data with more years",
                )
            ],
        )
    overlap = set(train) & set(test)
    if overlap:
        raise DataContractError(
            "labels", [Problem("years", f"years {sorted(overlap)} are both training and held-out")]
        )
    return train, test


def data_warnings(
    box: Box, parts: Sequence[tuple[Any, ...]], target: str, direction: str
) -> tuple[tuple[str, ...], set[str]]:
    """One warning per re-weighting problem whose data cannot support its number of free points,
    and the stages warned about."""
    out = []
    stages: set[str] = set()
    for cset, y in parts:
        c0 = cset[0]
        free = int(np.sum(box.hi[:, c0] > box.lo[:, c0] + 1e-12)) - 1  # the budget fixes one
        if free <= 0:
            continue
        scored = int(y.sum())  # firm-years with the outcome scored (the event, or its absence)
        with_event = scored if direction == "higher" else len(y) - scored
        events, rarer = min((with_event, target), (len(y) - with_event, f"no {target}"))
        if events < MIN_EVENTS_PER_POINT * free:
            where = "all stages" if len(cset) > 1 else f"stage {box.stages[c0]}"
            stages.update(box.stages[c] for c in cset)
            out.append(
                MSG_FEW_EVENTS.format(
                    where=where,
                    events=events,
                    rarer=rarer,
                    free=free,
                    ratio=events / free,
                    minimum=MIN_EVENTS_PER_POINT,
                )
            )
    return tuple(out), stages


def num(x: Any) -> Any:
    x = float(x)
    if math.isnan(x):
        return None
    return int(x) if x.is_integer() else round(x, 6)


def held_out(
    y: FloatArray,
    base: ScoreResult,
    new: ScoreResult,
    test_mask: npt.NDArray[np.bool_],
    years: npt.NDArray[np.int64],
    test_years: tuple[int, ...],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    overall = pd.DataFrame(
        {
            "current": evaluate_policy(y[test_mask], base, test_mask),
            "suggested": evaluate_policy(y[test_mask], new, test_mask),
        }
    )
    overall.index.name = "metric"
    rows = []
    for yr in test_years:
        mask = test_mask & (years == yr)
        if not mask.any():
            continue
        for name, res in (("current", base), ("suggested", new)):
            for metric, value in evaluate_policy(y[mask], res, mask).items():
                rows.append({"year": yr, "framework": name, "metric": metric, "value": value})
    return overall, pd.DataFrame(rows)


MSG_SPLIT_VALUES = (
    "split column {column!r} holds {found}; write train or test in every row "
    "(test rows are held out; anything else is a typo)"
)


def split_from_column(
    data: pd.DataFrame, column: str, labelled: npt.NDArray[np.bool_]
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Training and held-out rows from a column of ``train`` / ``test`` (cross-sectional data)."""
    if column not in data.columns:
        raise DataContractError(
            "split", [Problem(f"--split-column {column}", "no such column in the enterprise table")]
        )
    values = data[column].astype("string").str.strip().str.lower()
    bad = sorted(set(values.dropna()) - {"train", "test"})
    if bad or values.isna().any():
        found = ", ".join(repr(v) for v in bad[:5]) or "empty cells"
        raise DataContractError(
            "split",
            [Problem(f"column {column}", MSG_SPLIT_VALUES.format(column=column, found=found))],
        )
    test = (values == "test").to_numpy(dtype=bool)
    return labelled & ~test, labelled & test


def pinned_and_confident(
    box: Box,
    suggested: FloatArray,
    low: FloatArray,
    high: FloatArray,
    caps: tuple[float | None, float | None],
    warned_stages: set[str],
) -> tuple[list[list[str | None]], list[list[bool]]]:
    """One rule for the marks: which points sit at a constraint, which intervals are tight.

    ``pinned`` is ``"frozen"`` (lower bound = upper bound), ``"max_change"`` (at the cap on change
    from today's points) or ``"bound"`` (at a bound, 0 included) — such a point is never called
    confident, whatever its interval. ``confident`` means: not pinned, a bootstrap interval no
    wider than two granules (2 points when continuous), and a stage with enough events per free
    point (no "mostly noise" warning).
    """
    tol = 1e-9
    g = box.granularity if box.granularity > 0 else 1.0
    absolute, relative = caps
    cur = box.current
    cap_lo = np.full_like(cur, -np.inf)
    cap_hi = np.full_like(cur, np.inf)
    if absolute is not None:
        cap_lo, cap_hi = np.maximum(cap_lo, cur - absolute), np.minimum(cap_hi, cur + absolute)
    if relative is not None:
        cap_lo = np.maximum(cap_lo, cur * (1 - relative))
        cap_hi = np.minimum(cap_hi, cur * (1 + relative))
    pinned: list[list[str | None]] = []
    confident: list[list[bool]] = []
    for r in range(cur.shape[0]):
        prow: list[str | None] = []
        crow: list[bool] = []
        for c, stage in enumerate(box.stages):
            lo, hi, v = box.lo[r, c], box.hi[r, c], suggested[r, c]
            why: str | None = None
            if hi - lo <= tol:
                why = "frozen"
            elif v <= lo + tol:
                why = "max_change" if cap_lo[r, c] > 0 and lo >= cap_lo[r, c] - g else "bound"
            elif v >= hi - tol:
                why = (
                    "max_change"
                    if hi <= cap_hi[r, c] + g and np.isfinite(cap_hi[r, c])
                    else "bound"
                )
            width = high[r, c] - low[r, c]
            tight = bool(np.isfinite(width) and width <= 2 * g + tol)
            prow.append(why)
            crow.append(why is None and tight and stage not in warned_stages)
        pinned.append(prow)
        confident.append(crow)
    return pinned, confident


def points_table(
    framework: Any,
    box: Box,
    suggested: FloatArray,
    continuous: FloatArray,
    low: FloatArray,
    high: FloatArray,
    pinned: list[list[str | None]],
    confident: list[list[bool]],
) -> pd.DataFrame:
    """One row per core indicator and stage, with interval, pinned reason and confidence mark."""
    rows = []
    for r, ident in enumerate(box.ids):
        ind = framework.indicator(ident)
        for c, stage in enumerate(box.stages):
            rows.append(
                {
                    "indicator": ident,
                    "name_zh": ind.name.zh,
                    "name_en": ind.name.en,
                    "group": ind.group,
                    "stage": stage,
                    "current": box.current[r, c],
                    "suggested": suggested[r, c],
                    "continuous": continuous[r, c],
                    "low": low[r, c],
                    "high": high[r, c],
                    "change": suggested[r, c] - box.current[r, c],
                    "pinned": pinned[r][c],
                    "confident": confident[r][c],
                }
            )
    return pd.DataFrame(rows)


def metric_record(values: dict[str, float]) -> dict[str, Any]:
    """Metrics for YAML: the headline keys, rounded, NaN as null."""
    keys = (
        "n",
        "events",
        metrics.AUC_WITHIN_GROUP,
        metrics.AUC_POOLED,
        "prec_top5",
        "prec_top10",
        "prec_top20",
    )
    return {
        k: num(round(values[k], 6)) if k in values and not math.isnan(values[k]) else None
        for k in keys
    }


def years_of(years: npt.NDArray[np.int64], mask: npt.NDArray[np.bool_]) -> list[int]:
    return sorted({int(v) for v in years[mask]})
