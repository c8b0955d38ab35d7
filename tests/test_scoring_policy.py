"""What parks do with the ranking: named lists, seat options, eligibility, pools, credit, carriers.

The scores themselves are pinned by the hand-computed cases in ``tests/cases/`` (lists, seats,
eligibility, pools, credit); this file checks the validation messages of the new framework
sections, the tables built on top of the scores, and carrier aggregates computed by hand.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from calibrate.exceptions import DataContractError, FrameworkError
from calibrate.framework import Framework
from calibrate.framework._parse import (
    MSG_BENEFIT_AMOUNT,
    MSG_CREDIT_ORDER,
    MSG_LIST_WITHIN,
    MSG_MIN_SEATS,
    MSG_POOL_INDICATOR,
    MSG_POOL_SIZE,
    MSG_TIE_BREAKER_NEEDED,
)
from calibrate.scoring import carrier_scores, score, seats, select_top

CASES = Path(__file__).parent / "cases"


def case(name: str) -> dict[str, Any]:
    return yaml.safe_load((CASES / f"{name}.yaml").read_text(encoding="utf-8"))


def problems(document: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(FrameworkError) as info:
        Framework.from_document(document, "policy.yaml")
    return [(p.where, p.message) for p in info.value.problems]


# --- validation of the new sections ---------------------------------------------------------------


def test_list_nested_in_an_unknown_list_is_reported_with_its_path() -> None:
    doc = copy.deepcopy(case("lists_overlapping_nested")["framework"])
    doc["lists"][3]["within"] = "champions"
    assert problems(doc) == [
        (
            "lists[3].within",
            MSG_LIST_WITHIN.format(
                found="champions", known="leading, racing, grade_up, extra_points, big_bonus"
            ),
        )
    ]


def test_benefit_without_amount_and_bad_min_seats() -> None:
    doc = copy.deepcopy(case("lists_overlapping_nested")["framework"])
    doc["lists"][2]["benefits"] = [{"kind": "subsidy"}]
    doc["min_seats"] = 2
    assert problems(doc) == [
        ("min_seats", MSG_MIN_SEATS.format(found=2)),
        ("lists[2].benefits[0].amount", MSG_BENEFIT_AMOUNT.format(kind="subsidy", unit="万元")),
    ]


def test_tie_breaker_rule_needs_the_column() -> None:
    doc = copy.deepcopy(case("seats_rounding_and_ties")["framework"])
    del doc["tie_breaker"]
    assert problems(doc) == [("lists[5].seats.ties", MSG_TIE_BREAKER_NEEDED)]


def test_pool_needs_known_indicators_and_a_size() -> None:
    doc = copy.deepcopy(case("pools_certification_subsets")["framework"])
    doc["pools"][0]["indicators"] = ["rd_intensity", "rd_ratio"]
    del doc["pools"][1]["min_score"]
    assert problems(doc) == [
        (
            "pools[0].indicators[1]",
            MSG_POOL_INDICATOR.format(
                found="rd_ratio", known="rd_intensity, st_staff_share, invention_patent_apps"
            ),
        ),
        ("pools[1]", MSG_POOL_SIZE),
    ]


def test_credit_bands_must_increase() -> None:
    doc = copy.deepcopy(case("credit_lines")["framework"])
    doc["credit"]["bands"].reverse()
    assert problems(doc) == [
        ("credit.bands[1].min_total", MSG_CREDIT_ORDER.format(found=60, prev=80))
    ]


def test_eligibility_column_missing_from_the_data_is_a_data_error() -> None:
    c = case("eligibility_all_conditions")
    fw = Framework.from_document(c["framework"])
    data = pd.DataFrame.from_records(c["rows"]).drop(columns=["above_scale"])
    with pytest.raises(DataContractError) as info:
        score(fw, data)
    assert [(p.where, p.message) for p in info.value.problems] == [
        (
            "<data>, column above_scale",
            "required by framework case-eligibility-all but missing; add the column",
        )
    ]


def test_dropping_an_indicator_trims_the_pools() -> None:
    fw = Framework.from_document(case("pools_certification_subsets")["framework"])
    dropped = fw.drop(["invention_patent_apps"])
    assert [p.id for p in dropped.pools] == ["tech_sme"]  # the hte pool had no other indicator
    assert dropped.drop(["st_staff_share"]).pools[0].indicators == ("rd_intensity",)


# --- seats ------------------------------------------------------------------------------------------


def test_floor_rounding_pays_nobody_below_100_firms_unless_a_minimum_seat() -> None:
    n = np.array([0, 40, 99, 100, 250])
    assert seats(0.01, n).tolist() == [0, 0, 0, 1, 2]
    assert seats(0.01, n, min_seats=1).tolist() == [0, 1, 1, 1, 2]  # an empty group stays empty
    assert seats(0.01, n, "ceil").tolist() == [0, 1, 1, 1, 3]
    assert seats(0.01, n, "round").tolist() == [0, 0, 1, 1, 3]  # 2.5 rounds half up


def test_select_top_takes_draws_in_one_call() -> None:
    """Two draws of the same group: the tie rule is applied per draw."""
    rank = np.array([[1, 2, 2, 4], [1, 2, 3, 4]])
    codes = np.zeros(4, dtype=np.int64)
    size = np.array([4])
    got = select_top(rank, codes, size, 0.5, ties="none")
    assert got.tolist() == [[True, False, False, False], [True, True, False, False]]


def test_seat_table_shows_empty_subsidies() -> None:
    c = case("seats_rounding_and_ties")
    result = score(Framework.from_document(c["framework"]), pd.DataFrame.from_records(c["rows"]))
    table = result.seat_table().set_index(["stage", "selection"])
    assert table.loc[("small", "subsidy:small"), ["ranked", "seats", "members"]].tolist() == [
        7,
        1,
        1,
    ]
    assert table.loc[("big", "subsidy:big"), ["ranked", "seats", "members"]].tolist() == [2, 0, 0]
    assert table.loc[("small", "list:floor5"), ["seats", "members"]].tolist() == [0, 0]
    assert table.loc[("small", "list:round30"), ["seats", "members"]].tolist() == [2, 3]  # the tie


def test_seat_table_counts_tier_seats_cumulatively() -> None:
    c = case("lists_overlapping_nested")
    result = score(Framework.from_document(c["framework"]), pd.DataFrame.from_records(c["rows"]))
    table = result.seat_table().set_index(["stage", "selection"])
    # small: racing has floor(0.4 × 5) = 2 seats, held by a (leading) and b (racing)
    assert table.loc[("small", "list:racing"), ["ranked", "seats", "members"]].tolist() == [5, 2, 2]
    # big: big_bonus has 2 seats and 3 members (f and the tie g, h); no small firm counts
    assert table.loc[("big", "list:big_bonus"), ["ranked", "seats", "members"]].tolist() == [
        3,
        2,
        3,
    ]
    assert ("small", "list:big_bonus") not in table.index


def test_tier_counts_show_ineligible_firms() -> None:
    c = case("eligibility_any_category")
    result = score(Framework.from_document(c["framework"]), pd.DataFrame.from_records(c["rows"]))
    counts = result.tier_counts().loc["all"]
    # b leading, a ranked on no tier, e vetoed, c and d outside the evaluated categories
    assert counts.to_dict() == {"leading": 1, "none": 1, "vetoed": 1, "ineligible": 2}


def test_credit_table_counts_coverage() -> None:
    c = case("credit_lines")
    result = score(Framework.from_document(c["framework"]), pd.DataFrame.from_records(c["rows"]))
    table = result.credit_table()
    assert table is not None
    # a 500 + b 100 + c 100 + d 50; the vetoed e has no line: 4 of 5 covered
    assert table.loc["total"].tolist() == [5, 4, 0.8, 750.0]


# --- carriers ---------------------------------------------------------------------------------------


def test_carrier_aggregates_by_hand() -> None:
    c = case("credit_lines")
    fw = Framework.from_document(c["framework"])
    rows = [dict(r) for r in c["rows"]]
    for r, carrier in zip(rows, ["X", "X", "Y", "Y", "Z"], strict=True):
        r["carrier"] = carrier
    rows.append({**rows[3], "enterprise_id": "f", "rd_intensity": 50, "carrier": None})
    data = pd.DataFrame.from_records(rows)
    result = score(fw, data)
    got = carrier_scores(result, data)
    assert got.unassigned == 1
    t = got.frame.set_index("carrier")
    # ranked: a 90, b 70, c 60, d 30, f 50 (n = 5: the top quarter list has 1 seat → a)
    assert t.loc["X", ["firms", "ranked", "mean_total", "listed", "credit_wan"]].tolist() == [
        2, 2, 80.0, 1, 600.0,  # a 500 (list) + b 100 (band ≥ 60)
    ]  # fmt: skip
    assert t.loc["Y", ["firms", "ranked", "mean_total", "listed", "credit_wan"]].tolist() == [
        2, 2, 45.0, 0, 150.0,  # c 100 + d 50 (base line)
    ]  # fmt: skip
    assert t.loc["Z", "ranked"] == 0 and math.isnan(t.loc["Z", "mean_total"])  # e is vetoed
    assert t["mean__rd_intensity"].tolist() == [80.0, 45.0, 95.0]  # raw values of all residents
    assert t["rank"].tolist() == [1, 2, pd.NA]


def test_carrier_scores_need_a_carrier_column() -> None:
    c = case("credit_lines")
    result = score(Framework.from_document(c["framework"]), pd.DataFrame.from_records(c["rows"]))
    with pytest.raises(DataContractError, match="no carrier column"):
        carrier_scores(result)


# --- compare --------------------------------------------------------------------------------------


def test_compare_shows_credit_coverage_list_membership_and_ineligible_firms() -> None:
    from calibrate.compare import compare

    c = case("credit_lines")
    base = Framework.from_document(c["framework"])
    doc = copy.deepcopy(c["framework"])
    doc["eligibility"] = {
        "mode": "all",
        "provenance": {"status": "reconstructed", "reasoning": "test"},
        "conditions": [
            {
                "id": "some_rd",
                "name": {"zh": "研发强度达标", "en": "R&D intensity"},
                "column": "rd_intensity",
                "op": ">=",
                "value": 50,
                "provenance": {"status": "reconstructed", "reasoning": "test"},
            }
        ],
    }
    candidate = Framework.from_document(doc)
    cmp = compare(base, candidate, pd.DataFrame.from_records(c["rows"]))
    # base: a 500 (list), b 100, c 100, d 50, e vetoed 0 → 4 of 5 covered, 750 万元
    # candidate: d (30 < 50) ineligible; n = 3 ranked → the top quarter has 0 seats;
    # a 200 (≥ 80), b 100, c 100 → 3 of 5 covered, 400 万元
    total = cmp.credit.loc["total"]
    assert total[["firms", "covered_base", "covered_candidate"]].tolist() == [5, 4, 3]
    assert total[["share_base", "share_candidate"]].tolist() == [0.8, 0.6]
    assert total[["credit_base_wan", "credit_candidate_wan"]].tolist() == [750.0, 400.0]
    members = cmp.list_membership.set_index("list").loc["top_quarter"]
    assert members.tolist() == [1, 0, 0, 0, 1]  # a leaves the list
    trans = cmp.transitions()
    assert list(trans.columns) == ["none", "vetoed", "ineligible"]
    assert trans.loc["none"].tolist() == [3, 0, 1] and trans.loc["vetoed"].tolist() == [0, 1, 0]
    assert cmp.overall["ranked_both"] == 3  # d is not ranked under the candidate
    assert "## Credit lines" in cmp.summary()


@pytest.mark.parametrize(
    "name",
    [
        "tiers_framework_ties_none_min_one",
        "seats_rounding_and_ties",
        "subsidy_custom_ranking_group",  # ranking groups spanning stages
        "subsidy_tie_over_max_firms",
    ],
)
def test_rank_draws_use_the_scorers_seat_rules(name: str) -> None:
    """sensitivity re-scores draws through scoring.select_top: the base draw is the scorer's."""
    from calibrate.sensitivity import points_array, score_draws

    c = case(name)
    result = score(Framework.from_document(c["framework"]), pd.DataFrame.from_records(c["rows"]))
    draws = score_draws(result, points_array(result.framework)[None])
    tier = result.frame["tier"].cat.codes.to_numpy()
    assert draws.tier[:, 0].tolist() == tier.tolist()
    assert draws.subsidy[:, 0].tolist() == result.frame["subsidy_wan"].tolist()
    assert result.frame["subsidy_wan"].sum() > 0 or (tier >= 0).any()  # something was selected


