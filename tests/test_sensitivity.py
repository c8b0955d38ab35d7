"""Tests for calibrate.sensitivity.

The unperturbed draw reproduces the scorer exactly (random tables with ties, a shipped framework);
a perturbed draw equals re-scoring the raw data with ``with_points``; the same seed gives the
same result whatever the batch size; a coin-flip firm is listed by ``uncertain``; the samplers
keep their promises (budget, bounds, intervals) and report bad tables exactly.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrate import sensitivity as sens
from calibrate.framework import Framework, load_framework
from calibrate.scoring import score
from calibrate.sensitivity import (
    Dirichlet,
    FromDraws,
    FromIntervals,
    Jitter,
    points_array,
    rank_uncertainty,
    score_draws,
)

_PROV = "{status: official, source: test}"


def mini_table(n: int, seed: int, *, parks: int = 2) -> pd.DataFrame:
    """Random firms for MINI with coarse values, so totals tie often."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "enterprise_id": [f"e{i:03d}" for i in range(n)],
            "year": 2023,
            "park": rng.choice([f"p{k}" for k in range(parks)], n),
            "revenue": rng.choice([50.0, 200.0, 500.0, 900.0], n),
            "rd_intensity": rng.choice([0.0, 0.013, 0.02, 0.037, 0.05, 0.1], n),
            "invention_patent_apps": rng.integers(0, 4, n).astype(float),
            "vc_financing": rng.choice([0.0, 100.0, 333.0, 1000.0], n),
            "awards_provincial": rng.integers(0, 2, n).astype(float),
            "env_violation": (rng.random(n) < 0.1).astype(float),
            "research_misconduct": (rng.random(n) < 0.05).astype(float),
        }
    )


def _assert_reproduces(fw: Framework, data: pd.DataFrame) -> None:
    scores = score(fw, data)
    draw = score_draws(scores, points_array(fw)[None])
    f = scores.frame
    assert np.array_equal(draw.total[:, 0], f["total"].to_numpy())
    assert np.array_equal(draw.rank[:, 0], f["rank"].to_numpy(dtype=np.int64, na_value=0))
    assert np.array_equal(draw.tier[:, 0], f["tier"].cat.codes.to_numpy())
    assert np.array_equal(draw.subsidy[:, 0], f["subsidy_wan"].to_numpy())


# --- the unperturbed draw is the scorer -----------------------------------------------------------


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 100_000), n=st.integers(1, 120), parks=st.integers(1, 3))
def test_unperturbed_draw_reproduces_scores(mini: Framework, seed: int, n: int, parks: int) -> None:
    _assert_reproduces(mini, mini_table(n, seed, parks=parks))


@pytest.mark.parametrize("fw_id", ["longwan-2022", "national-2024", "hangzhou-2020"])
def test_unperturbed_draw_reproduces_shipped(fw_id: str) -> None:
    fw = load_framework(fw_id)
    rng = np.random.default_rng(7)
    n = 1500
    cols: dict[str, object] = {
        "enterprise_id": [f"E{i}" for i in range(n)],
        "year": 2024,
        "park": rng.choice(["a", "b"], n),
        "revenue": np.exp(rng.normal(6, 2, n)),
    }
    for ind in fw.indicators:
        if ind.id != "revenue":
            cols[ind.id] = np.where(rng.random(n) < 0.4, 0.0, rng.gamma(1.0, 2.0, n))
    for p in fw.penalties:
        cols[p.id] = (rng.random(n) < 0.03).astype(float)
    _assert_reproduces(fw, pd.DataFrame(cols))


def test_draw_equals_rescoring_with_points(mini: Framework) -> None:
    """A perturbed draw gives what the scorer gives for the edited framework (with_points)."""
    data = mini_table(300, 11, parks=3)
    scores = score(mini, data)
    points = Dirichlet(concentration=20).sample(mini, 5, np.random.default_rng(3))
    points[:, :, 2] = [[6.0, 7.5]] * 5  # a bonus count rule: its cap moves with its points
    draws = score_draws(scores, points)
    for d in range(points.shape[0]):
        table = {
            ind: {s: float(points[d, si, j]) for si, s in enumerate(mini.stage_ids)}
            for j, ind in enumerate(mini.indicator_ids)
        }
        f = score(mini.with_points(table), data).frame
        assert np.array_equal(draws.total[:, d], f["total"].to_numpy())
        assert np.array_equal(draws.rank[:, d], f["rank"].to_numpy(dtype=np.int64, na_value=0))
        assert np.array_equal(draws.tier[:, d], f["tier"].cat.codes.to_numpy())
        assert np.array_equal(draws.subsidy[:, d], f["subsidy_wan"].to_numpy())


