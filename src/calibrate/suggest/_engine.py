"""``suggest``: from today's framework to an edit path and a suggested framework, with evidence.

Order of work (every step inside the training rows; held-out rows only measure):

1. labels for the target, oriented so 1 is the good outcome (:func:`calibrate.outcomes.resolve_target`);
2. the direction diagnosis of every core indicator (:mod:`._directions`);
3. the edit path (:mod:`._path`): re-weight, then reverse, re-shape, add or drop indicators while
   cross-validation inside the training years says each edit helps by more than its noise;
4. for every step, points fitted on all training rows and rounded to the grid; the last step's
   points also get the objective's search (cross-validated) and bootstrap intervals over firms;
5. every step scored by the real scorer: training and held-out metrics, firms changing list.
"""

from __future__ import annotations

import platform
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate import metrics
from calibrate.constraints import Box, ConstraintSet, round_to_grid
from calibrate.data import fingerprint
from calibrate.exceptions import ConstraintError, DataContractError, Problem
from calibrate.framework import Framework
from calibrate.outcomes import make_labels, resolve_target
from calibrate.scoring import ScoreResult, score
from calibrate.suggest import _evidence as ev
from calibrate.suggest._design import N_FOLDS, SEARCH_ROWS, Design, Structure, raw_values
from calibrate.suggest._directions import Direction, diagnose, to_records
from calibrate.suggest._moves import DropIndicator, edit_indicator
from calibrate.suggest._path import Step, proposable_columns, search_path
from calibrate.suggest._result import Suggestion
from calibrate.suggest._solver import fit_search, metric_values

FloatArray = npt.NDArray[np.float64]
Objective = Literal["loglik", "auc", "top5", "top10", "top20"]
OBJECTIVES: tuple[str, ...] = ("loglik", "auc", "top5", "top10", "top20")
MSG_MAX_EDITS = "--max-edits must be at least 1 (one edit: the re-weighting), found {found}"
MSG_CONSTANT_COLUMN = (
    "column {column!r} proposed as an indicator has a single value ({value}) in the training "
    "rows; it cannot rank firms — leave it out of --candidate-columns"
)
MSG_UNKNOWN_COLUMN = "column {column!r} proposed as an indicator is not in the enterprise table"
MSG_TOPK_KEPT = (
    "objective {objective}: the search did not beat the loglik points on {objective} precision in "
    "cross-validation inside the training years ({searched:.4f} vs {loglik:.4f}); the loglik "
    "points are kept"
)
MSG_WRONG_SIGN = (
    "indicator {ident}: the outcome points the other way (sign probability {p:.2f}, conditional "
    "coefficient {c:+.3f}); its points are pinned at the lower bound by the fit{action}"
)


