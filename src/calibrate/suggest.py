"""Suggest re-weighted points that predict an outcome, under constraints a policy office accepts.

The search reuses the base framework's fraction matrix ``F`` (firm × indicator, from one scoring
pass): a candidate points table ``W`` (indicator × stage) gives every firm the total
``F_i · W[:, stage_i] + bonus_i − deduction_i``, so thousands of candidates are evaluated without
touching raw data. Only core points are re-weighted; bonus points, caps, penalties, rules and
stages stay as they are.

Objectives and solvers (chosen by measurement — see ``benchmarks/bench_suggest.py``):

* ``loglik`` (default) — a per-stage logistic model ``P(y) = σ(α_s + β_s · total)``; smooth, so it
  is solved with SLSQP (scipy) under the linear constraints, from today's points.
* ``auc`` and ``top5`` / ``top10`` / ``top20`` (precision on the lists within ranking groups) —
  piecewise constant in the points, so gradients are useless: Optuna's TPE sampler proposes
  points inside the bounds, which are projected onto the budget and group limits, and batches of
  candidates are scored at once with :func:`calibrate.metrics.batch_evaluate`. The search is
  seeded with today's points and the ``loglik`` solution, so it never ends worse than either on
  the training years.

The continuous optimum is rounded to the granularity with the budget kept exact
(:func:`calibrate.constraints.round_to_grid`). Uncertainty: the whole procedure is repeated on
bootstrap samples of **firms** (all years of a drawn firm come together), giving an interval for
every suggested point value. Held-out metrics of today's and the suggested framework are computed
with the real scorer on later years.
"""

from __future__ import annotations

import math
import platform
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate import metrics
from calibrate.constraints import Box, ConstraintSet, project, round_to_grid
from calibrate.data import fingerprint
from calibrate.exceptions import ConstraintError, DataContractError, Problem
from calibrate.framework import Framework
from calibrate.outcomes import make_labels
from calibrate.scoring import ScoreResult, score

__all__ = [
    "BAD_EVENTS",
    "OBJECTIVES",
    "Suggestion",
    "evaluate_policy",
    "evaluate_ranking",
    "suggest",
]

FloatArray = npt.NDArray[np.float64]
Objective = Literal["loglik", "auc", "top5", "top10", "top20"]
OBJECTIVES: tuple[str, ...] = ("loglik", "auc", "top5", "top10", "top20")
#: Events a policy should make *less* likely among high scorers (the score should rank them low).
BAD_EVENTS = frozenset({"loan_default"})
_TOP = {"top5": 0.05, "top10": 0.10, "top20": 0.20}
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


# --- evaluation shared by reporting --------------------------------------------------------


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