# --- the Monte-Carlo --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def mc(mini: Framework) -> sens.RankUncertainty:
    return rank_uncertainty(mini, mini_table(400, 5), n_draws=200, seed=42)


def test_same_seed_same_result_any_batch(mini: Framework, mc: sens.RankUncertainty) -> None:
    again = rank_uncertainty(mini, scores=mc.scores, n_draws=200, seed=42, batch_size=7)
    pd.testing.assert_frame_equal(again.frame, mc.frame)
    assert np.array_equal(again.points, mc.points)
    other = rank_uncertainty(mini, scores=mc.scores, n_draws=200, seed=43)
    assert not np.array_equal(other.points, mc.points)
    gen = rank_uncertainty(mini, scores=mc.scores, n_draws=200, seed=np.random.default_rng(42))
    pd.testing.assert_frame_equal(gen.frame, mc.frame)


def test_result_shape_and_invariants(mc: sens.RankUncertainty) -> None:
    f = mc.frame
    assert len(f) == 400 and mc.n_draws == 200
    probs = mc.tier_probabilities
    assert list(probs.columns) == ["leading", "racing", "none"]
    assert np.allclose(probs.sum(axis=1), 1.0)
    ranked = f["rank"].notna()
    lo, med, hi = (
        f.loc[ranked, c].to_numpy(dtype=float) for c in ("rank_low", "rank_median", "rank_high")
    )
    assert (lo <= med).all() and (med <= hi).all() and (lo >= 1).all()
    vetoed = f[~ranked]
    assert (vetoed["most_likely_tier"] == "vetoed").all() and (vetoed["p_none"] == 1.0).all()
    assert vetoed["rank_low"].isna().all()
    assert (f["p_subsidy"].between(0, 1)).all()
    stab = mc.stability()
    assert list(stab.index) == ["leading", "racing", "none"]
    assert stab["firms"].sum() == ranked.sum()


def test_rank_interval_is_the_empirical_quantile(mini: Framework) -> None:
    data = mini_table(150, 9)
    scores = score(mini, data)
    res = rank_uncertainty(mini, scores=scores, weights=Jitter(points=5), n_draws=40, seed=1)
    draws = score_draws(scores, res.points)
    ranked = ~scores.frame["vetoed"].to_numpy()
    r = np.sort(draws.rank[ranked], axis=1)
    # inverted-CDF quantiles of 40 draws: 5 % → 2nd smallest, 50 % → 20th, 95 % → 38th
    assert np.array_equal(res.frame.loc[ranked, "rank_low"].to_numpy(dtype=np.int64), r[:, 1])
    assert np.array_equal(res.frame.loc[ranked, "rank_median"].to_numpy(dtype=np.int64), r[:, 19])
    assert np.array_equal(res.frame.loc[ranked, "rank_high"].to_numpy(dtype=np.int64), r[:, 37])
    lead = (draws.tier[ranked] == 0).mean(axis=1)
    assert np.allclose(res.frame.loc[ranked, "p_leading"].to_numpy(), lead)
    sub = (draws.subsidy[ranked] > 0).mean(axis=1)
    assert np.allclose(res.frame.loc[ranked, "p_subsidy"].to_numpy(), sub)


