"""RuleResult API, error messages, missing values and helpers of calibrate.rules."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from calibrate.exceptions import DataContractError, Problem
from calibrate.rules import RuleResult, hnte, innovative_sme, tech_sme
from calibrate.rules._bands import band_index, band_points, expert_points

HNTE_BASE = {
    "year": 2023,
    "founded_year": 2015,
    "invention_patents_owned": 2,
    "class2_ip_owned": 6,
    "ip_transfer_only": 0,
    "standards_drafted": 0,
    "in_supported_field": 1,
    "st_staff": 20,
    "employees": 100,
    "rd_expense_3y": 600,
    "revenue_3y": 9000,
    "revenue": 4000,
    "revenue_lag1": 3000,
    "revenue_lag2": 2500,
    "rd_domestic_share": 0.9,
    "hitech_product_revenue": 3000,
    "major_safety_accident": 0,
    "env_violation": 0,
    "conversions_3y": 15,
    "net_assets": 1500,
    "net_assets_lag1": 1200,
    "net_assets_lag2": 1000,
}  # score 72 at q = 0.5 (see tests/cases/rules/hnte.yaml)

TECH_BASE = {
    "employees": 100,
    "st_staff": 30,
    "revenue": 5000,
    "total_assets": 8000,
    "dishonest_debtor": 0,
    "research_misconduct": 0,
    "rd_expense": 300,
    "total_cost": 4000,
    "invention_patents_owned": 1,
    "class2_ip_owned": 0,
    "hte_valid": 0,
    "national_st_award": 0,
    "platforms_provincial": 0,
    "led_standard": 0,
}  # score 100

INNOV_BASE = {
    "invention_patents_owned": 1,
    "class2_ip_owned": 0,
    "ip_transfer_only": 0,
    "strategic_emerging": 2,
    "rd_intensity": 0.06,
    "revenue_growth": 0.2,
    "debt_ratio": 0.4,
    "main_business_share": 0.8,
}  # score 100


def _rows(base: dict, *overrides: dict, index: list | None = None) -> pd.DataFrame:
    return pd.DataFrame([{**base, **o} for o in overrides], index=index)


# --- shortfalls ---------------------------------------------------------------------------


def test_shortfalls_lists_failing_firms_closest_first() -> None:
    df = _rows(
        HNTE_BASE,
        {"st_staff": 7},  # share 0.07: one condition, gap 0.03 → distance 0.3
        {"net_assets": 1200, "net_assets_lag1": 1000, "net_assets_lag2": 1000},  # score 70: 1/71
        {},  # passes
        {"st_staff": 7, "founded_year": 2023},  # two conditions
        {"st_staff": 9},  # gap 0.01 → distance 0.1
        {"in_supported_field": 0},  # yes/no condition → distance 1.0
        index=["a", "b", "c", "d", "e", "f"],
    )
    result = hnte.evaluate(df, 0.5)
    short = result.shortfalls()
    assert list(short.index) == ["b", "e", "a", "f", "d"]
    assert list(short.columns[:4]) == ["failed", "n_failed", "distance", "score"]
    assert short["failed"].tolist() == [
        "score",
        "st_staff_share",
        "st_staff_share",
        "supported_field",
        "registered;st_staff_share",
    ]
    assert short["n_failed"].tolist() == [1, 1, 1, 1, 2]
    assert short.loc["a", "gap__st_staff_share"] == 0.03
    assert short.loc["e", "gap__st_staff_share"] == 0.01
    assert short.loc["b", "gap__score"] == 1.0
    assert math.isnan(short.loc["a", "gap__score"])
    assert short.loc["d", "gap__registered"] == 1.0
    assert short.loc["f", "distance"] == 1.0
    assert short.loc["d", "distance"] == 1.0 + 0.3


def test_shortfalls_with_repeated_index_and_size_caps() -> None:
    df = _rows(
        TECH_BASE,
        {"employees": 520, "st_staff": 156},  # 20 over the cap: -20, distance 20/500
        {"employees": 510, "st_staff": 153},  # 10 over: -10
        {},
        index=[7, 7, 8],  # the same firm in several years
    )
    short = tech_sme.evaluate(df).shortfalls()
    assert short["gap__size_employees"].tolist() == [-10.0, -20.0]
    assert list(short.index) == [7, 7]


def test_pass_rate_and_passed() -> None:
    df = _rows(TECH_BASE, {}, {"st_staff": 0}, {}, {"dishonest_debtor": 1})
    result = tech_sme.evaluate(df)
    assert result.pass_rate() == 0.5
    assert result.passed.tolist() == [True, False, True, False]
    assert isinstance(result, RuleResult)


def test_empty_table() -> None:
    df = pd.DataFrame({c: pd.Series([], dtype="float64") for c in INNOV_BASE})
    result = innovative_sme.evaluate(df)
    assert len(result.frame) == 0
    assert math.isnan(result.pass_rate())
    assert len(result.shortfalls()) == 0


def test_index_and_order_are_kept() -> None:
    df = _rows(INNOV_BASE, {}, {"debt_ratio": 0.9}, index=["x", "y"])
    result = innovative_sme.evaluate(df)
    assert list(result.frame.index) == ["x", "y"]
    assert list(result.gaps.index) == ["x", "y"]


def test_frame_columns_and_dtypes() -> None:
    result = tech_sme.evaluate(_rows(TECH_BASE, {}))
    assert list(result.frame.columns) == [
        "passed",
        "score",
        "failed",
        "route",
        "cond__size_employees",
        "cond__size_revenue",
        "cond__size_assets",
        "cond__no_dishonest_debtor",
        "cond__no_research_misconduct",
        "cond__st_staff_item",
        "cond__score",
        "route__hte_valid",
        "route__national_st_award",
        "route__platforms_provincial",
        "route__led_standard",
        "route__score",
        "item__st_staff",
        "item__rd",
        "item__ip",
    ]
    f = result.frame
    assert f["passed"].dtype == np.dtype(bool)
    assert f["score"].dtype == np.dtype("float64")
    assert pd.api.types.is_string_dtype(f["failed"].dtype)
    assert pd.api.types.is_string_dtype(f["route"].dtype)
    h = hnte.evaluate(_rows(HNTE_BASE, {}), 0.5).frame
    assert [c for c in h.columns if c.startswith("cond__")] == [
        f"cond__{c}" for c in hnte.CONDITIONS
    ]
    assert [c for c in h.columns if c.startswith("item__")] == [f"item__{c}" for c in hnte.ITEMS]


# --- missing columns ----------------------------------------------------------------------


def test_missing_columns_are_all_listed_with_full_message() -> None:
    df = pd.DataFrame([TECH_BASE]).drop(columns=["total_assets", "dishonest_debtor", "st_staff"])
    with pytest.raises(DataContractError) as info:
        tech_sme.evaluate(df)
    err = info.value
    assert err.source == "tech_sme.evaluate input table"
    assert err.problems == (
        Problem(
            "column total_assets",
            "missing; rule tech_sme (科技型中小企业评价 2017) needs it for condition size_assets: "
            "add the column `total_assets` (total assets at year end, 万元)",
        ),
        Problem(
            "column dishonest_debtor",
            "missing; rule tech_sme (科技型中小企业评价 2017) needs it for condition "
            "no_dishonest_debtor: add the column `dishonest_debtor` (on the dishonest-debtor list, 0/1)",
        ),
        Problem(
            "column st_staff / st_staff_share",
            "missing; rule tech_sme (科技型中小企业评价 2017) needs `st_staff` with `employees`, "
            "or else `st_staff_share`, for item st_staff: add `st_staff` (S&T staff, count) or "
            "`st_staff_share` (S&T staff share of employees, fraction)",
        ),
    )
    assert str(err) == (
        "tech_sme.evaluate input table: 3 data problems\n"
        "  - column total_assets: missing; rule tech_sme (科技型中小企业评价 2017) needs it for "
        "condition size_assets: add the column `total_assets` (total assets at year end, 万元)\n"
        "  - column dishonest_debtor: missing; rule tech_sme (科技型中小企业评价 2017) needs it for "
        "condition no_dishonest_debtor: add the column `dishonest_debtor` "
        "(on the dishonest-debtor list, 0/1)\n"
        "  - column st_staff / st_staff_share: missing; rule tech_sme (科技型中小企业评价 2017) "
        "needs `st_staff` with `employees`, or else `st_staff_share`, for item st_staff: add "
        "`st_staff` (S&T staff, count) or `st_staff_share` (S&T staff share of employees, fraction)"
    )


def test_missing_column_used_by_several_conditions_is_listed_once() -> None:
    df = pd.DataFrame([HNTE_BASE]).drop(columns=["revenue"])
    with pytest.raises(DataContractError) as info:
        hnte.evaluate(df, 0.5)
    assert info.value.problems == (
        Problem(
            "column revenue",
            "missing; rule hnte (高新技术企业认定 2016) needs it for condition rd_ratio, condition "
            "hitech_revenue_share and item sales_growth: add the column `revenue` "
            "(operating revenue, 万元)",
        ),
    )


def test_custom_year_column() -> None:
    df = pd.DataFrame([HNTE_BASE]).rename(columns={"year": "data_year"})
    assert hnte.evaluate(df, 0.5, year_col="data_year").passed.tolist() == [True]
    with pytest.raises(DataContractError, match="column year: missing"):
        hnte.evaluate(df, 0.5)


def test_alternative_columns_are_enough() -> None:
    hn = (
        pd.DataFrame([HNTE_BASE]).drop(columns=["st_staff", "employees"]).assign(st_staff_share=0.2)
    )
    assert hnte.evaluate(hn, 0.5).passed.tolist() == [True]
    inn = (
        pd.DataFrame([INNOV_BASE]).drop(columns=["rd_intensity"]).assign(rd_expense=6, revenue=100)
    )
    assert innovative_sme.evaluate(inn).frame["item__rd_intensity"].tolist() == [20.0]


# --- missing values -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("module", "base", "expected"),
    [
        (
            hnte,
            HNTE_BASE,
            "registered:missing;core_ip:missing;supported_field:missing;st_staff_share:missing;"
            "rd_ratio:missing;rd_domestic_share:missing;hitech_revenue_share:missing;"
            "no_safety_accident:missing;no_env_violation:missing;score:missing",
        ),
        (
            tech_sme,
            TECH_BASE,
            "size_employees:missing;size_revenue:missing;size_assets:missing;"
            "no_dishonest_debtor:missing;no_research_misconduct:missing;st_staff_item:missing;"
            "score:missing",
        ),
        (
            innovative_sme,
            INNOV_BASE,
            "score:missing;innovation:missing;growth:missing;specialisation:missing",
        ),
    ],
)
def test_all_nan_row_fails_every_condition_as_missing(module, base, expected) -> None:
    df = pd.DataFrame([base, {k: np.nan for k in base}, {k: None for k in base}])
    result = module.evaluate(df, 0.5) if module is hnte else module.evaluate(df)
    assert result.frame["passed"].tolist() == [True, False, False]
    assert result.frame["failed"].tolist() == ["", expected, expected]
    assert result.frame["score"].iloc[0] > 0
    # hnte still gives the expert-only points to an all-missing firm: 4 + 4 (IP) + 10 (R&D org)
    assert result.frame["score"].iloc[1] == (18.0 if module is hnte else 0.0)


def test_nullable_and_text_columns() -> None:
    df = pd.DataFrame(
        {
            **{k: [v, v] for k, v in TECH_BASE.items()},
            "employees": pd.array([100, pd.NA], dtype="Int64"),
            "hte_valid": ["false", "TRUE"],
            "led_standard": pd.array([False, pd.NA], dtype="boolean"),
            "dishonest_debtor": ["0", "n/a"],
        }
    )
    f = tech_sme.evaluate(df).frame
    assert f["failed"].tolist() == [
        "",
        "size_employees:missing;no_dishonest_debtor:missing",
    ]
    assert f["route__hte_valid"].tolist() == [False, True]


# --- expert quality -----------------------------------------------------------------------


def test_expert_quality_forms() -> None:
    df = _rows(HNTE_BASE, {}, {}, index=[10, 20])
    by_array = hnte.evaluate(df, [0.0, 1.0]).frame["score"].tolist()
    by_series = hnte.evaluate(df, pd.Series([1.0, 0.0], index=[20, 10])).frame["score"].tolist()
    assert by_array == by_series == [45.0, 94.0]


@pytest.mark.parametrize(
    ("quality", "found"),
    [
        ([0.5], "shape (1,)"),
        ([0.5, np.nan], "values outside [0, 1] or NaN"),
        ([0.5, 1.2], "values outside [0, 1] or NaN"),
        (pd.Series([0.5], index=[0]), "values outside [0, 1] or NaN"),
    ],
)
def test_bad_expert_quality(quality, found) -> None:
    df = _rows(HNTE_BASE, {}, {})
    with pytest.raises(ValueError) as info:
        hnte.evaluate(df, quality)
    assert str(info.value) == (
        "expert_quality must be a scalar or one value per row in [0, 1] with no NaN; "
        f"got {found} for 2 rows"
    )


# --- helpers ------------------------------------------------------------------------------


def test_valid_years_and_is_valid() -> None:
    assert hnte.valid_years(2020) == (2020, 2021, 2022)
    assert hnte.valid_years(np.int64(2019)) == (2019, 2020, 2021)
    got = hnte.is_valid([2020, 2020, 2020, 2020, np.nan], [2019, 2020, 2022, 2023, 2021])
    assert got.tolist() == [False, True, True, False, False]


def test_band_helpers_edges_and_tolerance() -> None:
    x = np.array([0.1 * 3, 0.3, 0.3 - 2e-9, 0.5, np.nan])  # 0.1*3 = 0.30000000000000004
    assert band_index(x, [0.3]).tolist() == [1, 1, 0, 1, 0]
    assert band_index(x, [0.3], strict=[True]).tolist() == [0, 0, 0, 1, 0]
    assert band_points([0.2, np.nan], [0.55, 0.75], [10, 5, 0], [False, True]).tolist() == [
        10.0,
        0.0,
    ]
    assert band_points([np.nan], [1.0], [0, 5], nan_points=5).tolist() == [5.0]
    with pytest.raises(ValueError, match="strictly ascending"):
        band_index([1.0], [2.0, 1.0])
    with pytest.raises(ValueError, match="need 3 points"):
        band_points([1.0], [1.0, 2.0], [0, 1])
    # round half up; (0.7 − 0.4) × 5 = 1.4999999999999996 still counts as 1.5
    q = np.array([0.0, 0.5, 0.7 - 0.4, 0.7, 1.0])
    assert expert_points(q, 1, 6).tolist() == [1.0, 4.0, 3.0, 5.0, 6.0]
    assert expert_points(q, 0, 1).tolist() == [0.0, 1.0, 0.0, 1.0, 1.0]
