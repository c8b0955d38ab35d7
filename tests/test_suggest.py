"""Constrained re-weighting: finds the signal, keeps every constraint, is reproducible, fails clearly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrate.constraints import ConstraintSet
from calibrate.exceptions import ConstraintError, DataContractError
from calibrate.framework import Framework
from calibrate.ids import make_uscc
from calibrate.metrics import roc_auc
from calibrate.scoring import score
from calibrate.suggest import Suggestion, suggest

FW = """
schema: calibrate/framework@1
id: toy
version: "1"
name: {zh: 玩具, en: toy}
provenance: {status: reconstructed, reasoning: test}
core_budget: 100
stages:
  - {id: small, name: {zh: 小, en: small}, revenue_min: 0, revenue_max: 300, provenance: {status: official, source: doc}}
  - {id: big, name: {zh: 大, en: big}, revenue_min: 300, provenance: {status: official, source: doc}}
groups:
  - {id: tech, name: {zh: 技术, en: tech}, kind: core, provenance: {status: official, source: doc}}
  - {id: growth, name: {zh: 成长, en: growth}, kind: core, provenance: {status: official, source: doc}}
  - {id: aux, name: {zh: 辅助, en: aux}, kind: bonus, cap: 10, provenance: {status: official, source: doc}}
indicators:
  - {id: rd_intensity, name: {zh: 研发强度, en: R&D intensity}, unit: fraction, group: tech,
     rule: {kind: linear, low: 0, high: 0.1}, points: {small: 30, big: 30}, provenance: {status: reconstructed, reasoning: x}}
  - {id: invention_patent_apps, name: {zh: 发明专利申请, en: patents}, unit: count, group: tech,
     rule: {kind: count, per_unit: 5}, points: {small: 30, big: 20}, provenance: {status: reconstructed, reasoning: x}}
  - {id: revenue_growth, name: {zh: 营收增长, en: revenue growth}, unit: fraction, group: growth,
     rule: {kind: linear, low: 0, high: 0.5}, points: {small: 40, big: 50}, provenance: {status: reconstructed, reasoning: x}}
  - {id: awards_provincial, name: {zh: 奖励, en: awards}, unit: count, group: aux,
     rule: {kind: binary}, points: {small: 5, big: 5}, provenance: {status: reconstructed, reasoning: x}}
penalties:
  - {id: research_misconduct, name: {zh: 科研失信, en: misconduct}, action: veto, provenance: {status: reconstructed, reasoning: x}}
"""


def make_panel(
    n_firms: int = 900, years: range = range(2018, 2023), seed: int = 0
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Firms whose chance of the event rises with R&D intensity only (revenue growth is noise)."""
    rng = np.random.default_rng(seed)
    ids = make_uscc(rng, n_firms)
    skill = rng.normal(size=n_firms)
    frames = []
    for yr in years:
        rd = np.clip(0.05 + 0.03 * skill + rng.normal(0, 0.015, n_firms), 0, None).round(3)
        frames.append(
            pd.DataFrame(
                {
                    "enterprise_id": ids,
                    "year": yr,
                    "park": np.where(np.arange(n_firms) % 2 == 0, "p1", "p2"),
                    "revenue": rng.lognormal(5.5, 1.0, n_firms).round(1),
                    "rd_intensity": rd,
                    "invention_patent_apps": rng.poisson(1.0, n_firms).astype(float),
                    "revenue_growth": rng.uniform(-0.2, 0.6, n_firms).round(2),
                    "awards_provincial": rng.binomial(1, 0.2, n_firms),
                    "research_misconduct": rng.binomial(1, 0.01, n_firms),
                }
            )
        )
    data = pd.concat(frames, ignore_index=True)
    z = -2.0 + 40 * (data["rd_intensity"] - 0.05)
    hit = rng.uniform(size=len(data)) < 1 / (1 + np.exp(-z))
    events = data.loc[hit, ["enterprise_id", "year"]].assign(event="grant_won")
    events["year"] += 1
    return data, events.reset_index(drop=True)


@pytest.fixture(scope="module")
def fw() -> Framework:
    return Framework.from_yaml(FW)


@pytest.fixture(scope="module")
def panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_panel()


@pytest.fixture(scope="module")
def loglik(fw: Framework, panel: tuple[pd.DataFrame, pd.DataFrame]) -> Suggestion:
    data, events = panel
    return suggest(
        fw, data, events, "grant_won", n_bootstrap=30, progress=False, seed=3, direction="higher"
    )


def test_finds_the_signal_and_beats_today_on_held_out_years(loglik: Suggestion) -> None:
    pts = loglik.points.set_index(["indicator", "stage"])
    for stage in ("small", "big"):
        assert (
            pts.loc[("rd_intensity", stage), "suggested"]
            > pts.loc[("rd_intensity", stage), "current"]
        )
        assert (
            pts.loc[("revenue_growth", stage), "suggested"]
            < pts.loc[("revenue_growth", stage), "current"]
        )
    assert (
        loglik.metrics.loc["auc_within_group", "suggested"]
        > loglik.metrics.loc["auc_within_group", "current"] + 0.05
    )
    # events run to 2023, so 2022 is labelled (not censored) and held out
    assert loglik.train_years == (2018, 2019, 2020, 2021) and loglik.test_years == (2022,)


