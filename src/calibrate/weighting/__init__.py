"""Unsupervised weighting baselines: equal, entropy, CRITIC, CV, PCA and AHP weights as frameworks.

Chinese review panels expect the classic weighting methods next to any data-driven suggestion.
Each method here returns weights for a framework's **core** indicators and turns them into a
framework in the same schema (new id such as ``longwan-2022.entropy``, provenance
``reconstructed``, a ``calibration`` block with the method and data fingerprint), so a baseline is
scored, compared and diffed like any other framework.

How the weights are computed
----------------------------
* **Per stage.** Firms are ranked within their stage, so each stage's weights come from that
  stage's firms (``same_across_stages=True`` pools all firms and uses one weight vector).
* **On the rules' fractions.** These methods start by normalising every indicator to [0, 1]
  (larger is better). A framework's rule does exactly that — it is how the policy measures the
  indicator — so the methods run on the fraction matrix of the base framework
  (``basis="fraction"``). ``basis="minmax"`` uses min-max normalised raw values instead.
* **Core indicators only.** Bonus indicators keep their points: their group cap, not the budget,
  governs them.
* **Points = core_budget × weight**, per stage; ``rounding="whole"`` or ``"half"`` rounds with the
  largest-remainder method so every stage still adds up to the budget exactly.
* A constant indicator (every firm the same, all zeros included) gets weight 0 in every data
  method, reported in :attr:`Weights.zero_weight`.

The methods (formulas in each function's docstring)
---------------------------------------------------
=========  ============  ==============================================================
method     名称           weight of indicator j
=========  ============  ==============================================================
equal      等权法          1 / k
entropy    熵权法          (1 − e_j) normalised; e_j the normalised Shannon entropy of p_ij
critic     CRITIC法        σ_j Σ_k (1 − r_jk) normalised (Diakoulaki et al. 1995)
cv         变异系数法       σ_j / μ_j normalised
pca        主成分分析法     composite coefficient Σ_m |u_jm| s_m / Σ s_m over components ≥ 85 %
ahp        层次分析法       principal eigenvector of a Saaty matrix, CR ≤ 0.10 (Saaty 1980)
=========  ============  ==============================================================

>>> from calibrate.weighting import all_baselines, compute_weights
>>> w = compute_weights(framework, table, "entropy", rounding="whole")  # doctest: +SKIP
>>> w.by_stage          # indicator × stage weights  # doctest: +SKIP
>>> w.to_framework().id  # doctest: +SKIP
'longwan-2022.entropy'
"""

from calibrate.weighting._ahp import AHP_SCHEMA, MAX_CR, RANDOM_INDEX, AHPError, AHPMatrix
from calibrate.weighting._core import (
    BASELINES,
    BONUS_NOTE,
    METHODS,
    Weights,
    all_baselines,
    baseline,
    compute_weights,
)
from calibrate.weighting._methods import (
    DEFAULT_VARIANCE,
    DegenerateError,
    critic_weights,
    cv_weights,
    entropy_weights,
    equal_weights,
    pca_weights,
)
from calibrate.weighting._rounding import largest_remainder

__all__ = [
    "AHP_SCHEMA",
    "BASELINES",
    "BONUS_NOTE",
    "DEFAULT_VARIANCE",
    "MAX_CR",
    "METHODS",
    "RANDOM_INDEX",
    "AHPError",
    "AHPMatrix",
    "DegenerateError",
    "Weights",
    "all_baselines",
    "baseline",
    "compute_weights",
    "critic_weights",
    "cv_weights",
    "entropy_weights",
    "equal_weights",
    "largest_remainder",
    "pca_weights",
]