TWO = f"""
schema: calibrate/framework@1
id: two
version: "1"
name: {{zh: 二, en: two}}
provenance: {_PROV}
core_budget: 100
stages:
  - {{id: all, name: {{zh: 全, en: all}}, revenue_min: 0, provenance: {_PROV}}}
groups:
  - {{id: tech, name: {{zh: 技术, en: tech}}, kind: core, provenance: {_PROV}}}
indicators:
  - {{id: rd_intensity, name: {{zh: 研发, en: rd}}, unit: fraction, group: tech,
     rule: {{kind: linear, low: 0, high: 1}}, points: {{all: 50}}, provenance: {_PROV}}}
  - {{id: postgrad_share, name: {{zh: 研究生, en: pg}}, unit: fraction, group: tech,
     rule: {{kind: linear, low: 0, high: 1}}, points: {{all: 50}}, provenance: {_PROV}}}
tiers:
  - {{id: leading, name: {{zh: 一, en: one}}, top_fraction: 0.1, provenance: {_PROV}}}
"""


def test_coin_flip_firm_is_visible() -> None:
    """Ten firms, one seat. f0 (all rd) and f1 (all postgrad) tie at 50 points: who wins depends
    only on whether rd or postgrad gets more points in the draw — a coin flip. f2 is far behind."""
    fw = Framework.from_yaml(TWO, "two")
    data = pd.DataFrame(
        {
            "enterprise_id": [f"f{i}" for i in range(10)],
            "year": 2024,
            "park": "p",
            "revenue": 10.0,
            "rd_intensity": [1.0, 0.0, 0.3, 0.2, 0.2, 0.1, 0.1, 0.0, 0.0, 0.0],
            "postgrad_share": [0.0, 1.0, 0.3, 0.2, 0.1, 0.1, 0.0, 0.1, 0.0, 0.0],
        }
    )
    res = rank_uncertainty(fw, data, n_draws=400, seed=0)
    flips = res.uncertain(threshold=0.8)
    assert set(flips["enterprise_id"]) == {"f0", "f1"}
    assert flips["p_most_likely"].between(0.4, 0.6).all()
    f = res.frame.set_index("enterprise_id")
    # one seat, but a draw where both round to the same total keeps both on the list (tie rule)
    assert 1.0 <= f.loc["f0", "p_leading"] + f.loc["f1", "p_leading"] <= 1.02
    assert f.loc["f2", "p_none"] == 1.0 and f.loc["f2", "rank_low"] == 3
    assert list(res.uncertain(threshold=1.0)["enterprise_id"][:2]) == list(flips["enterprise_id"])
    with pytest.raises(ValueError) as err:
        res.uncertain(threshold=0)
    assert str(err.value) == sens.MSG_THRESHOLD.format(threshold=0)


# --- samplers -----------------------------------------------------------------------------------


def test_dirichlet_keeps_each_stage_budget(mini: Framework) -> None:
    pts = Dirichlet(concentration=50).sample(mini, 300, np.random.default_rng(0))
    base = points_array(mini)
    core = np.array([i.id in mini.core_indicator_ids for i in mini.indicators])
    assert np.allclose(pts[:, :, core].sum(axis=2), base[:, core].sum(axis=1))
    assert np.array_equal(pts[:, :, ~core], np.broadcast_to(base[:, ~core], pts[:, :, ~core].shape))
    assert np.allclose(pts.mean(axis=0), base, atol=1.5)  # centred on today's table


def test_jitter_within_bounds(mini: Framework) -> None:
    pts = Jitter(points=3, low=0, high=55).sample(mini, 200, np.random.default_rng(0))
    base = points_array(mini)
    assert (np.abs(pts - np.minimum(base, 55)) <= 3 + 1e-12).all()
    assert (pts >= 0).all() and (pts <= 55).all()
    assert (pts[:, 0, 0] == 55).all()  # 60 ± 3 is always clipped to the upper bound
    assert pts[:, 1, 0].min() >= 47 and pts[:, 1, 0].max() <= 53 and pts[:, 1, 0].std() > 1
    doc = mini.to_dict()
    doc["indicators"][3]["points"] = {"small": 0, "big": 5}
    zero = Framework.from_document(doc, "zero")
    assert (Jitter().sample(zero, 50, np.random.default_rng(0))[:, 0, 3] == 0).all()  # 0 stays 0


