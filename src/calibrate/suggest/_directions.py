"""Does each indicator point the way the outcome does? Marginal and conditional diagnosis.

* **marginal** — within-group AUC of the raw value against the good outcome, minus ½, signed by
  the rule's direction: > 0 means firms the rule rewards more have the good outcome more often.
* **conditional** — the coefficient of the indicator's fraction column in an *unconstrained*
  logistic regression of the good outcome on all core fractions (stage intercepts, bonus −
  deduction as an offset column). Points are ≥ 0, so an indicator with a negative conditional
  coefficient is pinned at 0 points by the fit; this is how that is found and said.
* **sign probability** — share of bootstrap samples of firms with a positive coefficient.

Verdict: ``agrees`` (sign probability ≥ 0.95), ``reversed`` (≤ 0.05), else ``unclear``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate import metrics
from calibrate.suggest._design import Design, Structure, raw_values
from calibrate.suggest._solver import sigmoid

FloatArray = npt.NDArray[np.float64]

AGREES, REVERSED = 0.95, 0.05
#: Bootstrap samples for the sign probability (a coefficient's sign settles long before 200).
SIGN_DRAWS = 40


@dataclass(frozen=True)
class Direction:
    """The direction diagnosis of one indicator."""

    indicator: str
    rule_direction: int
    marginal: float
    conditional: float
    sign_probability: float

    @property
    def verdict(self) -> str:
        if self.sign_probability >= AGREES:
            return "agrees"
        if self.sign_probability <= REVERSED:
            return "reversed"
        return "unclear"

    @property
    def points_other_way(self) -> bool:
        """The fit would rather give this indicator negative points (so it pins it at 0)."""
        return self.conditional < 0


def _logit(
    X: FloatArray, y: FloatArray, w: FloatArray, start: FloatArray, steps: int
) -> FloatArray:
    """Weighted ridge-stabilised logistic regression by Newton steps (unconstrained)."""
    beta = start.copy()
    ridge = 1e-6 * np.eye(X.shape[1])
    wsum = max(float(w.sum()), 1e-12)
    for _ in range(steps):
        p = sigmoid(X @ beta)
        g = X.T @ (w * (p - y)) / wsum
        H = (X * (w * p * (1 - p))[:, None]).T @ X / wsum + ridge
        step = np.linalg.solve(H, g)
        beta -= step
        if np.abs(step).max() < 1e-8:
            break
    return beta


def diagnose(design: Design, structure: Structure, n_draws: int, seed: int) -> list[Direction]:
    """Marginal and conditional direction of every core indicator of ``structure``."""
    F = design.matrix(structure)
    ids = structure.core_ids
    n_st = int(design.stage.max()) + 1 if design.stage.size else 1
    D = np.zeros((F.shape[0], n_st))
    D[np.arange(F.shape[0]), design.stage] = 1.0
    X = np.column_stack([F, D, design.fixed])
    y = design.y
    ones = np.ones(y.size)
    full = _logit(X, y, ones, np.zeros(X.shape[1]), 50)
    rng = np.random.default_rng(seed)
    codes, uniq = pd.factorize(design.firm)
    positive = np.zeros(len(ids))
    draws = max(0, min(n_draws, SIGN_DRAWS))
    for _ in range(draws):
        counts = np.bincount(rng.integers(0, uniq.size, uniq.size), minlength=uniq.size)
        b = _logit(X, y, counts[codes].astype(np.float64), full, 3)
        positive += b[: len(ids)] > 0
    prob = positive / draws if draws else (full[: len(ids)] > 0).astype(float)
    out = []
    for j, ident in enumerate(ids):
        ind = structure.framework.indicator(ident)
        x = raw_values(design.data, ident)[design.rows]
        out.append(
            Direction(
                indicator=ident,
                rule_direction=int(ind.direction),
                marginal=_marginal(x, y, design.group, int(ind.direction)),
                conditional=float(full[j]),
                sign_probability=float(prob[j]),
            )
        )
    return out


def _marginal(x: FloatArray, y: FloatArray, group: npt.NDArray[np.int64], sign: int) -> float:
    ok = np.isfinite(x)
    if ok.sum() < 2 or y[ok].min() == y[ok].max():
        return float("nan")
    return float(sign * (metrics.grouped_auc(y[ok], x[ok], group[ok]) - 0.5))


def to_records(directions: list[Direction], actions: dict[str, str]) -> list[dict[str, object]]:
    """The ``directions`` list of the calibration block."""
    return [
        {
            "indicator": d.indicator,
            "rule_direction": d.rule_direction,
            "marginal": _r(d.marginal),
            "conditional": _r(d.conditional),
            "sign_probability": _r(d.sign_probability),
            "verdict": d.verdict,
            "action": actions.get(d.indicator, "kept" if d.verdict == "agrees" else "reported"),
        }
        for d in directions
    ]


def _r(v: float) -> float | None:
    return None if not np.isfinite(v) else round(float(v), 4)
