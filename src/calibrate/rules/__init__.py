"""Outcome rules: national certifications as vectorised code.

Three rule sets, each a module with an ``evaluate`` function returning a :class:`RuleResult`:

- :mod:`calibrate.rules.hnte` — national high-tech enterprise certification (高新技术企业认定,
  2016), with expert-judged points driven by a caller-supplied latent quality;
- :mod:`calibrate.rules.tech_sme` — tech-based SME evaluation (科技型中小企业, 2017);
- :mod:`calibrate.rules.innovative_sme` — innovative SME evaluation (创新型中小企业, 2022).

Every rule works on whole columns (no per-row Python), never raises on missing values (a
condition whose input is missing fails with the suffix ``:missing``) and raises
:class:`calibrate.exceptions.DataContractError` listing every missing column.
"""

from calibrate.rules import hnte, innovative_sme, tech_sme
from calibrate.rules._bands import TOL
from calibrate.rules._result import RuleResult

__all__ = ["TOL", "RuleResult", "hnte", "innovative_sme", "tech_sme"]
