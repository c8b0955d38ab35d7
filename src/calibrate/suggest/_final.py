"""Points of a structure: the fit on every training row, rounding, the objective's search
(kept only when cross-validation inside the training years says it is better), the bootstrap
over firms, and the framework a structure and its points make."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.constraints import Box, round_to_grid
from calibrate.framework import Framework
from calibrate.suggest import _evidence as ev
from calibrate.suggest._design import N_FOLDS, Design, Structure
from calibrate.suggest._solver import fit_search, metric_values

FloatArray = npt.NDArray[np.float64]
MSG_TOPK_KEPT = (
    "objective {objective}: the search did not beat the loglik points on {objective} in every fold "
    "of the cross-validation inside the training years (mean {searched:.4f} vs {loglik:.4f}); the "
    "loglik points are kept"
)


class SearchSpec(NamedTuple):
    """How to search a non-smooth objective: which, how many trials, seed, shared study."""

    objective: str
    trials: int
    seed: int
    storage: str | None = None
    study_name: str | None = None


def fit_step(full: Design, structure: Structure, seed: int) -> tuple[Box, FloatArray]:
    """Continuous loglik points of a structure on every training row."""
    from threadpoolctl import threadpool_limits

    box = full.box(structure)
    with threadpool_limits(limits=1, user_api="blas"):
        points, _, _ = full.fit(full.matrix(structure), box, np.ones(full.rows.size))
    return box, points + 0.0


def rounded(box: Box, points: FloatArray) -> FloatArray:
    out = np.empty_like(points)
    for c in range(points.shape[1]):
        out[:, c] = round_to_grid(
            points[:, c], box.lo[:, c], box.hi[:, c], box.budget, box.granularity, box.groups
        )
    return out + 0.0  # no negative zeros in tables


def stage_parts(full: Design, box: Box) -> list[tuple[list[int], FloatArray]]:
    return [(cset, full.y[np.isin(full.stage, cset)]) for cset in full.stage_sets(box)]


def materialize(structure: Structure, points: FloatArray) -> Framework:
    """The framework of a structure with these points (dropped indicators removed)."""
    fw = structure.framework
    ids = structure.core_ids
    table = {
        ident: {s: float(points[r, c]) for c, s in enumerate(fw.stage_ids)}
        for r, ident in enumerate(ids)
    }
    out = fw.with_points(table)
    if structure.dropped:
        out = out.drop(structure.dropped, renormalise=False)
    return out


def fit_objective(
    full: Design, structure: Structure, box: Box, loglik: FloatArray, spec: SearchSpec
) -> tuple[FloatArray, str, tuple[str, ...]]:
    """Search a non-smooth objective; keep it only if it beats loglik out of fold."""
    F = full.matrix(structure)
    searched, loglik_cv = np.zeros(N_FOLDS), np.zeros(N_FOLDS)
    for k in range(N_FOLDS):
        held = full.fold == k
        weight = (~held).astype(np.float64)
        w_ll, _, _ = full.fit(F, box, weight)
        inner = SearchSpec(spec.objective, max(32, spec.trials // 2), spec.seed + k)
        w_s = search(full, F, box, w_ll, ~held, inner)
        searched[k] = objective_value(full, F, box, w_s, spec.objective, held)
        loglik_cv[k] = objective_value(full, F, box, w_ll, spec.objective, held)
    # adopt the search only when it is better in every fold and in total: a tie (precision
    # saturated at 1, say) or a gain in one fold is noise, and the loglik points are kept
    better = bool(np.all(searched >= loglik_cv) and searched.sum() > loglik_cv.sum())
    # a shared study gets this process's trials either way (workers pool their search)
    points = (
        search(full, F, box, loglik, np.ones(full.rows.size, dtype=bool), spec)
        if better or spec.storage is not None
        else loglik
    )
    if not better:
        note = MSG_TOPK_KEPT.format(
            objective=spec.objective, searched=searched.mean(), loglik=loglik_cv.mean()
        )
        return loglik, "convex-logit (search not better in cross-validation)", (note,)
    return points, "optuna-tpe (from loglik, cross-validated)", ()


def search(
    full: Design,
    F: FloatArray,
    box: Box,
    start: FloatArray,
    rows: npt.NDArray[np.bool_],
    spec: SearchSpec,
) -> FloatArray:
    """The objective searched per stage set on ``rows``, from ``start`` and today's points."""
    out = start.copy()
    for p_i, cset in enumerate(full.stage_sets(box)):
        idx = np.flatnonzero(np.isin(full.stage, cset) & rows)
        c0 = cset[0]
        today = np.clip(box.current[:, c0], box.lo[:, c0], box.hi[:, c0])
        w = fit_search(
            spec.objective, F[idx], full.fixed[idx], full.y[idx], full.group[idx],
            [start[:, c0], today], box.lo[:, c0], box.hi[:, c0], box.budget, box.groups,
            spec.trials, spec.seed + p_i, storage=spec.storage,
            study_name=f"{spec.study_name}.stage{p_i}" if spec.study_name else None,
        )  # fmt: skip
        for c in cset:
            out[:, c] = w
    return out


