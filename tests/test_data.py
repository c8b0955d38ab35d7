"""Data intake: encodings, units, ids, every problem reported with file/row/column, nothing lost."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate import data as data_mod
from calibrate.data import fingerprint, load_enterprises, load_events
from calibrate.exceptions import DataContractError
from calibrate.framework import Framework
from calibrate.ids import is_valid_uscc, make_uscc, uscc_check_char

MINI = """
schema: calibrate/framework@1
id: mini
version: "1"
name: {zh: 迷你, en: mini}
provenance: {status: reconstructed, reasoning: test}
core_budget: 100
stages:
  - {id: small, name: {zh: 小, en: small}, revenue_min: 0, revenue_max: 500, provenance: {status: official, source: doc}}
  - {id: big, name: {zh: 大, en: big}, revenue_min: 500, provenance: {status: official, source: doc}}
groups:
  - {id: tech, name: {zh: 技术, en: tech}, kind: core, provenance: {status: official, source: doc}}
indicators:
  - id: rd_expense
    name: {zh: 研发费用, en: R&D expense}
    unit: 万元
    group: tech
    rule: {kind: linear, low: 0, high: 100}
    points: {small: 100, big: 100}
    provenance: {status: reconstructed, reasoning: x}
penalties:
  - {id: env_violation, name: {zh: 环境违法, en: env}, action: veto, provenance: {status: reconstructed, reasoning: x}}
