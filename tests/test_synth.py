"""Synthetic panel: distributions, identities, events ↔ statuses, oracle, determinism.

The documented ranges asserted here are the ones data/README.md states ("What the default
panel looks like"); change both together.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from sklearn.metrics import roc_auc_score

from calibrate.cli import main as cli_main
from calibrate.framework import LinearRule, load_framework, shipped_frameworks
from calibrate.ids import is_valid_uscc
from calibrate.outcomes import make_labels
from calibrate.rules import hnte, tech_sme
from calibrate.synth import (
    ENTERPRISE_COLUMNS,
    EVENTS,
    FAILURE_MODE_COEFFICIENTS,
    FAILURE_MODE_COLUMNS,
    STAGES,
    TRUTH_COLUMNS,
    SynthConfig,
    generate,
    longwan_stage,
)
from calibrate.synth import _model as model

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_DIR = ROOT / "data" / "sample"
KEYS = ["enterprise_id", "year", "park", "industry", "carrier"]
SHARES = [
    "rd_intensity",
    "st_staff_share",
    "postgrad_share",
    "rd_domestic_share",
    "debt_ratio",
    "main_business_share",
]
FLAGS = ["major_safety_accident", "env_violation", "dishonest_debtor", "research_misconduct"]
CONFIG = SynthConfig(enterprises=1500, parks=3, years=(2018, 2024), seed=11)


@pytest.fixture(scope="module")
def panel():
    return generate(CONFIG, progress=False)


@pytest.fixture(scope="module")
def stage(panel):
    return longwan_stage(panel.enterprises["revenue"].to_numpy())


def _event_keys(events: pd.DataFrame, name: str) -> set[tuple[str, int]]:
    sel = events[events["event"] == name]
    return set(zip(sel["enterprise_id"], sel["year"].astype(int), strict=True))


def _label(e: pd.DataFrame, events: pd.DataFrame, name: str, horizon: int) -> np.ndarray:
    """Event in years t+1 … t+h (the label semantics of the outcomes module)."""
    keys = _event_keys(events, name)
    ids, years = e["enterprise_id"].to_numpy(), e["year"].to_numpy()
    return np.array(
        [
            any((i, int(y) + d) in keys for d in range(1, horizon + 1))
            for i, y in zip(ids, years, strict=True)
        ]
    )


def _previous(e: pd.DataFrame, cols: list[str], lag: int = 1) -> pd.DataFrame:
    prev = e[["enterprise_id", "year", *cols]].copy()
    prev["year"] = prev["year"] + lag
    return e.merge(prev, on=["enterprise_id", "year"], suffixes=("", f"_prev{lag}"))


# --- columns and keys ---------------------------------------------------------------------


def test_every_column_of_the_catalogue_is_present(panel):
    text = (ROOT / "docs" / "columns.md").read_text(encoding="utf-8").split("## Events")[0]
    ids = {t for t in re.findall(r"`([^`]+)`", text) if re.fullmatch(r"[a-z][a-z0-9_]*", t)}
    assert ids <= set(panel.enterprises.columns)
    assert list(panel.enterprises.columns) == list(ENTERPRISE_COLUMNS)
    assert list(panel.truth.columns) == list(TRUTH_COLUMNS)
    assert list(panel.events.columns) == ["enterprise_id", "year", "event"]


def test_keys_and_revenue_are_complete_and_valid(panel):
    e = panel.enterprises
    assert not e[[*KEYS, "revenue"]].isna().any().any()
    assert (e["revenue"] > 0).all()
    assert is_valid_uscc(e["enterprise_id"].to_numpy()).all()
    assert not e.duplicated(["enterprise_id", "year"]).any()
    assert e["park"].nunique() == CONFIG.parks
    assert (panel.truth["enterprise_id"].to_numpy() == e["enterprise_id"].to_numpy()).all()


def test_parks_differ_in_size_and_industry_mix(panel):
    e = panel.enterprises
    sizes = e.groupby("park").size().sort_values()
    assert sizes.iloc[-1] > 1.3 * sizes.iloc[0]
    mix = pd.crosstab(e["park"], e["industry"], normalize="index")
    assert (mix.max() - mix.min()).max() > 0.03


# --- distributions ------------------------------------------------------------------------

#: Documented ranges of the Longwan stage shares (data/README.md).
STAGE_RANGES = {
    "seed": (0.15, 0.32),
    "start-up": (0.25, 0.42),
    "growth": (0.18, 0.34),
    "expansion": (0.07, 0.19),
    "mature": (0.02, 0.08),
}


def test_all_five_longwan_stages_are_populated_and_unequal(stage):
    shares = pd.Series(stage).value_counts(normalize=True)
    for name in STAGES:
        lo, hi = STAGE_RANGES[name]
        assert lo <= shares[name] <= hi, (name, shares[name])
    assert shares.max() > 4 * shares.min()


def test_firms_move_between_stages(panel):
    e = panel.enterprises.assign(stage=longwan_stage(panel.enterprises["revenue"].to_numpy()))
    j = _previous(e, ["stage"])
    assert (j["stage"] != j["stage_prev1"]).mean() > 0.05


def test_innovation_outputs_are_zero_inflated_for_small_firms(panel, stage):
    e = panel.enterprises
    small = np.isin(stage, ["seed", "start-up"])
    big = np.isin(stage, ["expansion", "mature"])
    limits = {
        "rd_expense": 0.5,
        "invention_patent_apps": 0.75,
        "pct_apps": 0.95,
        "vc_financing": 0.8,
    }
    for col, floor in limits.items():
        present = e[col].notna().to_numpy()
        zero_small = (e[col].to_numpy()[small & present] == 0).mean()
        zero_big = (e[col].to_numpy()[big & present] == 0).mean()
        assert zero_small >= floor, (col, zero_small)
        assert zero_small > zero_big, col
    # heavy tails: the top 1 % holds a large share of the total
    for col in ["revenue", "rd_expense", "invention_patent_apps", "vc_financing"]:
        x = np.sort(e[col].dropna().to_numpy())[::-1]
        assert x[: max(1, x.size // 100)].sum() > 0.2 * x.sum(), col


def test_shares_stay_in_the_unit_interval(panel):
    e = panel.enterprises
    for col in SHARES:
        x = e[col].dropna()
        assert ((x >= 0) & (x <= 1)).all(), col
    assert (e["strategic_emerging"].isin([0, 1, 2])).all()
    for col in [*FLAGS, "hte_valid", "tech_sme_registered", "specialised_sme", "listed_reserve"]:
        assert set(e[col].unique()) <= {0, 1}, col


def test_penalty_flags_are_rare(panel):
    rates = panel.enterprises[FLAGS].mean()
    assert ((rates > 0.0003) & (rates < 0.015)).all(), rates.to_dict()


def test_the_panel_is_unbalanced(panel):
    e = panel.enterprises
    first, last = e["year"].min(), e["year"].max()
    span = e.groupby("enterprise_id")["year"].agg(["min", "max", "size"])
    born = span["min"] > first
    died = span["max"] < last
    assert born.mean() > 0.1 and died.mean() > 0.1
    assert (span["size"] == span["max"] - span["min"] + 1).all()  # no gaps: exit is final
    newborn = e.merge(
        span[born].reset_index(),
        left_on=["enterprise_id", "year"],
        right_on=["enterprise_id", "min"],
    )
    assert (newborn["founded_year"] == newborn["year"]).all()
    assert newborn["revenue_lag1"].isna().all()


def test_missing_values_hit_small_and_young_firms_more(panel, stage):
    e = panel.enterprises
    row_missing = e.drop(columns=KEYS).isna().mean(axis=1).to_numpy()
    seed = row_missing[stage == "seed"].mean()
    large = row_missing[np.isin(stage, ["expansion", "mature"])].mean()
    assert seed > 2 * large
    age = (e["year"] - e["founded_year"]).to_numpy()
    assert row_missing[age <= 1].mean() > 1.5 * row_missing[age >= 5].mean()
    for col in ["st_staff_share", "rd_expense", "hitech_product_revenue"]:
        miss = e[col].isna().to_numpy()
        assert (
            miss[stage == "seed"].mean() > miss[np.isin(stage, ["expansion", "mature"])].mean()
        ), col


# --- identities -----------------------------------------------------------------------------


def test_ratio_identities_hold(panel):
    e = panel.enterprises
    both = e["rd_expense"].notna() & e["rd_intensity"].notna()
    err = (e["rd_intensity"] - e["rd_expense"] / e["revenue"])[both].abs()
    assert err.max() <= 5e-5 + 1e-12  # fractions carry 4 decimals
    both = e["st_staff_share"].notna() & e["employees"].notna()
    err = (e["st_staff_share"] - e["st_staff"] / e["employees"])[both].abs()
    assert err.max() <= 5e-5 + 1e-12
    assert (e["st_staff"] <= e["employees"].fillna(np.inf)).all()
    known = e["net_profit"].notna()
    assert ((e["net_profit"] - (e["revenue"] - e["total_cost"]))[known].abs() <= 0.0051).all()
    assert (e["total_assets"] >= e["net_assets"]).all()
    assert (
        e["hitech_product_revenue"].dropna() <= e["revenue"][e["hitech_product_revenue"].notna()]
    ).all()
    both = e["employees"].notna()
    err = (e["labour_productivity"] - e["revenue"] / e["employees"])[both].abs()
    assert err.max() <= 0.0051


def test_lags_growth_and_three_year_sums_match_the_panel(panel):
    e = panel.enterprises
    j1 = _previous(e, ["revenue", "net_assets", "rd_expense"], 1)
    assert np.array_equal(j1["revenue_lag1"], j1["revenue_prev1"])
    assert np.array_equal(j1["net_assets_lag1"], j1["net_assets_prev1"])
    assert (
        (j1["revenue_growth"] - (j1["revenue"] / j1["revenue_prev1"] - 1)).abs() <= 5e-5 + 1e-12
    ).all()
    ok = j1["rd_expense"].notna() & j1["rd_expense_prev1"].gt(0) & j1["rd_growth"].notna()
    assert (
        (j1["rd_growth"] - (j1["rd_expense"] / j1["rd_expense_prev1"] - 1))[ok].abs()
        <= 5e-5 + 1e-12
    ).all()
    j2 = _previous(j1, ["revenue", "net_assets", "rd_expense"], 2)
    assert np.array_equal(j2["revenue_lag2"], j2["revenue_prev2"])
    assert np.array_equal(j2["net_assets_lag2"], j2["net_assets_prev2"])
    rev3 = j2["revenue"] + j2["revenue_prev1"] + j2["revenue_prev2"]
    assert ((j2["revenue_3y"] - rev3).abs() <= 0.011).all()
    known = j2[["rd_expense", "rd_expense_prev1", "rd_expense_prev2"]].notna().all(axis=1)
    rd3 = j2["rd_expense"] + j2["rd_expense_prev1"] + j2["rd_expense_prev2"]
    assert ((j2["rd_expense_3y"] - rd3)[known].abs() <= 0.011).all()
    # years before founding count as zero
    young = e[e["year"] == e["founded_year"]]
    assert ((young["revenue_3y"] - young["revenue"]).abs() <= 0.011).all()


# --- events and statuses --------------------------------------------------------------------


def test_events_are_well_formed(panel):
    ev, e = panel.events, panel.enterprises
    assert set(ev["event"].unique()) == set(EVENTS)
    assert ev["year"].max() <= e["year"].max()
    assert set(ev["enterprise_id"]) <= set(e["enterprise_id"])
    assert not ev.duplicated().any()


def test_hte_valid_follows_the_certificates(panel):
    e, ev = panel.enterprises, panel.events
    certs = _event_keys(ev, "hte_certified")
    valid = np.array(
        [
            any((i, int(y) - k) in certs for k in range(3))
            for i, y in zip(e["enterprise_id"], e["year"], strict=True)
        ]
    )
    assert np.array_equal(valid, e["hte_valid"].to_numpy() == 1)
    # a firm holding a certificate valid next year is never certified again before it ends
    late = ev[ev["event"] == "hte_certified"].sort_values(["enterprise_id", "year"])
    gaps = late.groupby("enterprise_id")["year"].diff().dropna()
    assert (gaps >= 3).all()


def test_tech_sme_registered_follows_the_events(panel):
    e = panel.enterprises
    reg = _event_keys(panel.events, "tech_sme_registered")
    flags = np.array(
        [(i, int(y)) in reg for i, y in zip(e["enterprise_id"], e["year"], strict=True)]
    )
    assert np.array_equal(flags, e["tech_sme_registered"].to_numpy() == 1)


def test_loans_reach_under_a_fifth_of_firms_and_default_rarely(panel):
    s = panel.summary()
    assert 0.05 < s["loan_firm_share"] < 0.20
    assert 0.01 <= s["default_per_loan"] <= 0.08
    ev = panel.events
    defaults = ev[ev["event"] == "loan_default"]
    granted = ev[ev["event"] == "loan_granted"]
    first_grant = granted.groupby("enterprise_id")["year"].min()
    assert set(defaults["enterprise_id"]) <= set(granted["enterprise_id"])
    assert (
        defaults.set_index("enterprise_id")["year"]
        > first_grant.reindex(defaults["enterprise_id"]).to_numpy()
    ).all()


def test_certification_rates_are_in_the_documented_ranges(panel, stage):
    s = panel.summary()
    assert 0.10 <= s["hte_valid_share"] <= 0.25
    assert 0.02 <= s["hte_candidate_rate_h1"] <= 0.07
    share = panel.enterprises["hte_valid"].groupby(stage).mean()
    assert share["seed"] < share["start-up"] < share["growth"] < share["expansion"]
    assert share["mature"] > share["growth"]
    assert 0.1 <= panel.enterprises["tech_sme_registered"].mean() <= 0.4


# --- the rules decide, the oracle is exact ---------------------------------------------------


def _check_pass_probabilities(panel, config):
    """hte_pass_prob is the mean over the K expert nodes of hnte.evaluate on the published row."""
    e, tr = panel.enterprises, panel.truth
    rows = np.random.default_rng(0).choice(len(e), 1500, replace=False)
    rows = np.union1d(rows, np.flatnonzero(tr["hte_pass_prob"].to_numpy() > 0)[:500])
    sub, c = e.iloc[rows], tr["latent_capability"].to_numpy()[rows]
    env = model.make_env(
        config.coefficients(),
        1,
        range(2000, 2001),
        config.expert_nodes,
        2000,
        np.random.default_rng(0),
    )
    shift = model.quality_shift({c: sub[c].to_numpy() for c in sub.columns}, env)
    q = model.expert_quality(c, env, shift)
    brute = np.mean([hnte.evaluate(sub, q[:, k]).passed.to_numpy() for k in range(env.k)], axis=0)
    eligible = tr["hte_eligible"].to_numpy()[rows] == 1
    assert np.array_equal(brute[eligible], tr["hte_pass_prob"].to_numpy()[rows][eligible])
    assert brute[eligible].max() > 0
    sme = tech_sme.evaluate(e).passed.to_numpy()
    assert np.array_equal(sme, tr["tech_sme_pass"].to_numpy() == 1)


def test_truth_pass_probabilities_are_the_official_rules(panel):
    _check_pass_probabilities(panel, CONFIG)


def test_horizon_one_oracle_is_calibrated(panel):
    e, tr = panel.enterprises, panel.truth
    scored = (e["year"] < e["year"].max()).to_numpy()
    for name in ["hte_certified", "tech_sme_registered", "loan_default"]:
        y = _label(e, panel.events, name, 1)[scored]
        p = tr[f"oracle_{name}_h1"].to_numpy()[scored]
        se = np.sqrt(np.sum(p * (1 - p))) / p.size
        assert abs(y.mean() - p.mean()) < 4 * se + 1e-4, name
        assert (np.diff([tr[f"oracle_{name}_h{h}"].mean() for h in (1, 2, 3)]) > 0).all()


def test_oracle_beats_every_single_indicator(panel):
    e, tr = panel.enterprises, panel.truth
    cand = ((e["hte_valid"] == 0) & (e["year"] < e["year"].max())).to_numpy()
    y = _label(e, panel.events, "hte_certified", 1)[cand]
    oracle = roc_auc_score(y, tr["oracle_hte_certified_h1"].to_numpy()[cand])
    best = 0.0
    for col in ENTERPRISE_COLUMNS:
        if col in KEYS:
            continue
        x = e[col].to_numpy(dtype=np.float64)[cand]
        x = np.where(np.isnan(x), -1e18, x)
        if np.unique(x).size > 1:
            auc = roc_auc_score(y, x)
            best = max(best, auc, 1 - auc)
    assert oracle > best
    assert oracle > 0.9


def test_hnte_prefilter_never_drops_a_passing_firm(panel):
    e = panel.enterprises
    out = {c: e[c].to_numpy() for c in model.RULE_COLUMNS}
    passed = hnte.evaluate(e, np.ones(len(e))).passed.to_numpy()
    assert not (passed & ~model.hnte_prefilter(out)).any()
    assert not (tech_sme.evaluate(e).passed.to_numpy() & ~model.sme_prefilter(out)).any()


# --- files and determinism ------------------------------------------------------------------


def _digests(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    small = SynthConfig(enterprises=200, parks=2, years=(2021, 2023), seed=5, oracle_draws=2)
    digests = []
    for run, config in enumerate([small, small, dataclasses.replace(small, seed=6)]):
        folder = tmp_path / str(run)
        p = generate(config, progress=run == 0)
        p.write(folder, fmt="parquet")
        p.write(folder, fmt="csv")
        digests.append(_digests(folder))
    assert digests[0] == digests[1]
    assert digests[0]["enterprises.csv"] != digests[2]["enterprises.csv"]
    assert digests[0]["truth.parquet"] != digests[2]["truth.parquet"]


def test_csv_and_parquet_round_trip(panel, tmp_path):
    paths = panel.write(tmp_path, fmt="csv")
    back = pd.read_csv(paths["enterprises"], dtype={"enterprise_id": str})
    e = panel.enterprises
    for col in e.columns:
        if e[col].dtype.kind in "fi":
            assert np.array_equal(
                back[col].to_numpy(np.float64), e[col].to_numpy(np.float64), equal_nan=True
            ), col
        else:
            assert (back[col].astype(str).to_numpy() == e[col].to_numpy()).all(), col
    assert yaml.safe_load(paths["coefficients"].read_text(encoding="utf-8")) == panel.coefficients
    paths = panel.write(tmp_path, fmt="parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(paths["truth"]), panel.truth)
    pd.testing.assert_frame_equal(pd.read_parquet(paths["events"]), panel.events)


def test_config_errors_say_what_to_fix():
    with pytest.raises(ValueError, match="enterprises must be at least 10"):
        SynthConfig(enterprises=0)
    with pytest.raises(ValueError, match="first ≤ last"):
        SynthConfig(years=(2024, 2018))
    with pytest.raises(ValueError, match="unknown coefficient 'loan.nope'"):
        SynthConfig(overrides=(("loan.nope", 1.0),))
    with pytest.raises(ValueError, match="fmt must be one of"):
        generate(
            SynthConfig(enterprises=20, years=(2020, 2020), oracle_draws=1), progress=False
        ).write("unused", fmt="xlsx")


def test_overrides_change_the_model():
    base = SynthConfig(enterprises=300, years=(2021, 2022), seed=3, oracle_draws=1)
    more = dataclasses.replace(base, overrides=(("loan.intercept", -2.0),))
    n_base = (generate(base, progress=False).events["event"] == "loan_granted").sum()
    n_more = (generate(more, progress=False).events["event"] == "loan_granted").sum()
    assert n_more > 2 * n_base


def test_committed_sample_matches_its_recipe():
    files = {p.name for p in SAMPLE_DIR.iterdir()}
    assert {"enterprises.csv", "events.csv", "truth.csv", "coefficients.yaml"} <= files
    assert sum(p.stat().st_size for p in SAMPLE_DIR.iterdir()) < 5.5e6
    recorded = yaml.safe_load((SAMPLE_DIR / "coefficients.yaml").read_text(encoding="utf-8"))
    assert recorded["config"] == {
        "enterprises": 2000,
        "parks": 2,
        "years": [2019, 2024],
        "seed": 7,
        "burn_in": 4,
        "park_growth": 0.04,
        "expert_nodes": 15,
        "oracle_draws": 8,
        "overrides": {},
    }
    assert recorded["coefficients"] == SynthConfig().coefficients()
    e = pd.read_csv(SAMPLE_DIR / "enterprises.csv", nrows=50)
    assert list(e.columns) == list(ENTERPRISE_COLUMNS)


# --- failure modes of a points policy (SynthConfig(failure_modes=True)) ---------------------

FM_CONFIG = dataclasses.replace(CONFIG, failure_modes=True)


@pytest.fixture(scope="module")
def fm_panel():
    return generate(FM_CONFIG, progress=False)


def _hte_labels(panel) -> tuple[np.ndarray, np.ndarray]:
    """Labelled mask and 0/1 labels of ``hte_certified`` within 1 year (candidates only)."""
    labels = make_labels(panel.enterprises, panel.events, "hte_certified", 1)
    return labels.labelled_mask, labels.frame["label"].to_numpy(dtype=np.float64, na_value=0.0)


def _yearly_auc(panel, column: str) -> list[float]:
    """AUC of a raw column (missing = lowest) against the label, one per labelled year."""
    mask, y = _hte_labels(panel)
    x = np.nan_to_num(panel.enterprises[column].to_numpy(np.float64), nan=-1.0)
    years = panel.enterprises["year"].to_numpy()
    return [
        roc_auc_score(y[mask & (years == t)], x[mask & (years == t)])
        for t in np.unique(years[mask])
    ]


def _goalpost_rates(panel) -> tuple[float, float, float]:
    """Label rate of candidates with postgrad_share in [5, 20) %, [20, 40) % and ≥ 40 %."""
    mask, y = _hte_labels(panel)
    share = panel.enterprises["postgrad_share"].to_numpy()
    with np.errstate(invalid="ignore"):
        bins = [(0.05, 0.2), (0.2, 0.4), (0.4, 1.01)]
        rates = [y[mask & (share >= lo) & (share < hi)].mean() for lo, hi in bins]
    return rates[0], rates[1], rates[2]


def test_failure_modes_off_writes_the_committed_sample_byte_for_byte(tmp_path):
    """The flag defaults to off and then changes nothing: the sample recipe rebuilds data/sample."""
    recorded = yaml.safe_load((SAMPLE_DIR / "coefficients.yaml").read_text(encoding="utf-8"))
    config = SynthConfig(
        **{k: v for k, v in recorded["config"].items() if k not in ("years", "overrides")},
        years=tuple(recorded["config"]["years"]),
        failure_modes=False,
    )
    assert config == SynthConfig(**{**dataclasses.asdict(config), "failure_modes": False})
    generate(config, progress=False).write(tmp_path, fmt="csv")
    assert _digests(tmp_path) == {
        name: digest for name, digest in _digests(SAMPLE_DIR).items() if name in _digests(tmp_path)
    }
    assert "failure_modes" not in recorded["coefficients"]
    assert "failure_modes" not in recorded["config"]


def test_failure_modes_add_one_column_and_record_their_coefficients(fm_panel):
    assert list(fm_panel.enterprises.columns) == [*ENTERPRISE_COLUMNS, *FAILURE_MODE_COLUMNS]
    assert fm_panel.coefficients["config"]["failure_modes"] is True
    assert fm_panel.coefficients["coefficients"]["failure_modes"] == FAILURE_MODE_COEFFICIENTS
    share = fm_panel.enterprises["new_product_share"]
    assert ((share.dropna() >= 0) & (share.dropna() <= 1)).all()
    assert 0.01 < share.isna().mean() < 0.2  # blanked with the survey block
    with pytest.raises(ValueError, match="exists only with failure_modes=True"):
        SynthConfig(overrides=(("failure_modes.postgrad_team", 1.0),))


def test_failure_mode_a_graduates_predict_certification_negatively(panel, fm_panel):
    for fid in ("national-2024", "longwan-2022"):
        assert load_framework(fid).indicator("graduates_hired").direction == 1
    assert max(_yearly_auc(fm_panel, "graduates_hired")) < 0.45  # negative in every year
    assert min(_yearly_auc(panel, "graduates_hired")) > 0.6  # positive without the mode


def test_failure_mode_b_goalpost_is_far_below_where_the_outcome_moves(panel, fm_panel):
    for fid in ("national-2024", "longwan-2022"):
        rule = load_framework(fid).indicator("postgrad_share").rule
        assert isinstance(rule, LinearRule) and rule.low == 0 and rule.high == 0.2
    # full points at a share about half the firms exceed ...
    share = fm_panel.enterprises["postgrad_share"].dropna()
    assert 0.35 < (share >= 0.2).mean() < 0.75
    # ... while the outcome is flat across the goalpost range and jumps beyond it
    low, mid, high = _goalpost_rates(fm_panel)
    assert 2 / 3 < mid / low < 3 / 2
    assert high > 4 * max(low, mid)
    low, mid, high = _goalpost_rates(panel)
    assert not high > 4 * max(low, mid)  # no such jump without the mode


def test_failure_mode_c_new_column_is_predictive_and_read_by_no_framework(fm_panel):
    assert min(_yearly_auc(fm_panel, "new_product_share")) > 0.55
    for fid in shipped_frameworks():
        f = load_framework(fid)
        assert "new_product_share" not in {*f.indicator_ids, *f.penalty_ids}, fid
    catalogue = (ROOT / "docs" / "columns.md").read_text(encoding="utf-8")
    assert "`new_product_share`" in catalogue


def test_failure_modes_keep_the_oracle_exact(fm_panel):
    _check_pass_probabilities(fm_panel, FM_CONFIG)
    e, tr = fm_panel.enterprises, fm_panel.truth
    scored = (e["year"] < e["year"].max()).to_numpy()
    y = _label(e, fm_panel.events, "hte_certified", 1)[scored]
    p = tr["oracle_hte_certified_h1"].to_numpy()[scored]
    assert abs(y.mean() - p.mean()) < 4 * np.sqrt(np.sum(p * (1 - p))) / p.size + 1e-4


def test_cli_synth_failure_modes_flag(tmp_path):
    args = ["synth", "--out", str(tmp_path), "--enterprises", "40", "--years", "2023-2024"]
    assert cli_main([*args, "--format", "csv", "--no-progress", "--failure-modes"]) == 0
    head = (tmp_path / "enterprises.csv").read_text(encoding="utf-8").splitlines()[0]
    assert head.split(",") == [*ENTERPRISE_COLUMNS, *FAILURE_MODE_COLUMNS]