# --- result --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Suggestion:
    """A suggested framework with its evidence.

    Attributes
    ----------
    base, framework : Framework
        Today's framework and the suggested one (same schema, with a ``calibration`` block).
    points : pandas.DataFrame
        One row per core indicator and stage: ``current``, ``suggested``, ``continuous`` (before
        rounding), ``low`` / ``high`` (bootstrap interval), ``change``.
    metrics : pandas.DataFrame
        Held-out metrics, one row per metric, columns ``current`` and ``suggested``.
    metrics_by_year : pandas.DataFrame
        The same per held-out year (long form).
    """

    base: Framework
    framework: Framework
    points: pd.DataFrame
    metrics: pd.DataFrame
    metrics_by_year: pd.DataFrame
    objective: str
    solver: str
    target: str
    direction: str
    horizon: int
    constraints: ConstraintSet
    train_years: tuple[int, ...]
    test_years: tuple[int, ...]
    n_bootstrap: int
    seed: int
    data_fingerprint: str
    label_counts: dict[str, int] = field(default_factory=dict)
    train_mask: npt.NDArray[np.bool_] = field(
        default_factory=lambda: np.zeros(0, dtype=bool), repr=False
    )
    """Rows of the enterprise table the points were fitted on (labelled, ranked, training years)."""
    test_mask: npt.NDArray[np.bool_] = field(
        default_factory=lambda: np.zeros(0, dtype=bool), repr=False
    )
    """Rows the held-out metrics are computed on — use it to measure any other score alike."""
    outcome: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0), repr=False)
    """0/1 per row for the outcome scored (the event, or its absence for ``direction="lower"``);
    meaningful where ``train_mask | test_mask``."""
    bootstrap_draws: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    warnings: tuple[str, ...] = ()
    """Why parts of the suggestion should not be trusted (e.g. too few events per free point)."""
    """Every bootstrap replicate's rounded points, long form: ``draw, indicator, stage, points``
    (feeds :class:`calibrate.sensitivity.FromDraws`; each replicate keeps the budget)."""

    @property
    def overall(self) -> pd.DataFrame:
        """Held-out metrics side by side (alias of :attr:`metrics`)."""
        return self.metrics

    def diff(self) -> pd.DataFrame:
        """A readable diff: changed points only, largest moves first, with names and intervals."""
        changed = self.points[self.points["change"] != 0].copy()
        changed["abs"] = changed["change"].abs()
        return changed.sort_values(
            ["abs", "indicator", "stage"], ascending=[False, True, True]
        ).drop(columns="abs")

    def to_dict(self) -> dict[str, Any]:
        """The ``calibration`` block written into the suggested framework file."""
        assert self.framework.calibration is not None
        return dict(self.framework.calibration)

    def save(self, path: str | Path) -> Path:
        """Write the suggested framework (with its calibration block) as YAML."""
        return self.framework.save(path)


# --- the optimisation problem -------------------------------------------------------------


@dataclass
class _Problem:
    """Training rows of one re-weighting problem, arranged for fast evaluation."""

    F: FloatArray  # rows × core indicators
    fixed: FloatArray  # bonus − deduction per row (not re-weighted)
    y: FloatArray
    stage: npt.NDArray[np.int64]  # stage position per row
    group: npt.NDArray[np.int64]  # ranking group per row
    firm: npt.NDArray[np.int64]  # firm code per row (bootstrap clusters)
    n_firms: int


def _sigmoid(z: FloatArray) -> FloatArray:
    return np.exp(-np.logaddexp(0.0, -z))


_State = FloatArray  # the solver's variable vector at an optimum (warm start for bootstrap refits)


def _fit_loglik(
    F: FloatArray,
    fixed: FloatArray,
    y: FloatArray,
    weight: FloatArray,
    w0: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    budget: float,
    groups: Sequence[tuple[str, FloatArray, float, float]],
    state: _State | None = None,
) -> tuple[FloatArray, _State | None]:
    """Maximise the weighted likelihood of ``σ(α + β·(F·w + fixed))`` over points ``w`` (one stage).

    Substituting ``θ = β·w`` makes the problem convex — a logistic regression with linear
    constraints ``Σθ = β·budget``, ``β·lo ≤ θ ≤ β·hi`` and group limits — so the optimum is global.
    It is solved by projected Newton steps (sequential quadratic programming): each step makes one
    pass over the data for the gradient and the (k+2)² Hessian, then solves a small data-free
    quadratic programme under the constraints, with a backtracking line search on the true loss.
    A few passes suffice, where a first-order method needs dozens — which is what makes 200
    bootstrap refits affordable. ``state`` (the variables at an earlier optimum, e.g. on all
    firms) warm-starts a bootstrap refit; rows with weight 0 are skipped.
    """
    k = F.shape[1]
    wsum = weight.sum()
    if wsum <= 0 or y[weight > 0].min() == y[weight > 0].max():
        return w0.copy(), None  # nothing to learn from one class
    used = weight > 0
    if not used.all():
        F, fixed, y, weight = F[used], fixed[used], y[used], weight[used]
    # variables v = (θ_1..θ_k, α, β); z = X v with X = [F, 1, fixed]
    X = np.empty((F.shape[0], k + 2))
    X[:, :k] = F
    X[:, k] = 1.0
    X[:, k + 1] = fixed
    rows = [np.c_[np.eye(k), np.zeros(k), -lo], np.c_[-np.eye(k), np.zeros(k), hi]]
    for _, member, gmin, gmax in groups:
        rows.append(np.concatenate([member, [0.0, -gmin]])[None, :])
        rows.append(np.concatenate([-member, [0.0, gmax]])[None, :])
    a_in = np.vstack([*rows, np.concatenate([np.zeros(k + 1), [1.0]])[None, :]])  # ... and β ≥ 0
    a_eq = np.concatenate([np.ones(k), [0.0, -budget]])
    if state is not None:
        v = state.copy()
    else:
        alpha0, beta0 = _logit_1d(F @ w0 + fixed, y, weight)
        beta0 = max(beta0, 1e-3)  # points must reward the outcome's direction
        v = np.concatenate([beta0 * w0, [alpha0, beta0]])
    v = _newton_qp(X, y, weight / wsum, v, a_eq, a_in)
    theta, beta = v[:k], float(v[k + 1])
    if not beta > 1e-9:
        return (
            w0.copy(),
            None,
        )  # the points carry no signal in the outcome's direction: keep today's
    return project(np.clip(theta / beta, lo, hi), lo, hi, budget, groups), v