def objective_value(
    full: Design,
    F: FloatArray,
    box: Box,
    points: FloatArray,
    objective: str,
    rows: npt.NDArray[np.bool_],
) -> float:
    total = np.empty(full.rows.size)
    for c in range(points.shape[1]):
        m = full.stage == c
        total[m] = F[m] @ points[:, c] + full.fixed[m]
    idx = np.flatnonzero(rows)
    if full.y[idx].min() == full.y[idx].max():
        return 0.0
    value = metric_values(objective, full.y[idx], total[idx][:, None], full.group[idx])
    return float(np.nan_to_num(value[0], nan=0.0))


#: Threads refitting bootstrap samples (numpy and the QP release the GIL on the heavy work).
#: Samples are drawn up front in order, so the draws are the same whatever this number is.
BOOTSTRAP_THREADS = 2


def bootstrap(
    full: Design,
    structure: Structure,
    box: Box,
    n_bootstrap: int,
    spec: SearchSpec,
    progress: bool,
) -> FloatArray:
    """Rounded points refitted on bootstrap samples of firms (all years of a firm together)."""
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    from calibrate.progress import progress as report

    F = full.matrix(structure)
    parts = full.slice(F, box)
    rng = np.random.default_rng(spec.seed)
    codes, uniq = pd.factorize(full.firm)
    samples = [
        np.bincount(rng.integers(0, uniq.size, uniq.size), minlength=uniq.size)
        for _ in range(n_bootstrap)
    ]
    _, _, states = full.fit(parts, box, np.ones(full.rows.size))
    full.part_codes(box)  # fill the shared caches before threads read them

    def one(b: int) -> FloatArray:
        counts = samples[b]
        points, _, _ = full.fit(parts, box, counts[codes].astype(np.float64), states, predict=False)
        if spec.objective != "loglik":
            points = _search_resampled(full, F, box, points, counts[codes], spec, b)
        return rounded(box, points)

    draws = np.empty((n_bootstrap, *box.current.shape))
    bar: Any = report(total=n_bootstrap, desc="bootstrap", unit="sample", enabled=progress)
    threads = BOOTSTRAP_THREADS if spec.objective == "loglik" else 1  # Optuna: one at a time
    with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
        for b, points in enumerate(pool.map(one, range(n_bootstrap))):
            draws[b] = points
            bar.update()
    bar.close()
    return draws


def _search_resampled(
    full: Design,
    F: FloatArray,
    box: Box,
    points: FloatArray,
    repeats: npt.NDArray[np.int64],
    spec: SearchSpec,
    b: int,
) -> FloatArray:
    """The objective's search on a bootstrap sample, rows repeated as drawn."""
    rep = np.repeat(np.arange(full.rows.size), repeats)
    sub = replace(
        full,
        rows=full.rows[rep],
        y=full.y[rep],
        fixed=full.fixed[rep],
        stage=full.stage[rep],
        group=full.group[rep],
        firm=full.firm[rep],
        fold=full.fold[rep],
        _stage_rows={},  # row positions of the original rows: not these
        _firm_codes=None,
    )
    each = SearchSpec(spec.objective, spec.trials, spec.seed + 1 + b)
    return search(sub, F[rep], box, points, np.ones(rep.size, dtype=bool), each)


def interval(draws: FloatArray, suggested: FloatArray) -> tuple[FloatArray, FloatArray]:
    if draws.shape[0] == 0:
        nan = np.full_like(suggested, np.nan)
        return nan, nan.copy()
    low = np.quantile(draws, ev.INTERVAL[0], axis=0, method="inverted_cdf") + 0.0
    high = np.quantile(draws, ev.INTERVAL[1], axis=0, method="inverted_cdf") + 0.0
    return low, high


def draws_long(draws: FloatArray, box: Box) -> pd.DataFrame:
    n_draws, n_ind, n_st = draws.shape
    return pd.DataFrame(
        {
            "draw": np.repeat(np.arange(n_draws), n_ind * n_st),
            "indicator": np.tile(np.repeat(box.ids, n_st), n_draws),
            "stage": np.tile(np.array(box.stages * n_ind), n_draws),
            "points": draws.reshape(-1),
        }
    )