def test_points_are_whole_and_budget_exact(loglik: Suggestion, fw: Framework) -> None:
    table = loglik.framework.table()
    core = table[table["group_kind"] == "core"]
    assert core[["small", "big"]].sum().tolist() == [100, 100]
    assert (core[["small", "big"]] % 1 == 0).all().all()
    # bonus points are not re-weighted
    assert table.loc["awards_provincial", ["small", "big"]].tolist() == [5, 5]
    assert ConstraintSet().check(fw, loglik.framework) == []


def test_intervals_bracket_the_suggestion(loglik: Suggestion) -> None:
    p = loglik.points
    assert (p["low"] <= p["high"]).all()
    assert ((p["low"] <= p["suggested"]) & (p["suggested"] <= p["high"])).mean() >= 0.75
    # the signal indicator's interval excludes today's points in every stage
    rd = p[p["indicator"] == "rd_intensity"]
    assert (rd["low"] > rd["current"]).all()


def test_calibration_block_and_round_trip(loglik: Suggestion, fw: Framework) -> None:
    f = loglik.framework
    assert f.id == "toy+grant_won"
    block = f.calibration
    assert block is not None
    assert (
        block["objective"] == "loglik" and block["target"] == "grant_won" and block["horizon"] == 1
    )
    assert block["base_fingerprint"] == fw.fingerprint
    assert len(block["points"]) == 3 * 2
    assert block["held_out"]["auc_within_group"]["suggested"] == pytest.approx(
        loglik.metrics.loc["auc_within_group", "suggested"], abs=1e-6
    )
    assert Framework.from_yaml(f.to_yaml()) == f
    assert not loglik.diff().empty and (loglik.diff()["change"] != 0).all()