"""


@pytest.fixture
def fw() -> Framework:
    return Framework.from_yaml(MINI)


@pytest.fixture
def ids() -> list[str]:
    return make_uscc(np.random.default_rng(0), 6)


def _frame(ids: list[str], **overrides: list[object]) -> pd.DataFrame:
    base: dict[str, list[object]] = {
        "enterprise_id": ids[:3],
        "year": [2023, 2023, 2023],
        "park": ["p1", "p1", "p2"],
        "revenue": [100, 600, 20],
        "rd_expense": [10, 50, None],
        "env_violation": [0, 0, 1],
        "note": ["甲", "乙", "丙"],
    }
    base.update(overrides)
    return pd.DataFrame(base)


def test_uscc_checksum_on_published_codes() -> None:
    # Two codes printed on real business licences; the last character is the check character.
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert is_valid_uscc(
        ["91350100M000100Y43", "91110000600037341L", "91350100M000100Y44", "", None]
    ).tolist() == [
        True,
        True,
        False,
        False,
        False,
    ]
    generated = make_uscc(np.random.default_rng(1), 500)
    assert len(set(generated)) == 500 and is_valid_uscc(generated).all()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_encodings_are_detected(
    tmp_path: Path, fw: Framework, ids: list[str], encoding: str
) -> None:
    path = tmp_path / "firms.csv"
    _frame(ids).to_csv(path, index=False, encoding=encoding)
    table = load_enterprises(path, fw)
    assert table.frame["note"].tolist() == [
        "甲",
        "乙",
        "丙",
    ]  # extra column passes through untouched
    assert table.frame["rd_expense"].isna().tolist() == [False, False, True]
    assert table.frame["source_row"].tolist() == [2, 3, 4]


def test_excel_and_parquet(tmp_path: Path, fw: Framework, ids: list[str]) -> None:
    frame = _frame(ids)
    frame.to_excel(tmp_path / "firms.xlsx", index=False)
    frame.to_parquet(tmp_path / "firms.parquet", index=False)
    a = load_enterprises(tmp_path / "firms.xlsx", fw).frame
    b = load_enterprises(tmp_path / "firms.parquet", fw).frame
    assert a["revenue"].tolist() == b["revenue"].tolist() == [100.0, 600.0, 20.0]


def test_money_in_yuan_is_converted(fw: Framework, ids: list[str]) -> None:
    frame = _frame(
        ids, revenue=[1_000_000, 6_000_000, 200_000], rd_expense=[100_000, 500_000, None]
    )
    table = load_enterprises(frame, fw, money_unit="yuan")
    assert table.frame["revenue"].tolist() == [100.0, 600.0, 20.0]
    assert table.frame["rd_expense"].tolist()[:2] == [10.0, 50.0]
    assert table.notes == ("converted 2 money columns from 元 to 万元: revenue, rd_expense",)


def test_every_problem_is_listed_with_row_and_column(fw: Framework, ids: list[str]) -> None:
    frame = pd.DataFrame(
        {
            "enterprise_id": [ids[0], "NOT-A-CODE", ids[2], ids[2], ids[4]],
            "year": [2023, 2023, "20x3", 2023, 2023],
            "park": ["p"] * 5,
            "revenue": [-1, "12万", 10, 10, None],
            "rd_expense": [1, 2, 3, "n/a", 5],
            "env_violation": [0, 0, 0, 0, "yes"],
        }
    )
    with pytest.raises(DataContractError) as info:
        load_enterprises(frame, fw, source="firms.csv")
    got = [str(p) for p in info.value.problems]
    assert got == [
        "firms.csv, row 2, column revenue: " + data_mod.MSG_NEGATIVE_REVENUE.format(found=-1),
        "firms.csv, row 3, column revenue: " + data_mod.MSG_NOT_NUMERIC.format(found="12万"),
        "firms.csv, row 3, column enterprise_id: "
        + data_mod.MSG_BAD_USCC.format(found="NOT-A-CODE"),
        "firms.csv, row 4, column year: " + data_mod.MSG_BAD_YEAR.format(found="20x3"),
        "firms.csv, row 5, column rd_expense: " + data_mod.MSG_MISSING_SPELLED.format(found="n/a"),
        "firms.csv, row 6, column revenue: " + data_mod.MSG_MISSING_REVENUE,
    ]
    assert str(info.value).startswith(
        "firms.csv: 6 data problems\n  - firms.csv, row 2, column revenue"
    )


def test_duplicates_are_reported_on_every_occurrence(fw: Framework, ids: list[str]) -> None:
    frame = _frame([ids[0], ids[0], ids[1]])
    with pytest.raises(DataContractError) as info:
        load_enterprises(frame, fw, source="f.csv")
    assert [str(p) for p in info.value.problems] == [
        "f.csv, row 2, column enterprise_id: "
        + data_mod.MSG_DUPLICATE.format(eid=ids[0], year=2023, others="3"),
        "f.csv, row 3, column enterprise_id: "
        + data_mod.MSG_DUPLICATE.format(eid=ids[0], year=2023, others="2"),
    ]


def test_rejects_keep_every_row(fw: Framework, ids: list[str]) -> None:
    frame = _frame(ids, revenue=[100, -5, "abc"])
    table = load_enterprises(frame, fw, on_error="reject")
    assert len(table.frame) + len(table.rejects) == len(frame)
    assert table.rejects["source_row"].tolist() == [3, 4]
    assert table.rejects["reason"].tolist() == [
        "revenue: " + data_mod.MSG_NEGATIVE_REVENUE.format(found=-5),
        "revenue: " + data_mod.MSG_NOT_NUMERIC.format(found="abc"),
    ]
    assert table.rejects["revenue"].tolist() == [-5, "abc"]  # rejects keep the values as read


def test_missing_columns_always_raise(fw: Framework, ids: list[str]) -> None:
    frame = _frame(ids).drop(columns=["rd_expense", "env_violation"])
    with pytest.raises(DataContractError) as info:
        load_enterprises(frame, fw, on_error="reject", source="f.csv")
    assert [str(p) for p in info.value.problems] == [
        "f.csv, column rd_expense: "
        + data_mod.MSG_MISSING_COLUMN.format(
            why="indicator rd_expense (研发费用) of mini", col="rd_expense", hint=""
        ),
        "f.csv, column env_violation: "
        + data_mod.MSG_MISSING_COLUMN.format(
            why="penalty item env_violation of mini (a 0/1 flag, 0 where there is no record)",
            col="env_violation",
            hint="",
        ),
    ]


def test_id_check_can_be_turned_off(fw: Framework) -> None:
    frame = _frame(["A1", "A2", "A3"])
    with pytest.raises(DataContractError):
        load_enterprises(frame, fw)
    assert load_enterprises(frame, fw, id_check="none").frame["enterprise_id"].tolist() == [
        "A1",
        "A2",
        "A3",
    ]


def test_revenue_outside_every_stage(ids: list[str]) -> None:
    fw = Framework.from_yaml(
        MINI.replace("revenue_min: 0, revenue_max: 500", "revenue_min: 50, revenue_max: 500")
    )
    table = load_enterprises(_frame(ids), fw, on_error="reject")
    assert table.rejects["reason"].tolist() == [
        "revenue: " + data_mod.MSG_NO_STAGE.format(found=20, fw="mini", lo=50, hi="∞")
    ]


def test_events_table(tmp_path: Path, ids: list[str]) -> None:
    events = pd.DataFrame(
        {
            "enterprise_id": [ids[0], ids[1], ids[2]],
            "year": [2021, "x", 2022],
            "event": ["hte_certified", "loan_default", ""],
        }
    )
    with pytest.raises(DataContractError) as info:
        load_events(events, source="events.csv")
    assert [p.where for p in info.value.problems] == [
        "events.csv, row 3, column year",
        "events.csv, row 4, column event",
    ]
    table = load_events(events, on_error="reject")
    assert len(table.frame) == 1 and len(table.rejects) == 2


def test_fingerprint_depends_on_content_only(ids: list[str]) -> None:
    a = _frame(ids)
    b = _frame(ids).set_index(pd.Index([10, 11, 12]))
    assert fingerprint(a) == fingerprint(b)
    c = _frame(ids, revenue=[100, 600, 21])
    assert fingerprint(a) != fingerprint(c)


def test_revenue_is_needed_only_when_stages_are_cut_by_it() -> None:
    """A framework with one open stage scores a table with no revenue column (every firm is in
    that stage); one with several stages names the column and why it needs it."""
    from calibrate.framework import load_framework
    from calibrate.scoring import score

    one = Framework.from_yaml(
        """
schema: calibrate/framework@1
id: one
version: "1"
name: {zh: 一档, en: one stage}
provenance: {status: reconstructed, reasoning: test}
core_budget: 100
stages:
  - {id: all, name: {zh: 全部, en: all}, revenue_min: 0, provenance: {status: reconstructed, reasoning: x}}
groups:
  - {id: tech, name: {zh: 技术, en: tech}, kind: core, provenance: {status: reconstructed, reasoning: x}}
indicators:
  - {id: rd_intensity, name: {zh: 研发强度, en: R&D intensity}, unit: share, group: tech,
     rule: {kind: linear, low: 0, high: 0.1}, points: {all: 100}, provenance: {status: reconstructed, reasoning: x}}
"""
    )
    assert not one.needs_revenue and load_framework("longwan-2022").needs_revenue
    table = pd.DataFrame(
        {"enterprise_id": ["a", "b"], "year": 2024, "park": "p", "rd_intensity": [0.05, 0.2]}
    )
    loaded = load_enterprises(table, one, id_check="none").frame
    assert score(one, loaded).frame["total"].tolist() == [50.0, 100.0]
    with pytest.raises(DataContractError, match="revenue that decides the growth stage"):
        load_enterprises(table, load_framework("longwan-2022"), id_check="none")
