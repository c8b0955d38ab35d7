"""Properties of the scorer that follow from its documented rules, on hypothesis-generated tables.

The tables come from the every-rule framework of ``reference_scorer`` (linear incl. decreasing,
fraction and per-stage points bands, percentile, count, binary, two capped bonus groups, deduct
and veto penalties, lists and subsidies with and without ``max_firms``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from calibrate.framework import BandsRule, Framework
from calibrate.scoring import score
from reference_scorer import every_rule_framework, revenue_pool, round_half_up, seats, value_pool

FRAMEWORK = every_rule_framework()
FRAMEWORKS = {
    "floor": FRAMEWORK,
    "ceil": every_rule_framework(tier_seats="ceil"),
    "round": every_rule_framework(tier_seats="round"),
}
SETTINGS = settings(
    max_examples=50,
    database=None,  # no example database written into the working tree
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@st.composite
def tables(draw: st.DrawFn, framework: Framework = FRAMEWORK) -> pd.DataFrame:
    """An enterprise table for ``framework``: boundary revenues, coarse values (ties), NaN, flags.

    Hypothesis draws the shape of the table (rows, parks, years, how often values are missing,
    whether values come from a two-value pool so that totals tie at every cut-off) and a seed;
    numpy fills the columns from pools of goalposts, band edges and values just beside them.
    Drawing every cell through hypothesis costs ~10× more and would not fit the 30 s budget.
    """
    n = draw(st.integers(1, 60), label="rows")
    parks = draw(st.sampled_from([("p1",), ("p1", "p2")]), label="parks")
    years = draw(st.sampled_from([(2023,), (2022, 2023)]), label="years")
    missing = draw(st.sampled_from([0.0, 0.1, 0.5]), label="missing share")
    ties = draw(st.booleans(), label="two values per indicator")
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1), label="seed"))
    data: dict[str, object] = {
        "enterprise_id": [f"e{i}" for i in range(n)],
        "park": rng.choice(list(parks), n),
        "year": rng.choice(list(years), n),
        "revenue": rng.choice([*revenue_pool(framework), 77.7, 1234.5, 4321.0], n),
    }
    for ind in framework.indicators:
        pool = value_pool(framework, ind.id)
        if ties:
            pool = list(rng.choice(pool, 2))
        values = rng.choice(pool, n).astype(np.float64)
        values[rng.random(n) < missing] = np.nan
        data[ind.id] = values
    for pen in framework.penalties:
        flag = (rng.random(n) < 0.15).astype(np.float64)
        flag[rng.random(n) < missing / 2] = np.nan
        data[pen.id] = flag
    return pd.DataFrame(data)


def _round(values: np.ndarray, decimals: int) -> np.ndarray:
    """The documented half-up rounding, element by element."""
    return np.array([round_half_up(float(v), decimals) for v in values])


def _col(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(dtype=np.float64)


@SETTINGS
@given(data=tables())
def test_total_is_core_plus_capped_bonus_minus_deduction(data: pd.DataFrame) -> None:
    f = FRAMEWORK
    d = f.decimals
    out = score(f, data).frame
    for g in f.groups:
        pts = [_col(out, f"pts__{ind.id}") for ind in f.indicators if ind.group == g.id]
        assert np.array_equal(_col(out, f"grp__{g.id}"), _round(np.sum(pts, axis=0), d))
    core = sum(_col(out, f"grp__{g.id}") for g in f.groups if g.kind == "core")
    bonus = sum(np.minimum(_col(out, f"grp__{g.id}"), g.cap) for g in f.groups if g.kind == "bonus")
    assert np.array_equal(_col(out, "core"), _round(core, d))
    assert np.array_equal(_col(out, "bonus"), _round(bonus, d))
    total = _col(out, "core") + _col(out, "bonus") - _col(out, "deduction")
    assert np.array_equal(_col(out, "total"), _round(total, d))
    for name in ("core", "bonus", "deduction", "total"):  # published numbers are exact decimals
        assert np.array_equal(_col(out, name), _round(_col(out, name), d))


@SETTINGS
@given(data=tables())
def test_bonus_never_exceeds_the_caps(data: pd.DataFrame) -> None:
    f = FRAMEWORK
    out = score(f, data).frame
    caps = {g.id: g.cap for g in f.groups if g.kind == "bonus"}
    assert (out["bonus"] <= sum(caps.values())).all()
    assert (out["bonus"] >= 0).all()
    capped = {g: np.minimum(_col(out, f"grp__{g}"), cap) for g, cap in caps.items()}
    for g, cap in caps.items():
        assert (capped[g] <= cap).all()
    # the bonus is exactly the sum of the capped subtotals: no group overflows into another's cap
    assert np.array_equal(_col(out, "bonus"), _round(sum(capped.values()), f.decimals))


@SETTINGS
@given(data=tables(), seat_rule=st.sampled_from(sorted(FRAMEWORKS)))
def test_vetoed_firms_are_on_no_list_and_get_no_subsidy(data: pd.DataFrame, seat_rule: str) -> None:
    f = FRAMEWORKS[seat_rule]
    result = score(f, data)
    out = result.frame
    vetoed = out["vetoed"].to_numpy(dtype=bool)
    flags = data["research_misconduct"].fillna(0).to_numpy() > 0
    assert np.array_equal(vetoed, flags)
    assert out.loc[vetoed, "rank"].isna().all()
    assert out.loc[vetoed, "percentile"].isna().all()
    assert out.loc[vetoed, "tier"].isna().all()
    assert (out.loc[vetoed, "subsidy_wan"] == 0).all()
    assert out.loc[~vetoed, "rank"].notna().all()
    listed = pd.concat(result.lists().values())
    assert not listed["vetoed"].any()


@SETTINGS
@given(data=tables(), seat_rule=st.sampled_from(sorted(FRAMEWORKS)))
def test_subsidy_winners_respect_max_firms_and_lists_never_run_short(
    data: pd.DataFrame, seat_rule: str
) -> None:
    f = FRAMEWORKS[seat_rule]
    result = score(f, data)
    out = result.frame
    ranked = ~out["vetoed"].to_numpy(dtype=bool)
    rank = out["rank"].to_numpy(dtype=np.float64, na_value=np.nan)
    stage = out["stage"].astype(str).to_numpy()
    tier_pos = out["tier"].cat.codes.to_numpy()  # -1 = on no list
    subsidy = _col(out, "subsidy_wan")
    for code in np.unique(result.group_code[ranked]):
        members = ranked & (result.group_code == code)
        n = int(members.sum())
        for rule in f.subsidies:
            in_stage = members & (stage == rule.stage)
            if not in_stage.any():
                continue
            won = in_stage & (subsidy == rule.amount_wan)
            cut = seats(rule.top_fraction, n, f.tier_seats)
            assert (rank[won] <= cut).all()  # winners are within the seats (ties aside) …
            if rule.max_firms is not None:
                assert won.sum() <= rule.max_firms  # … and never more than the budget allows
            else:
                assert np.array_equal(won, in_stage & (rank <= cut))
        for k, tier in enumerate(f.tiers):
            on_or_better = members & (tier_pos >= 0) & (tier_pos <= k)
            want = seats(tier.top_fraction, n, f.tier_seats)
            assert on_or_better.sum() >= want  # ties may run a list over its seats, never under
            assert np.array_equal(on_or_better, members & (rank <= want))


def _increasing(framework: Framework, ind_id: str) -> bool:
    ind = framework.indicator(ind_id)
    if isinstance(ind.rule, BandsRule):
        for s in framework.stage_ids:
            values = [b.value for b in ind.rule.bands_at(s)]
            if values != sorted(values):
                return False
    return ind.direction == 1


@SETTINGS
@given(data=tables(), choice=st.data())
def test_a_better_value_never_lowers_the_firms_own_points(
    data: pd.DataFrame, choice: st.DataObject
) -> None:
    f = FRAMEWORK
    ind = choice.draw(st.sampled_from(f.indicators), label="indicator")
    firm = choice.draw(st.integers(0, len(data) - 1), label="firm")
    old = data.at[firm, ind.id]
    if math.isnan(old):
        return
    step = choice.draw(st.sampled_from([0.01, 0.05, 0.5, 1.0, 3.0, 1000.0]), label="step")
    better = data.copy()
    better.at[firm, ind.id] = old + step if _increasing(f, ind.id) else old - step
    before = score(f, data).frame[f"pts__{ind.id}"].iloc[firm]
    after = score(f, better).frame[f"pts__{ind.id}"].iloc[firm]
    assert after >= before  # for percentile, others may lose points; this firm cannot


@settings(SETTINGS, max_examples=30)
@given(data=tables(), choice=st.data())
def test_vetoing_a_firm_never_worsens_another_firms_rank(
    data: pd.DataFrame, choice: st.DataObject
) -> None:
    f = FRAMEWORK
    firm = choice.draw(st.integers(0, len(data) - 1), label="firm")
    vetoed = data.copy()
    vetoed.at[firm, "research_misconduct"] = 1.0
    before = score(f, data).frame
    after = score(f, vetoed).frame
    others = np.arange(len(data)) != firm
    cols = [c for c in before.columns if c.startswith("pts__")] + ["total"]
    pd.testing.assert_frame_equal(
        before.loc[others, cols], after.loc[others, cols], check_exact=True
    )
    ranked = others & ~before["vetoed"].to_numpy(dtype=bool)
    assert (after["rank"][ranked] <= before["rank"][ranked]).all()


@settings(SETTINGS, max_examples=30)
@given(data=tables(), order=st.data())
def test_scores_are_deterministic_and_do_not_depend_on_row_order(
    data: pd.DataFrame, order: st.DataObject
) -> None:
    f = FRAMEWORK
    first = score(f, data).frame
    again = score(f, data).frame
    pd.testing.assert_frame_equal(first, again, check_exact=True)
    perm = order.draw(st.permutations(list(range(len(data)))), label="permutation")
    shuffled = score(f, data.iloc[perm]).frame
    assert list(shuffled.index) == list(data.index[perm])
    pd.testing.assert_frame_equal(shuffled.loc[data.index], first, check_exact=True)


# --- competition ranks: every path of the ranker agrees with pandas' groupby rank ------------


@settings(SETTINGS, max_examples=40)
@given(
    units=st.lists(st.integers(-3_000, 3_000), min_size=1, max_size=300),
    n_groups=st.integers(1, 6),
    decimals=st.sampled_from([0, 1, 2]),
    descending=st.booleans(),
    path=st.sampled_from(["counting", "radix", "per-group", "global"]),
    choice=st.data(),
)
def test_competition_rank_paths_agree_with_pandas(
    units: list[int],
    n_groups: int,
    decimals: int,
    descending: bool,
    path: str,
    choice: st.DataObject,
) -> None:
    import calibrate.scoring as scoring

    values = np.round(np.array(units, dtype=np.float64) / 10.0**decimals, decimals)
    codes = np.array(
        choice.draw(
            st.lists(st.integers(0, n_groups - 1), min_size=len(units), max_size=len(units))
        )
    )
    codes = pd.factorize(codes, sort=True)[0].astype(np.int64)  # dense from 0
    expected = (
        pd.Series(values).groupby(codes).rank(method="min", ascending=not descending).to_numpy()
    )
    saved = scoring.COUNTING_MIN_BINS, scoring.COUNTING_MAX_BINS, scoring.SEGMENT_MIN_MEAN
    try:
        scoring.COUNTING_MIN_BINS = 1 << 30 if path == "counting" else 0
        scoring.COUNTING_MAX_BINS = 0 if path != "counting" else scoring.COUNTING_MAX_BINS
        scoring.SEGMENT_MIN_MEAN = 1 if path == "per-group" else 10**9
        given_decimals = decimals if path in ("counting", "radix") else None
        got = scoring.competition_rank(
            values, codes, descending=descending, decimals=given_decimals
        )
    finally:
        scoring.COUNTING_MIN_BINS, scoring.COUNTING_MAX_BINS, scoring.SEGMENT_MIN_MEAN = saved
    np.testing.assert_array_equal(got, expected.astype(np.int64))