def test_held_out_metrics_match_direct_computation(
    loglik: Suggestion, panel: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    data, events = panel
    res = score(loglik.framework, data)
    ev = events[events["event"] == "grant_won"]
    hit = set(zip(ev["enterprise_id"], ev["year"], strict=True))
    test = (data["year"] == 2022).to_numpy() & ~res.frame["vetoed"].to_numpy()
    y = np.array(
        [(e, yr + 1) in hit for e, yr in zip(data["enterprise_id"], data["year"], strict=True)]
    )[test]
    # within-group AUC: per (park, stage) group, pair-weighted — computed independently here
    held = res.frame.loc[test, ["park", "stage", "total"]].assign(y=y)
    num = den = 0.0
    for _, grp in held.groupby(["park", "stage"], observed=True):
        pos = int(grp["y"].sum())
        neg = len(grp) - pos
        if pos and neg:
            num += roc_auc(grp["y"].to_numpy(), grp["total"].to_numpy()) * pos * neg
            den += pos * neg
    assert loglik.metrics.loc["auc_within_group", "suggested"] == pytest.approx(
        num / den, abs=1e-12
    )
    assert loglik.metrics.loc["auc_pooled", "suggested"] == roc_auc(y, held["total"].to_numpy())


def test_same_seed_same_bytes(
    fw: Framework, panel: tuple[pd.DataFrame, pd.DataFrame], loglik: Suggestion
) -> None:
    data, events = panel
    again = suggest(
        fw, data, events, "grant_won", n_bootstrap=30, progress=False, seed=3, direction="higher"
    )
    assert again.framework.to_yaml() == loglik.framework.to_yaml()


@pytest.mark.parametrize(
    "spec",
    [
        {"granularity": 0.5, "max_change": {"absolute": 6}},
        {"granularity": 1, "groups": {"growth": {"min": 35}}, "nonzero": ["invention_patent_apps"]},
        {"granularity": 1, "same_across_stages": True, "bounds": {"default": {"max": 60}}},
        {"granularity": 1, "max_change": {"relative": 0.25}},
    ],
)
def test_every_suggestion_satisfies_its_constraints(
    spec: dict[str, object], fw: Framework, panel: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    data, events = panel
    cs = ConstraintSet.from_dict(spec)
    s = suggest(
        fw,
        data,
        events,
        "grant_won",
        direction="higher",
        constraints=cs,
        n_bootstrap=5,
        progress=False,
    )
    assert cs.check(fw, s.framework) == []
    assert (
        s.framework.calibration is not None
        and s.framework.calibration["constraints"] == cs.to_dict()
    )


@pytest.mark.parametrize("objective", ["auc", "top10"])
def test_search_objectives_never_end_below_today_on_training_years(
    objective: str, fw: Framework, panel: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    data, events = panel
    s = suggest(
        fw,
        data,
        events,
        "grant_won",
        direction="higher",
        objective=objective,
        n_bootstrap=2,
        n_trials=64,  # type: ignore[arg-type]
        bootstrap_trials=16,
        progress=False,
    )
    assert s.solver.startswith(("optuna-tpe", "convex-logit"))
    assert ConstraintSet().check(fw, s.framework) == []
    assert (
        s.metrics.loc["auc_within_group", "suggested"]
        > s.metrics.loc["auc_within_group", "current"]
    )


def test_one_stage_framework_and_custom_ranking_group(
    panel: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    data, events = panel
    one = (
        FW.replace("revenue_max: 300, ", "")
        .replace(
            "  - {id: big, name: {zh: 大, en: big}, revenue_min: 300, provenance: {status: official, source: doc}}\n",
            "",
        )
        .replace(", big: 30}", "}")
        .replace(", big: 20}", "}")
        .replace(", big: 50}", "}")
        .replace(", big: 5}", "}")
    )
    f = Framework.from_yaml(one + "ranking_group: [year]\n")
    assert f.stage_ids == ("small",) and f.ranking_group == ("year",)
    s = suggest(f, data, events, "grant_won", n_bootstrap=0, progress=False, direction="higher")
    assert s.framework.table()["small"].iloc[:3].sum() == 100
    assert s.points["low"].isna().all()  # no bootstrap, no interval


def test_unknown_objective_and_no_labelled_years(
    fw: Framework, panel: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    data, events = panel
    with pytest.raises(ConstraintError, match="unknown objective 'gini'"):
        suggest(fw, data, events, "grant_won", objective="gini", progress=False, direction="higher")  # type: ignore[arg-type]
    with pytest.raises(DataContractError, match="no firm-year has a label"):
        suggest(fw, data, events, "grant_won", horizon=9, progress=False, direction="higher")


# --- property: whatever feasible constraints a policy office sets, the suggestion keeps them -------


@st.composite
def constraint_sets(draw: st.DrawFn) -> dict[str, object]:
    spec: dict[str, object] = {"granularity": draw(st.sampled_from([1.0, 0.5, 2.0]))}
    if draw(st.booleans()):
        spec["max_change"] = {"absolute": draw(st.sampled_from([2, 5, 10, 20]))}
    elif draw(st.booleans()):
        spec["max_change"] = {"relative": draw(st.sampled_from([0.2, 0.5, 1.0]))}
    if draw(st.booleans()):
        spec["bounds"] = {
            "default": {
                "min": draw(st.sampled_from([0, 2, 4])),
                "max": draw(st.sampled_from([50, 60, 80])),
            }
        }
    if draw(st.booleans()):
        spec["groups"] = {
            draw(st.sampled_from(["tech", "growth"])): {"min": draw(st.sampled_from([20, 35, 45]))}
        }
    if draw(st.booleans()):
        spec["nonzero"] = [
            draw(st.sampled_from(["rd_intensity", "invention_patent_apps", "revenue_growth"]))
        ]
    spec["same_across_stages"] = draw(st.booleans())
    return spec


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spec=constraint_sets(), objective=st.sampled_from(["loglik", "loglik", "top10"]))
def test_property_every_suggestion_keeps_its_constraints(
    spec: dict[str, object], objective: str, fw: Framework, panel: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    data, events = panel
    cs = ConstraintSet.from_dict(spec)
    try:
        cs.box(fw)
    except ConstraintError:
        return  # infeasible by construction (reported with reasons, tested elsewhere)
    s = suggest(
        fw,
        data,
        events,
        "grant_won",
        direction="higher",
        constraints=cs,
        objective=objective,  # type: ignore[arg-type]
        n_bootstrap=2,
        n_trials=24,
        bootstrap_trials=8,
        progress=False,
    )
    assert cs.check(fw, s.framework) == []
    core = s.framework.table().query("group_kind == 'core'")[["small", "big"]]
    assert core.sum().tolist() == [100.0, 100.0]


def test_too_few_events_per_free_point_is_flagged(
    fw: Framework, panel: tuple[pd.DataFrame, pd.DataFrame], loglik: Suggestion
) -> None:
    from calibrate.suggest import MIN_EVENTS_PER_POINT, MSG_FEW_EVENTS

    assert loglik.warnings == ()  # hundreds of events for 2 free values per stage
    data, events = panel
    rare = events.sort_values(["year", "enterprise_id"]).groupby("year").head(3)  # 3 events a year
    s = suggest(fw, data, rare, "grant_won", n_bootstrap=0, progress=False, direction="higher")
    assert len(s.warnings) == 2  # one per stage: at most 12 training events for 2 free values each
    assert int(s.outcome[s.train_mask].sum()) <= 12
    for w in s.warnings:
        assert "free point values" in w and f"{MIN_EVENTS_PER_POINT} is the usual minimum" in w
    assert s.framework.calibration is not None and s.framework.calibration["warnings"] == list(
        s.warnings
    )
    # the text is the module's message, filled in
    assert s.warnings[0].startswith(MSG_FEW_EVENTS.split("{events}")[0].format(where="stage small"))