def suggest(
    framework: Framework,
    data: pd.DataFrame,
    events: pd.DataFrame,
    target: str,
    horizon: int = 1,
    *,
    constraints: ConstraintSet | None = None,
    objective: Objective = "loglik",
    train_years: Sequence[int] | None = None,
    test_years: Sequence[int] | None = None,
    n_bootstrap: int = 200,
    n_trials: int = 400,
    bootstrap_trials: int = 64,
    seed: int = 0,
    progress: bool = True,
    base_scores: ScoreResult | None = None,
    direction: Literal["higher", "lower"] | None = None,
    split_column: str | None = None,
    max_edits: int = 8,
    candidate_columns: Sequence[str] | None = None,
    storage: str | None = None,
    study_name: str | None = None,
    holdout: Literal["year", "park"] = "year",
) -> Suggestion:
    """Suggest policy edits to ``framework`` that make its ranking predict ``target``.

    Parameters
    ----------
    framework : Framework
        Today's framework; any valid framework (one stage or five, any ranking group).
    data : pandas.DataFrame
        Enterprise-year table (validated, e.g. ``load_enterprises(...).frame``).
    events : pandas.DataFrame
        Long events table ``enterprise_id, year, event``.
    target : str
        Event name. Its direction (good or bad) and population come from
        :func:`calibrate.outcomes.resolve_target`; an unknown event needs ``direction``.
    horizon : int
        Label = the event happens within ``horizon`` years after the data year.
    constraints : ConstraintSet, optional
        Bounds, cap on change, granularity, group limits and the moves allowed
        (default ``points, direction, shape``).
    objective : {"loglik", "auc", "top5", "top10", "top20"}
        ``loglik`` is solved exactly; the others are searched from the loglik optimum and kept
        only if they beat it in cross-validation inside the training years.
    train_years, test_years : sequence of int, optional
        Default: the last labelled year is held out, all earlier labelled years train.
    split_column : str, optional
        A column of ``train`` / ``test`` choosing the rows instead of years (cross-sectional
        data need no invented year).
    n_bootstrap : int
        Bootstrap samples of firms for the intervals (0 = none).
    n_trials, bootstrap_trials : int
        Optuna candidates for non-smooth objectives (full fit, each bootstrap fit).
    max_edits : int
        Longest edit path (the re-weighting counts as one edit).
    candidate_columns : sequence of str, optional
        Data columns that may become indicators (with ``indicators`` among the moves); default:
        every numeric column no rule reads, except keys, flags and event names.
    storage, study_name : str, optional
        A shared Optuna storage (e.g. ``postgresql+psycopg://…``) and study for the search of a
        non-smooth objective: several processes add trials to one study; a rerun resumes it.
    holdout : {"year", "park"}
        Evidence is always on held-out years (or split rows). With several parks the path also
        reports every step with points re-fitted *without* each park and measured on that park's
        held-out rows (``park_held_out_*`` columns); ``"park"`` requires that (≥ 2 parks).
    seed : int
        Same inputs and seed → the same suggestion, byte for byte.

    Returns
    -------
    Suggestion
    """
    from threadpoolctl import threadpool_limits

    # The solvers multiply small matrices (rows × ~30 columns); multi-threaded BLAS spends more on
    # thread hand-offs than on arithmetic there (measured: 9 ms vs 1.1 ms per Hessian).
    with threadpool_limits(limits=1, user_api="blas"):
        return _suggest(
            framework, data, events, target, horizon, constraints, objective, train_years,
            test_years, n_bootstrap, n_trials, bootstrap_trials, seed, progress, base_scores,
            direction, split_column, max_edits, candidate_columns, storage, study_name, holdout,
        )  # fmt: skip