def _newton_qp(
    X: FloatArray,
    y: FloatArray,
    weight: FloatArray,
    v: FloatArray,
    a_eq: FloatArray,
    a_in: FloatArray,
    max_steps: int = 30,
) -> FloatArray:
    """Minimise the weighted logistic loss of ``X v`` subject to ``a_eq·v = 0``, ``a_in v ≥ 0``.

    ``weight`` sums to 1. The starting point must be feasible; every step stays feasible (the QP
    constrains ``v + δ`` and the feasible set is convex, so ``v + t·δ`` is feasible for t ≤ 1).
    """
    import quadprog  # dense dual active-set QP (Goldfarb–Idnani): ~0.1 ms for these sizes

    def loss(vec: FloatArray) -> float:
        z = X @ vec
        return float(weight @ (np.logaddexp(0.0, z) - y * z))

    current = loss(v)
    constraints = np.vstack([a_eq[None, :], a_in]).T  # quadprog wants Cᵀx ≥ b, equalities first
    eye = np.eye(len(v))
    for _ in range(max_steps):
        z = X @ v
        p = _sigmoid(z)
        g = X.T @ (weight * (p - y))
        H = (X * (weight * p * (1.0 - p))[:, None]).T @ X
        # the QP: min ½ δᵀHδ + gᵀδ  s.t.  a_eq·δ = 0 (v is feasible), a_in (v + δ) ≥ 0. A small
        # relative ridge keeps H strictly positive definite (an indicator nobody scores on has a
        # zero column).
        bound = np.concatenate([[0.0], -(a_in @ v)])
        ridge = 1e-9 * max(float(np.trace(H)) / len(v), 1e-12)
        for _attempt in range(4):
            try:
                delta = quadprog.solve_qp(H + ridge * eye, -g, constraints, bound, meq=1)[0]
                break
            except ValueError:  # not positive definite enough, or degenerate: more ridge
                ridge *= 1e3
        else:
            break
        decrease = float(g @ delta)
        if not decrease < -1e-14:
            break  # no descent direction left: optimal within tolerance
        t = 1.0
        while t > 1e-6:
            trial = v + t * delta
            value = loss(trial)
            if value <= current + 1e-4 * t * decrease:
                break
            t *= 0.5
        else:
            break
        v, previous, current = trial, current, value
        if previous - current < 1e-12:
            break
    return v