@pytest.mark.parametrize("seed", [0, 1])
def test_unfiltered_data_score_as_if_filtered_first(seed: int) -> None:
    """Eligibility needs no pre-filtering: eligible firms get the points, ranks, lists, pools and
    subsidies they get when the ineligible rows are removed first (percentile and median-imputed
    indicators included)."""
    import dataclasses

    from calibrate.framework import Condition, Eligibility, load_framework
    from reference_scorer import random_table

    text = load_framework("longwan-2022-text")
    assert text.eligibility is not None
    one, two = text.eligibility.conditions[3:5]  # R&D expense > 0, invention applications > 0
    fw = dataclasses.replace(
        text, eligibility=Eligibility("all", (one, two), text.eligibility.provenance)
    )
    assert isinstance(one, Condition) and fw.pools  # pools and lists are compared as well
    data = random_table(fw, np.random.default_rng(seed), 600)
    full = score(fw, data).frame
    keep = full["eligible"].to_numpy()
    assert 0 < keep.sum() < len(data)  # both kinds present
    no_rule = dataclasses.replace(fw, eligibility=None)
    filtered = score(no_rule, data[keep].reset_index(drop=True)).frame
    cols = [c for c in filtered.columns if c != "ineligible_reason"]
    pd.testing.assert_frame_equal(
        full.loc[keep, cols].reset_index(drop=True), filtered[cols], check_dtype=False
    )
    assert (
        not full.loc[~keep, [c for c in full.columns if c.startswith(("list__", "pool__"))]]
        .any()
        .any()
    )
    assert full.loc[~keep, "rank"].isna().all() and (full.loc[~keep, "subsidy_wan"] == 0).all()


