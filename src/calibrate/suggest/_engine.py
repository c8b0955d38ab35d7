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

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.constraints import ConstraintSet
from calibrate.exceptions import ConstraintError, DataContractError, Problem
from calibrate.framework import Framework
from calibrate.outcomes import make_labels, resolve_target
from calibrate.scoring import ScoreResult, score
from calibrate.suggest import _evidence as ev
from calibrate.suggest import _final as fin
from calibrate.suggest import _record as rec
from calibrate.suggest._design import SEARCH_ROWS, Design, Structure, raw_values
from calibrate.suggest._directions import Direction, diagnose, to_records
from calibrate.suggest._path import Step, proposable_columns, search_path
from calibrate.suggest._result import Suggestion

FloatArray = npt.NDArray[np.float64]
Objective = Literal["loglik", "auc", "top5", "top10", "top20"]
OBJECTIVES: tuple[str, ...] = ("loglik", "auc", "top5", "top10", "top20")
MSG_MAX_EDITS = "--max-edits must be at least 1 (one edit: the re-weighting), found {found}"
MSG_CONSTANT_COLUMN = (
    "column {column!r} proposed as an indicator has a single value ({value}) in the training "
    "rows; it cannot rank firms — leave it out of --candidate-columns"
)
MSG_TEXT_COLUMN = (
    "column {column!r} proposed as an indicator holds text ({values}), not numbers; an indicator "
    "needs a numeric column — leave it out of --candidate-columns or convert it"
)
MSG_UNKNOWN_COLUMN = "column {column!r} proposed as an indicator is not in the enterprise table"


