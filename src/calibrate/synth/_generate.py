"""The simulation loop: firms enter, evolve, apply, get certified, borrow, default and exit.

One pass over the years (burn-in included), vectorised over the firms of a year. Events dated
``t + 1`` are decided from the state and data of year ``t``; the horizon-1 oracle is the exact
probability of that decision, the horizon-2/3 oracles average the exact recursion over
``oracle_draws`` simulated futures of every firm (see data/README.md, "Truth").
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from calibrate.ids import make_uscc
from calibrate.synth import _model as m
from calibrate.synth._config import INDUSTRIES, PARK_DIVISIONS, SynthConfig
from calibrate.synth._panel import (
    ENTERPRISE_COLUMNS,
    EVENTS,
    FAILURE_MODE_COLUMNS,
    TRUTH_COLUMNS,
    Panel,
)

EVENT_HTE, EVENT_SME, EVENT_LOAN, EVENT_DEFAULT = range(4)


def generate(config: SynthConfig | None = None, *, progress: bool = True) -> Panel:
    """Simulate a multi-park enterprise panel with known ground truth.

    Parameters
    ----------
    config : SynthConfig, optional
        Size, years, seed and model knobs; default ``SynthConfig()`` (3,000 firms a year,
        2 parks, 2018–2024, seed 0).
    progress : bool, default True
        Show progress over the simulated years on stderr (a bar on a terminal, lines otherwise).

    Returns
    -------
    Panel
        The enterprise-year table, the events, the truth (latents and oracle probabilities)
        and the generating coefficients. The same ``config`` always gives the same panel.

    Examples
    --------
    >>> from calibrate.synth import SynthConfig, generate
    >>> panel = generate(SynthConfig(enterprises=500, seed=1), progress=False)
    >>> panel.write("out/synth", fmt="csv")  # doctest: +SKIP
    """
    from calibrate.progress import progress as report

    cfg = config if config is not None else SynthConfig()
    coef = cfg.coefficients()
    start, end = int(cfg.years[0]), int(cfg.years[1])
    y0 = start - int(cfg.burn_in)
    sim_years = range(y0, end + 1)
    root = np.random.SeedSequence(int(cfg.seed))
    s_setup, s_main, s_oracle, s_ids = root.spawn(4)
    mid = 0.5 * (start + end)
    env = m.make_env(
        coef, int(cfg.parks), sim_years, int(cfg.expert_nodes), mid, np.random.default_rng(s_setup)
    )
    rng = np.random.default_rng(s_main)
    rng_or = np.random.default_rng(s_oracle)

    def target(year: int) -> int:
        return max(10, round(cfg.enterprises * (1.0 + cfg.park_growth) ** (year - mid)))

    pop = coef["population"]
    n0 = target(y0)
    ages = np.minimum(
        rng.geometric(1.0 / (pop["initial_age_mean"] + 1.0), n0) - 1, pop["initial_age_max"]
    )
    parks = rng.choice(len(env.park_weights), n0, p=env.park_weights)
    st = m.new_firms(n0, y0, ages, parks, 0, env, rng)
    next_fid = n0

    events: list[tuple[np.ndarray, np.ndarray, int]] = []
    rows: list[dict[str, np.ndarray]] = []
    truth: list[dict[str, np.ndarray]] = []

    bar: Any = report(total=len(sim_years), desc="synth", unit="year", enabled=progress)
    for year in sim_years:
        if year > y0:
            m.transition(st, env.year_shock[year], rng, env)
            n_births = max(
                round(target(year) - st["c"].shape[0]),
                math.ceil(pop["min_birth_share"] * target(year)),
            )
            parks = rng.choice(len(env.park_weights), n_births, p=env.park_weights)
            born = m.new_firms(
                n_births, year, np.zeros(n_births, dtype=np.int64), parks, next_fid, env, rng
            )
            next_fid += n_births
            st = m.concat(st, born)
        out = m.observe(st, year, rng, env, full=True)
        if year == y0:
            _initial_status(st, out, year, rng, env, events)
        probs = m.decision_probs(st, out, year, env)

        if year >= start:
            rows.append(
                {
                    **out,
                    "fid": st["fid"],
                    "park_idx": st["park"],
                    "industry_idx": st["industry"],
                    "incubated": st["incubated"],
                    "carrier_draw": st["carrier_draw"],
                }
            )
            truth.append(_truth_rows(st, probs, year, env, rng_or, int(cfg.oracle_draws)))
        if year < end:
            alive = _decide(st, probs, year, rng, env, events)
            st = m.subset(st, alive)
        bar.update(1)
    bar.close()

    return _assemble(cfg, coef, env, rows, truth, events, np.random.default_rng(s_ids))


# --------------------------------------------------------------------------------------------
# decisions in the main simulation
# --------------------------------------------------------------------------------------------


def _initial_status(
    st: m.State,
    out: dict[str, np.ndarray],
    year: int,
    rng: np.random.Generator,
    env: m.Env,
    events: list,
) -> None:
    """Certificates and tech-SME registrations held in the first simulated year.

    A firm of the initial population that would pass the HNTE rules at a random expert node
    holds a certificate with probability ``min(1, scale × apply probability)``, granted in
    ``year − U{0, 1, 2}`` (not before its second year), so renewals are spread over the cycle.
    """
    n = st["c"].shape[0]
    hc = env.coef["hte"]
    probs = m.decision_probs(st, out, year, env)
    node = rng.integers(0, env.k, n)
    passes = node >= env.k - probs["hte_npass"]
    holder = passes & (
        rng.random(n) < np.minimum(1.0, hc["initial_holder_scale"] * probs["hte_apply"])
    )
    start = year - rng.integers(0, 3, n)
    start = np.maximum(start, st["founded"] + 1)
    holder &= start <= year
    st["cert_end"] = np.where(holder, start + 2, st["cert_end"])
    for y in np.unique(start[holder]):
        sel = holder & (start == y)
        events.append((st["fid"][sel], np.full(int(sel.sum()), y), EVENT_HTE))
    out["hte_valid"] = (st["cert_end"] >= year).astype(np.int64)
    reg = m.sme_passes(out) & (rng.random(n) < env.coef["tech_sme"]["initial_share"])
    st["reg"] = reg.astype(np.int64)
    out["tech_sme_registered"] = st["reg"].copy()
    events.append((st["fid"][reg], np.full(int(reg.sum()), year), EVENT_SME))


def _decide(
    st: m.State,
    probs: dict[str, np.ndarray],
    year: int,
    rng: np.random.Generator,
    env: m.Env,
    events: list,
) -> np.ndarray:
    """Draw exits and the events of ``year + 1``; update the statuses; return the survivors."""
    n = st["c"].shape[0]
    lc = env.coef["loan"]
    exits = rng.random(n) < probs["exit"]
    alive = ~exits
    # HNTE: eligible, applies, passes at the drawn expert node
    apply = rng.random(n) < probs["hte_apply"]
    node = rng.integers(0, env.k, n)
    cert = alive & probs["hte_eligible"] & apply & (node >= env.k - probs["hte_npass"])
    # tech-SME registration
    sme = alive & (rng.random(n) < probs["sme_apply"]) & probs["sme_pass"]
    # loans: default of an active loan, then new grants
    r = st["loan_r"]
    active = r >= 1
    hazard = rng.random(n) < probs["default_hazard"]
    exit_default = rng.random(n) < lc["exit_default"]
    default = active & (hazard | (exits & exit_default))
    grant = alive & (r == 0) & (st["banned"] == 0) & (rng.random(n) < probs["loan_grant"])
    term = rng.choice(
        np.arange(1, 4),
        n,
        p=np.asarray(lc["term_probs"], dtype=np.float64) / np.sum(lc["term_probs"]),
    )

    st["cert_end"] = np.where(cert, year + 3, st["cert_end"])
    st["reg"] = sme.astype(np.int64)
    st["loan_r"] = np.where(grant, term, np.where(active & ~default, r - 1, 0))
    st["banned"] = np.maximum(st["banned"], default.astype(np.int64))
    nxt = year + 1
    for mask, code in (
        (cert, EVENT_HTE),
        (sme, EVENT_SME),
        (grant, EVENT_LOAN),
        (default, EVENT_DEFAULT),
    ):
        events.append((st["fid"][mask], np.full(int(mask.sum()), nxt), code))
    return alive


# --------------------------------------------------------------------------------------------
# truth: exact horizon-1 oracle, Monte-Carlo horizon-2/3 oracles
# --------------------------------------------------------------------------------------------


def _first_event(steps: list[tuple[np.ndarray, np.ndarray]]) -> list[np.ndarray]:
    """P(first event within 1, 2, … steps) for per-step (exit prob, event prob given alive).

    The event of step j is dated t + j + 1 and needs the firm alive then:
    ``P_h = Σ_{j<h} Π_{i<j} (1 − d_i)(1 − e_i) · (1 − d_j) e_j``.
    """
    surv = np.ones_like(steps[0][0])
    acc = np.zeros_like(steps[0][0])
    cum = []
    for d, e in steps:
        acc = acc + surv * (1.0 - d) * e
        surv = surv * (1.0 - d) * (1.0 - e)
        cum.append(acc)
    return cum


def _default_chain(
    r0: np.ndarray,
    banned: np.ndarray,
    steps: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    term_probs: np.ndarray,
    exit_default: float,
) -> list[np.ndarray]:
    """P(a loan default within 1, 2, … steps): exact Markov chain over the loan's remaining years.

    State: alive with no default yet and ``r`` ∈ {0, 1, 2, 3} remaining years in which the
    current loan can default. Per step (exit d, grant g, hazard π): an active loan defaults
    with ``1 − (1 − π)(1 − θ d)``, otherwise survives with ``(1 − π)(1 − d)`` and ``r − 1``;
    without a loan the firm survives with ``1 − d`` and gets a loan of term T with
    ``(1 − d) g w_T`` unless banned.
    """
    # p[r] = P(alive, no default yet, r remaining loan years); columns kept apart for speed
    start = np.minimum(r0, 3)
    p = [(start == r).astype(np.float64) for r in range(4)]
    acc = np.zeros(r0.shape[0])
    cum = []
    for d, g, pi in steps:
        active = p[1] + p[2] + p[3]
        acc = acc + active * (1.0 - (1.0 - pi) * (1.0 - exit_default * d))
        keep = (1.0 - pi) * (1.0 - d)
        gg = np.where(banned > 0, 0.0, g)
        lent = p[0] * (1.0 - d) * gg
        p = [
            p[1] * keep + p[0] * (1.0 - d) * (1.0 - gg),
            p[2] * keep + lent * term_probs[0],
            p[3] * keep + lent * term_probs[1],
            lent * term_probs[2],
        ]
        cum.append(acc)
    return cum


def _truth_rows(
    st: m.State,
    probs: dict[str, np.ndarray],
    year: int,
    env: m.Env,
    rng: np.random.Generator,
    draws: int,
) -> dict[str, np.ndarray]:
    """Latents, decision probabilities and the oracles of every firm alive in ``year``."""
    lc = env.coef["loan"]
    terms = np.asarray(lc["term_probs"], dtype=np.float64)
    terms = terms / terms.sum()
    theta = float(lc["exit_default"])
    n = st["c"].shape[0]

    def hte_e(p: dict[str, np.ndarray]) -> np.ndarray:
        return p["hte_eligible"] * p["hte_apply"] * p["hte_pass"]

    def sme_e(p: dict[str, np.ndarray]) -> np.ndarray:
        return p["sme_apply"] * p["sme_pass"]

    d0 = probs["exit"]
    step0_hte = (d0, hte_e(probs))
    step0_sme = (d0, sme_e(probs))
    step0_loan = (d0, probs["loan_grant"], probs["default_hazard"])
    exact_hte = _first_event([step0_hte])[0]
    exact_sme = _first_event([step0_sme])[0]
    exact_def = _default_chain(st["loan_r"], st["banned"], [step0_loan], terms, theta)[0]

    # --- Monte-Carlo over futures: replicate every firm `draws` times ------------------------
    rep = np.tile(np.arange(n), draws)
    block = np.repeat(np.arange(draws), n)
    b = {k: np.tile(v, draws) for k, v in st.items()}  # = m.subset(st, rep), faster
    orig_cert_end = b["cert_end"].copy()
    new_cert = probs["hte_eligible"][rep] & (
        rng.random(rep.size) < (probs["hte_apply"] * probs["hte_pass"])[rep]
    )
    b["cert_end"] = np.where(new_cert, year + 3, b["cert_end"])
    b["reg"] = np.zeros(rep.size, dtype=np.int64)  # no registration before the first event
    hte_steps = [(step0_hte[0][rep], step0_hte[1][rep])]
    sme_steps = [(step0_sme[0][rep], step0_sme[1][rep])]
    loan_steps = [(step0_loan[0][rep], step0_loan[1][rep], step0_loan[2][rep])]
    sd = env.coef["health"]["year_shock_sd"]
    for j in (1, 2):
        y = year + j
        eta = rng.normal(0.0, sd, draws)[block]
        m.transition(b, eta, rng, env)
        bout = m.observe(b, y, rng, env, full=False)
        bp = m.decision_probs(b, bout, y, env, cert_end=orig_cert_end)
        hte_steps.append((bp["exit"], hte_e(bp)))
        sme_steps.append((bp["exit"], sme_e(bp)))
        loan_steps.append((bp["exit"], bp["loan_grant"], bp["default_hazard"]))
        # the certificate status along this draw (for the tech-SME route and the loan logit)
        can = b["cert_end"] <= y
        got = can & (rng.random(rep.size) < bp["hte_apply"] * bp["hte_pass"])
        b["cert_end"] = np.where(got, y + 3, b["cert_end"])

    def mc(cum: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return cum[1].reshape(draws, n).mean(axis=0), cum[2].reshape(draws, n).mean(axis=0)

    hte2, hte3 = mc(_first_event(hte_steps))
    sme2, sme3 = mc(_first_event(sme_steps))
    def2, def3 = mc(_default_chain(st["loan_r"][rep], st["banned"][rep], loan_steps, terms, theta))

    q = m.expert_quality(st["c"], env, probs["quality_shift"])
    return {
        "latent_capability": st["c"].copy(),
        "latent_health": st["h"].copy(),
        "expert_quality_mean": q.mean(axis=1),
        "exit_prob": d0,
        "hte_eligible": probs["hte_eligible"].astype(np.int64),
        "hte_readiness": probs["hte_readiness"],
        "hte_apply_prob": probs["hte_apply"],
        "hte_pass_prob": probs["hte_pass"],
        "tech_sme_pass": probs["sme_pass"].astype(np.int64),
        "tech_sme_apply_prob": probs["sme_apply"],
        "loan_active_next": (st["loan_r"] >= 1).astype(np.int64),
        "loan_eligible": ((st["loan_r"] == 0) & (st["banned"] == 0)).astype(np.int64),
        "loan_grant_prob": probs["loan_grant"],
        "default_hazard": probs["default_hazard"],
        "oracle_hte_certified_h1": exact_hte,
        "oracle_hte_certified_h2": hte2,
        "oracle_hte_certified_h3": hte3,
        "oracle_tech_sme_registered_h1": exact_sme,
        "oracle_tech_sme_registered_h2": sme2,
        "oracle_tech_sme_registered_h3": sme3,
        "oracle_loan_default_h1": exact_def,
        "oracle_loan_default_h2": def2,
        "oracle_loan_default_h3": def3,
    }


# --------------------------------------------------------------------------------------------
# assembly of the published tables
# --------------------------------------------------------------------------------------------


def _assemble(
    cfg: SynthConfig,
    coef: dict[str, Any],
    env: m.Env,
    rows: list[dict[str, np.ndarray]],
    truth: list[dict[str, np.ndarray]],
    events: list[tuple[np.ndarray, np.ndarray, int]],
    rng_ids: np.random.Generator,
) -> Panel:
    data = {k: np.concatenate([r[k] for r in rows]) for k in rows[0]}
    tru = {k: np.concatenate([t[k] for t in truth]) for k in truth[0]}
    firms, first = np.unique(data["fid"], return_index=True)
    ids = _firm_ids(firms, data["park_idx"][first], len(env.park_weights), rng_ids)
    # rank of each firm's id in string order: sorting rows by (year, rank) sorts them by id
    rank = np.empty(firms.size, dtype=np.int64)
    rank[np.argsort(np.asarray(ids, dtype=str), kind="stable")] = np.arange(firms.size)
    pos = np.searchsorted(firms, data["fid"])
    year = data["year"].astype(np.int64)
    order = np.lexsort((rank[pos], year))

    cols: dict[str, Any] = {
        "enterprise_id": _strings(ids, pos[order]),
        "year": year[order],
        **_park_columns(cfg, coef, data, order, len(env.park_weights)),
    }
    for name in (*ENTERPRISE_COLUMNS[5:], *(c for c in FAILURE_MODE_COLUMNS if c in data)):
        v = data[name]
        cols[name] = v[order].astype(np.float64 if v.dtype.kind == "f" else np.int64, copy=False)
    enterprises = pd.DataFrame(cols)
    for k in ("enterprise_id", "park", "industry", "carrier"):
        enterprises[k] = enterprises[k].astype("str")

    truth_df = pd.DataFrame(
        {
            "enterprise_id": cols["enterprise_id"],
            "year": cols["year"],
            **{k: tru[k][order] for k in TRUTH_COLUMNS[2:]},
        }
    )
    truth_df["enterprise_id"] = truth_df["enterprise_id"].astype("str")
    coefficients = _coefficients_record(cfg, coef, env)
    return Panel(
        enterprises=enterprises,
        events=_events_frame(events, firms, ids, rank),
        truth=truth_df,
        coefficients=coefficients,
    )


def _strings(labels: list[str], codes: np.ndarray) -> Any:
    """The string column ``labels[codes]``, built in Arrow (no Python string per row).

    Cast with ``.astype("str")`` like any other string column, so the dtype is the pandas
    version's own and the files are byte for byte those of a column built from Python strings.
    """
    import pyarrow as pa

    taken = pa.array(labels, type=pa.large_string()).take(pa.array(codes, type=pa.int64()))
    return pd.array(taken, dtype=pd.StringDtype("pyarrow"))


def _firm_ids(
    firms: np.ndarray, firm_park: np.ndarray, n_parks: int, rng_ids: np.random.Generator
) -> list[str]:
    """One unified social credit code per published firm, park by park (own division code)."""
    ids = np.empty(firms.size, dtype=object)
    for p in range(n_parks):
        sel = firm_park == p
        division = PARK_DIVISIONS[p] if p < len(PARK_DIVISIONS) else f"99{p + 1:04d}"
        ids[sel] = make_uscc(rng_ids, int(sel.sum()), division=division)
    return [str(i) for i in ids]


def _park_columns(
    cfg: SynthConfig,
    coef: dict[str, Any],
    data: dict[str, np.ndarray],
    order: np.ndarray,
    n_parks: int,
) -> dict[str, Any]:
    """``park``, ``industry`` and ``carrier`` (the park at large or one of its incubators)."""
    n_years = int(cfg.years[1]) - int(cfg.years[0]) + 1
    park = data["park_idx"]
    n_inc = np.array(
        [
            max(2, round(np.sum(park == p) / n_years / coef["population"]["firms_per_incubator"]))
            for p in range(n_parks)
        ],
        dtype=np.int64,
    )
    inc_no = np.minimum((data["carrier_draw"] * n_inc[park]).astype(np.int64), n_inc[park] - 1) + 1
    # carrier label k · (max incubators + 1) + incubator number (0: the park at large)
    width = int(n_inc.max()) + 1
    carrier_code = park * width + np.where(data["incubated"], inc_no, 0)
    carriers = [
        f"P{p + 1:02d}-ZONE" if j == 0 else f"P{p + 1:02d}-INC{j:02d}"
        for p in range(n_parks)
        for j in range(width)
    ]
    return {
        "park": _strings([f"P{p + 1:02d}" for p in range(n_parks)], park[order]),
        "industry": _strings([i["code"] for i in INDUSTRIES], data["industry_idx"][order]),
        "carrier": _strings(carriers, carrier_code[order]),
    }


def _events_frame(
    events: list[tuple[np.ndarray, np.ndarray, int]],
    firms: np.ndarray,
    ids: list[str],
    rank: np.ndarray,
) -> pd.DataFrame:
    """The long events table of published firms, sorted by year, id and event."""
    ev_fid = np.concatenate([e[0] for e in events]).astype(np.int64)
    ev_year = np.concatenate([np.asarray(e[1], dtype=np.int64) for e in events])
    ev_code = np.concatenate([np.full(e[0].shape[0], e[2], dtype=np.int64) for e in events])
    known = np.isin(ev_fid, firms)
    ev_fid, ev_year, ev_code = ev_fid[known], ev_year[known], ev_code[known]
    ev_pos = np.searchsorted(firms, ev_fid)
    ev_order = np.lexsort((ev_code, rank[ev_pos], ev_year))
    events_df = pd.DataFrame(
        {
            "enterprise_id": _strings(ids, ev_pos[ev_order]),
            "year": ev_year[ev_order],
            "event": _strings(list(EVENTS), ev_code[ev_order]),
        }
    )
    for k in ("enterprise_id", "event"):
        events_df[k] = events_df[k].astype("str")
    return events_df


def _coefficients_record(cfg: SynthConfig, coef: dict[str, Any], env: m.Env) -> dict[str, Any]:
    """Everything needed to check the model: config, coefficients and realised draws."""
    parks = len(env.park_weights)
    return {
        "generator": "calibrate.synth",
        "config": {
            "enterprises": int(cfg.enterprises),
            "parks": int(cfg.parks),
            "years": [int(cfg.years[0]), int(cfg.years[1])],
            "seed": int(cfg.seed),
            "burn_in": int(cfg.burn_in),
            "park_growth": float(cfg.park_growth),
            "expert_nodes": int(cfg.expert_nodes),
            "oracle_draws": int(cfg.oracle_draws),
            "overrides": {str(k): float(v) for k, v in cfg.overrides},
            # recorded only when on, so that default panels keep their bytes
            **({"failure_modes": True} if cfg.failure_modes else {}),
        },
        "coefficients": coef,
        "industries": [dict(i) for i in INDUSTRIES],
        "realised": {
            "parks": {
                f"P{p + 1:02d}": {
                    "weight": float(env.park_weights[p]),
                    "division": PARK_DIVISIONS[p] if p < len(PARK_DIVISIONS) else f"99{p + 1:04d}",
                    "industry_mix": {
                        i["code"]: float(w)
                        for i, w in zip(INDUSTRIES, env.park_mix[p], strict=True)
                    },
                    "missing_shift": float(env.park_missing[p]),
                    "loan_shift": float(env.park_loan[p]),
                }
                for p in range(parks)
            },
            "year_shock": {int(y): float(v) for y, v in env.year_shock.items()},
            "expert_nodes": [float(x) for x in env.nodes],
        },
    }
