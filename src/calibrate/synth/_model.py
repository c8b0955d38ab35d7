"""The generative model: firm state, yearly transition, observed data, decision probabilities.

Everything works on whole arrays of firms (one entry per firm, or per firm × Monte-Carlo draw);
there is no per-firm Python. The state of a set of firms is a ``dict`` of equally long numpy
arrays so that it can be subset (exits), concatenated (births) and replicated (oracle draws)
with one line each. The equations are documented in data/README.md; the comments here name
the README symbols.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.special import expit, logit, ndtri

from calibrate.rules import hnte, tech_sme
from calibrate.synth._config import INDUSTRIES

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
State = dict[str, np.ndarray]

NO_CERT = -9999  # cert_end of a firm that never held a certificate
SEED_EDGE = np.log(100.0)  # log revenue of the seed / start-up boundary (100 万)
EPS = 1e-6  # slack of the necessary-condition pre-filters (looser than the rules' 1e-9)

#: Columns the certification rules read, as the rules modules declare them.
HNTE_COLUMNS = hnte.INPUT_COLUMNS
SME_COLUMNS = tech_sme.INPUT_COLUMNS
RULE_COLUMNS = tuple(dict.fromkeys((*HNTE_COLUMNS, *SME_COLUMNS)))

#: Missing-data blocks by administrative source: block → columns blanked together.
MISSING_BLOCKS: dict[str, tuple[str, ...]] = {
    "survey": (
        "st_staff_share",
        "postgrad_share",
        "hitech_product_revenue",
        "industry_university_projects",
        "talent_programs",
    ),
    "tax": (
        "rd_expense",
        "rd_growth",
        "rd_intensity",
        "rd_deduction_relief",
        "tax_paid",
        "tax_growth",
        "net_profit",
        "roe",
    ),
    "hr": ("employees", "graduates_hired", "labour_productivity"),
    "finance": ("vc_financing",),
}

#: The failure-mode column (``SynthConfig(failure_modes=True)`` only), blanked with the survey
#: block; kept out of MISSING_BLOCKS so that panels without it draw exactly as before.
SURVEY_BLOCK, SURVEY_EXTRA = "survey", "new_product_share"


def _r2(x: FloatArray) -> FloatArray:
    """Money to 2 decimals (万元, i.e. 100 yuan); exact round-trip through CSV."""
    return np.round(x, 2)


def _r4(x: FloatArray) -> FloatArray:
    """Fractions to 4 decimals (0.01 percentage point)."""
    return np.round(x, 4)


def _div(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den``; NaN where ``den`` is missing or ≤ 0 (never warns)."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=np.isfinite(den) & (den > 0))
    return out


def _nz(x: FloatArray) -> FloatArray:
    return np.nan_to_num(x, nan=0.0)


def _exp(x: FloatArray) -> FloatArray:
    return np.exp(np.clip(x, -50.0, 30.0))


def _nb(rng: np.random.Generator, mean: FloatArray, dispersion: float) -> IntArray:
    """Negative binomial counts with the given mean and dispersion ``r`` (variance μ + μ²/r)."""
    p = dispersion / (dispersion + mean)
    return rng.negative_binomial(dispersion, p).astype(np.int64)


def _zi_count(
    rng: np.random.Generator,
    p_any: FloatArray,
    log_mean: FloatArray,
    dispersion: float | None = None,
) -> IntArray:
    """Zero-inflated count: 0 with probability 1 − p_any, else 1 + NB(μ, r) (Poisson if r is None).

    Only the non-zero rows draw a count (speed); ``log_mean`` is log μ for every row.
    """
    out = np.zeros(p_any.shape[0], dtype=np.int64)
    hit = np.flatnonzero(rng.random(p_any.shape[0]) < p_any)
    if hit.size:
        mu = _exp(log_mean[hit])
        extra = rng.poisson(mu) if dispersion is None else _nb(rng, mu, dispersion)
        out[hit] = 1 + extra
    return out


def _binomial(rng: np.random.Generator, n: IntArray, p: float) -> IntArray:
    """Binomial(n, p) per row, drawn only where n > 0."""
    out = np.zeros(n.shape[0], dtype=np.int64)
    idx = np.flatnonzero(n > 0)
    if idx.size:
        out[idx] = rng.binomial(n[idx], p)
    return out


def _binomial_approx(rng: np.random.Generator, n: IntArray, p: FloatArray) -> IntArray:
    """Binomial(n, p) by its rounded, clipped normal approximation (one normal draw per row)."""
    sd = np.sqrt(n * p * (1.0 - p))
    return np.clip(np.rint(n * p + sd * rng.standard_normal(n.shape[0])), 0, n).astype(np.int64)


@dataclass(frozen=True)
class Env:
    """Realised model constants shared by the main simulation and the oracle draws."""

    coef: dict[str, Any]
    park_weights: FloatArray  # (P,)
    park_mix: FloatArray  # (P, n_industries)
    park_missing: FloatArray  # (P,) shift of every missing-block logit
    park_loan: FloatArray  # (P,) shift of the loan-grant logit
    year_shock: dict[int, float]  # realised health shock η_y of every simulated year
    nodes: FloatArray  # (K,) expert-noise nodes ξ_k = Φ⁻¹((k − ½)/K)
    ind: dict[str, FloatArray]  # industry shifts by industry index
    mid_year: float  # year at which the long-run log size has its stated mean

    @property
    def k(self) -> int:
        return int(self.nodes.shape[0])


def make_env(
    coef: dict[str, Any],
    parks: int,
    years: range,
    nodes: int,
    mid_year: float,
    rng: np.random.Generator,
) -> Env:
    """Draw the park-level constants and year shocks once per panel."""
    pop = coef["population"]
    w = (np.arange(parks) + 1.0) ** -pop["park_size_exponent"]
    shares = np.array([i["share"] for i in INDUSTRIES])
    shares = shares / shares.sum()
    mix = rng.dirichlet(pop["industry_mix_concentration"] * len(shares) * shares, size=parks)
    park_missing = rng.normal(0.0, coef["missing"]["park_sd"], parks)
    park_loan = rng.normal(0.0, coef["loan"]["park_sd"], parks)
    shocks = rng.normal(0.0, coef["health"]["year_shock_sd"], len(years))
    k = np.arange(1, nodes + 1)
    ind = {
        key: np.array([float(i[key]) for i in INDUSTRIES])
        for key in ("capability", "size", "field", "st", "rd", "software", "env")
    }
    return Env(
        coef=coef,
        park_weights=w / w.sum(),
        park_mix=mix,
        park_missing=park_missing,
        park_loan=park_loan,
        year_shock={int(y): float(s) for y, s in zip(years, shocks, strict=True)},
        nodes=ndtri((k - 0.5) / nodes),
        ind=ind,
        mid_year=float(mid_year),
    )


# --------------------------------------------------------------------------------------------
# state: birth, initial population, transition
# --------------------------------------------------------------------------------------------


def new_firms(
    n: int,
    year: int,
    age: IntArray,
    park: IntArray,
    first_fid: int,
    env: Env,
    rng: np.random.Generator,
) -> State:
    """Static draws and the state of ``n`` firms entering the panel in ``year`` aged ``age``.

    Newborns (age 0) start ``entry_gap`` below their long-run size; firms of the initial
    population start part of the way there (AR(1) convergence over their age) and get
    approximate IP stocks and opening equity (only burn-in years see these approximations).
    """
    cf = env.coef
    cap, size, fin, pat = cf["capability"], cf["size"], cf["finance"], cf["patents"]
    aux = cf["auxiliary"]
    industry = np.empty(n, dtype=np.int64)
    for p in range(env.park_mix.shape[0]):
        sel = park == p
        industry[sel] = rng.choice(env.park_mix.shape[1], size=int(sel.sum()), p=env.park_mix[p])
    ind = env.ind
    mu = ind["capability"][industry] + cap["sd_firm"] * rng.standard_normal(n)
    t = rng.standard_t(size["t_df"], n) * np.sqrt((size["t_df"] - 2.0) / size["t_df"])
    m = (
        size["mean"]
        + size["drift"] * (year - env.mid_year)
        + ind["size"][industry]
        + size["on_capability_mean"] * mu
        + size["sd_firm"] * t
    )
    gap = np.abs(size["entry_gap_mean"] + size["entry_gap_sd"] * rng.standard_normal(n))
    sd_c = cap["sigma"] / np.sqrt(1.0 - cap["rho"] ** 2)
    c = mu + sd_c * rng.standard_normal(n)
    hl = cf["health"]
    sd_h = hl["sigma"] / np.sqrt(1.0 - hl["rho"] ** 2)
    h = hl["on_capability"] * mu + sd_h * rng.standard_normal(n)
    rho_a = size["rho"] ** age.astype(np.float64)
    sd_x = size["sigma"] / np.sqrt(1.0 - size["rho"] ** 2)
    x = -gap * rho_a + sd_x * np.sqrt(1.0 - rho_a**2) * rng.standard_normal(n)
    s = np.maximum(m + x + size["on_capability"] * (c - mu) + size["on_health"] * h, 0.0)
    p_field = expit(
        logit(ind["field"][industry]) + aux["field_capability"] * (mu - ind["capability"][industry])
    )
    field = (rng.random(n) < p_field).astype(np.int64)
    transfer = (
        rng.random(n) < expit(aux["transfer_only_intercept"] + aux["transfer_only_capability"] * mu)
    ).astype(np.int64)
    tx = cf["tax"]
    claim = rng.random(n) < expit(tx["claim_intercept"] + tx["claim_capability"] * mu)
    capital = _r2(
        _exp(
            fin["capital_log_mean"]
            + fin["capital_capability"] * mu
            + fin["capital_sigma"] * rng.standard_normal(n)
        )
    )
    pop = cf["population"]
    incubated = rng.random(n) < expit(pop["incubator_intercept"] - pop["incubator_age"] * age)
    carrier_draw = rng.random(n)
    nan = np.full(n, np.nan)
    zeros = np.zeros(n, dtype=np.int64)
    st: State = {
        "fid": np.arange(first_fid, first_fid + n, dtype=np.int64),
        "park": park.astype(np.int64),
        "industry": industry,
        "founded": (year - age).astype(np.int64),
        "incubated": incubated,
        "carrier_draw": carrier_draw,
        "mu": mu,
        "m": m,
        "e_eff": cf["employees"]["sd_firm"] * rng.standard_normal(n),
        "v_eff": cf["st_staff"]["sd_firm"] * rng.standard_normal(n),
        "u_rd": cf["rd"]["any_sd_firm"] * rng.standard_normal(n),
        "w_rd": cf["rd"]["intensity_sd_firm"] * rng.standard_normal(n),
        "u_ip": pat["ip_sd_firm"] * rng.standard_normal(n),
        "y_hi": cf["hitech"]["sd_firm"] * rng.standard_normal(n),
        "debt_eff": fin["debt_sd_firm"] * rng.standard_normal(n),
        "se_eff": aux["strategic_sigma"] * rng.standard_normal(n),
        "field": field,
        "transfer": transfer,
        "claim": claim,
        "capital": capital,
        "c": c,
        "h": h,
        "x": x,
        "s": s,
        "rev": nan.copy(),
        "rev1": nan.copy(),
        "rev2": nan.copy(),
        "rd": nan.copy(),
        "rd1": nan.copy(),
        "rd2": nan.copy(),
        "na": nan.copy(),
        "na1": nan.copy(),
        "na2": nan.copy(),
        "conv": nan.copy(),
        "conv1": nan.copy(),
        "conv2": nan.copy(),
        "tax": nan.copy(),
        "inv_apps": zeros.copy(),
        "util_apps": zeros.copy(),
        "inv_owned": zeros.copy(),
        "cls2": zeros.copy(),
        "plat_new": zeros.copy(),
        "plat_new1": zeros.copy(),
        "award_new": zeros.copy(),
        "award_new1": zeros.copy(),
        "nat_award": zeros.copy(),
        "led_std": zeros.copy(),
        "listed": zeros.copy(),
        "debtor": zeros.copy(),
        "spec_end": np.full(n, NO_CERT, dtype=np.int64),
        "cert_end": np.full(n, NO_CERT, dtype=np.int64),
        "reg": zeros.copy(),
        "loan_r": zeros.copy(),
        "banned": zeros.copy(),
    }
    old = age > 0
    if old.any():
        # approximate stocks and opening equity for the initial population (burn-in only)
        yrs = np.minimum(age, 10).astype(np.float64)
        s6 = s - 6.0
        p_inv = expit(
            pat["invention_any_intercept"]
            + pat["invention_any_capability"] * c
            + pat["invention_any_size"] * s6
            + st["u_ip"]
            + 0.5 * pat["invention_any_rd"]
        )
        lam_inv = p_inv * (
            1.0
            + _exp(
                pat["invention_log_mean"]
                + pat["invention_mean_capability"] * c
                + pat["invention_mean_size"] * s6
            )
        )
        p_ut = expit(
            pat["utility_any_intercept"]
            + pat["utility_any_capability"] * c
            + pat["utility_any_size"] * s6
            + 0.5 * st["u_ip"]
            + 0.5 * pat["utility_any_rd"]
        )
        lam_ut = p_ut * (
            1.0
            + _exp(
                pat["utility_log_mean"]
                + pat["utility_mean_capability"] * c
                + pat["utility_mean_size"] * s6
            )
        )
        st["inv_owned"] = np.where(old, rng.poisson(yrs * pat["invention_grant_rate"] * lam_inv), 0)
        st["cls2"] = np.where(old, rng.poisson(yrs * 0.6 * lam_ut), 0)
        opening = _r2(_exp(s - 0.5 + 0.5 * rng.standard_normal(n)))
        st["na1"] = np.where(old, opening, np.nan)
    return st


def subset(st: State, idx: np.ndarray) -> State:
    """The state of the firms selected by a boolean mask or an index array."""
    return {k: v[idx] for k, v in st.items()}


def concat(a: State, b: State) -> State:
    """Firms of ``a`` followed by firms of ``b``."""
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def transition(st: State, eta: float | FloatArray, rng: np.random.Generator, env: Env) -> None:
    """Move surviving firms one year on, in place: latent AR(1) steps and lag shifts."""
    cf = env.coef
    cap, hl, size = cf["capability"], cf["health"], cf["size"]
    n = st["c"].shape[0]
    mu = st["mu"]
    st["c"] = mu + cap["rho"] * (st["c"] - mu) + cap["sigma"] * rng.standard_normal(n)
    st["h"] = (
        hl["rho"] * st["h"]
        + (1.0 - hl["rho"]) * hl["on_capability"] * mu
        + hl["sigma"] * rng.standard_normal(n)
        + eta
    )
    st["m"] = st["m"] + size["drift"]
    st["x"] = size["rho"] * st["x"] + size["sigma"] * rng.standard_normal(n)
    st["s"] = np.maximum(
        st["m"] + st["x"] + size["on_capability"] * (st["c"] - mu) + size["on_health"] * st["h"],
        0.0,
    )
    for a, b, c in (
        ("rev2", "rev1", "rev"),
        ("rd2", "rd1", "rd"),
        ("na2", "na1", "na"),
        ("conv2", "conv1", "conv"),
    ):
        st[a] = st[b]
        st[b] = st[c]
    st["plat_new1"] = st["plat_new"]
    st["award_new1"] = st["award_new"]


# --------------------------------------------------------------------------------------------
# observation: the data of one year
# --------------------------------------------------------------------------------------------


def observe(  # noqa: PLR0915 - one year of the generative model, equations in the order of data/README.md
    st: State, year: int, rng: np.random.Generator, env: Env, *, full: bool = True
) -> dict[str, np.ndarray]:
    """Generate the data of ``year`` for every firm of ``st`` (already moved to ``year``).

    Updates the stock variables of ``st`` in place and returns the published columns as
    numpy arrays (missing values applied). ``full=False`` (oracle draws) skips the columns
    no rule, decision or later state needs.
    """
    cf = env.coef
    ind = env.ind
    n = st["c"].shape[0]
    c, h, s = st["c"], st["h"], st["s"]
    s6 = s - 6.0
    age = year - st["founded"]
    industry = st["industry"]
    hte_valid = (st["cert_end"] >= year).astype(np.int64)
    out: dict[str, np.ndarray] = {}

    rev = np.maximum(_r2(_exp(s)), 1.0)
    emp_c = cf["employees"]
    emp = np.maximum(
        1,
        np.rint(
            _exp(
                emp_c["intercept"]
                + emp_c["on_size"] * s6
                + st["e_eff"]
                + emp_c["sigma"] * rng.standard_normal(n)
            )
        ),
    ).astype(np.int64)
    stc = cf["st_staff"]
    theta = expit(
        stc["intercept"]
        + stc["on_capability"] * c
        + ind["st"][industry]
        + st["v_eff"]
        + stc["sigma"] * rng.standard_normal(n)
    )
    st_staff = _binomial_approx(rng, emp, theta)

    # R&D (zero-inflated)
    rdc = cf["rd"]
    lag_any = _nz(st["rd1"]) > 0
    p_rd = expit(
        rdc["any_intercept"]
        + rdc["any_capability"] * c
        + rdc["any_size"] * s6
        + st["u_rd"]
        + rdc["any_lag"] * lag_any
        + ind["rd"][industry]
    )
    has_rd = rng.random(n) < p_rd
    iota = np.minimum(
        rdc["intensity_cap"],
        _exp(
            rdc["intensity_log_mean"]
            + rdc["intensity_capability"] * c
            + rdc["intensity_size"] * s6
            + st["w_rd"]
            + ind["rd"][industry]
            + rdc["intensity_sigma"] * rng.standard_normal(n)
        ),
    )
    rd = np.where(has_rd, _r2(iota * rev), 0.0)
    rd3 = _r2(rd + _nz(st["rd1"]) + _nz(st["rd2"]))
    rev3 = _r2(rev + _nz(st["rev1"]) + _nz(st["rev2"]))
    dom = np.full(n, np.nan)
    pos = np.flatnonzero(rd3 > 0)
    dom[pos] = _r4(1.0 - rng.beta(rdc["domestic_beta_a"], rdc["domestic_beta_b"], pos.size))

    # patents and other IP
    pat = cf["patents"]
    rd_pos = rd > 0
    p_inv = expit(
        pat["invention_any_intercept"]
        + pat["invention_any_capability"] * c
        + pat["invention_any_size"] * s6
        + st["u_ip"]
        + pat["invention_any_rd"] * rd_pos
    )
    lm_inv = (
        pat["invention_log_mean"]
        + pat["invention_mean_capability"] * c
        + pat["invention_mean_size"] * s6
    )
    inv_apps = _zi_count(rng, p_inv, lm_inv, pat["invention_dispersion"])
    p_ut = expit(
        pat["utility_any_intercept"]
        + pat["utility_any_capability"] * c
        + pat["utility_any_size"] * s6
        + 0.5 * st["u_ip"]
        + pat["utility_any_rd"] * rd_pos
    )
    lm_ut = (
        pat["utility_log_mean"] + pat["utility_mean_capability"] * c + pat["utility_mean_size"] * s6
    )
    util_apps = _zi_count(rng, p_ut, lm_ut, pat["utility_dispersion"])
    p_sw = expit(
        pat["software_any_intercept"]
        + pat["software_any_capability"] * c
        + pat["software_any_size"] * s6
        + ind["software"][industry]
    )
    lm_sw = (
        pat["software_log_mean"]
        + pat["software_mean_capability"] * c
        + pat["software_mean_size"] * s6
    )
    software = _zi_count(rng, p_sw, lm_sw, pat["software_dispersion"])
    inv_owned = (
        st["inv_owned"]
        + _binomial(rng, st["inv_apps"], pat["invention_grant_rate"])
        - _binomial(rng, st["inv_owned"], pat["invention_lapse_rate"])
    )
    cls2 = (
        st["cls2"]
        + _binomial(rng, st["util_apps"], pat["utility_grant_rate"])
        + software
        - _binomial(rng, st["cls2"], pat["class2_lapse_rate"])
    )

    # technology conversions
    cv = cf["conversions"]
    p_cv = expit(
        cv["any_intercept"] + cv["any_capability"] * c + cv["any_size"] * s6 + cv["any_rd"] * rd_pos
    )
    conv = _zi_count(rng, p_cv, cv["log_mean"] + cv["mean_capability"] * c + cv["mean_size"] * s6)
    conv3 = conv + _nz(st["conv1"]) + _nz(st["conv2"])

    # high-tech product revenue
    hi = cf["hitech"]
    chi = expit(
        hi["intercept"]
        + hi["on_capability"] * c
        + st["y_hi"]
        + hi["on_field"] * (st["field"] - 0.5)
        + hi["sigma"] * rng.standard_normal(n)
    )
    hitech = _r2(chi * rev)

    # finance
    fin = cf["finance"]
    margin = (
        fin["margin_intercept"]
        + fin["margin_health"] * h
        + fin["margin_seed"] * (s < SEED_EDGE)
        + fin["margin_sigma"] * rng.standard_normal(n)
    )
    total_cost = _r2(np.maximum(rev * (1.0 - margin), rd + fin["cost_floor_share"] * rev))
    net_profit = _r2(rev - total_cost)
    vcc = cf["vc"]
    p_vc = expit(
        vcc["any_intercept"]
        + vcc["any_capability"] * c
        + vcc["any_age"] * np.minimum(age, 15)
        + vcc["any_size"] * s6
        + vcc["any_health"] * h
    )
    vc = np.where(
        rng.random(n) < p_vc,
        _r2(
            _exp(
                vcc["log_mean"]
                + vcc["amount_size"] * s6
                + vcc["amount_capability"] * c
                + vcc["amount_sigma"] * rng.standard_normal(n)
            )
        ),
        0.0,
    )
    opening = np.where(np.isnan(st["na1"]), st["capital"], st["na1"])
    floor = np.maximum(fin["net_assets_floor"], fin["net_assets_floor_share"] * rev)
    na = _r2(
        np.maximum(
            opening + net_profit - fin["payout_share"] * np.maximum(net_profit, 0.0) + vc, floor
        )
    )
    debt = _r4(
        np.clip(
            expit(
                fin["debt_intercept"]
                + fin["debt_health"] * h
                + st["debt_eff"]
                + fin["debt_sigma"] * rng.standard_normal(n)
            ),
            fin["debt_min"],
            fin["debt_max"],
        )
    )
    total_assets = _r2(na / (1.0 - debt))

    # registries: platforms, awards, standards
    aux = cf["auxiliary"]
    plat_new = rng.poisson(
        _exp(aux["platform_log_rate"] + aux["platform_capability"] * c + aux["platform_size"] * s6)
    )
    platforms = plat_new + st["plat_new1"]
    nat_award = np.maximum(
        st["nat_award"],
        (
            rng.random(n)
            < expit(
                aux["national_award_intercept"]
                + aux["national_award_capability"] * c
                + aux["national_award_size"] * s6
            )
        ).astype(np.int64),
    )
    standards = rng.poisson(
        _exp(
            aux["standards_log_rate"] + aux["standards_capability"] * c + aux["standards_size"] * s6
        )
    )
    led = np.maximum(
        st["led_std"],
        (rng.random(n) < 1.0 - (1.0 - aux["led_standard_per_standard"]) ** standards).astype(
            np.int64
        ),
    )

    # penalty flags of the data year
    pen = cf["penalty"]
    accident = (
        rng.random(n)
        < expit(pen["accident_intercept"] + pen["accident_size"] * s6 + pen["accident_health"] * h)
    ).astype(np.int64)
    env_v = (
        rng.random(n)
        < expit(
            pen["env_intercept"]
            + pen["env_size"] * s6
            + pen["env_health"] * h
            + ind["env"][industry]
        )
    ).astype(np.int64)
    p_debtor = np.where(
        st["debtor"] > 0,
        pen["debtor_persist"],
        expit(pen["debtor_intercept"] + pen["debtor_health"] * h),
    )
    debtor = (rng.random(n) < p_debtor).astype(np.int64)
    misconduct = (
        rng.random(n) < expit(pen["misconduct_intercept"] + pen["misconduct_capability"] * c)
    ).astype(np.int64)

    # --- update stocks ------------------------------------------------------------------
    st["rev"], st["rd"], st["na"], st["conv"] = rev, rd, na, conv.astype(np.float64)
    st["inv_apps"], st["util_apps"] = inv_apps, util_apps
    st["inv_owned"], st["cls2"] = inv_owned, cls2
    st["plat_new"], st["nat_award"], st["led_std"], st["debtor"] = plat_new, nat_award, led, debtor

    out.update(
        year=np.full(n, year, dtype=np.int64),
        founded_year=st["founded"],
        revenue=rev,
        revenue_lag1=st["rev1"],
        revenue_lag2=st["rev2"],
        revenue_3y=rev3,
        revenue_growth=_r4(_div(rev, st["rev1"]) - 1.0),
        employees=emp,
        st_staff=st_staff,
        st_staff_share=_r4(st_staff / emp),
        rd_expense=rd,
        rd_intensity=_r4(rd / rev),
        rd_growth=_r4(_div(rd, st["rd1"]) - 1.0),
        rd_expense_3y=rd3,
        rd_domestic_share=dom,
        invention_patent_apps=inv_apps,
        utility_patent_apps=util_apps,
        software_copyrights=software,
        invention_patents_owned=inv_owned,
        class2_ip_owned=cls2,
        ip_transfer_only=st["transfer"],
        conversions_3y=conv3.astype(np.int64),
        hitech_product_revenue=hitech,
        in_supported_field=st["field"],
        net_profit=net_profit,
        total_cost=total_cost,
        vc_financing=vc,
        net_assets=na,
        net_assets_lag1=st["na1"],
        net_assets_lag2=st["na2"],
        roe=_r4(_div(net_profit, na)),
        debt_ratio=debt,
        total_assets=total_assets,
        platforms_provincial=platforms,
        national_st_award=nat_award,
        standards_drafted=standards,
        led_standard=led,
        major_safety_accident=accident,
        env_violation=env_v,
        dishonest_debtor=debtor,
        research_misconduct=misconduct,
        hte_valid=hte_valid,
        tech_sme_registered=st["reg"].copy(),
    )

    if "failure_modes" in cf:
        # failure mode (b): the HNTE decision reads postgrad_share, so oracle draws need it too
        out["postgrad_share"] = _postgrad(st, emp, rng, env)
    if full:
        _observe_full(st, out, year, rng, env, age, hte_valid)
    _apply_missing(st, out, year, rng, env)
    return out


def _observe_full(
    st: State,
    out: dict[str, np.ndarray],
    year: int,
    rng: np.random.Generator,
    env: Env,
    age: IntArray,
    hte_valid: IntArray,
) -> None:
    """The columns only the published table needs (skipped in oracle draws)."""
    cf = env.coef
    ind = env.ind
    n = st["c"].shape[0]
    c, s = st["c"], st["s"]
    s6 = s - 6.0
    rev, emp, rd, np_ = out["revenue"], out["employees"], out["rd_expense"], out["net_profit"]
    aux, pat = cf["auxiliary"], cf["patents"]

    p_pct = (out["invention_patent_apps"] > 0) * expit(
        pat["pct_any_intercept"] + pat["pct_any_capability"] * c + pat["pct_any_size"] * s6
    )
    pct = _zi_count(
        rng, p_pct, pat["pct_log_mean"] + pat["pct_mean_capability"] * c + pat["pct_mean_size"] * s6
    )

    tc = cf["tech_contract"]
    tc_any = rng.random(n) < expit(
        tc["any_intercept"] + tc["any_capability"] * c + tc["any_size"] * s6
    )
    tc_share = np.minimum(
        tc["max_share"],
        _exp(tc["log_share"] + tc["share_capability"] * c + tc["sigma"] * rng.standard_normal(n)),
    )
    turnover = np.where(tc_any, _r2(tc_share * rev), 0.0)

    fm = cf.get("failure_modes")
    if fm is None:
        out["postgrad_share"] = _postgrad(st, emp, rng, env)

    ratio = _div(rev, st["rev1"])
    known = np.isfinite(ratio)
    growth = np.zeros(n)
    np.log(ratio, out=growth, where=known)
    growth = np.clip(growth, -0.5, 1.0)
    # failure mode (a): graduates are hired by labour-intensive, low-capability firms
    gc = aux if fm is None else fm
    grads = rng.poisson(
        emp
        * gc["graduates_rate"]
        * _exp(gc["graduates_capability"] * c + aux["graduates_growth"] * growth)
    )

    tx = cf["tax"]
    extra = tx["super_deduction_until_2022"] if year <= 2022 else tx["super_deduction_from_2023"]
    rate = np.where(hte_valid > 0, tx["cit_rate_hte"], tx["cit_rate"])
    relief = np.where(st["claim"] & (np_ > 0), _r2(rd * extra * rate), 0.0)
    vat = tx["vat_share"] * rev * _exp(tx["vat_sigma"] * rng.standard_normal(n))
    tax = _r2(vat + np.maximum(np_ * rate - relief, 0.0))
    tax_growth = _r4(_div(tax, st["tax"]) - 1.0)
    st["tax"] = tax

    award_new = rng.poisson(
        _exp(aux["award_log_rate"] + aux["award_capability"] * c + aux["award_size"] * s6)
    )
    awards = award_new + st["award_new1"]
    st["award_new"] = award_new
    univ = rng.poisson(
        _exp(
            aux["university_log_rate"]
            + aux["university_capability"] * c
            + aux["university_size"] * s6
        )
    )
    talent = rng.poisson(
        _exp(aux["talent_log_rate"] + aux["talent_capability"] * c + aux["talent_size"] * s6)
    )
    listed = np.maximum(
        st["listed"],
        (
            rng.random(n)
            < expit(
                aux["listed_intercept"] + aux["listed_size"] * s6 + aux["listed_capability"] * c
            )
        ).astype(np.int64),
    )
    st["listed"] = listed
    spec_ok = (
        (rev >= 1000) & (rd >= 100) & (rd >= 0.03 * rev) & (age >= 2) & (st["spec_end"] < year)
    )
    newly = spec_ok & (rng.random(n) < aux["specialised_rate"])
    st["spec_end"] = np.where(newly, year + 2, st["spec_end"])
    main_share = _r4(
        expit(
            aux["main_business_intercept"]
            + aux["main_business_capability"] * c
            + aux["main_business_sigma"] * rng.standard_normal(n)
        )
    )
    se = (
        aux["strategic_capability"] * c
        + aux["strategic_industry"] * ind["capability"][st["industry"]]
        + st["se_eff"]
    )
    strategic = (se >= aux["strategic_cut1"]).astype(np.int64) + (
        se >= aux["strategic_cut2"]
    ).astype(np.int64)

    out.update(
        pct_apps=pct,
        tech_contract_turnover=turnover,
        graduates_hired=grads,
        rd_deduction_relief=relief,
        tax_paid=tax,
        tax_growth=tax_growth,
        awards_provincial=awards,
        industry_university_projects=univ,
        talent_programs=talent,
        listed_reserve=listed,
        specialised_sme=(st["spec_end"] >= year).astype(np.int64),
        labour_productivity=_r2(rev / emp),
        main_business_share=main_share,
        strategic_emerging=strategic,
    )
    if fm is not None:
        # failure mode (c): a capability signal no shipped framework reads
        out["new_product_share"] = _r4(
            expit(
                fm["new_product_intercept"]
                + fm["new_product_capability"] * c
                + fm["new_product_sigma"] * rng.standard_normal(n)
            )
        )


def _postgrad(st: State, emp: IntArray, rng: np.random.Generator, env: Env) -> FloatArray:
    """Postgraduate share of employees (normal approximation of the binomial count)."""
    pg = env.coef["postgrad"]
    c = st["c"]
    fm = env.coef.get("failure_modes")
    if fm is None:
        logit_pg = (
            pg["intercept"]
            + pg["on_capability"] * c
            + pg["industry_st_scale"] * env.ind["st"][st["industry"]]
        )
    else:
        # failure mode (b): flat noise except for research teams (c ≥ cut)
        logit_pg = fm["postgrad_intercept"] + fm["postgrad_team"] * (c >= fm["postgrad_team_cut"])
    p_pg = expit(logit_pg + pg["sigma"] * rng.standard_normal(c.shape[0]))
    return _r4(_binomial_approx(rng, emp, p_pg) / emp)


def _apply_missing(
    st: State, out: dict[str, np.ndarray], year: int, rng: np.random.Generator, env: Env
) -> None:
    """Blank whole source blocks (more often for small and young firms), then sporadic cells."""
    mc = env.coef["missing"]
    n = st["c"].shape[0]
    if n == 0:
        return
    s6 = st["s"] - 6.0
    young = (year - st["founded"]) <= 1
    shift = env.park_missing[st["park"]]
    cell = mc["cell"]
    for block, cols in MISSING_BLOCKS.items():
        p = expit(
            mc[f"{block}_intercept"]
            - mc[f"{block}_size"] * s6
            + mc[f"{block}_young"] * young
            + shift
        )
        gone = rng.random(n) < p
        if block == SURVEY_BLOCK and SURVEY_EXTRA in out:
            out[SURVEY_EXTRA] = np.where(gone, np.nan, out[SURVEY_EXTRA])
        for name in cols:
            # sporadic cells: Binomial(n, cell) positions drawn with replacement
            sporadic = rng.integers(0, n, rng.binomial(n, cell))
            if name not in out:
                continue
            col = np.where(gone, np.nan, out[name].astype(np.float64, copy=False))
            col[sporadic] = np.nan
            out[name] = col
    if SURVEY_EXTRA in out:
        out[SURVEY_EXTRA][rng.integers(0, n, rng.binomial(n, cell))] = np.nan


# --------------------------------------------------------------------------------------------
# decisions: probabilities known at t of what happens in t + 1
# --------------------------------------------------------------------------------------------


def rule_frame(
    out: dict[str, np.ndarray], idx: IntArray, columns: tuple[str, ...] = RULE_COLUMNS
) -> pd.DataFrame:
    """The rule-input columns of the selected rows as a DataFrame."""
    return pd.DataFrame({c: out[c][idx] for c in columns})


def staff_share(out: dict[str, np.ndarray]) -> FloatArray:
    """S&T staff share as the rules compute it: counts where known, else the share column."""
    from_counts = _div(out["st_staff"].astype(np.float64), out["employees"].astype(np.float64))
    return np.where(np.isnan(from_counts), out["st_staff_share"], from_counts)


def rd_threshold(revenue: FloatArray) -> FloatArray:
    """HNTE R&D ratio threshold by last-year sales (5 % / 4 % / 3 %)."""
    return np.where(revenue <= 5000.0, 0.05, np.where(revenue <= 20000.0, 0.04, 0.03))


def hnte_prefilter(out: dict[str, np.ndarray]) -> BoolArray:
    """Rows that meet every hard HNTE condition up to a slack; all other rows surely fail.

    A pure speed-up: the rules run only on these rows. Looser than the rules (slack 1e-6
    against their 1e-9), so it never drops a row that passes. Besides the hard conditions it
    uses one bound on the score: with fewer than 3 conversions in 3 years the conversion item
    is 0 and the score is at most 30 + 20 + 20 = 70 < 71.
    """
    rev = out["revenue"]
    with np.errstate(invalid="ignore"):
        return (
            ((out["year"] - out["founded_year"]) >= 1)
            & ((out["invention_patents_owned"] + out["class2_ip_owned"]) >= 1)
            & (out["in_supported_field"] == 1)
            & (staff_share(out) >= 0.10 - EPS)
            & (_div(out["rd_expense_3y"], out["revenue_3y"]) >= rd_threshold(rev) - EPS)
            & (out["rd_domestic_share"] >= 0.60 - EPS)
            & (_div(out["hitech_product_revenue"], rev) >= 0.60 - EPS)
            & (out["major_safety_accident"] == 0)
            & (out["env_violation"] == 0)
            & (out["conversions_3y"] >= 3 - EPS)
        )


def sme_prefilter(out: dict[str, np.ndarray]) -> BoolArray:
    """Rows that may pass the tech-SME rule; all other rows surely fail (see hnte_prefilter)."""
    size_ok = (out["employees"] <= 500) & (out["revenue"] <= 20000) & (out["total_assets"] <= 20000)
    clean = (out["dishonest_debtor"] == 0) & (out["research_misconduct"] == 0)
    direct = (
        (out["hte_valid"] > 0)
        | (out["national_st_award"] > 0)
        | (out["platforms_provincial"] > 0)
        | (out["led_standard"] > 0)
    )
    # score route: S&T share ≥ 10 % and, as S&T ≤ 20 and IP ≤ 30 points, R&D ≥ 10 points
    sales = np.where(
        np.isnan(out["rd_intensity"]), _div(out["rd_expense"], out["revenue"]), out["rd_intensity"]
    )
    with np.errstate(invalid="ignore"):
        rd_ok = (sales >= 0.02 - EPS) | (_div(out["rd_expense"], out["total_cost"]) >= 0.10 - EPS)
        score_possible = (staff_share(out) >= 0.10 - EPS) & rd_ok
    return size_ok & clean & (direct | score_possible)


def quality_shift(out: dict[str, np.ndarray], env: Env) -> FloatArray:
    """Shift of the expert-quality logit per row: 0, or failure mode (b) when it is on.

    With failure modes the panel credits a research team: ``postgrad_quality × [postgrad_share
    ≥ postgrad_team_level]`` (a missing share counts as no team).
    """
    fm = env.coef.get("failure_modes")
    n = out["revenue"].shape[0]
    if fm is None:
        return np.zeros(n)
    share = np.nan_to_num(out["postgrad_share"], nan=-1.0)
    return fm["postgrad_quality"] * (share >= fm["postgrad_team_level"])


def hnte_passing_nodes(
    out: dict[str, np.ndarray], rows: BoolArray, c: FloatArray, env: Env, shift: FloatArray
) -> IntArray:
    """Number of the K expert nodes at which ``hnte.evaluate`` passes, per row (0 off ``rows``).

    The expert quality at node k is ``q_k = L(κ0 + κ_c c + shift + κ_ξ ξ_k)``, increasing in
    k, and the HNTE score is non-decreasing in the quality, so the passing nodes are the top
    ones; :class:`_NodeSearch` finds the lowest. Rows outside :func:`hnte_prefilter` fail at
    every node.
    """
    npass = np.zeros(rows.shape[0], dtype=np.int64)
    idx = np.flatnonzero(rows & hnte_prefilter(out))
    if idx.size == 0:
        return npass
    hc = env.coef["hte"]
    search = _NodeSearch(
        rule_frame(out, idx, HNTE_COLUMNS),
        hc["quality_intercept"] + hc["quality_capability"] * c[idx] + shift[idx],
        hc["quality_noise"] * env.nodes,
    )
    npass[idx] = search.passing_nodes()
    return npass


#: Brackets of at most this many nodes are settled by probing each node in one call.
_NARROW = 3

#: The HNTE conditions that do not depend on the expert quality.
_HARD_CONDITIONS = tuple(f"cond__{c}" for c in hnte.CONDITIONS if c != "score")


class _NodeSearch:
    """The number of expert nodes at which the HNTE rules pass, exactly, in few rule calls.

    The rules run at the bottom node first: rows that pass there pass everywhere, rows that
    fail a condition other than the score fail everywhere (those conditions do not depend on
    the quality). The rest run at the top node: failing there, they pass nowhere. For the rows
    left, the lowest passing node is found by probes that each run ``hnte.evaluate``, so the
    answer is exact; the rules' score only guides where to probe first — the node where the
    score, linear in q between the bottom and the top node, reaches the pass mark. Guesses
    are usually right or one node off, so two calls settle most rows; a vectorised bisection
    finishes the rest.
    """

    def __init__(self, frame: pd.DataFrame, base: FloatArray, offsets: FloatArray) -> None:
        self.frame, self.base = frame, base
        self.offsets = offsets  # κ_ξ ξ_k, increasing in k

    def _run(self, rows: IntArray | None, node: IntArray) -> pd.DataFrame:
        """The rules' frame for ``rows`` (None: every row) at the expert ``node`` of each."""
        frame = self.frame if rows is None else self.frame.take(rows)
        base = self.base if rows is None else self.base[rows]
        return hnte.evaluate(frame, expit(base + self.offsets[node])).frame

    def passing_nodes(self) -> IntArray:
        n, k = self.base.size, self.offsets.size
        every = np.arange(n)
        res = self._run(None, np.zeros(n, dtype=np.int64))
        bottom = res["passed"].to_numpy(dtype=bool)
        hard = res[list(_HARD_CONDITIONS)].to_numpy(dtype=bool).all(axis=1)
        npass = np.where(bottom, k, 0)
        rows = every[~bottom & hard]
        if rows.size == 0:
            return npass
        score_bottom = res["score"].to_numpy(np.float64)[rows]
        res = self._run(rows, np.full(rows.size, k - 1))
        top = res["passed"].to_numpy(dtype=bool)
        rows, score_bottom = rows[top], score_bottom[top]
        score_top = res["score"].to_numpy(np.float64)[top]
        npass[rows] = k - self._lowest(rows, self._guess(rows, score_bottom, score_top))
        return npass

    def _guess(self, rows: IntArray, s0: FloatArray, s1: FloatArray) -> IntArray:
        base, lo_q, hi_q = self.base[rows], self.offsets[0], self.offsets[-1]
        q0, q1 = expit(base + lo_q), expit(base + hi_q)
        q_star = q0 + (hnte.PASS_SCORE - s0) / np.maximum(s1 - s0, 1e-9) * (q1 - q0)
        z_star = logit(np.clip(q_star, 1e-12, 1 - 1e-12)) - base
        guess = np.searchsorted(self.offsets, z_star, side="left")
        return np.clip(guess, 1, self.offsets.size - 1).astype(np.int64)

    def _lowest(self, rows: IntArray, guess: IntArray) -> IntArray:
        """Lowest passing node of rows that fail at the bottom node and pass at the top one."""
        m = rows.size
        every = np.arange(m)
        lo, hi = np.ones(m, dtype=np.int64), np.full(m, self.offsets.size - 1, dtype=np.int64)
        # round 1: the guess and the node below it, in one call
        below = every[guess > 1]  # the node below is worth a look unless it is the bottom
        at = np.concatenate([every, below])
        self._probe(rows, at, np.concatenate([guess, guess[below] - 1]), lo, hi)
        # round 2: one node further in the direction the guess missed
        act = every[lo < hi]
        if act.size:
            walk = np.where(hi[act] < guess[act], hi[act] - 1, lo[act])
            self._probe(rows, act, walk, lo, hi)
        while True:  # what is left: every node of a bracket of ≤ 3, else bisection; one call
            act = every[lo < hi]
            if act.size == 0:
                return lo
            width = hi[act] - lo[act]
            wide = act[width > _NARROW]
            where, nodes = [wide], [(lo[wide] + hi[wide]) // 2]
            for j in range(_NARROW):
                sel = act[(width <= _NARROW) & (width > j)]
                where.append(sel)
                nodes.append(lo[sel] + j)
            self._probe(rows, np.concatenate(where), np.concatenate(nodes), lo, hi)

    def _probe(
        self, rows: IntArray, at: IntArray, nodes: IntArray, lo: IntArray, hi: IntArray
    ) -> None:
        """Evaluate ``rows[at]`` at ``nodes`` and narrow their brackets ``[lo, hi]`` in place."""
        ok = self._run(rows[at], nodes)["passed"].to_numpy(dtype=bool)
        np.minimum.at(hi, at[ok], nodes[ok])
        np.maximum.at(lo, at[~ok], nodes[~ok] + 1)


def expert_quality(c: FloatArray, env: Env, shift: FloatArray | float = 0.0) -> FloatArray:
    """Expert quality at every node, shape (n, K); ``shift`` from :func:`quality_shift`."""
    hc = env.coef["hte"]
    return expit(
        hc["quality_intercept"]
        + hc["quality_capability"] * c[:, None]
        + np.reshape(shift, (-1, 1))
        + hc["quality_noise"] * env.nodes[None, :]
    )


def sme_passes(out: dict[str, np.ndarray]) -> BoolArray:
    """``tech_sme.evaluate(...).passed`` for every row (run on the pre-filtered rows only)."""
    passed = np.zeros(out["revenue"].shape[0], dtype=bool)
    idx = np.flatnonzero(sme_prefilter(out))
    if idx.size:
        passed[idx] = tech_sme.evaluate(rule_frame(out, idx, SME_COLUMNS)).passed.to_numpy(
            dtype=bool
        )
    return passed


def hnte_readiness(out: dict[str, np.ndarray]) -> FloatArray:
    """Share of five observable HNTE conditions the firm meets (README: readiness r)."""
    rev = out["revenue"]
    with np.errstate(invalid="ignore"):
        parts = (
            (out["invention_patents_owned"] + out["class2_ip_owned"]) >= 1,
            out["in_supported_field"] == 1,
            staff_share(out) >= 0.10,
            _div(out["rd_expense_3y"], out["revenue_3y"]) >= rd_threshold(rev),
            _div(out["hitech_product_revenue"], rev) >= 0.60,
        )
    return np.mean(np.vstack(parts).astype(np.float64), axis=0)


def decision_probs(
    st: State, out: dict[str, np.ndarray], year: int, env: Env, cert_end: IntArray | None = None
) -> dict[str, np.ndarray]:
    """Every probability of what happens between ``year`` and ``year + 1``, known at ``year``.

    Parameters
    ----------
    cert_end : array, optional
        Last valid year of the certificate that decides HNTE eligibility and renewal; default
        ``st["cert_end"]``. Oracle draws pass the status at the scoring year (no certification
        since), while ``out["hte_valid"]`` carries the status sampled along the draw.
    """
    cf = env.coef
    c, h, s = st["c"], st["h"], st["s"]
    s6 = s - 6.0
    age = year - st["founded"]
    ex = cf["exit"]
    d = expit(
        ex["intercept"]
        + ex["health"] * h
        + ex["size"] * s6
        + ex["capability"] * c
        + ex["young"] * (age < 3)
    )
    hc = cf["hte"]
    cert_end = st["cert_end"] if cert_end is None else cert_end
    elig = cert_end <= year
    renewal = cert_end == year
    ready = hnte_readiness(out)
    a_hte = expit(
        hc["apply_intercept"]
        + hc["apply_readiness"] * ready
        + hc["apply_capability"] * c
        + hc["apply_renewal"] * renewal
    )
    shift = quality_shift(out, env)
    npass = hnte_passing_nodes(out, elig, c, env, shift)
    sme_pass = sme_passes(out)
    sc = cf["tech_sme"]
    a_sme = expit(
        sc["apply_intercept"] + sc["apply_capability"] * c + sc["apply_registered"] * st["reg"]
    )
    lc = cf["loan"]
    g = expit(
        lc["intercept"]
        + lc["capability"] * c
        + lc["health"] * h
        + lc["size"] * s6
        + lc["hte"] * out["hte_valid"]
        + env.park_loan[st["park"]]
    )
    pi = expit(
        lc["default_intercept"]
        + lc["default_health"] * h
        + lc["default_capability"] * c
        + lc["default_size"] * s6
    )
    return {
        "exit": d,
        "hte_eligible": elig,
        "hte_readiness": ready,
        "hte_apply": a_hte,
        "hte_npass": npass,
        "quality_shift": shift,
        "hte_pass": npass / env.k,
        "sme_pass": sme_pass,
        "sme_apply": a_sme,
        "loan_grant": g,
        "default_hazard": pi,
    }