def _logit_1d(t: FloatArray, y: FloatArray, weight: FloatArray) -> tuple[float, float]:
    """Weighted logistic regression of ``y`` on one score (Newton steps): intercept and slope."""
    alpha, beta = 0.0, 0.0
    for _ in range(50):
        p = _sigmoid(alpha + beta * t)
        g = np.array([weight @ (p - y), weight @ ((p - y) * t)])
        h = weight * p * (1 - p)
        hess = np.array([[h.sum(), h @ t], [h @ t, h @ (t * t)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, g)
        alpha, beta = alpha - float(step[0]), beta - float(step[1])
        if np.abs(step).max() < 1e-10:
            break
    return alpha, beta


def _metric_values(
    objective: str, y: FloatArray, scores: FloatArray, group: npt.NDArray[np.int64]
) -> FloatArray:
    """Objective for every column of ``scores`` (higher is better)."""
    if objective == "auc":
        return metrics.batch_auc(y, scores)
    frac = _TOP[objective]
    table = metrics.batch_evaluate(y, scores, group, fractions=(frac,), auc=False)
    col = [c for c in table.columns if c.startswith("prec")][0]
    return table[col].to_numpy(dtype=np.float64)


def _fit_search(
    objective: str,
    F: FloatArray,
    fixed: FloatArray,
    y: FloatArray,
    group: npt.NDArray[np.int64],
    starts: Sequence[FloatArray],
    lo: FloatArray,
    hi: FloatArray,
    budget: float,
    groups: Sequence[tuple[str, FloatArray, float, float]],
    n_trials: int,
    seed: int,
    batch: int = 64,
    storage: str | None = None,
    study_name: str | None = None,
) -> FloatArray:
    """Maximise a non-smooth objective with Optuna (TPE), batches of candidates scored at once.

    With ``storage`` (an Optuna RDB URL) the study ``study_name`` is shared: this call adds its
    ``n_trials`` to the trials other processes (or an interrupted run) already stored.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    k = F.shape[1]
    if y.min() == y.max():
        return starts[0].copy()
    sampler = optuna.samplers.TPESampler(
        seed=seed, multivariate=True, n_startup_trials=min(32, n_trials)
    )
    study = optuna.create_study(
        direction="maximize",
        sampler=sampler,
        storage=storage,
        study_name=study_name,
        load_if_exists=True,
    )
    free = [j for j in range(k) if hi[j] > lo[j]]
    for start in starts if not study.get_trials(deepcopy=False) else ():  # a new study only
        study.enqueue_trial({f"w{j}": float(np.clip(start[j], lo[j], hi[j])) for j in free})
    best_w, best_v = starts[0].copy(), -math.inf
    done = 0
    while done < n_trials:
        size = min(batch, n_trials - done)
        trials = [study.ask() for _ in range(size)]
        W = np.empty((k, size))
        for c, trial in enumerate(trials):
            raw = lo.copy()
            for j in free:
                raw[j] = trial.suggest_float(f"w{j}", float(lo[j]), float(hi[j]))
            W[:, c] = project(raw, lo, hi, budget, groups)
        values = _metric_values(objective, y, F @ W + fixed[:, None], group)
        values = np.nan_to_num(values, nan=-1.0)
        for c, trial in enumerate(trials):
            study.tell(trial, float(values[c]))
            if values[c] > best_v:  # ties keep the earlier (today's points first)
                best_v, best_w = float(values[c]), W[:, c].copy()
        done += size
    if storage is not None and study.best_value > best_v:  # found by another worker or run
        raw = lo.copy()
        for j in free:
            raw[j] = study.best_trial.params[f"w{j}"]
        best_w = project(raw, lo, hi, budget, groups)
    return best_w


# --- main entry ----------------------------------------------------------------------------


def _split_years(
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
    storage: str | None = None,
    study_name: str | None = None,
) -> Suggestion:
    """Suggest new core points for ``framework`` that best predict ``target``.

    Parameters
    ----------
    framework : Framework
        Today's framework; any valid framework (one stage or five, any ranking group).
    data : pandas.DataFrame
        Enterprise-year table (validated, e.g. ``load_enterprises(...).frame``).
    events : pandas.DataFrame
        Long events table ``enterprise_id, year, event``.
    target : str
        Any event name (``hte_certified``, ``tech_sme_registered``, ``loan_default`` have their
        population rules, see :mod:`calibrate.outcomes`).
    horizon : int
        Label = the event happens within ``horizon`` years after the data year.
    constraints : ConstraintSet, optional
        Defaults to whole points, bounds 0 … budget, no other limits.
    objective : {"loglik", "auc", "top5", "top10", "top20"}
    train_years, test_years : sequence of int, optional
        Default: the last labelled year is held out, all earlier labelled years train.
    n_bootstrap : int
        Bootstrap samples of firms for the intervals (0 = none).
    n_trials, bootstrap_trials : int
        Optuna candidates for non-smooth objectives (full fit, each bootstrap fit).
    seed : int
        Same inputs and seed → the same suggestion, byte for byte.
    direction : {"higher", "lower"}, optional
        Whether high scorers should be *more* likely to have the event (certification,
        registration) or *less* likely (``loan_default``). Default: ``lower`` for
        :data:`BAD_EVENTS`, else ``higher``. With ``lower`` every objective and held-out metric
        is computed for the event *not* happening, so "higher is better" holds throughout.
    storage, study_name : str, optional
        Optuna storage URL (``sqlite:///…``, ``postgresql+psycopg://…``) and study name for the
        full-data search of a non-smooth objective: processes sharing them work on one study
        (one per stage: ``<study_name>.stage<k>``), each adding ``n_trials``; a rerun resumes it.

    Returns
    -------
    Suggestion
    """
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
    constraints = constraints or ConstraintSet()
    box = constraints.box(framework)
    scores = base_scores if base_scores is not None else score(framework, data)
    labels = make_labels(data, events, target, horizon)
    labelled = labels.labelled_mask
    y_all = labels.frame["label"].fillna(0).to_numpy(dtype=np.float64)
    direction = direction or ("lower" if target in BAD_EVENTS else "higher")
    if direction == "lower":
        y_all = np.where(labelled, 1.0 - y_all, 0.0)
    years = data["year"].to_numpy(dtype=np.int64)
    train, test = _split_years(years, labelled, train_years, test_years)
    ranked = ~scores.frame["vetoed"].to_numpy(dtype=bool)
    train_mask = labelled & ranked & np.isin(years, train)
    test_mask = labelled & ranked & np.isin(years, test)

    core_pos = [framework.indicator_ids.index(i) for i in box.ids]
    frame = scores.frame
    fixed_all = (frame["bonus"] - frame["deduction"]).to_numpy(dtype=np.float64)
    firm_codes, firm_uniques = pd.factorize(data["enterprise_id"], sort=True)
    prob = _Problem(
        F=np.ascontiguousarray(scores.fractions[train_mask][:, core_pos]),
        fixed=fixed_all[train_mask],
        y=y_all[train_mask],
        stage=scores.stage_index[train_mask],
        group=scores.group_code[train_mask],
        firm=firm_codes[train_mask].astype(np.int64),
        n_firms=len(firm_uniques),
    )
    solver = "convex-logit" if objective == "loglik" else "optuna-tpe"

    # One problem per stage (or one for all stages when they share points), sliced once: bootstrap
    # samples only change the row weights.
    stage_sets = (
        [list(range(len(box.stages)))]
        if box.same_across_stages
        else [[c] for c in range(len(box.stages))]
    )
    parts = []
    for cset in stage_sets:
        idx = np.flatnonzero(np.isin(prob.stage, cset))
        parts.append(
            (
                cset,
                idx,
                np.ascontiguousarray(prob.F[idx]),
                prob.fixed[idx],
                prob.y[idx],
                prob.group[idx],
            )
        )
    states: dict[int, _State | None] = {}
    warnings = _data_warnings(box, parts, target, direction)

    def fit(
        weight: FloatArray, trials: int, trial_seed: int, start: FloatArray | None = None
    ) -> FloatArray:
        """Continuous points (indicators × stages) for one weighting of the training rows."""
        out = np.empty_like(box.current)
        for p_i, (cset, idx, F, fixed, y, group) in enumerate(parts):
            c0 = cset[0]
            lo, hi = box.lo[:, c0], box.hi[:, c0]
            w0 = (
                start[:, c0]
                if start is not None
                else project(box.current[:, c0], lo, hi, box.budget, box.groups)
            )
            wt = weight[idx]
            w, state = _fit_loglik(
                F,
                fixed,
                y,
                wt,
                w0,
                lo,
                hi,
                box.budget,
                box.groups,
                state=states.get(p_i) if start is not None else None,
            )
            if start is None:
                states[p_i] = state  # the full-data optimum warm-starts every bootstrap refit
            if objective != "loglik":
                # search on the rows as drawn: repeat rows by their bootstrap count
                rep_idx = np.repeat(np.arange(len(idx)), wt.astype(np.int64))
                w = _fit_search(
                    objective,
                    F[rep_idx],
                    fixed[rep_idx],
                    y[rep_idx],
                    group[rep_idx],
                    [w0, w],
                    lo,
                    hi,
                    box.budget,
                    box.groups,
                    trials,
                    trial_seed,
                    storage=storage if start is None else None,
                    study_name=f"{study_name}.stage{p_i}" if study_name and start is None else None,
                )
            for c in cset:
                out[:, c] = w
        return out

    def rounded(points: FloatArray) -> FloatArray:
        out = np.empty_like(points)
        for c in range(points.shape[1]):
            out[:, c] = round_to_grid(
                points[:, c], box.lo[:, c], box.hi[:, c], box.budget, box.granularity, box.groups
            )
        return out + 0.0  # no negative zeros in tables

    from threadpoolctl import threadpool_limits

    # The solver multiplies small matrices (rows × ~30 columns); multi-threaded BLAS spends more on
    # thread hand-offs than on arithmetic there (measured: 9 ms vs 1.1 ms per Hessian).
    with threadpool_limits(limits=1, user_api="blas"):
        ones = np.ones(len(prob.y))
        continuous = fit(ones, n_trials, seed) + 0.0
        suggested = rounded(continuous)
        violations = box.violations(suggested)
        if violations:  # defensive: rounding guarantees these; never write a table that breaks them
            raise ConstraintError(f"suggestion for {framework.id}", violations)

        # bootstrap over firms: a firm drawn k times brings all its training rows k times
        rng = np.random.default_rng(seed)
        draws = np.empty((n_bootstrap, *suggested.shape))
        train_firms = np.unique(prob.firm)
        from calibrate.progress import progress as report

        for b in report(range(n_bootstrap), desc="bootstrap", unit="sample", enabled=progress):
            picked = rng.choice(train_firms, size=train_firms.size, replace=True)
            counts = np.bincount(picked, minlength=prob.n_firms).astype(np.float64)
            weight = counts[prob.firm]
            draws[b] = rounded(fit(weight, bootstrap_trials, seed + 1 + b, start=continuous))
    if n_bootstrap:
        low = np.quantile(draws, INTERVAL[0], axis=0, method="inverted_cdf") + 0.0
        high = np.quantile(draws, INTERVAL[1], axis=0, method="inverted_cdf") + 0.0
    else:
        low = high = np.full_like(suggested, np.nan)

    n_ind, n_st = suggested.shape
    draws_long = pd.DataFrame(
        {
            "draw": np.repeat(np.arange(n_bootstrap), n_ind * n_st),
            "indicator": np.tile(np.repeat(box.ids, n_st), n_bootstrap),
            "stage": np.tile(np.array(box.stages * n_ind), n_bootstrap),
            "points": draws.reshape(-1),
        }
    )

    # the suggested framework, scored by the real scorer for held-out metrics
    table = {
        ident: {s: float(suggested[r, c]) for c, s in enumerate(box.stages)}
        for r, ident in enumerate(box.ids)
    }
    draft = framework.with_points(table)
    new_scores = score(draft, data)
    metrics_rows, by_year = _held_out(y_all, scores, new_scores, test_mask, years, test)

    points = _points_table(framework, box, suggested, continuous, low, high)
    data_fp = fingerprint(data.drop(columns=["source_row"], errors="ignore"))
    events_fp = fingerprint(events.drop(columns=["source_row"], errors="ignore"))
    block = {
        "objective": objective,
        "solver": solver,
        "target": target,
        "direction": direction,
        "outcome_scored": target if direction == "higher" else f"no {target}",
        "horizon": horizon,
        "base_framework": framework.id,
        "base_fingerprint": framework.fingerprint,
        "data_fingerprint": data_fp,
        "events_fingerprint": events_fp,
        "train_years": list(train),
        "test_years": list(test),
        "seed": seed,
        "n_bootstrap": n_bootstrap,
        "interval": f"bootstrap over firms, {int(INTERVAL[0] * 100)}th–{int(INTERVAL[1] * 100)}th percentile",
        "constraints": constraints.to_dict(),
        "labels": labels.to_dict()["counts"],
        "warnings": list(warnings),
        "points": [
            {
                "indicator": r.indicator,
                "stage": r.stage,
                "current": _num(r.current),
                "suggested": _num(r.suggested),
                "low": _num(r.low),
                "high": _num(r.high),
            }
            for r in points.itertuples()
        ],
        "held_out": {
            m: {"current": _num(row["current"]), "suggested": _num(row["suggested"])}
            for m, row in metrics_rows.iterrows()
        },
        "python": platform.python_version(),
    }
    suggested_fw = framework.with_points(
        table,
        id=f"{framework.id}+{target}",
        version=f"{framework.version}-suggested",
        calibration=block,
    )
    return Suggestion(
        base=framework,
        framework=suggested_fw,
        points=points,
        metrics=metrics_rows,
        metrics_by_year=by_year,
        objective=objective,
        solver=solver,
        target=target,
        direction=direction,
        horizon=horizon,
        constraints=constraints,
        train_years=train,
        test_years=test,
        n_bootstrap=n_bootstrap,
        seed=seed,
        data_fingerprint=data_fp,
        label_counts=labels.to_dict()["counts"],
        train_mask=train_mask,
        test_mask=test_mask,
        outcome=y_all,
        warnings=warnings,
        bootstrap_draws=draws_long,
    )


def _data_warnings(
    box: Box, parts: Sequence[tuple[Any, ...]], target: str, direction: str
) -> tuple[str, ...]:
    """One warning per re-weighting problem whose data cannot support its number of free points."""
    out = []
    for cset, _idx, _F, _fixed, y, _group in parts:
        c0 = cset[0]
        free = int(np.sum(box.hi[:, c0] > box.lo[:, c0] + 1e-12)) - 1  # the budget fixes one
        if free <= 0:
            continue
        scored = int(y.sum())  # firm-years with the outcome scored (the event, or its absence)
        with_event = scored if direction == "higher" else len(y) - scored
        events, rarer = min((with_event, target), (len(y) - with_event, f"no {target}"))
        if events < MIN_EVENTS_PER_POINT * free:
            where = "all stages" if len(cset) > 1 else f"stage {box.stages[c0]}"
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
    return tuple(out)


def _num(x: Any) -> Any:
    x = float(x)
    if math.isnan(x):
        return None
    return int(x) if x.is_integer() else round(x, 6)


def _held_out(
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


def _points_table(
    framework: Framework,
    box: Box,
    suggested: FloatArray,
    continuous: FloatArray,
    low: FloatArray,
    high: FloatArray,
) -> pd.DataFrame:
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
                }
            )
    return pd.DataFrame(rows)