def test_from_draws_round_trip(mini: Framework, mc: sens.RankUncertainty) -> None:
    table = mc.draws_table()
    assert list(table.columns) == ["draw", "indicator", "stage", "points"]
    again = rank_uncertainty(mini, scores=mc.scores, weights=FromDraws(table), seed=42)
    pd.testing.assert_frame_equal(again.frame, mc.frame)
    arr = rank_uncertainty(mini, scores=mc.scores, weights=FromDraws(mc.points), seed=42)
    pd.testing.assert_frame_equal(arr.frame, mc.frame)
    resampled = FromDraws(table).sample(mini, 50, np.random.default_rng(0))
    assert resampled.shape == (50, 2, 4)
    partial = FromDraws(
        pd.DataFrame(
            {
                "draw": [0, 1],
                "indicator": ["rd_intensity"] * 2,
                "stage": ["small"] * 2,
                "points": [55.0, 65.0],
            }
        )
    )
    got = partial.array(mini)
    assert got.shape == (2, 2, 4) and got[1, 0, 0] == 65.0 and got[1, 1, 0] == 50.0


def test_from_intervals(mini: Framework) -> None:
    iv = pd.DataFrame(
        {
            "indicator": ["rd_intensity", "invention_patent_apps"],
            "stage": ["small", "small"],
            "low": [50.0, 30.0],
            "high": [70.0, 45.0],
        }
    )
    pts = FromIntervals(iv).sample(mini, 500, np.random.default_rng(0))
    assert pts[:, 0, 0].min() >= 50 and pts[:, 0, 0].max() <= 70
    assert pts[:, 0, 1].min() >= 30 and pts[:, 0, 1].max() <= 45
    assert (pts[:, 1, :] == points_array(mini)[1]).all()  # not listed: unchanged
    normal = FromIntervals(iv, distribution="normal", level=0.9).sample(
        mini, 4000, np.random.default_rng(0)
    )
    inside = ((normal[:, 0, 0] >= 50) & (normal[:, 0, 0] <= 70)).mean()
    assert inside == pytest.approx(0.9, abs=0.03)


def test_bad_tables(mini: Framework) -> None:
    bad = pd.DataFrame(
        {
            "indicator": ["rd_intensity", "nope"],
            "stage": ["small", "small"],
            "low": [1.0, 1.0],
            "high": [2.0, 2.0],
        }
    )
    with pytest.raises(ValueError) as err:
        FromIntervals(bad).sample(mini, 3, np.random.default_rng(0))
    assert str(err.value) == sens.MSG_TABLE_UNKNOWN.format(
        what="intervals",
        kind="indicators",
        names="nope",
        fw="mini",
        known="rd_intensity, invention_patent_apps, vc_financing, awards_provincial",
    )
    flipped = bad.iloc[:1].assign(low=3.0)
    with pytest.raises(ValueError) as err:
        FromIntervals(flipped).sample(mini, 3, np.random.default_rng(0))
    assert str(err.value) == sens.MSG_INTERVAL_ORDER.format(pairs="rd_intensity@small")
    with pytest.raises(ValueError) as err:
        FromDraws(pd.DataFrame({"indicator": ["rd_intensity"]})).array(mini)
    assert str(err.value) == sens.MSG_TABLE_COLUMNS.format(
        what="draws", need="draw, indicator, stage, points", have="indicator"
    )
    with pytest.raises(ValueError) as err:
        score_draws(score(mini, mini_table(5, 0)), np.zeros((1, 3, 4)))
    assert str(err.value) == sens.MSG_POINTS_SHAPE.format(s=2, k=4, shape=(1, 3, 4))
    with pytest.raises(ValueError) as err:
        rank_uncertainty(mini, mini_table(5, 0), weights="gaussian")
    assert str(err.value) == sens.MSG_UNKNOWN_SAMPLER.format(name="gaussian")


def test_write_and_dict(mc: sens.RankUncertainty, tmp_path) -> None:
    paths = mc.write(tmp_path)
    assert len(pd.read_csv(paths["rank_uncertainty"])) == 400
    d = mc.to_dict()
    assert (
        d["n_draws"] == 200 and d["seed"] == 42 and d["weights"] == "Dirichlet(concentration=200.0)"
    )
    assert set(d["stability"]) == {"leading", "racing", "none"}
