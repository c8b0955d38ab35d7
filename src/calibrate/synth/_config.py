"""Configuration and generating coefficients of the synthetic panel.

Every number the generator uses lives in :data:`DEFAULT_COEFFICIENTS` (or in
:data:`INDUSTRIES` / :data:`PARK_DIVISIONS`) so that ``coefficients.yaml`` records the whole
model; ``data/README.md`` gives the equations they enter.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DEFAULT_COEFFICIENTS",
    "FAILURE_MODE_COEFFICIENTS",
    "INDUSTRIES",
    "PARK_DIVISIONS",
    "SynthConfig",
]

#: Industry catalogue: GB/T 4754-2017 division code, names, share of firms in an average park
#: and industry shifts of the latent means and propensities (see data/README.md, table I).
INDUSTRIES: tuple[dict[str, Any], ...] = (
    # code, zh, en, share, capability, log size, P(supported field), S&T share, R&D intensity,
    # software copyrights, environmental risk
    {"code": "I65", "zh": "软件和信息技术服务业", "en": "software and IT services", "share": 0.22,
     "capability": 0.30, "size": -0.10, "field": 0.92, "st": 0.60, "rd": 0.35, "software": 1.50, "env": -1.0},
    {"code": "C39", "zh": "计算机、通信和其他电子设备制造业", "en": "computers and electronics", "share": 0.12,
     "capability": 0.25, "size": 0.40, "field": 0.85, "st": 0.20, "rd": 0.15, "software": 0.30, "env": 0.3},
    {"code": "C35", "zh": "专用设备制造业", "en": "special-purpose equipment", "share": 0.10,
     "capability": 0.10, "size": 0.30, "field": 0.70, "st": 0.00, "rd": 0.00, "software": -0.50, "env": 0.5},
    {"code": "C38", "zh": "电气机械和器材制造业", "en": "electrical machinery", "share": 0.09,
     "capability": 0.00, "size": 0.50, "field": 0.65, "st": -0.10, "rd": -0.10, "software": -0.60, "env": 0.5},
    {"code": "C27", "zh": "医药制造业", "en": "pharmaceuticals", "share": 0.06,
     "capability": 0.20, "size": 0.30, "field": 0.85, "st": 0.10, "rd": 0.30, "software": -1.50, "env": 0.9},
    {"code": "M73", "zh": "研究和试验发展", "en": "research and development", "share": 0.06,
     "capability": 0.45, "size": -0.60, "field": 0.90, "st": 0.90, "rd": 0.70, "software": 0.20, "env": -0.5},
    {"code": "M75", "zh": "科技推广和应用服务业", "en": "technology promotion services", "share": 0.10,
     "capability": 0.00, "size": -0.40, "field": 0.60, "st": 0.40, "rd": 0.10, "software": 0.50, "env": -1.0},
    {"code": "C34", "zh": "通用设备制造业", "en": "general-purpose equipment", "share": 0.09,
     "capability": -0.10, "size": 0.40, "field": 0.55, "st": -0.30, "rd": -0.15, "software": -0.80, "env": 0.6},
    {"code": "C29", "zh": "橡胶和塑料制品业", "en": "rubber and plastics", "share": 0.06,
     "capability": -0.35, "size": 0.30, "field": 0.35, "st": -0.60, "rd": -0.40, "software": -1.50, "env": 1.0},
    {"code": "F51", "zh": "批发业", "en": "wholesale trade", "share": 0.10,
     "capability": -0.60, "size": 0.20, "field": 0.10, "st": -1.00, "rd": -0.80, "software": -0.50, "env": -1.0},
)  # fmt: skip

#: Administrative division codes used in the enterprise ids of parks 1, 2, … (Wenzhou Longwan,
#: Hangzhou Binjiang, Jiangyin, Chengdu Gaoxin, Wuxi Xinwu, Changzhou Xinbei); later parks get
#: ``99`` followed by their 4-digit number.
PARK_DIVISIONS = ("330303", "330108", "320281", "510109", "320214", "320411")

#: Generating coefficients; the equations are in data/README.md. ``SynthConfig.overrides`` may
#: replace any leaf by its dotted path (``"loan.intercept"``).
DEFAULT_COEFFICIENTS: dict[str, Any] = {
    "population": {
        "park_size_exponent": 0.7,  # park weight ∝ (p + 1) ** -exponent
        "industry_mix_concentration": 6.0,  # park mix ~ Dirichlet(concentration × shares)
        "initial_age_mean": 8.0,  # initial population: age ~ geometric with this mean
        "initial_age_max": 30,
        "min_birth_share": 0.02,  # at least this share of the target enters each year
        "incubator_intercept": 0.4,  # P(in an incubator) = L(a − b × age at entry)
        "incubator_age": 0.3,
        "firms_per_incubator": 400,
    },
    "capability": {"sd_firm": 0.75, "rho": 0.8, "sigma": 0.42},
    "health": {"rho": 0.7, "sigma": 0.45, "on_capability": 0.3, "year_shock_sd": 0.15},
    "size": {
        "mean": 6.15,  # mean long-run log revenue (万元) in the middle published year
        "drift": 0.05,  # nominal growth of every firm's long-run size per year
        "sd_firm": 1.7,
        "t_df": 5.0,
        "on_capability_mean": 0.35,
        "rho": 0.78,
        "sigma": 0.30,
        "on_capability": 0.30,
        "on_health": 0.25,
        "entry_gap_mean": 1.9,
        "entry_gap_sd": 0.8,
    },
    "employees": {"intercept": 2.3, "on_size": 0.68, "sd_firm": 0.35, "sigma": 0.12},
    "st_staff": {"intercept": -1.4, "on_capability": 1.1, "sd_firm": 0.5, "sigma": 0.25},
    "postgrad": {"intercept": -3.0, "on_capability": 0.8, "industry_st_scale": 0.5, "sigma": 0.3},
    "rd": {
        "any_intercept": -1.0,
        "any_capability": 1.1,
        "any_size": 0.7,
        "any_lag": 2.0,
        "any_sd_firm": 0.8,
        "intensity_log_mean": -2.75,  # log(0.064)
        "intensity_capability": 0.7,
        "intensity_size": -0.12,
        "intensity_sd_firm": 0.45,
        "intensity_sigma": 0.3,
        "intensity_cap": 0.9,
        "domestic_beta_a": 0.5,  # rd_domestic_share = 1 − Beta(a, b)
        "domestic_beta_b": 6.0,
    },
    "patents": {
        "invention_any_intercept": -3.2,
        "invention_any_capability": 1.2,
        "invention_any_size": 0.45,
        "invention_any_rd": 2.0,
        "ip_sd_firm": 0.7,
        "invention_log_mean": -0.3,
        "invention_mean_capability": 0.6,
        "invention_mean_size": 0.35,
        "invention_dispersion": 0.7,
        "invention_grant_rate": 0.45,  # share of last year's applications granted
        "invention_lapse_rate": 0.03,
        "pct_any_intercept": -3.0,
        "pct_any_capability": 1.0,
        "pct_any_size": 0.4,
        "pct_log_mean": -1.0,
        "pct_mean_capability": 0.4,
        "pct_mean_size": 0.2,
        "utility_any_intercept": -2.0,
        "utility_any_capability": 0.8,
        "utility_any_size": 0.4,
        "utility_any_rd": 1.5,
        "utility_log_mean": 0.2,
        "utility_mean_capability": 0.4,
        "utility_mean_size": 0.35,
        "utility_dispersion": 0.8,
        "utility_grant_rate": 0.8,
        "software_any_intercept": -1.6,
        "software_any_capability": 0.7,
        "software_any_size": 0.3,
        "software_log_mean": 0.3,
        "software_mean_capability": 0.3,
        "software_mean_size": 0.2,
        "software_dispersion": 1.0,
        "class2_lapse_rate": 0.08,
    },
    "conversions": {
        "any_intercept": -0.5,
        "any_capability": 1.1,
        "any_size": 0.3,
        "any_rd": 0.9,
        "log_mean": 0.8,
        "mean_capability": 0.6,
        "mean_size": 0.1,
    },
    "tech_contract": {
        "any_intercept": -2.4,
        "any_capability": 1.0,
        "any_size": 0.25,
        "log_share": -3.2,  # log(0.04) of revenue
        "share_capability": 0.3,
        "sigma": 0.8,
        "max_share": 0.8,
    },
    "hitech": {
        "intercept": 0.8,
        "on_capability": 1.4,
        "sd_firm": 0.6,
        "on_field": 1.6,
        "sigma": 0.4,
    },
    "finance": {
        "margin_intercept": 0.04,
        "margin_health": 0.07,
        "margin_seed": -0.06,  # added below 100 万 revenue
        "margin_sigma": 0.05,
        "cost_floor_share": 0.01,  # total cost ≥ R&D + this × revenue
        "payout_share": 0.3,
        "capital_log_mean": 3.9,
        "capital_capability": 0.4,
        "capital_sigma": 0.8,
        "net_assets_floor": 5.0,
        "net_assets_floor_share": 0.05,
        "debt_intercept": -0.3,
        "debt_health": -0.6,
        "debt_sd_firm": 0.4,
        "debt_sigma": 0.3,
        "debt_min": 0.02,
        "debt_max": 0.95,
    },
    "vc": {
        "any_intercept": -3.3,
        "any_capability": 1.0,
        "any_age": -0.12,
        "any_size": 0.15,
        "any_health": 0.3,
        "log_mean": 5.3,
        "amount_size": 0.4,
        "amount_capability": 0.4,
        "amount_sigma": 0.9,
    },
    "tax": {
        "vat_share": 0.035,
        "vat_sigma": 0.1,
        "cit_rate": 0.25,
        "cit_rate_hte": 0.15,
        "super_deduction_until_2022": 0.75,
        "super_deduction_from_2023": 1.0,
        "claim_intercept": 1.0,
        "claim_capability": 0.6,
    },
    "auxiliary": {
        "graduates_rate": 0.06,
        "graduates_capability": 0.4,
        "graduates_growth": 0.6,
        "platform_log_rate": -4.0,
        "platform_capability": 1.1,
        "platform_size": 0.45,
        "award_log_rate": -5.0,
        "award_capability": 1.2,
        "award_size": 0.4,
        "national_award_intercept": -9.5,
        "national_award_capability": 1.4,
        "national_award_size": 0.5,
        "standards_log_rate": -3.2,
        "standards_capability": 0.9,
        "standards_size": 0.5,
        "led_standard_per_standard": 0.08,
        "university_log_rate": -2.3,
        "university_capability": 0.9,
        "university_size": 0.25,
        "talent_log_rate": -3.8,
        "talent_capability": 1.1,
        "talent_size": 0.35,
        "listed_intercept": -7.5,
        "listed_size": 0.9,
        "listed_capability": 0.7,
        "specialised_rate": 0.3,
        "main_business_intercept": 1.6,
        "main_business_capability": 0.3,
        "main_business_sigma": 0.6,
        "strategic_capability": 0.8,
        "strategic_industry": 0.8,
        "strategic_sigma": 0.5,
        "strategic_cut1": 0.3,
        "strategic_cut2": 1.3,
        "field_capability": 0.8,  # P(supported field) = L(logit(industry share) + this × (μ − industry mean))
        "transfer_only_intercept": -3.0,
        "transfer_only_capability": -0.5,
    },
    "penalty": {
        "accident_intercept": -6.3,
        "accident_size": 0.3,
        "accident_health": -0.4,
        "env_intercept": -6.2,
        "env_size": 0.2,
        "env_health": -0.3,
        "debtor_intercept": -5.4,
        "debtor_health": -1.2,
        "debtor_persist": 0.5,
        "misconduct_intercept": -7.0,
        "misconduct_capability": 0.3,
    },
    "missing": {
        # P(block missing) = L(intercept − size × (log revenue − 6) + young × [age ≤ 1] + park)
        "survey_intercept": -2.7,
        "survey_size": 0.45,
        "survey_young": 1.0,
        "tax_intercept": -4.2,
        "tax_size": 0.4,
        "tax_young": 0.8,
        "hr_intercept": -4.6,
        "hr_size": 0.3,
        "hr_young": 0.6,
        "finance_intercept": -3.0,
        "finance_size": 0.3,
        "finance_young": 0.5,
        "park_sd": 0.3,
        "cell": 0.005,  # sporadic missing cells in the indicator columns of every block
    },
    "exit": {"intercept": -2.9, "health": -1.0, "size": -0.2, "capability": -0.15, "young": 0.5},
    "hte": {
        "apply_intercept": -5.4,
        "apply_readiness": 6.0,
        "apply_capability": 0.4,
        "apply_renewal": 1.5,
        "quality_intercept": 1.3,
        "quality_capability": 0.9,
        "quality_noise": 0.8,
        "initial_holder_scale": 2.5,
    },
    "tech_sme": {
        "apply_intercept": -0.6,
        "apply_capability": 0.6,
        "apply_registered": 2.0,
        "initial_share": 0.6,
    },
    "loan": {
        "intercept": -3.9,
        "capability": 0.5,
        "health": 0.6,
        "size": 0.25,
        "hte": 0.5,
        "park_sd": 0.3,
        "term_probs": [0.6, 0.25, 0.15],  # term 1, 2, 3 years
        "default_intercept": -4.3,
        "default_health": -1.3,
        "default_capability": -0.4,
        "default_size": -0.15,
        "exit_default": 0.5,
    },
}

#: Coefficients of the three failure modes of a points policy, used only with
#: ``SynthConfig(failure_modes=True)`` (then recorded as the ``failure_modes`` group of
#: ``coefficients.yaml``); data/README.md, "Failure modes", gives the equations.
FAILURE_MODE_COEFFICIENTS: dict[str, float] = {
    # (a) wrong sign: new graduates are hired by labour-intensive firms; these two replace
    # auxiliary.graduates_rate and auxiliary.graduates_capability in graduates_hired
    "graduates_rate": 0.03,
    "graduates_capability": -2.0,
    # (b) misplaced goalpost: postgrad_share ~ Binomial(E, L(intercept + team × [c ≥ cut] + σz))/E
    "postgrad_intercept": -1.4,
    "postgrad_team": 2.5,
    "postgrad_team_cut": 0.6,
    # ... and the HNTE expert panel credits a research team: quality logit + postgrad_quality ×
    # [postgrad_share ≥ postgrad_team_level]
    "postgrad_team_level": 0.4,
    "postgrad_quality": 2.5,
    # (c) unread predictor: new_product_share = L(intercept + capability × c + sigma × z)
    "new_product_intercept": -2.0,
    "new_product_capability": 1.2,
    "new_product_sigma": 0.5,
}


@dataclass(frozen=True)
class SynthConfig:
    """Size, horizon and seed of a synthetic panel, plus model knobs.

    Parameters
    ----------
    enterprises : int, default 3000
        Firms alive per year **on average** over the published years. The target grows by
        ``park_growth`` a year around that mean; firms enter and exit, so the number of firms
        ever published is larger (about 1.5 × for 7 years).
    parks : int, default 2
        Number of parks; their sizes fall as ``(p + 1) ** -0.7`` and each has its own
        industry mix.
    years : tuple of int, default (2018, 2024)
        First and last published data year (inclusive).
    seed : int, default 0
        Seed of every random stream; the same configuration gives byte-identical files.
    burn_in : int, default 4
        Years simulated before ``years[0]`` (not published) so that lags, 3-year sums,
        certificates and loans are in their steady state in the first published year; ≥ 2.
    park_growth : float, default 0.04
        Yearly growth of the number of firms alive.
    expert_nodes : int, default 15
        K, the number of equally likely expert-judgement noise nodes of the HNTE assessment;
        the horizon-1 oracle averages the rules over these K nodes exactly.
    oracle_draws : int, default 8
        Monte-Carlo draws of future paths for the horizon-2 and horizon-3 oracles; changing it
        changes no file but ``truth``.
    overrides : tuple of (str, float) pairs, default ()
        Replace generating coefficients by dotted path, e.g. ``(("loan.intercept", -3.0),)``.
    failure_modes : bool, default False
        Add the three failure modes a points policy must be able to detect (data/README.md,
        "Failure modes"): ``graduates_hired`` predicts HNTE certification negatively, HNTE
        applications respond to ``revenue_growth`` only far above the frameworks' goalposts,
        and a predictive column no shipped framework reads, ``new_product_share``, is added.
        The oracles stay the exact probabilities of the generated decisions. Off by default,
        so panels without it are byte-identical to those of earlier versions.
    """

    enterprises: int = 3000
    parks: int = 2
    years: tuple[int, int] = (2018, 2024)
    seed: int = 0
    burn_in: int = 4
    park_growth: float = 0.04
    expert_nodes: int = 15
    oracle_draws: int = 8
    overrides: tuple[tuple[str, float], ...] = ()
    failure_modes: bool = False

    def __post_init__(self) -> None:
        problems = []
        if int(self.enterprises) < 10:
            problems.append(f"enterprises must be at least 10, got {self.enterprises}")
        if not 1 <= int(self.parks) <= 999:
            problems.append(f"parks must be between 1 and 999, got {self.parks}")
        if len(self.years) != 2 or int(self.years[0]) > int(self.years[1]):
            problems.append(f"years must be (first, last) with first ≤ last, got {self.years}")
        if int(self.burn_in) < 2:
            problems.append(f"burn_in must be at least 2 (lags need two years), got {self.burn_in}")
        if int(self.expert_nodes) < 1:
            problems.append(f"expert_nodes must be at least 1, got {self.expert_nodes}")
        if int(self.oracle_draws) < 1:
            problems.append(f"oracle_draws must be at least 1, got {self.oracle_draws}")
        if not -0.5 < float(self.park_growth) < 1.0:
            problems.append(f"park_growth must be in (-0.5, 1), got {self.park_growth}")
        if problems:
            raise ValueError("invalid SynthConfig: " + "; ".join(problems))
        self.coefficients()  # fail early on an unknown override path

    def coefficients(self) -> dict[str, Any]:
        """The generating coefficients with ``overrides`` applied (a fresh copy).

        Returns
        -------
        dict
            Nested like :data:`DEFAULT_COEFFICIENTS`, plus the ``failure_modes`` group
            (:data:`FAILURE_MODE_COEFFICIENTS`) when ``failure_modes`` is on.

        Raises
        ------
        ValueError
            When an override path does not name a numeric coefficient.
        """
        coef = copy.deepcopy(DEFAULT_COEFFICIENTS)
        if self.failure_modes:
            coef["failure_modes"] = dict(FAILURE_MODE_COEFFICIENTS)
        for path, value in self.overrides:
            group, _, name = str(path).partition(".")
            if group not in coef or name not in coef[group] or isinstance(coef[group][name], list):
                hint = (
                    " (the failure_modes group exists only with failure_modes=True)"
                    if group == "failure_modes" and not self.failure_modes
                    else ""
                )
                raise ValueError(
                    f"unknown coefficient {path!r} in SynthConfig.overrides: use 'group.name' "
                    f"with a numeric leaf of DEFAULT_COEFFICIENTS (see data/README.md){hint}"
                )
            coef[group][name] = float(value)
        return coef