def suggest(  # noqa: PLR0913 - public entry: keyword options mirror the suggest command
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
    req = Request(
        target, horizon, _check_args(framework, constraints, objective, max_edits), objective,
        train_years, test_years, split_column, n_bootstrap, n_trials, bootstrap_trials, seed,
        progress, direction, max_edits, candidate_columns, storage, study_name, holdout,
    )  # fmt: skip
    with threadpool_limits(limits=1, user_api="blas"):
        return _suggest(framework, data, events, req, base_scores)


@dataclass(frozen=True)
class Request:
    """What was asked of :func:`suggest`: its options, one field each (see its docstring)."""

    target: str
    horizon: int
    constraints: ConstraintSet
    objective: str
    train_years: Sequence[int] | None
    test_years: Sequence[int] | None
    split_column: str | None
    n_bootstrap: int
    n_trials: int
    bootstrap_trials: int
    seed: int
    progress: bool
    direction: str | None
    max_edits: int
    candidate_columns: Sequence[str] | None
    storage: str | None
    study_name: str | None
    holdout: str


def _suggest(
    framework: Framework,
    data: pd.DataFrame,
    events: pd.DataFrame,
    req: Request,
    base_scores: ScoreResult | None,
) -> Suggestion:
    """The body of :func:`suggest`, run with one BLAS thread: the steps of the module docstring."""
    constraints, seed, target = req.constraints, req.seed, req.target
    tgt = resolve_target(target, req.direction)
    say = _say(req.progress)
    scores = base_scores if base_scores is not None else score(framework, data)
    labels = make_labels(data, events, target, req.horizon, rule=tgt)
    labelled = labels.labelled_mask
    y_all = np.where(labelled, tgt.oriented(labels.frame["label"].fillna(0).to_numpy()), 0.0)
    years = data["year"].to_numpy(dtype=np.int64)
    train_mask, test_mask = _masks(data, scores, labelled, years, req)
    train = tuple(ev.years_of(years, train_mask))
    test = tuple(ev.years_of(years, test_mask))

    design = Design.build(data, scores, constraints, y_all, train_mask, seed, SEARCH_ROWS)
    full = Design.build(data, scores, constraints, y_all, train_mask, seed, None)
    start = Structure(framework)
    say("diagnosing directions")
    directions = diagnose(design, start, req.n_bootstrap, seed)
    columns = _columns(data, framework, events, tgt, req, full)
    steps = _path(design, start, directions, columns, req, say)

    fitted = [fin.fit_step(full, s.structure, seed) for s in steps]
    final = steps[-1].structure
    box = full.box(final)
    continuous = fitted[-1][1]
    warnings, warned = ev.data_warnings(box, fin.stage_parts(full, box), target, str(tgt.direction))
    solver = "convex-logit"
    spec = fin.SearchSpec(req.objective, req.n_trials, seed, req.storage, req.study_name)
    if req.objective != "loglik":
        continuous, solver, note = fin.fit_objective(full, final, box, continuous, spec)
        warnings += note
    suggested = fin.rounded(box, continuous)
    violations = box.violations(suggested)
    if violations:  # defensive: rounding guarantees these; never write a table that breaks them
        raise ConstraintError(f"suggestion for {framework.id}", violations)
    draws = fin.bootstrap(
        full, final, box, req.n_bootstrap, spec._replace(trials=req.bootstrap_trials), req.progress
    )
    frameworks = [
        fin.materialize(s.structure, fin.rounded(full.box(s.structure), f[1]))
        for s, f in zip(steps[:-1], fitted[:-1], strict=True)
    ]
    frameworks.append(fin.materialize(final, suggested))
    frameworks[0] = framework

    say("scoring every step")
    step_scores = [scores] + [score(fw, data) for fw in frameworks[1:]]
    path = rec.path_table(steps, frameworks, step_scores, y_all, train_mask, test_mask, years)
    parks = rec.by_park(design, steps, data, scores, y_all, test_mask, req.holdout)
    if parks is not None:
        path = path.join(parks, on="step")
    low, high = fin.interval(draws, suggested)
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
    actions = rec.direction_actions(steps, constraints)
    warnings += rec.sign_warnings(directions, actions)
    metrics_rows, by_year = ev.held_out(y_all, scores, step_scores[-1], test_mask, years, test)
    findings = rec.Findings(
        solver, labels, train, test, warnings, points, metrics_rows, path, steps, frameworks,
        directions, actions,
    )  # fmt: skip
    block = rec.calibration_block(framework, tgt, data, events, req, findings)
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
        objective=req.objective,
        solver=solver,
        target=target,
        direction=str(tgt.direction),
        horizon=req.horizon,
        constraints=constraints,
        train_years=train,
        test_years=test,
        n_bootstrap=req.n_bootstrap,
        seed=seed,
        data_fingerprint=block["data_fingerprint"],
        label_counts=labels.to_dict()["counts"],
        train_mask=train_mask,
        test_mask=test_mask,
        outcome=y_all,
        warnings=warnings,
        bootstrap_draws=fin.draws_long(draws, box),
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
    req: Request,
) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    ranked = ~scores.frame["vetoed"].to_numpy(dtype=bool)
    if req.split_column is not None:
        train_mask, test_mask = ev.split_from_column(data, req.split_column, labelled)
        train_mask, test_mask = train_mask & ranked, test_mask & ranked
    else:
        train, test = ev.split_years(years, labelled, req.train_years, req.test_years)
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
    req: Request,
    full: Design,
) -> list[str]:
    given = req.candidate_columns
    if not req.constraints.allows("indicators"):
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
        given_values = data[col].iloc[full.rows].dropna()
        if len(given_values) and not np.isfinite(x).any():
            shown = ", ".join(repr(str(v)) for v in pd.unique(given_values)[:3])
            problems.append(
                Problem(
                    f"--candidate-columns {col}",
                    MSG_TEXT_COLUMN.format(column=col, values=shown),
                )
            )
            continue
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
    req: Request,
    say: Callable[[str], None],
) -> list[Step]:
    structural = any(req.constraints.allows(m) for m in ("direction", "shape", "indicators"))
    if structural:
        return search_path(
            design, start, {d.indicator: d for d in directions}, columns,
            max_edits=req.max_edits, seed=req.seed, progress=say,
        )  # fmt: skip
    return [Step(0, "start", start), Step(1, "points", start)]