@pytest.mark.parametrize("rounding", ["floor", "ceil", "round"])
def test_a_named_list_with_a_tiers_share_holds_that_tier_and_the_better_ones(rounding: str) -> None:
    """Tiers and lists go through the same seat rule: a list of the k-th tier's share holds
    exactly the firms on tier k or a better one; lists of growing share are nested."""
    from reference_scorer import every_rule_document, random_table

    doc = every_rule_document(tier_seats=rounding)
    prov = {"status": "reconstructed", "reasoning": "test"}
    doc["lists"] = [
        {
            "id": f"as_{t['id']}",
            "name": t["name"],
            "top_fraction": t["top_fraction"],
            "provenance": prov,
        }
        for t in doc["tiers"]
    ]
    fw = Framework.from_document(doc)
    for seed in range(3):
        out = score(fw, random_table(fw, np.random.default_rng(seed), 500)).frame
        tier = out["tier"].cat.codes.to_numpy()
        previous = np.zeros(len(out), dtype=bool)
        for k, t in enumerate(fw.tiers):
            on = out[f"list__as_{t.id}"].to_numpy()
            assert np.array_equal(on, (tier >= 0) & (tier <= k)), (seed, t.id)
            assert not (previous & ~on).any()  # nested
            previous = on
        assert previous.any()


def test_a_credit_line_per_tier_is_a_nested_list() -> None:
    """The documented idiom: a list of share 1 nested in a tier gives all its members a line."""
    c = case("lists_overlapping_nested")
    doc = copy.deepcopy(c["framework"])
    prov = {"status": "reconstructed", "reasoning": "test"}
    doc["lists"].append(
        {"id": "racing_credit", "name": {"zh": "竞跑榜授信", "en": "racing credit"}, "top_fraction": 1,
         "within": "racing", "benefits": [{"kind": "credit", "amount": 300}], "provenance": prov}
    )  # fmt: skip
    doc["credit"] = {"base_wan": 50, "provenance": prov}
    out = score(Framework.from_document(doc), pd.DataFrame.from_records(c["rows"])).frame
    got = dict(zip(out["enterprise_id"], out["credit_wan"], strict=True))
    # racing members: b (small) and f (big); everyone else ranked gets the 50 base line
    assert got == {"a": 50, "b": 300, "c": 50, "d": 50, "e": 50, "f": 300, "g": 50, "h": 50}
