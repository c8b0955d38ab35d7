"""Synthetic multi-park enterprise panel with known ground truth.

Simulates P parks × N enterprises × years: latent innovation capability and financial health
(persistent AR(1)), heavy-tailed revenue that moves firms through the five Longwan stages,
zero-inflated R&D / patents / PCT / VC, administrative missing values, entry and exit; and the
outcomes the product fits against — high-tech enterprise certification (the official rules of
:mod:`calibrate.rules.hnte` with expert points from the latent capability), tech-SME
registration (:mod:`calibrate.rules.tech_sme`), points loans and their defaults. The truth
holds the exact probability of each outcome within 1 year and Monte-Carlo estimates within
2 and 3 years, so the best achievable AUC is known. The model is documented in
``data/README.md``.

>>> from calibrate.synth import SynthConfig, generate
>>> panel = generate(SynthConfig(enterprises=500, parks=2, years=(2019, 2024), seed=7), progress=False)
>>> sorted(panel.write("out/synth", fmt="csv"))  # doctest: +SKIP
['coefficients', 'enterprises', 'events', 'truth']
"""

from calibrate.synth._config import (
    DEFAULT_COEFFICIENTS,
    FAILURE_MODE_COEFFICIENTS,
    INDUSTRIES,
    SynthConfig,
)
from calibrate.synth._generate import generate
from calibrate.synth._panel import (
    ENTERPRISE_COLUMNS,
    EVENTS,
    FAILURE_MODE_COLUMNS,
    STAGES,
    TRUTH_COLUMNS,
    Panel,
    longwan_stage,
)

__all__ = [
    "DEFAULT_COEFFICIENTS",
    "ENTERPRISE_COLUMNS",
    "EVENTS",
    "FAILURE_MODE_COEFFICIENTS",
    "FAILURE_MODE_COLUMNS",
    "INDUSTRIES",
    "STAGES",
    "TRUTH_COLUMNS",
    "Panel",
    "SynthConfig",
    "generate",
    "longwan_stage",
]