def _suggest(
    framework: Framework,
    data: pd.DataFrame,
    events: pd.DataFrame,
    target: str,
    horizon: int,
    constraints: ConstraintSet | None,
    objective: str,
    train_years: Sequence[int] | None,
    test_years: Sequence[int] | None,
    n_bootstrap: int,
    n_trials: int,
    bootstrap_trials: int,
    seed: int,
    progress: bool,
    base_scores: ScoreResult | None,
    direction: str | None,
    split_column: str | None,
    max_edits: int,
    candidate_columns: Sequence[str] | None,
    storage: str | None,
    study_name: str | None,
    holdout: str,
) -> Suggestion:
    """The body of :func:`suggest`, run with one BLAS thread. Its parameters are suggest's own,
    in order (one per command-line option); the steps are the module docstring's, each a
    function of its own here."""
    constraints = _check_args(framework, constraints, objective, max_edits)
    tgt = resolve_target(target, direction)
    say = _say(progress)
    scores = base_scores if base_scores is not None else score(framework, data)
    labels = make_labels(data, events, target, horizon, rule=tgt)
    labelled = labels.labelled_mask
    y_all = np.where(labelled, tgt.oriented(labels.frame["label"].fillna(0).to_numpy()), 0.0)
    years = data["year"].to_numpy(dtype=np.int64)
    train_mask, test_mask = _masks(
        data, scores, labelled, years, train_years, test_years, split_column
    )
    train = tuple(ev.years_of(years, train_mask))
    test = tuple(ev.years_of(years, test_mask))

    design = Design.build(data, scores, constraints, y_all, train_mask, seed, SEARCH_ROWS)
    full = Design.build(data, scores, constraints, y_all, train_mask, seed, None)
    start = Structure(framework)
    say("diagnosing directions")
    directions = diagnose(design, start, n_bootstrap, seed)
    columns = _columns(data, framework, events, tgt, constraints, candidate_columns, full)
    steps = _path(design, start, directions, columns, constraints, max_edits, seed, say)

    fitted = [_fit_step(full, s.structure, seed) for s in steps]
    final = steps[-1].structure
    box = full.box(final)
    continuous = fitted[-1][1]
    warnings, warned = ev.data_warnings(box, _parts(full, box), target, str(tgt.direction))
    solver = "convex-logit"
    if objective != "loglik":
        continuous, solver, note = _objective(
            full, final, box, continuous, objective, n_trials, seed, storage, study_name
        )
        warnings += note
    suggested = _rounded(box, continuous)
    violations = box.violations(suggested)
    if violations:  # defensive: rounding guarantees these; never write a table that breaks them
        raise ConstraintError(f"suggestion for {framework.id}", violations)
    draws = _bootstrap(
        full, final, box, continuous, objective, n_bootstrap, bootstrap_trials, seed, progress
    )
    frameworks = [
        _materialize(s.structure, _rounded(full.box(s.structure), f[1]))
        for s, f in zip(steps[:-1], fitted[:-1], strict=True)
    ]
    frameworks.append(_materialize(final, suggested))
    frameworks[0] = framework

    say("scoring every step")
    step_scores = [scores] + [score(fw, data) for fw in frameworks[1:]]
    path = _path_table(steps, frameworks, step_scores, y_all, train_mask, test_mask, years)
    by_park = _by_park(design, steps, data, scores, y_all, test_mask, holdout)
    if by_park is not None:
        path = path.join(by_park, on="step")
    low, high = _interval(draws, suggested)
    pinned, confident = ev.pinned_and_confident(
        box,
        suggested,
        low,
        high,
        (constraints.max_change_absolute, constraints.max_change_relative),
        warned,
    )
    points = ev.points_table(
        frameworks[-1] if not final.dropped else final.framework,
        box,
        suggested,
        continuous,
        low,
        high,
        pinned,
        confident,
    )
    actions = _direction_actions(steps, constraints)
    warnings += _sign_warnings(directions, actions)
    metrics_rows, by_year = ev.held_out(y_all, scores, step_scores[-1], test_mask, years, test)
    block = _block(
        framework, tgt, objective, solver, horizon, constraints, data, events, labels, train, test,
        seed, n_bootstrap, warnings, points, metrics_rows, path, steps, frameworks, directions, actions,
    )  # fmt: skip
    suggested_fw = replace(
        frameworks[-1],
        id=f"{framework.id}+{target}",
        version=f"{framework.version}-suggested",
        calibration=block,
    )
    suggested_fw = suggested_fw._rebuild()
    return Suggestion(
        base=framework,
        framework=suggested_fw,
        points=points,
        metrics=metrics_rows,
        metrics_by_year=by_year,
        objective=objective,
        solver=solver,
        target=target,
        direction=str(tgt.direction),
        horizon=horizon,
        constraints=constraints,
        train_years=train,
        test_years=test,
        n_bootstrap=n_bootstrap,
        seed=seed,
        data_fingerprint=block["data_fingerprint"],
        label_counts=labels.to_dict()["counts"],
        train_mask=train_mask,
        test_mask=test_mask,
        outcome=y_all,
        warnings=warnings,
        bootstrap_draws=_draws_long(draws, box),
        path=path,
        directions=pd.DataFrame(to_records(directions, actions)),
        steps=tuple(frameworks),
    )


# --- arguments and rows --------------------------------------------------------------------


def _check_args(
    framework: Framework, constraints: ConstraintSet | None, objective: str, max_edits: int
) -> ConstraintSet:
    if objective not in OBJECTIVES:
        raise ConstraintError(
            "objective",
            [
                Problem(
                    "objective",
                    f"unknown objective {objective!r}; choose one of {', '.join(OBJECTIVES)}",
                )
            ],
        )
    if isinstance(max_edits, bool) or not isinstance(max_edits, int) or max_edits < 1:
        raise ConstraintError(
            "max_edits", [Problem("--max-edits", MSG_MAX_EDITS.format(found=max_edits))]
        )
    constraints = constraints or ConstraintSet()
    constraints.check_ids(framework)
    return constraints


def _say(progress: bool) -> Callable[[str], None]:
    if not progress:
        return lambda _msg: None
    import sys

    return lambda msg: print(msg, file=sys.stderr)


