"""Tests for calibrate.compare.

A hand-built case whose entrants, leavers, transitions, margins and drivers are worked out in the
comments; invariants on random tables (hypothesis); ``compare(f, f)`` shows no change; frameworks
that differ in indicators, stages and tier ids; outcome metrics; the written files.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from calibrate import compare as cmp
from calibrate import metrics
from calibrate.compare import Comparison, compare
from calibrate.framework import Framework
from calibrate.scoring import score

# --- frameworks ------------------------------------------------------------------------------

_PROV = "{status: official, source: test}"


def _two_indicator_yaml(
    a: float, b: float, *, tiers: tuple[str, str] = ("leading", "racing"), fid: str = "two"
) -> str:
    """One stage, one park: rd_intensity and postgrad_share, both linear 0 → 1 (fraction = value)."""
    return f"""
schema: calibrate/framework@1
id: {fid}
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
     rule: {{kind: linear, low: 0, high: 1}}, points: {{all: {a}}}, provenance: {_PROV}}}
  - {{id: postgrad_share, name: {{zh: 研究生, en: pg}}, unit: fraction, group: tech,
     rule: {{kind: linear, low: 0, high: 1}}, points: {{all: {b}}}, provenance: {_PROV}}}
tiers:
  - {{id: {tiers[0]}, name: {{zh: 一, en: one}}, top_fraction: 0.2, provenance: {_PROV}}}
  - {{id: {tiers[1]}, name: {{zh: 二, en: two}}, top_fraction: 0.5, provenance: {_PROV}}}
subsidies:
  - {{stage: all, top_fraction: 0.1, amount_wan: 5, provenance: {_PROV}}}
