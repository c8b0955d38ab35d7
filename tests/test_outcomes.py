"""Labels, censoring, population rules and the leakage guard on hand-built panels.

Every expected label below is worked out by hand from the rule "events in t+1 … t+h only".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate.exceptions import DataContractError, LeakageError
from calibrate.outcomes import (
    FUTURE_NAME_TEXT,
    MSG_LEAK_HEAD,
    MSG_LEAK_NAME,
    MSG_LEAK_OFFSET,
    TARGET_RULES,
    LeakageGuard,
    Population,
    TargetRule,
    check_no_leakage,
    make_labels,
    target_rule,
    validate_events,
)

NA = pd.NA
YEARS = [2018, 2019, 2020, 2021, 2022]


def panel(firms: list[str], years: list[int] = YEARS, **cols: list) -> pd.DataFrame:
    ent = pd.DataFrame(
        {"enterprise_id": [f for f in firms for _ in years], "year": years * len(firms)}
    )
    for name, values in cols.items():
        ent[name] = values
    return ent


def events(*rows: tuple[str, int, str]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["enterprise_id", "year", "event"])


def labels_of(lab, firm: str) -> list:
    f = lab.frame
    return f.loc[f["enterprise_id"] == firm, "label"].tolist()


def status_of(lab, firm: str) -> list:
    f = lab.frame
    return f.loc[f["enterprise_id"] == firm, "status"].astype(str).tolist()


# --- generic targets ------------------------------------------------------------------------

EV = events(("a", 2020, "x"), ("b", 2022, "x"), ("z", 2017, "x"))


def test_generic_horizon_1_labels_and_censoring():
    lab = make_labels(panel(["a", "b", "c"]), EV, "x")
    assert lab.last_year == 2022  # latest year in the events table
    # a: event in 2020 → label 1 in 2019 only; the 2020 row itself is 0; 2022 censored
    assert labels_of(lab, "a") == [0, 1, 0, 0, NA]
    assert labels_of(lab, "b") == [0, 0, 0, 1, NA]
    assert labels_of(lab, "c") == [0, 0, 0, 0, NA]
    assert status_of(lab, "c") == ["labelled"] * 4 + ["censored"]
    assert lab.counts().to_dict() == {"labelled": 12, "censored": 3}
    assert lab.frame["label"].dtype == "Int8"


def test_generic_horizon_2():
    lab = make_labels(panel(["a", "b"]), EV, "x", horizon=2)
    # t+1..t+2: a's 2020 event is seen from 2018 and 2019; 2021 and 2022 need 2023 → censored
    assert labels_of(lab, "a") == [1, 1, 0, NA, NA]
    assert labels_of(lab, "b") == [0, 0, 1, NA, NA]
    assert status_of(lab, "b") == ["labelled"] * 3 + ["censored"] * 2


def test_censored_even_when_an_event_is_already_seen():
    # 2021 with horizon 2 looks at 2022 (event!) and 2023 (unobserved): censored, not 1
    lab = make_labels(panel(["b"]), EV, "x", horizon=2)
    assert status_of(lab, "b")[3] == "censored"
    assert labels_of(lab, "b")[3] is NA


def test_last_year_override():
    earlier = make_labels(panel(["a", "b"]), EV, "x", last_year=2021)
    assert labels_of(earlier, "b") == [0, 0, 0, NA, NA]  # 2021 needs 2022: censored
    later = make_labels(panel(["a", "b"]), EV, "x", last_year=2024)
    assert labels_of(later, "a") == [0, 1, 0, 0, 0]
    assert later.counts()["censored"] == 0


def test_event_in_year_t_never_leaks_into_label_or_features():
    """The exact case: firm a has event x in 2020 (and nothing else).

    Adding or removing that event must not change the 2020 row — neither its label nor its
    features — and must change the 2019 label (the only row whose window t+1..t+h holds 2020).
    """
    from calibrate.models import features_from_indicators

    ent = panel(
        ["a"],
        revenue=[10.0] * 5,
        rd_expense=[1.0, 2.0, 3.0, 4.0, 5.0],
        debt_ratio=[0.5] * 5,
        invention_patent_apps=[0, 1, 0, 2, 0],
    )
    with_event = events(("a", 2020, "x"), ("q", 2022, "x"))
    without = events(("q", 2022, "x"))
    lab_with = make_labels(ent, with_event, "x")
    lab_without = make_labels(ent, without, "x")
    row_2020 = ent.index[ent["year"] == 2020][0]
    row_2019 = ent.index[ent["year"] == 2019][0]
    assert lab_with.frame.at[row_2020, "label"] == 0
    assert lab_without.frame.at[row_2020, "label"] == 0
    assert lab_with.frame.at[row_2019, "label"] == 1
    assert lab_without.frame.at[row_2019, "label"] == 0

    # features come from the enterprise row of year t only: the events table cannot reach them
    fw = small_framework()
    feats = features_from_indicators(ent, fw)
    pd.testing.assert_frame_equal(feats, features_from_indicators(ent.copy(), fw))
    check_no_leakage(feats.assign(year=ent["year"]))  # named and dated at t: accepted


def test_any_event_name_is_a_target():
    ev = events(("a", 2019, "specialised_sme_recognised"), ("a", 2020, "listed"))
    lab = make_labels(panel(["a"]), ev, "specialised_sme_recognised")
    assert lab.rule == target_rule("specialised_sme_recognised")
    assert lab.rule.populations == ()
    assert lab.last_year == 2020  # the events table (any event) was last observed in 2020
    assert labels_of(lab, "a") == [1, 0, NA, NA, NA]
    assert status_of(lab, "a") == ["labelled", "labelled", "censored", "censored", "censored"]


def test_frame_keeps_enterprise_index_and_order():
    ent = panel(["a", "b"]).sample(frac=1.0, random_state=3)
    ent.index = [f"r{i}" for i in range(len(ent))]
    lab = make_labels(ent, EV, "x")
    assert lab.frame.index.equals(ent.index)
    assert (lab.frame["enterprise_id"].to_numpy() == ent["enterprise_id"].to_numpy()).all()
    expected = {("a", 2019): 1, ("b", 2021): 1}
    for idx, row in lab.frame.iterrows():
        if row["status"] == "labelled":
            assert row["label"] == expected.get((row["enterprise_id"], row["year"]), 0), idx


def test_result_object():
    lab = make_labels(panel(["a", "b", "c"]), EV, "x")
    mask = lab.labelled_mask
    assert mask.dtype == bool and mask.sum() == 12
    assert lab.y.dtype == np.int8
    assert lab.y.index.equals(lab.frame.index[mask])
    assert lab.n_positive == 2 and lab.event_rate == pytest.approx(2 / 12)
    assert lab.to_frame() is lab.frame
    d = lab.to_dict()
    assert d["counts"] == {"labelled": 12, "censored": 3}
    assert d["n_positive"] == 2 and d["horizon"] == 1 and d["last_year"] == 2022


# --- the three named targets ----------------------------------------------------------------


def test_rule_table_is_explicit():
    assert set(TARGET_RULES) == {"hte_certified", "tech_sme_registered", "loan_default"}
    assert TARGET_RULES["hte_certified"].statuses == (
        "labelled",
        "censored",
        "excluded_already_certified",
    )
    assert TARGET_RULES["loan_default"].statuses == ("labelled", "censored", "excluded_no_loan")
    assert TARGET_RULES["tech_sme_registered"].populations == ()


def test_hte_certified_exclusions_by_flag_and_by_events():
    # a: certified 2019 (events) → excluded 2019, 2020, 2021 (valid 3 years); 2022 may renew.
    # b: hte_valid flag 1 in 2018 only → excluded 2018.
    # c: certified 2016, flag empty → excluded nowhere in 2019+ (2016+2 = 2018 → excluded 2018)
    # d: certified 2022 → label 1 in 2021, excluded 2022.
    ent = panel(
        ["a", "b", "c", "d"],
        hte_valid=[0, 0, 0, 0, 0, 1, 0, 0, 0, 0, None, 0, 0, 0, 0, 0, 0, 0, 0, 0],
    )
    ev = events(
        ("a", 2019, "hte_certified"),
        ("c", 2016, "hte_certified"),
        ("d", 2022, "hte_certified"),
        ("a", 2023, "hte_certified"),
    )
    lab = make_labels(ent, ev, "hte_certified")
    assert lab.last_year == 2023
    X = "excluded_already_certified"
    assert status_of(lab, "a") == ["labelled", X, X, X, "labelled"]
    assert labels_of(lab, "a") == [1, NA, NA, NA, 1]  # 2018: certified 2019; 2022: 2023
    assert status_of(lab, "b") == [X, "labelled", "labelled", "labelled", "labelled"]
    assert labels_of(lab, "b") == [NA, 0, 0, 0, 0]
    assert status_of(lab, "c") == [X, "labelled", "labelled", "labelled", "labelled"]
    assert labels_of(lab, "d") == [0, 0, 0, 1, NA]
    assert status_of(lab, "d")[4] == X
    assert lab.counts().to_dict() == {"labelled": 14, "censored": 0, X: 6}
    assert lab.notes == ()


def test_hte_certified_without_flag_column_uses_events_and_says_so():
    ev = events(("a", 2019, "hte_certified"))
    lab = make_labels(panel(["a"]), ev, "hte_certified")
    X = "excluded_already_certified"
    # last_year 2019: 2019-2021 are excluded (certified in t-2..t) before censoring applies;
    # 2022 holds no certificate any more and is censored
    assert status_of(lab, "a") == ["labelled", X, X, X, "censored"]
    assert labels_of(lab, "a") == [1, NA, NA, NA, NA]
    assert lab.notes == (
        "column hte_valid is not in the enterprise table; excluded_already_certified was "
        "decided from hte_certified events in t-2..t only",
    )


def test_exclusion_is_decided_before_censoring():
    ev = events(("a", 2022, "hte_certified"))
    lab = make_labels(panel(["a", "b"]), ev, "hte_certified")
    assert status_of(lab, "a")[4] == "excluded_already_certified"
    assert status_of(lab, "b")[4] == "censored"


def test_loan_default_population_is_the_loan_cohort_of_year_t():
    # a: loan 2019, default 2020 → 2019 labelled 1; other years excluded_no_loan.
    # b: loan 2019 and 2020, default 2020 → 2019: 1; 2020: default at t itself not counted → 0.
    # c: loan 2020, default 2022 → horizon 1: 0; horizon 2: 1.
    # d: loan 2022 → censored (2023 unobserved).
    ent = panel(["a", "b", "c", "d"])
    ev = events(
        ("a", 2019, "loan_granted"),
        ("a", 2020, "loan_default"),
        ("b", 2019, "loan_granted"),
        ("b", 2020, "loan_granted"),
        ("b", 2020, "loan_default"),
        ("c", 2020, "loan_granted"),
        ("c", 2022, "loan_default"),
        ("d", 2022, "loan_granted"),
    )
    N = "excluded_no_loan"
    lab = make_labels(ent, ev, "loan_default")
    assert status_of(lab, "a") == [N, "labelled", N, N, N]
    assert labels_of(lab, "a") == [NA, 1, NA, NA, NA]
    assert labels_of(lab, "b") == [NA, 1, 0, NA, NA]
    assert labels_of(lab, "c") == [NA, NA, 0, NA, NA]
    assert status_of(lab, "d") == [N, N, N, N, "censored"]
    assert lab.counts().to_dict() == {"labelled": 4, "censored": 1, N: 15}
    lab2 = make_labels(ent, ev, "loan_default", horizon=2)
    assert labels_of(lab2, "c") == [NA, NA, 1, NA, NA]
    assert labels_of(lab2, "b") == [NA, 1, 0, NA, NA]  # 2020 looks at 2021-2022: no default


def test_tech_sme_registered_keeps_firms_registered_at_t():
    ev = events(("a", 2019, "tech_sme_registered"), ("a", 2020, "tech_sme_registered"))
    lab = make_labels(
        panel(["a"], tech_sme_registered=[0, 1, 1, 0, 0]), ev, "tech_sme_registered", last_year=2022
    )
    assert labels_of(lab, "a") == [1, 1, 0, 0, NA]
    assert lab.counts().to_dict() == {"labelled": 4, "censored": 1}


def test_custom_rule_is_applied():
    rule = TargetRule("ignored", (Population("listed", (-1, 0), False, "excluded_listed"),), "d")
    ev = events(("a", 2019, "listed"), ("a", 2022, "x"))
    lab = make_labels(panel(["a"]), ev, "x", rule=rule)
    assert status_of(lab, "a") == [
        "labelled",
        "excluded_listed",
        "excluded_listed",
        "labelled",
        "censored",
    ]
    assert labels_of(lab, "a") == [0, NA, NA, 1, NA]
    assert lab.rule.target == "x"


def test_population_refuses_future_window():
    with pytest.raises(ValueError, match="lo <= hi <= 0"):
        Population("loan_granted", (0, 1), True, "excluded_no_loan")


# --- validation -----------------------------------------------------------------------------


def test_events_missing_columns_listed_together():
    bad = pd.DataFrame({"enterprise_id": ["a"], "yr": [2020]})
    with pytest.raises(DataContractError) as err:
        make_labels(panel(["a"]), bad, "x", events_source="events.csv")
    assert str(err.value) == (
        "events.csv: 2 data problems\n"
        "  - events.csv, column year: missing; an events table needs enterprise_id, year, event\n"
        "  - events.csv, column event: missing; an events table needs enterprise_id, year, event"
    )


def test_events_bad_years_and_missing_values_with_rows():
    bad = events(("a", 2020, "x"), ("a", "2021Q1", "x"), (None, 2021.5, None), ("b", None, "x"))
    with pytest.raises(DataContractError) as err:
        validate_events(bad, source="events.csv")
    # rows as a spreadsheet shows them (the header is row 1), in row order
    assert [str(p) for p in err.value.problems] == [
        "events.csv, row 3, column year: year '2021Q1' is not a whole number; write the data "
        "year, e.g. 2023",
        "events.csv, row 4, column enterprise_id: enterprise_id is empty; every row needs an id",
        "events.csv, row 4, column year: year 2021.5 is not a whole number; write the data "
        "year, e.g. 2023",
        "events.csv, row 4, column event: event name is empty; name the event, e.g. hte_certified",
        "events.csv, row 5, column year: year is empty; every row needs its data year, e.g. 2023",
    ]


def test_events_years_as_text_are_accepted():
    ev = validate_events(events(("a", "2020", "x")))
    assert ev["year"].tolist() == [2020] and ev["year"].dtype == np.int64


def test_enterprise_table_problems():
    with pytest.raises(DataContractError, match="column year: required column is missing"):
        make_labels(pd.DataFrame({"enterprise_id": ["a"]}), EV, "x")
    dup = pd.DataFrame({"enterprise_id": ["a", "b", "a"], "year": [2020, 2020, 2020]})
    with pytest.raises(DataContractError) as err:
        make_labels(dup, EV, "x", source="firms.csv")
    assert [str(p) for p in err.value.problems] == [
        "firms.csv, row 1, column enterprise_id: enterprise 'a', year 2020 appears 2 times; "
        "keep one row per enterprise-year"
    ]


def test_unknown_target_is_refused_with_a_hint():
    with pytest.raises(DataContractError) as err:
        make_labels(panel(["a"]), events(("a", 2020, "hte_certified")), "hte_certifed")
    assert str(err.value.problems[0]) == (
        "<events>, column event: event 'hte_certifed' never occurs in the events table (did you "
        "mean 'hte_certified'?); events present: hte_certified. Check the spelling of the target"
    )


@pytest.mark.parametrize("h", [0, -1, 1.5, True])
def test_bad_horizon(h):
    with pytest.raises(ValueError, match="horizon must be a whole number of years >= 1"):
        make_labels(panel(["a"]), EV, "x", horizon=h)


def test_last_year_before_panel():
    with pytest.raises(ValueError, match="last_year 2010 is before the first enterprise year"):
        make_labels(panel(["a"]), EV, "x", last_year=2010)


# --- leakage guard --------------------------------------------------------------------------


def _features() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "year": [2020, 2021, 2022],
            "rd_expense": [1.0, 2.0, 3.0],
            "led_standard": [0, 1, 0],
            "leader_count": [1, 1, 1],
            "revenue_lag1": [5.0, 6.0, 7.0],
        }
    )


def test_clean_features_pass_and_are_returned():
    X = _features()
    assert LeakageGuard().check(X) is X
    check_no_leakage(X, feature_years={"revenue_lag1": -1, "rd_expense": 0})


@pytest.mark.parametrize(
    "name",
    [
        "revenue_lead1",
        "rd_lead",
        "revenue_next_year",
        "next_year_rd",
        "orders_future",
        "x_fwd_2",
        "REVENUE_LEAD2",
    ],
)
def test_future_names_are_refused(name):
    X = _features().assign(**{name: 1.0})
    with pytest.raises(LeakageError) as err:
        check_no_leakage(X)
    assert str(err.value) == (
        MSG_LEAK_HEAD.format(n=1)
        + "\n  - "
        + MSG_LEAK_NAME.format(col=name, pattern=FUTURE_NAME_TEXT)
    )


def test_declared_dates_and_all_problems_at_once():
    X = _features().assign(
        revenue_lead1=[1, 2, 3],
        orders=[1, 1, 1],
        patents=[3, 4, 5],
        patents_year=[2020, 2022, 2023],
        rd_next=[0, 0, 0],
    )
    guard = LeakageGuard({"orders": 1, "patents": "patents_year", "rd_next": 0})
    with pytest.raises(LeakageError) as err:
        guard.check(X)
    assert str(err.value).splitlines() == [
        MSG_LEAK_HEAD.format(n=3),
        "  - " + MSG_LEAK_NAME.format(col="revenue_lead1", pattern=FUTURE_NAME_TEXT),
        "  - " + MSG_LEAK_OFFSET.format(col="orders", offset=1),
        "  - column 'patents': dated by column 'patents_year' after the row's 'year' in 2 row(s) "
        "(first: index 1, year 2021, dated 2022); use only values dated at or before the row's "
        "year",
    ]  # rd_next is declared dated t, so its name is not held against it


def test_guard_argument_errors():
    X = _features()
    with pytest.raises(ValueError, match="which is not in the features"):
        LeakageGuard({"rd_expense": "rd_year"}).check(X)
    with pytest.raises(ValueError, match="needs the year column 'yr'"):
        LeakageGuard({"rd_expense": "year"}, year_col="yr").check(X)
    with pytest.raises(ValueError, match=r"feature_years\['rd_expense'\] must be an int offset"):
        LeakageGuard({"rd_expense": 0.5}).check(X)


# --- helpers --------------------------------------------------------------------------------


def small_framework():
    from calibrate.framework import Framework

    # shared with test_models.py: three core indicators, two stages
    return Framework.load(Path(__file__).parent / "frameworks" / "small_core.yaml")


# --- the synthetic sample panel, against an independent implementation ----------------------

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


def _by_merge(ent: pd.DataFrame, ev: pd.DataFrame, event: str, lo: int, hi: int) -> np.ndarray:
    """Per enterprise row: does `event` occur in year+lo .. year+hi? (plain pandas merges)"""
    keys = ent[["enterprise_id", "year"]].reset_index(drop=True).reset_index(names="row")
    hits = ev.loc[ev["event"] == event, ["enterprise_id", "year"]].drop_duplicates()
    found = np.zeros(len(ent), dtype=bool)
    for k in range(lo, hi + 1):
        shifted = hits.assign(year=hits["year"] - k)
        rows = keys.merge(shifted, on=["enterprise_id", "year"])["row"].to_numpy()
        found[rows] = True
    return found


@pytest.mark.skipif(not (SAMPLE / "events.csv").exists(), reason="synthetic sample not generated")
@pytest.mark.parametrize("horizon", [1, 2])
def test_sample_panel_matches_an_independent_implementation(horizon):
    ent = pd.read_csv(SAMPLE / "enterprises.csv", dtype={"enterprise_id": str})
    ev = pd.read_csv(SAMPLE / "events.csv", dtype={"enterprise_id": str})
    last = int(ev["year"].max())
    censored = (ent["year"] + horizon > last).to_numpy()
    for target in ("hte_certified", "tech_sme_registered", "loan_default"):
        lab = make_labels(ent, ev, target, horizon)
        f = lab.frame
        assert lab.counts().sum() == len(ent)
        if target == "hte_certified":
            excluded = (
                _by_merge(ent, ev, "hte_certified", -2, 0) | (ent["hte_valid"] == 1).to_numpy()
            )
        elif target == "loan_default":
            excluded = ~_by_merge(ent, ev, "loan_granted", 0, 0)
        else:
            excluded = np.zeros(len(ent), dtype=bool)
        expected_status = np.where(excluded, "excluded", np.where(censored, "censored", "labelled"))
        got = f["status"].astype(str).str.replace(r"^excluded_.*", "excluded", regex=True)
        assert (got.to_numpy() == expected_status).all(), target
        expected_label = _by_merge(ent, ev, target, 1, horizon)
        labelled = lab.labelled_mask
        assert (f["label"].to_numpy()[labelled] == expected_label[labelled]).all(), target
        assert f["label"].isna().to_numpy()[~labelled].all()


@pytest.mark.parametrize(
    "flag",
    [[True, False, None, False, False], ["true", "FALSE", None, "no", "0"], [1.0, 0, None, 0, 0]],
)
def test_flag_column_accepts_booleans_and_text(flag):
    ent = panel(["a"], hte_valid=pd.Series(flag, dtype=object if None in flag else None))
    lab = make_labels(ent, events(("q", 2022, "hte_certified")), "hte_certified")
    assert status_of(lab, "a")[:2] == ["excluded_already_certified", "labelled"]