def _masks(
    data: pd.DataFrame,
    scores: ScoreResult,
    labelled: npt.NDArray[np.bool_],
    years: npt.NDArray[np.int64],
    train_years: Sequence[int] | None,
    test_years: Sequence[int] | None,
    split_column: str | None,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    ranked = ~scores.frame["vetoed"].to_numpy(dtype=bool)
    if split_column is not None:
        train_mask, test_mask = ev.split_from_column(data, split_column, labelled)
        train_mask, test_mask = train_mask & ranked, test_mask & ranked
    else:
        train, test = ev.split_years(years, labelled, train_years, test_years)
        train_mask = labelled & ranked & np.isin(years, train)
        test_mask = labelled & ranked & np.isin(years, test)
    for name, mask in (("training", train_mask), ("held-out", test_mask)):
        if not mask.any():
            raise DataContractError(
                "labels", [Problem("split", f"no labelled, ranked firm-year in the {name} rows")]
            )
    return train_mask, test_mask


def _columns(
    data: pd.DataFrame,
    framework: Framework,
    events: pd.DataFrame,
    tgt: Any,
    constraints: ConstraintSet,
    given: Sequence[str] | None,
    full: Design,
) -> list[str]:
    if not constraints.allows("indicators"):
        return []
    if given is None:
        exclude = {str(e) for e in pd.unique(events["event"])} | {
            p.flag_column for p in tgt.populations if p.flag_column
        }
        return proposable_columns(data, framework, exclude)
    problems = []
    for col in given:
        if col not in data.columns:
            problems.append(
                Problem(f"--candidate-columns {col}", MSG_UNKNOWN_COLUMN.format(column=col))
            )
            continue
        x = raw_values(data, col)[full.rows]
        values = np.unique(x[np.isfinite(x)])
        if values.size < 2:
            shown = f"{values[0]:g}" if values.size else "all missing"
            problems.append(
                Problem(
                    f"--candidate-columns {col}",
                    MSG_CONSTANT_COLUMN.format(column=col, value=shown),
                )
            )
    if problems:
        raise DataContractError("candidate columns", problems)
    return list(given)


def _path(
    design: Design,
    start: Structure,
    directions: list[Direction],
    columns: list[str],
    constraints: ConstraintSet,
    max_edits: int,
    seed: int,
    say: Callable[[str], None],
) -> list[Step]:
    structural = any(constraints.allows(m) for m in ("direction", "shape", "indicators"))
    if structural:
        return search_path(
            design, start, {d.indicator: d for d in directions}, columns,
            max_edits=max_edits, seed=seed, progress=say,
        )  # fmt: skip
    return [Step(0, "start", start), Step(1, "points", start)]


# --- points of a structure ----------------------------------------------------------------


def _fit_step(full: Design, structure: Structure, seed: int) -> tuple[Box, FloatArray]:
    """Continuous loglik points of a structure on every training row."""
    from threadpoolctl import threadpool_limits

    box = full.box(structure)
    with threadpool_limits(limits=1, user_api="blas"):
        points, _, _ = full.fit(full.matrix(structure), box, np.ones(full.rows.size))
    return box, points + 0.0


def _rounded(box: Box, points: FloatArray) -> FloatArray:
    out = np.empty_like(points)
    for c in range(points.shape[1]):
        out[:, c] = round_to_grid(
            points[:, c], box.lo[:, c], box.hi[:, c], box.budget, box.granularity, box.groups
        )
    return out + 0.0  # no negative zeros in tables


def _parts(full: Design, box: Box) -> list[tuple[list[int], FloatArray]]:
    return [(cset, full.y[np.isin(full.stage, cset)]) for cset in full.stage_sets(box)]


def _materialize(structure: Structure, points: FloatArray) -> Framework:
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


def _objective(
    full: Design,
    structure: Structure,
    box: Box,
    loglik: FloatArray,
    objective: str,
    n_trials: int,
    seed: int,
    storage: str | None,
    study_name: str | None,
) -> tuple[FloatArray, str, tuple[str, ...]]:
    """Search a non-smooth objective; keep it only if it beats loglik out of fold."""
    F = full.matrix(structure)
    searched_cv, loglik_cv = 0.0, 0.0
    for k in range(N_FOLDS):
        held = full.fold == k
        weight = (~held).astype(np.float64)
        w_ll, _, _ = full.fit(F, box, weight)
        w_s = _search(
            full, F, box, w_ll, objective, max(32, n_trials // 2), seed + k, ~held, None, None
        )
        for w, acc in ((w_s, "s"), (w_ll, "l")):
            value = _objective_value(full, F, box, w, objective, held)
            if acc == "s":
                searched_cv += value
            else:
                loglik_cv += value
    if searched_cv < loglik_cv:
        note = MSG_TOPK_KEPT.format(
            objective=objective, searched=searched_cv / N_FOLDS, loglik=loglik_cv / N_FOLDS
        )
        return loglik, "convex-logit (search not better in cross-validation)", (note,)
    rows = np.ones(full.rows.size, dtype=bool)
    points = _search(full, F, box, loglik, objective, n_trials, seed, rows, storage, study_name)
    return points, "optuna-tpe (from loglik, cross-validated)", ()


def _search(
    full: Design,
    F: FloatArray,
    box: Box,
    start: FloatArray,
    objective: str,
    trials: int,
    seed: int,
    rows: npt.NDArray[np.bool_],
    storage: str | None,
    study_name: str | None,
) -> FloatArray:
    out = start.copy()
    for p_i, cset in enumerate(full.stage_sets(box)):
        idx = np.flatnonzero(np.isin(full.stage, cset) & rows)
        c0 = cset[0]
        today = np.clip(box.current[:, c0], box.lo[:, c0], box.hi[:, c0])
        w = fit_search(
            objective, F[idx], full.fixed[idx], full.y[idx], full.group[idx], [start[:, c0], today],
            box.lo[:, c0], box.hi[:, c0], box.budget, box.groups, trials, seed + p_i,
            storage=storage, study_name=f"{study_name}-{p_i}" if study_name else None,
        )  # fmt: skip
        for c in cset:
            out[:, c] = w
    return out


def _objective_value(
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


def _bootstrap(
    full: Design,
    structure: Structure,
    box: Box,
    continuous: FloatArray,
    objective: str,
    n_bootstrap: int,
    trials: int,
    seed: int,
    progress: bool,
) -> FloatArray:
    """Rounded points refitted on bootstrap samples of firms (all years of a firm together)."""
    from threadpoolctl import threadpool_limits

    F = full.matrix(structure)
    parts = full.slice(F, box)
    draws = np.empty((n_bootstrap, *continuous.shape))
    rng = np.random.default_rng(seed)
    codes, uniq = pd.factorize(full.firm)
    iterator: Any = range(n_bootstrap)
    if progress and n_bootstrap:
        from tqdm.auto import tqdm

        iterator = tqdm(iterator, desc="bootstrap", unit="sample")
    _, _, states = full.fit(parts, box, np.ones(full.rows.size))
    with threadpool_limits(limits=1, user_api="blas"):
        for b in iterator:
            counts = np.bincount(rng.integers(0, uniq.size, uniq.size), minlength=uniq.size)
            weight = counts[codes].astype(np.float64)
            points, _, _ = full.fit(parts, box, weight, states)
            if objective != "loglik":
                rows = weight > 0
                rep = np.repeat(np.arange(full.rows.size), counts[codes])
                sub = replace(
                    full,
                    rows=full.rows[rep],
                    y=full.y[rep],
                    fixed=full.fixed[rep],
                    stage=full.stage[rep],
                    group=full.group[rep],
                    firm=full.firm[rep],
                    fold=full.fold[rep],
                )
                points = _search(
                    sub,
                    F[rep],
                    box,
                    points,
                    objective,
                    trials,
                    seed + 1 + b,
                    np.ones(rep.size, dtype=bool),
                    None,
                    None,
                )
                del rows
            draws[b] = _rounded(box, points)
    return draws


def _interval(draws: FloatArray, suggested: FloatArray) -> tuple[FloatArray, FloatArray]:
    if draws.shape[0] == 0:
        nan = np.full_like(suggested, np.nan)
        return nan, nan.copy()
    low = np.quantile(draws, ev.INTERVAL[0], axis=0, method="inverted_cdf") + 0.0
    high = np.quantile(draws, ev.INTERVAL[1], axis=0, method="inverted_cdf") + 0.0
    return low, high


def _draws_long(draws: FloatArray, box: Box) -> pd.DataFrame:
    n_draws, n_ind, n_st = draws.shape
    return pd.DataFrame(
        {
            "draw": np.repeat(np.arange(n_draws), n_ind * n_st),
            "indicator": np.tile(np.repeat(box.ids, n_st), n_draws),
            "stage": np.tile(np.array(box.stages * n_ind), n_draws),
            "points": draws.reshape(-1),
        }
    )


# --- the path's evidence -------------------------------------------------------------------

MSG_ONE_PARK = (
    "--holdout park needs at least two parks in the held-out rows; found {found}; "
    "use --holdout year"
)


def _by_park(
    design: Design,
    steps: list[Step],
    data: pd.DataFrame,
    scores: ScoreResult,
    y: FloatArray,
    test_mask: npt.NDArray[np.bool_],
    holdout: str,
) -> pd.DataFrame | None:
    """Each step with points fitted without a park, measured on that park's held-out rows.

    Within-group AUC compares firms of one ranking group only, so the held-out totals of every
    park (each from points fitted without it) pool into one figure per step. The edits
    themselves were chosen on all parks' training rows.
    """
    parks = data["park"].astype("string").to_numpy() if "park" in data.columns else None
    found = 0 if parks is None else len(set(parks[test_mask]))
    if found < 2:
        if holdout == "park":
            raise ConstraintError(
                "holdout", [Problem("--holdout", MSG_ONE_PARK.format(found=found))]
            )
        return None
    assert parks is not None
    train_parks = parks[design.rows]
    rows = []
    for s in steps:
        box = design.box(s.structure)
        F = design.slice(design.matrix(s.structure), box)
        _, _, warm = design.fit(F, box, np.ones(design.rows.size))
        total = np.full(len(data), np.nan)
        for park in sorted(set(parks[test_mask])):
            weight = (train_parks != park).astype(np.float64)
            if s.kind == "start":
                fw = s.structure.framework
            else:
                points, _, _ = design.fit(F, box, weight, warm)
                fw = _materialize(s.structure, _rounded(box, points))
            here = test_mask & (parks == park)
            total[here] = score(fw, data.loc[here]).frame["total"].to_numpy(dtype=np.float64)
        values = ev.evaluate_ranking(y[test_mask], total[test_mask], scores.group_code[test_mask])
        rows.append(
            {
                "step": s.step,
                "park_held_out_auc_within_group": values[metrics.AUC_WITHIN_GROUP],
                "park_held_out_prec_top10": values["prec_top10"],
            }
        )
    return pd.DataFrame(rows).set_index("step")


def _path_table(
    steps: list[Step],
    frameworks: list[Framework],
    step_scores: list[ScoreResult],
    y: FloatArray,
    train_mask: npt.NDArray[np.bool_],
    test_mask: npt.NDArray[np.bool_],
    years: npt.NDArray[np.int64],
) -> pd.DataFrame:
    latest = int(years.max())
    in_year = years == latest
    rows = []
    prev_tier: Any = None
    for s, _fw, res in zip(steps, frameworks, step_scores, strict=True):
        tier = res.frame["tier"].astype("string").fillna("").to_numpy()[in_year]
        moved = 0 if prev_tier is None else int(np.count_nonzero(tier != prev_tier))
        prev_tier = tier
        row: dict[str, Any] = {
            "step": s.step,
            "move": s.kind,
            "indicator": edit_indicator(s.edit) if s.edit is not None else None,
            "text_zh": _text(s, frameworks, "zh"),
            "text_en": _text(s, frameworks, "en"),
            "cv_gain": s.cv_gain,
            "cv_se": s.cv_se,
            "chosen_share": s.chosen_share,
            "firms_changing_list": moved,
            "list_year": latest,
        }
        for scope, mask in (("train", train_mask), ("held_out", test_mask)):
            values = ev.evaluate_policy(y[mask], res, mask)
            for key in (metrics.AUC_WITHIN_GROUP, "prec_top10"):
                row[f"{scope}_{key}"] = values[key]
        rows.append(row)
    return pd.DataFrame(rows)


def _text(step: Step, frameworks: list[Framework], lang: str) -> str:
    if step.kind == "start":
        return "现行办法" if lang == "zh" else "today's framework"
    if step.kind == "points":
        return (
            "在约束内重新分配各指标分值"
            if lang == "zh"
            else "re-weight the points within the constraints"
        )
    assert step.edit is not None
    before = frameworks[max(step.step - 1, 0)]
    source = (
        before
        if not hasattr(step.edit, "indicator") or isinstance(step.edit, DropIndicator)
        else frameworks[step.step]
    )
    try:
        return step.edit.text(source, lang)
    except KeyError:
        return step.edit.text(frameworks[step.step], lang)


def _direction_actions(steps: list[Step], constraints: ConstraintSet) -> dict[str, str]:
    out: dict[str, str] = {}
    for s in steps:
        if s.edit is None:
            continue
        ident = edit_indicator(s.edit)
        if s.kind == "direction":
            out[ident] = "reversed"
        elif s.kind == "drop":
            out[ident] = "dropped"
    return out


def _sign_warnings(directions: list[Direction], actions: dict[str, str]) -> tuple[str, ...]:
    out = []
    for d in directions:
        if d.verdict == "reversed" and d.indicator not in actions:
            out.append(
                MSG_WRONG_SIGN.format(
                    ident=d.indicator,
                    p=d.sign_probability,
                    c=d.conditional,
                    action="; no edit passed cross-validation (or the moves do not allow one): review it",
                )  # fmt: skip
            )
    return tuple(out)


def _block(
    framework: Framework, tgt: Any, objective: str, solver: str, horizon: int,
    constraints: ConstraintSet, data: pd.DataFrame, events: pd.DataFrame, labels: Any,
    train: tuple[int, ...], test: tuple[int, ...], seed: int, n_bootstrap: int,
    warnings: tuple[str, ...], points: pd.DataFrame, metrics_rows: pd.DataFrame,
    path: pd.DataFrame, steps: list[Step], frameworks: list[Framework],
    directions: list[Direction], actions: dict[str, str],
) -> dict[str, Any]:  # fmt: skip
    data_fp = fingerprint(data.drop(columns=["source_row"], errors="ignore"))
    events_fp = fingerprint(events.drop(columns=["source_row"], errors="ignore"))
    return {
        "objective": objective,
        "solver": solver,
        "target": tgt.target,
        "direction": tgt.direction,
        "outcome_scored": tgt.outcome_scored,
        "horizon": horizon,
        "base_framework": framework.id,
        "base_fingerprint": framework.fingerprint,
        "data_fingerprint": data_fp,
        "events_fingerprint": events_fp,
        "train_years": list(train),
        "test_years": list(test),
        "held_out_years": list(test),
        "seed": seed,
        "n_bootstrap": n_bootstrap,
        "interval": f"bootstrap over firms, {int(ev.INTERVAL[0] * 100)}th–{int(ev.INTERVAL[1] * 100)}th percentile",
        "constraints": constraints.to_dict(),
        "labels": labels.to_dict()["counts"],
        "warnings": list(warnings),
        "points": [
            {
                "indicator": r.indicator,
                "stage": r.stage,
                "current": ev.num(r.current),
                "suggested": ev.num(r.suggested),
                "low": ev.num(r.low),
                "high": ev.num(r.high),
                "pinned": r.pinned if isinstance(r.pinned, str) else None,
                "confident": bool(r.confident),
            }
            for r in points.itertuples()
        ],
        "held_out": {
            m: {"current": ev.num(row["current"]), "suggested": ev.num(row["suggested"])}
            for m, row in metrics_rows.iterrows()
        },
        "directions": to_records(directions, actions),
        "edits": _edit_records(path, steps, frameworks),
        "bootstrap_draws_file": None,
        "python": platform.python_version(),
    }


def _edit_records(
    path: pd.DataFrame, steps: list[Step], frameworks: list[Framework]
) -> list[dict[str, Any]]:
    out = []
    for row, s in zip(path.to_dict("records"), steps, strict=True):
        fw = frameworks[s.step]
        prev = frameworks[max(s.step - 1, 0)]
        ident = row["indicator"]
        rec: dict[str, Any] = {
            "step": int(row["step"]),
            "move": row["move"],
            "indicator": ident,
            "text_zh": row["text_zh"],
            "text_en": row["text_en"],
            "train": {
                str(k).removeprefix("train_"): ev.num(v)
                for k, v in row.items()
                if str(k).startswith("train_")
            },
            "held_out": {
                str(k).removeprefix("held_out_"): ev.num(v)
                for k, v in row.items()
                if str(k).startswith("held_out_")
            },
            "held_out_without_park": {
                str(k).removeprefix("park_held_out_"): ev.num(v)
                for k, v in row.items()
                if str(k).startswith("park_held_out_")
            }
            or None,
            "cv_gain": ev.num(row["cv_gain"]),
            "cv_se": ev.num(row["cv_se"]),
            "chosen_share": None if row["chosen_share"] is None else ev.num(row["chosen_share"]),
            "firms_changing_list": int(row["firms_changing_list"]),
            "points": {
                i.id: {st: ev.num(v) for st, v in i.points.items()}
                for i in fw.indicators
                if i.id in fw.core_indicator_ids
            },
        }
        if ident is not None:
            rec["before"] = _indicator_doc(prev, ident)
            rec["after"] = _indicator_doc(fw, ident)
        out.append(rec)
    return out


def _indicator_doc(fw: Framework, ident: str) -> dict[str, Any] | None:
    if ident not in fw.indicator_ids:
        return None
    doc = fw.to_dict()
    for pos, ind in enumerate(doc["indicators"]):
        if ind["id"] == ident:
            return {"position": pos, "indicator": ind}
    return None


def _with_points_doc(item: dict[str, Any], new: dict[str, float] | None) -> dict[str, Any]:
    """An indicator's document with other points: a count's cap and a points-valued band table
    keep their meaning (the document form of ``Framework.with_points``' rescaling)."""
    if new is None:
        return item
    old = {s: float(v) for s, v in item["points"].items()}
    rule = dict(item["rule"])

    def scaled(value: Any, s: str) -> float:
        v = float(value[s] if isinstance(value, dict) else value)
        return v * new[s] / old[s] if old.get(s, 0) > 0 and new[s] > 0 else v

    if rule["kind"] == "count":
        per = {s: scaled(rule["per_unit"], s) for s in new}
        rule["per_unit"] = next(iter(per.values())) if len(set(per.values())) == 1 else per
    elif rule["kind"] == "bands" and rule.get("value_is") == "points":
        tables = (
            rule["bands"] if isinstance(rule["bands"], dict) else {s: rule["bands"] for s in new}
        )
        rule["bands"] = {
            s: [
                {
                    "min": b["min"],
                    "value": b["value"] * new[s] / old[s]
                    if old.get(s, 0) > 0 and new[s] > 0
                    else b["value"],
                }
                for b in tables[s]
            ]
            for s in new
        }
    return {**item, "rule": rule, "points": dict(new)}


def apply_edits(suggested: Framework, upto: int) -> Framework:
    """The framework adopting the first ``upto`` edits of a suggestion's path.

    Parameters
    ----------
    suggested : Framework
        A suggested framework (its ``calibration.edits`` hold every step's rule changes and
        points).
    upto : int
        0 = today's framework, ``len(edits) - 1`` = the suggestion itself.
    """
    cal = dict(suggested.calibration or {})
    edits = list(cal.get("edits") or [])
    if not edits:
        raise ConstraintError(
            suggested.id,
            [
                Problem(
                    "calibration.edits",
                    "this framework carries no edit path; use a file written by calibrate suggest",
                )
            ],
        )
    last = len(edits) - 1
    if isinstance(upto, bool) or not isinstance(upto, int) or not 0 <= upto <= last:
        raise ConstraintError(
            suggested.id, [Problem("--upto", f"choose a step from 0 to {last}, found {upto!r}")]
        )
    doc = suggested.to_dict()
    inds = list(doc["indicators"])
    for rec in reversed(edits[upto + 1 :]):
        ident = rec.get("indicator")
        if ident is None:
            continue
        inds = [i for i in inds if i["id"] != ident]
        before = rec.get("before")
        if before is not None:
            inds.insert(min(int(before["position"]), len(inds)), dict(before["indicator"]))
    table = edits[upto]["points"]
    doc["indicators"] = [_with_points_doc(ind, table.get(ind["id"])) for ind in inds]
    doc["calibration"] = {**cal, "applied_upto": upto}
    if upto == 0:
        doc["id"], doc["version"] = (
            cal.get("base_framework", doc["id"]),
            str(doc["version"]).removesuffix("-suggested"),
        )
        doc.pop("calibration")
    return Framework.from_document(doc, f"{suggested.id} (edits up to {upto})")