"""


def mini_table(n: int, seed: int, *, parks: int = 2) -> pd.DataFrame:
    """Random firms for MINI: integer-ish values so that ties happen."""
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "enterprise_id": [f"e{i:03d}" for i in range(n)],
            "year": 2023,
            "park": rng.choice([f"p{k}" for k in range(parks)], n),
            "industry": rng.choice(["I1", "I2", "I3"], n),
            "carrier": rng.choice(["k1", "k2", None], n),
            "revenue": rng.choice([50.0, 200.0, 499.0, 500.0, 900.0], n),
            "rd_intensity": rng.choice([0.0, 0.01, 0.02, 0.05, 0.1], n),
            "invention_patent_apps": rng.integers(0, 4, n).astype(float),
            "vc_financing": rng.choice([0.0, 100.0, 300.0, 1000.0], n),
            "awards_provincial": rng.integers(0, 2, n).astype(float),
            "env_violation": (rng.random(n) < 0.1).astype(float),
            "research_misconduct": (rng.random(n) < 0.05).astype(float),
        }
    )


# --- the hand-built case -----------------------------------------------------------------------
#
# Ten firms in one group; base = 60 × a + 40 × b, candidate = 40 × a + 60 × b:
#
#   firm  a    b    base  rank  tier     | cand  rank  tier
#   f0   1.0  0.0   60     2   leading   |  40    7   none
#   f1   0.9  0.2   62     1   leading   |  48    6   none
#   f2   0.0  1.0   40     8   none      |  60    2   leading
#   f3   0.2  0.9   48     6   none      |  62    1   leading
#   f4   0.5  0.5   50     5   racing    |  50    5   racing
#   f5   0.7  0.4   58     3   racing    |  52    4   racing
#   f6   0.4  0.7   52     4   racing    |  58    3   racing
#   f7   0.3  0.3   30     9   none      |  30   10   none
#   f8   0.6  0.2   44     7   none      |  36    8   none
#   f9   0.1  0.5   26    10   none      |  34    9   none
#
# Lists: leading = top 20 % = 2 seats, racing = top 50 % = 5 seats; subsidy: top 10 % = 1 firm.

HAND = pd.DataFrame(
    {
        "enterprise_id": [f"f{i}" for i in range(10)],
        "year": 2024,
        "park": "p",
        "industry": ["x", "x", "y", "y", "x", "x", "y", "y", "x", "y"],
        "revenue": 100.0,
        "rd_intensity": [1.0, 0.9, 0.0, 0.2, 0.5, 0.7, 0.4, 0.3, 0.6, 0.1],
        "postgrad_share": [0.0, 0.2, 1.0, 0.9, 0.5, 0.4, 0.7, 0.3, 0.2, 0.5],
    }
)


@pytest.fixture(scope="module")
def hand() -> Comparison:
    base = Framework.from_yaml(_two_indicator_yaml(60, 40), "base")
    cand = Framework.from_yaml(_two_indicator_yaml(40, 60, fid="cand"), "cand")
    return compare(base, cand, HAND)


def _ids(frame: pd.DataFrame) -> set[str]:
    return set(frame["enterprise_id"])


def test_hand_entrants_and_leavers(hand: Comparison) -> None:
    assert _ids(hand.entered("leading")) == {"f2", "f3"}
    assert _ids(hand.left("leading")) == {"f0", "f1"}
    assert _ids(hand.entered("racing")) == set()
    assert _ids(hand.left("racing")) == set()
    assert _ids(hand.entered()) == {"f2", "f3"}
    assert hand.lists[
        ["list", "firms_base", "firms_candidate", "stayed", "entered", "left"]
    ].to_dict("records") == [
        {
            "list": "leading",
            "firms_base": 2,
            "firms_candidate": 2,
            "stayed": 0,
            "entered": 2,
            "left": 2,
        },
        {
            "list": "racing",
            "firms_base": 3,
            "firms_candidate": 3,
            "stayed": 3,
            "entered": 0,
            "left": 0,
        },
    ]


def test_hand_transitions(hand: Comparison) -> None:
    expected = pd.DataFrame(
        [[0, 0, 2, 0], [0, 3, 0, 0], [2, 0, 3, 0], [0, 0, 0, 0]],
        index=pd.Index(["leading", "racing", "none", "vetoed"], name="base"),
        columns=pd.Index(["leading", "racing", "none", "vetoed"], name="candidate"),
    )
    pd.testing.assert_frame_equal(hand.transitions(), expected)
    shares = hand.transitions(normalize="index")
    assert shares.loc["none", "leading"] == pytest.approx(0.4)
    assert math.isnan(shares.loc["vetoed", "none"])  # an empty row has no shares
    assert hand.transitions(normalize="all").to_numpy().sum() == pytest.approx(1.0)


def test_hand_margins_and_drivers(hand: Comparison) -> None:
    mv = hand.movers.set_index("enterprise_id")
    # leading cut-off: 60 under both (f0 in base, f2 in candidate)
    assert mv.loc["f3", "margin_candidate"] == pytest.approx(2.0)
    assert mv.loc["f3", "margin_base"] == pytest.approx(-12.0)
    assert mv.loc["f2", "margin_candidate"] == pytest.approx(0.0)
    assert mv.loc["f1", "margin_base"] == pytest.approx(2.0)
    assert mv.loc["f1", "margin_candidate"] == pytest.approx(-12.0)
    # f3: postgrad 0.9 × (60 − 40) = +18, rd 0.2 × (40 − 60) = −4 → moved up by postgrad only
    assert mv.loc["f3", "drivers"] == "postgrad_share +18.00"
    assert mv.loc["f1", "drivers"] == "rd_intensity -18.00"
    assert mv.loc["f1", "direction"] == "down" and mv.loc["f3", "direction"] == "up"
    assert list(hand.movers["change"]) == ["entered", "entered", "left", "left"]
    assert list(hand.movers["enterprise_id"]) == ["f3", "f2", "f1", "f0"]  # by rank


def test_hand_subsidies(hand: Comparison) -> None:
    ch = hand.subsidy_changes
    assert dict(zip(ch["enterprise_id"], ch["kind"], strict=True)) == {"f3": "gained", "f1": "lost"}
    row = hand.subsidies.loc["total"]
    assert (row["gained"], row["lost"], row["gained_wan"], row["lost_wan"], row["net_wan"]) == (
        1,
        1,
        5.0,
        5.0,
        0.0,
    )


def test_hand_rank_agreement(hand: Comparison) -> None:
    f = hand.firms
    ranks_b = f["rank_base"].to_numpy(dtype=float)
    ranks_c = f["rank_candidate"].to_numpy(dtype=float)
    assert hand.overall["spearman"] == pytest.approx(stats.spearmanr(ranks_b, ranks_c).statistic)
    assert hand.overall["kendall"] == pytest.approx(stats.kendalltau(ranks_b, ranks_c).statistic)
    assert hand.overall["max_abs_rank_move"] == 6  # f2: rank 8 → 2
    assert hand.overall["mean_abs_rank_move"] == pytest.approx(np.abs(ranks_b - ranks_c).mean())


def test_hand_seat_shares(hand: Comparison) -> None:
    shares = hand.seat_shares("industry")
    # base lists: f0, f1, f4, f5 (x) and f6 (y); candidate: f2, f3, f6 (y) and f4, f5 (x)
    assert shares.loc["x", "seats_base"] == 4 and shares.loc["y", "seats_base"] == 1
    assert shares.loc["x", "seats_candidate"] == 2 and shares.loc["y", "seats_candidate"] == 3
    assert shares.loc["y", "share_change"] == pytest.approx(0.4)
    lead = hand.seat_shares("industry", tier="leading")
    assert lead.loc["y", "share_candidate"] == 1.0 and lead.loc["x", "share_base"] == 1.0


# --- compare(f, f) ----------------------------------------------------------------------------------


def _assert_no_change(c: Comparison) -> None:
    assert c.unchanged
    assert c.movers.empty and c.entered().empty and c.left().empty
    assert c.subsidy_changes.empty
    t = c.transitions().to_numpy()
    assert np.array_equal(t, np.diag(np.diag(t)))
    o = c.overall
    for key in (
        "mean_abs_rank_move",
        "max_abs_rank_move",
        "share_rank_moved",
        "entered",
        "left",
        "newly_listed",
        "delisted",
        "moved_up",
        "moved_down",
        "subsidy_gained",
        "subsidy_lost",
        "subsidy_net_wan",
    ):
        if key.endswith(("rank_move", "rank_moved")) and o["ranked_both"] == 0:
            assert np.isnan(o[key]), key  # no firm ranked by both: rank moves are undefined
            continue
        assert o[key] == 0, key
    for by in c.slices:
        g = c.by_group(by)
        rho = g["spearman"].dropna().to_numpy()
        tau = g["kendall"].dropna().to_numpy()
        assert np.allclose(rho, 1.0) and np.allclose(tau, 1.0), by
        assert (g["share_rank_moved"].fillna(0) == 0).all()
    for dim in c.slices:
        assert (c.seat_shares(dim)["share_change"].fillna(0) == 0).all()
    assert c.points_change.to_numpy().any() == False  # noqa: E712


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 60))
def test_compare_with_itself_shows_no_change(mini: Framework, seed: int, n: int) -> None:
    data = mini_table(n, seed)
    c = compare(mini, mini, data, labels=np.random.default_rng(seed).integers(0, 2, n))
    _assert_no_change(c)
    if c.outcome_metrics is not None:
        assert (c.outcome_metrics["change"].fillna(0) == 0).all()
    assert "**No change**" in c.summary()


def test_compare_with_itself_shipped() -> None:
    from calibrate.framework import load_framework

    fw = load_framework("longwan-2022")
    data = _longwan_table(fw, 3000, seed=1)
    s = score(fw, data)
    _assert_no_change(compare(fw, fw, data, base_scores=s, candidate_scores=s))


def _longwan_table(fw: Framework, n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    cols: dict[str, object] = {
        "enterprise_id": [f"E{i}" for i in range(n)],
        "year": 2024,
        "park": rng.choice(["a", "b", "c"], n),
        "industry": rng.choice(["I65", "C39"], n),
        "revenue": np.exp(rng.normal(6, 2, n)),
    }
    for ind in fw.indicators:
        if ind.id != "revenue":
            cols[ind.id] = np.where(
                rng.random(n) < 0.4, 0.0, rng.gamma(1.0, 3.0, n) * (rng.random(n) < 0.9)
            )
    for p in fw.penalties:
        cols[p.id] = (rng.random(n) < 0.02).astype(float)
    return pd.DataFrame(cols)


# --- invariants on random tables ---------------------------------------------------------------------


@settings(
    max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(1, 80),
    w=st.lists(st.floats(0.2, 3.0), min_size=4, max_size=4),
)
def test_invariants(mini: Framework, seed: int, n: int, w: list[float]) -> None:
    data = mini_table(n, seed, parks=3)
    cand = mini.reweight(dict(zip(mini.indicator_ids, w, strict=True)))
    c = compare(mini, cand, data)
    b_scores, c_scores = c.base_scores.frame, c.candidate_scores.frame

    # the transition matrix counts every firm once; margins are each framework's tier counts
    t = c.transitions()
    assert t.to_numpy().sum() == n
    assert t.sum(axis=1).tolist() == c.base_scores.tier_counts().sum().tolist()
    assert t.sum(axis=0).tolist() == c.candidate_scores.tier_counts().sum().tolist()

    # entrants of a list = leavers of the other lists who land on it + firms from no list
    f = c.firms.set_index("enterprise_id")
    for tier in ("leading", "racing"):
        entered = _ids(c.entered(tier))
        from_other_lists = {
            e
            for other in ("leading", "racing")
            if other != tier
            for e in _ids(c.left(other))
            if f.loc[e, "tier_candidate"] == tier
        }
        newly = set(
            f.index[f["tier_base"].isin(["none", "vetoed"]) & (f["tier_candidate"] == tier)]
        )
        assert entered == from_other_lists | newly
        assert entered == set(f.index[(f["tier_candidate"] == tier) & (f["tier_base"] != tier)])
        assert _ids(c.left(tier)) == set(
            f.index[(f["tier_base"] == tier) & (f["tier_candidate"] != tier)]
        )
    o = c.overall
    assert o["entered"] - o["left"] == o["newly_listed"] - o["delisted"]

    # seat shares sum to one per framework (when it fills any seat)
    for dim in ("park", "industry", "stage", "carrier", "group"):
        s = c.seat_shares(dim)
        for side in ("base", "candidate"):
            if s[f"seats_{side}"].sum():
                assert s[f"share_{side}"].sum() == pytest.approx(1.0)
        assert s["seats_base"].sum() == o["listed_base"]

    # slices add up to the overall figures
    for by in c.slices:
        g = c.by_group(by)
        for col in (
            "firms",
            "ranked_both",
            "entered",
            "left",
            "subsidy_net_wan",
            "listed_candidate",
        ):
            assert g[col].sum() == pytest.approx(o[col]), (by, col)

    # the points decomposition adds up to the change of total
    assert np.allclose(c.points_change.sum(axis=1), c.firms["total_change"], atol=1e-6)
    # subsidies per stage add up to the firm-level changes
    assert c.subsidies.loc["total", "net_wan"] == pytest.approx(
        c.subsidy_changes["subsidy_change"].sum()
    )
    # firm table agrees with the scores
    assert np.array_equal(c.firms["total_base"].to_numpy(), b_scores["total"].to_numpy())
    assert np.array_equal(c.firms["total_candidate"].to_numpy(), c_scores["total"].to_numpy())


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    n=st.integers(2, 300),
    groups=st.integers(1, 6),
    threshold=st.sampled_from([3, 4096]),
)
def test_rank_agreement_matches_scipy(seed: int, n: int, groups: int, threshold: int) -> None:
    """Vectorised Spearman / Kendall tau-b per group, both paths (scipy for large groups)."""
    rng = np.random.default_rng(seed)
    x = rng.integers(0, rng.integers(1, 12), n).astype(float)
    y = np.where(rng.random(n) < 0.5, x, rng.integers(0, 12, n)).astype(float)
    codes = rng.integers(0, groups, n)
    saved = cmp.KENDALL_SCIPY_MIN
    cmp.KENDALL_SCIPY_MIN = threshold
    xr, yr = cmp._dense_rank(x), cmp._dense_rank(y)
    try:
        rho, tau = cmp._rank_agreement(xr, yr, codes, groups)
        shared = cmp._rank_agreement(
            xr, yr, codes, groups, np.argsort(xr * (yr.max() + 1) + yr), np.argsort(yr)
        )
    finally:
        cmp.KENDALL_SCIPY_MIN = saved
    assert np.array_equal(rho, shared[0], equal_nan=True)
    assert np.array_equal(tau, shared[1], equal_nan=True)
    for g in range(groups):
        m = codes == g
        if m.sum() < 2 or np.ptp(x[m]) == 0 or np.ptp(y[m]) == 0:
            assert math.isnan(rho[g]) and math.isnan(tau[g])
            continue
        assert rho[g] == pytest.approx(stats.spearmanr(x[m], y[m]).statistic, abs=1e-12)
        assert tau[g] == pytest.approx(stats.kendalltau(x[m], y[m]).statistic, abs=1e-12)


# --- frameworks that differ ---------------------------------------------------------------------------


def test_candidate_drops_an_indicator(mini: Framework) -> None:
    data = mini_table(60, 3)
    cand = mini.drop(["invention_patent_apps"])
    c = compare(mini, cand, data)
    pc = c.points_change
    assert list(pc.columns) == [*mini.indicator_ids, "bonus_cap", "deduction"]
    base_pts = c.base_scores.frame["pts__invention_patent_apps"].to_numpy()
    assert np.array_equal(pc["invention_patent_apps"].to_numpy(), -base_pts)  # missing = 0 points
    assert np.allclose(pc.sum(axis=1), c.firms["total_change"], atol=1e-6)


def test_candidate_adds_an_indicator(mini: Framework) -> None:
    data = mini_table(40, 4)
    smaller = mini.drop(["awards_provincial"], renormalise=False)
    c = compare(smaller, mini, data)
    assert c.indicator_ids == [*smaller.indicator_ids, "awards_provincial"]
    assert np.allclose(c.points_change.sum(axis=1), c.firms["total_change"], atol=1e-6)


def test_different_stages_use_base_groups(mini: Framework) -> None:
    doc = mini.to_dict()
    doc["stages"][0]["revenue_max"] = 300
    doc["stages"][1]["revenue_min"] = 300
    doc["id"] = "mini-300"
    cand = Framework.from_document(doc, "cand")
    data = mini_table(80, 5)
    c = compare(mini, cand, data)
    f = c.firms
    moved = data["revenue"].between(300, 499.99).to_numpy()
    assert (f["stage"].astype(str).to_numpy()[moved] == "small").all()
    assert (f["stage_candidate"].astype(str).to_numpy()[moved] == "big").all()
    g = c.by_group("group")
    assert list(g.index.names) == ["park", "stage", "year"]
    assert g["firms"].sum() == 80
    assert c.transitions().to_numpy().sum() == 80


def test_tier_ids_differ_matched_by_position() -> None:
    base = Framework.from_yaml(_two_indicator_yaml(60, 40), "base")
    cand = Framework.from_yaml(
        _two_indicator_yaml(40, 60, tiers=("top", "second"), fid="c"), "cand"
    )
    c = compare(base, cand, HAND)
    assert c.list_ids == ["leading/top", "racing/second"]
    assert list(c.transitions().columns) == ["top", "second", "none", "vetoed"]
    for key in ("leading", "top", "leading/top", 0):
        assert _ids(c.entered(key)) == {"f2", "f3"}
    with pytest.raises(ValueError) as err:
        c.entered("gold")
    assert str(err.value) == cmp.MSG_UNKNOWN_LIST.format(
        tier="gold", known="leading/top, racing/second", last=1
    )


def test_candidate_with_fewer_lists() -> None:
    base = Framework.from_yaml(_two_indicator_yaml(60, 40), "base")
    doc = base.to_dict()
    doc["tiers"] = doc["tiers"][:1]
    doc["id"] = "one-list"
    cand = Framework.from_document(doc, "cand")
    c = compare(base, cand, HAND)
    assert c.list_ids == ["leading", "racing"]
    assert _ids(c.left("racing")) == {"f4", "f5", "f6"}  # the racing list no longer exists
    assert c.entered("racing").empty
    assert c.seat_shares("industry")["share_candidate"].sum() == pytest.approx(1.0)


# --- outcomes -------------------------------------------------------------------------------------------


def test_outcome_metrics_side_by_side(hand: Comparison) -> None:
    labels = pd.array([1, 0, 0, 1, pd.NA, 0, 1, 0, 0, 0], dtype="Int8")  # f4 censored
    c = compare(hand.base, hand.candidate, HAND, labels=labels)
    om = c.outcome_metrics
    assert om is not None
    use = np.arange(10) != 4
    y = np.array([1, 0, 0, 1, 0, 0, 1, 0, 0, 0])[use]
    assert om.loc["n", "base"] == 9 and om.loc["events", "candidate"] == 3
    for side, scores in (("base", c.base_scores), ("candidate", c.candidate_scores)):
        total = scores.frame["total"].to_numpy()[use]
        group = scores.group_code[use]
        # the same definitions as `calibrate suggest`: within-group AUC, k-seat lists
        assert om.loc["auc_within_group", side] == pytest.approx(
            metrics.grouped_auc(y, total, group)
        )
        assert om.loc["prec_top20", side] == pytest.approx(
            metrics.precision_at_top(y, total, group, 0.2, ties="fractional")
        )
        assert om.loc["lift_top20", side] == pytest.approx(
            metrics.lift_at_top(y, total, group, 0.2, ties="fractional")
        )
        assert math.isnan(om.loc["prec_top10", side])  # 10 % of 9 firms is no seat
    assert om.loc["auc_within_group", "change"] == pytest.approx(
        om.loc["auc_within_group", "candidate"] - om.loc["auc_within_group", "base"]
    )


def test_outcome_labels_from_events(hand: Comparison) -> None:
    data = pd.concat([HAND, HAND.assign(year=2025)], ignore_index=True)
    events = pd.DataFrame(
        {
            "enterprise_id": ["f3", "f2", "f0"],
            "year": [2025, 2025, 2026],
            "event": ["loan_granted"] * 3,
        }
    )
    c = compare(
        hand.base,
        hand.candidate,
        data,
        events=events,
        target="loan_granted",
        horizon=1,
        direction="higher",
    )
    assert c.labels is not None
    # 2024 rows look at 2025 (f2, f3 positive); 2025 rows at 2026 (f0 positive)
    assert c.labels.tolist() == [0, 0, 1, 1, 0, 0, 0, 0, 0, 0] + [1] + [0] * 9
    om = c.outcome_metrics
    assert om is not None and om.loc["n", "base"] == 20 and om.loc["events", "base"] == 3


def test_events_without_target(hand: Comparison) -> None:
    with pytest.raises(ValueError) as err:
        compare(hand.base, hand.candidate, HAND, events=pd.DataFrame())
    assert str(err.value) == cmp.MSG_NO_TARGET


def test_bad_labels(hand: Comparison) -> None:
    with pytest.raises(ValueError) as err:
        compare(hand.base, hand.candidate, HAND, labels=[0, 1, 2, 0, 0, 0, 0, 0, 0, 0])
    assert str(err.value) == cmp.MSG_LABELS_VALUES.format(found="2.0")
    with pytest.raises(ValueError) as err:
        compare(hand.base, hand.candidate, HAND, labels=[0, 1])
    assert str(err.value) == cmp.MSG_LABELS_LENGTH.format(got=2, want=10)


def test_scores_must_match(hand: Comparison) -> None:
    wrong = score(hand.candidate, HAND)
    with pytest.raises(ValueError) as err:
        compare(hand.base, hand.candidate, HAND, base_scores=wrong)
    assert str(err.value) == cmp.MSG_SCORES_FRAMEWORK.format(which="base", got="cand", want="two")
    with pytest.raises(ValueError) as err:
        compare(hand.base, hand.candidate, HAND.iloc[:5], candidate_scores=wrong)
    assert str(err.value) == cmp.MSG_SCORES_LENGTH.format(which="candidate", got=10, want=5)


def test_unknown_slice(hand: Comparison) -> None:
    with pytest.raises(ValueError) as err:
        hand.by_group("carrier")
    assert str(err.value) == cmp.MSG_UNKNOWN_SLICE.format(
        by="carrier", col="carrier", known="group, park, stage, industry"
    )


# --- output -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_write(mini: Framework, tmp_path, fmt: str) -> None:
    data = mini_table(50, 8)
    c = compare(
        mini,
        mini.reweight({"tech": 2.0, "aux": 0.5}),
        data,
        labels=np.random.default_rng(0).integers(0, 2, 50),
    )
    paths = c.write(tmp_path, fmt=fmt)
    for name in (
        "firms",
        "transitions",
        "movers",
        "subsidies",
        "subsidy_changes",
        "seat_shares",
        "by_group",
        "by_park",
        "by_carrier",
        "outcome_metrics",
        "cutoffs",
        "lists",
    ):
        assert paths[name] == tmp_path / f"{name}.{fmt}" and paths[name].exists()
    read = pd.read_csv if fmt == "csv" else pd.read_parquet
    assert len(read(paths["firms"])) == 50
    assert len(read(paths["movers"])) == len(c.movers)
    summary = paths["summary"].read_text(encoding="utf-8")
    assert summary.startswith("# Comparison: mini → mini")
    assert "## Tier transitions" in summary and "## Outcomes" in summary
    doc = json.loads(paths["json"].read_text(encoding="utf-8"))
    assert doc["n_firms"] == 50 and doc["transitions"]["none"]["none"] == int(
        c.transitions().loc["none", "none"]
    )
    with pytest.raises(ValueError) as err:
        c.write(tmp_path, fmt="xlsx")  # type: ignore[arg-type]
    assert str(err.value) == cmp.MSG_FORMAT.format(fmt="xlsx")


# --- a target's direction and the years metrics describe (regressions) ------------------------


def test_a_bad_event_scores_the_framework_that_ranks_it_low_as_better(hand: Comparison) -> None:
    # today's ranking puts the defaulters on top; the candidate's puts them at the bottom
    total_b = hand.base_scores.frame["total"].to_numpy()
    total_c = hand.candidate_scores.frame["total"].to_numpy()
    worst_for_candidate = np.argsort(total_c)[:3]
    labels = np.zeros(len(total_b), dtype=float)
    labels[worst_for_candidate] = 1
    c = compare(hand.base, hand.candidate, HAND, labels=labels, target="loan_default")
    assert c.direction == "lower" and c.outcome_scope["outcome"] == "no loan_default"
    om = c.outcome_metrics
    assert om is not None
    assert om.loc["auc_within_group", "candidate"] > om.loc["auc_within_group", "base"]


def test_unknown_event_needs_a_direction(hand: Comparison) -> None:
    from calibrate.exceptions import ConstraintError

    with pytest.raises(ConstraintError, match="has no known direction"):
        compare(hand.base, hand.candidate, HAND, labels=[0] * 9 + [1], target="grant_won")


def test_outcome_scope_says_held_out_only_for_years_not_fitted(hand: Comparison) -> None:
    data = pd.concat([HAND, HAND.assign(year=2025)], ignore_index=True)
    labels = [1, 0, 0, 1, 0, 0, 1, 0, 0, 0] * 2
    fitted = hand.candidate._rebuild(
        calibration={"target": "grant_won", "train_years": [2024], "test_years": [2025]}
    )
    c = compare(hand.base, fitted, data, labels=labels, target="grant_won", direction="higher")
    assert c.outcome_scope == {
        "years": [2025],
        "fitted_years": [2024],
        "held_out": True,
        "outcome": "grant_won",
    }
    assert c.outcome_metrics is not None and c.outcome_metrics.loc["n", "base"] == 10
    both = compare(
        hand.base, fitted, data, labels=labels, target="grant_won", direction="higher",
        years=[2024, 2025],
    )  # fmt: skip
    assert both.outcome_scope["held_out"] is False
    plain = compare(
        hand.base, hand.candidate, data, labels=labels, target="grant_won", direction="higher"
    )
    assert plain.outcome_scope["held_out"] is None and plain.outcome_scope["years"] == [2024, 2025]


def test_outcome_years_without_data_are_an_error_not_an_empty_table(hand: Comparison) -> None:
    from calibrate.exceptions import ConstraintError

    labels = [1, 0, 0, 1, 0, 0, 1, 0, 0, 0]
    with pytest.raises(ConstraintError, match="no data in 1990; the data years are 2024"):
        compare(hand.base, hand.candidate, HAND, labels=labels, target="grant_won",
                direction="higher", years=[1990])  # fmt: skip
