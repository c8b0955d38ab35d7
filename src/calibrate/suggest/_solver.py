"""The points solver: constrained logistic fits and a search for non-smooth objectives.

A candidate points table ``w`` (one stage's core indicators) gives every firm the total
``F·w + fixed``. ``loglik`` maximises the likelihood of ``σ(α + β·total)`` — convex after the
substitution ``θ = β·w`` — by projected Newton steps with a small QP per step (quadprog); the
non-smooth objectives (``auc``, ``top5/10/20``) are searched with Optuna's TPE sampler, seeded
with today's points and the ``loglik`` optimum so the search never ends worse than either on the
rows it sees.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from calibrate import metrics
from calibrate.constraints import project

FloatArray = npt.NDArray[np.float64]
Groups = Sequence[tuple[str, FloatArray, float, float]]
_TOP = {"top5": 0.05, "top10": 0.10, "top20": 0.20}


def sigmoid(z: FloatArray) -> FloatArray:
    return np.exp(-np.logaddexp(0.0, -z))


_State = FloatArray  # the solver's variable vector at an optimum (warm start for bootstrap refits)


def fit_loglik(  # noqa: PLR0913 - solver kernel: data arrays and constraint arrays, no copies
    F: FloatArray,
    fixed: FloatArray,
    y: FloatArray,
    weight: FloatArray,
    w0: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    budget: float,
    groups: Groups,
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
        alpha0, beta0 = logit_1d(F @ w0 + fixed, y, weight)
        beta0 = max(beta0, 1e-3)  # points must reward the outcome's direction
        v = np.concatenate([beta0 * w0, [alpha0, beta0]])
    v = newton_qp(X, y, weight / wsum, v, a_eq, a_in)
    theta, beta = v[:k], float(v[k + 1])
    if not beta > 1e-9:
        return (
            w0.copy(),
            None,
        )  # the points carry no signal in the outcome's direction: keep today's
    return project(np.clip(theta / beta, lo, hi), lo, hi, budget, groups), v


def newton_qp(
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
        p = sigmoid(z)
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


def logit_1d(t: FloatArray, y: FloatArray, weight: FloatArray) -> tuple[float, float]:
    """Weighted logistic regression of ``y`` on one score (Newton steps): intercept and slope."""
    alpha, beta = 0.0, 0.0
    for _ in range(50):
        p = sigmoid(alpha + beta * t)
        g = np.array([weight @ (p - y), weight @ ((p - y) * t)])
        h = weight * p * (1 - p)
        hess = np.array([[h.sum(), h @ t], [h @ t, h @ (t * t)]]) + 1e-9 * np.eye(2)
        step = np.linalg.solve(hess, g)
        alpha, beta = alpha - float(step[0]), beta - float(step[1])
        if np.abs(step).max() < 1e-10:
            break
    return alpha, beta


def metric_values(
    objective: str, y: FloatArray, scores: FloatArray, group: npt.NDArray[np.int64]
) -> FloatArray:
    """Objective for every column of ``scores`` (higher is better)."""
    if objective == "auc":
        return metrics.batch_auc(y, scores)
    frac = _TOP[objective]
    table = metrics.batch_evaluate(y, scores, group, fractions=(frac,), auc=False)
    col = [c for c in table.columns if c.startswith("prec")][0]
    return table[col].to_numpy(dtype=np.float64)


def fit_search(  # noqa: PLR0913 - solver kernel: data arrays and constraint arrays, no copies
    objective: str,
    F: FloatArray,
    fixed: FloatArray,
    y: FloatArray,
    group: npt.NDArray[np.int64],
    starts: Sequence[FloatArray],
    lo: FloatArray,
    hi: FloatArray,
    budget: float,
    groups: Groups,
    n_trials: int,
    seed: int,
    batch: int = 64,
    storage: str | None = None,
    study_name: str | None = None,
) -> FloatArray:
    """Maximise a non-smooth objective with Optuna (TPE), batches of candidates scored at once.

    With ``storage`` (an Optuna RDB URL such as ``postgresql+psycopg://…`` or ``sqlite:///…``)
    and ``study_name``, the study is shared: several processes add their ``n_trials`` to one
    study, and a rerun resumes it. The best point is taken over every trial in the study.
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
        load_if_exists=storage is not None,
    )
    free = [j for j in range(k) if hi[j] > lo[j]]
    if not study.trials:
        for start in starts:
            study.enqueue_trial({f"w{j}": float(np.clip(start[j], lo[j], hi[j])) for j in free})
    best_w, best_v = starts[0].copy(), -math.inf
    best_w, best_v = _best_so_far(study, best_w, best_v, free, lo, hi, budget, groups)
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
        values = metric_values(objective, y, F @ W + fixed[:, None], group)
        values = np.nan_to_num(values, nan=-1.0)
        for c, trial in enumerate(trials):
            study.tell(trial, float(values[c]))
            if values[c] > best_v:  # ties keep the earlier (today's points first)
                best_v, best_w = float(values[c]), W[:, c].copy()
        done += size
    return best_w


def _best_so_far(
    study: object,
    best_w: FloatArray,
    best_v: float,
    free: list[int],
    lo: FloatArray,
    hi: FloatArray,
    budget: float,
    groups: Groups,
) -> tuple[FloatArray, float]:
    """The best finished trial of a resumed (shared) study, projected like a new one."""
    import optuna

    done = [
        t
        for t in study.trials  # type: ignore[attr-defined]
        if t.state == optuna.trial.TrialState.COMPLETE and t.value is not None
    ]
    for t in done:
        if t.value > best_v and all(f"w{j}" in t.params for j in free):
            raw = lo.copy()
            for j in free:
                raw[j] = float(t.params[f"w{j}"])
            best_w, best_v = project(raw, lo, hi, budget, groups), float(t.value)
    return best_w, best_v
