"""The workbench's state without a browser: edits, refusals, drafts, the edit path, a firm, saving.

Also the contract the workbench's speed rests on: :func:`calibrate.scoring.rescore` gives exactly
what :func:`calibrate.scoring.score` gives.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from calibrate.app import Baseline, Workbench
from calibrate.framework import Framework, load_framework
from calibrate.scoring import rescore, score
from calibrate.synth import SynthConfig, generate

TARGET = "hte_certified"


@pytest.fixture(scope="module")
def panel():  # type: ignore[no-untyped-def]
    return generate(
        SynthConfig(enterprises=250, parks=2, years=(2022, 2024), seed=11), progress=False
    )


@pytest.fixture(scope="module")
def longwan() -> Framework:
    return load_framework("longwan-2022")


@pytest.fixture(scope="module")
def baseline(panel, longwan: Framework) -> Baseline:  # type: ignore[no-untyped-def]
    return Baseline.from_events(longwan, panel.enterprises, panel.events, TARGET)


@pytest.fixture()
def wb(baseline: Baseline) -> Workbench:
    return Workbench(baseline)


def suggested(base: Framework) -> Framework:
    """A suggested framework as ``calibrate suggest`` writes it, with a three-step edit path.

    Steps 1 and 2 carry the points they change; step 3 does not (the whole suggestion).
    """
    step1 = {"rd_expense": {"growth": 9.0}, "rd_intensity": {"growth": 7.0}}
    step2 = {"roe": {"growth": 6.0}, "tax_paid": {"growth": 3.0}}
    final = {**step1, **step2, "employees": {"seed": 5.0}, "net_profit": {"seed": 2.0}}
    edits = [
        {"step": 0, "move": "start", "indicator": None, "text_zh": "起点", "text_en": "start"},
        {"step": 1, "move": "points", "indicator": "rd_expense", "points": step1},
        {"step": 2, "move": "points", "indicator": "roe", "points": step2},
        {"step": 3, "move": "points", "indicator": "employees"},
    ]
    for e in edits[1:]:
        e.update(
            text_zh=f"第 {e['step']} 步",
            text_en=f"step {e['step']}",
            train={"auc_within_group": 0.8},
            held_out={"auc_within_group": 0.79},
            chosen_share=0.6,
            firms_changing_list=12,
        )
    calibration = {"target": TARGET, "train_years": [2022], "test_years": [2023], "edits": edits}
    return base.with_points(final, id="longwan-2022+hte", calibration=calibration)


# --- rescore ---------------------------------------------------------------------------------


def _same(a, b) -> None:  # type: ignore[no-untyped-def]
    pd.testing.assert_frame_equal(a.frame, b.frame)
    assert np.array_equal(a.fractions, b.fractions)
    assert a.missing.equals(b.missing)


def test_rescore_equals_score_after_points_goalpost_and_list_edits(panel, longwan) -> None:  # type: ignore[no-untyped-def]
    data = panel.enterprises
    before = score(longwan, data)
    points = longwan.with_points(
        {
            "rd_expense": {"growth": 9.0},
            "rd_intensity": {"growth": 7.0},
            "invention_patent_apps": {"seed": 6.0, "startup": 11.0},  # a count rule
            "employees": {"seed": 7.0, "startup": 1.0},
            "st_staff_share": {"mature": 3.0, "expansion": 7.0},  # points-valued bands
            "roe": {"mature": 7.0, "expansion": 2.0},
        }
    )
    _same(rescore(before, points, data), score(points, data))
    doc = points.to_dict()
    doc["indicators"][0]["rule"]["high"] = {
        "seed": 10,
        "startup": 80,
        "growth": 150,
        "expansion": 900,
        "mature": 2500,
    }
    doc["tiers"][1]["top_fraction"] = 0.15
    moved = Framework.from_document(doc)
    _same(rescore(before, moved, data), score(moved, data))


def test_rescore_of_another_stage_layout_scores_afresh(panel, longwan) -> None:  # type: ignore[no-untyped-def]
    data = panel.enterprises
    doc = longwan.to_dict()
    doc["stages"][1]["revenue_min"] = 150
    doc["stages"][0]["revenue_max"] = 150
    other = Framework.from_document(doc)
    _same(rescore(score(longwan, data), other, data), score(other, data))


# --- edits -----------------------------------------------------------------------------------


def test_a_balanced_points_edit_is_scored_and_compared(wb: Workbench) -> None:
    assert wb.comparison.unchanged
    first = wb.set_points("rd_expense", "growth", 9)
    assert first.status == "draft"
    assert "add up to 102" in first.problems[0]
    state = wb.budget_state()
    assert state.loc["growth", "gap"] == pytest.approx(2.0)
    assert not state.loc["growth", "balanced"] and state.loc["seed", "balanced"]
    assert wb.comparison.unchanged  # a draft is not scored
    second = wb.set_points("rd_intensity", "growth", 7)
    assert second.ok and wb.draft == {}
    assert wb.candidate.indicator("rd_expense").points["growth"] == 9
    assert not wb.comparison.unchanged
    changed = wb.changed_points()
    assert set(changed["indicator"]) == {"rd_expense", "rd_intensity"}
    view = wb.view()
    assert view.n_movers == int(view.overall["entered"] + view.overall["left"])
    assert view.budget["balanced"].all()


def test_bad_edits_are_refused_with_the_frameworks_message(wb: Workbench) -> None:
    before = wb.candidate
    neg = wb.set_points("graduates_hired", "seed", -1)  # a bonus indicator: no budget involved
    assert neg.status == "refused"
    assert neg.problems == (
        f"indicators[{before.indicator_ids.index('graduates_hired')}].points.seed: "
        "must be >= 0, found -1",
    )
    order = wb.set_list_fraction("racing", 0.01)
    assert order.status == "refused"
    assert order.problems[0].startswith("tiers[1].top_fraction: top_fraction 0.01 must be larger")
    sub = wb.set_subsidy(0, "top_fraction", 2)
    assert sub.status == "refused" and sub.problems[0].startswith("subsidies[0].top_fraction")
    rule = wb.set_goalpost("rd_growth", "seed", "low", 1)
    assert rule.status == "refused" and "bands rule" in rule.problems[0]
    assert wb.candidate is before and wb.comparison.unchanged


def test_goalposts_lists_and_subsidies_are_scored(wb: Workbench, baseline: Baseline) -> None:
    assert wb.set_goalpost("rd_expense", "growth", "high", 400).ok
    assert wb.candidate.indicator("rd_expense").rule.high["growth"] == 400  # type: ignore[union-attr,index]
    assert wb.candidate.indicator("rd_expense").rule.high["seed"] == 20  # type: ignore[union-attr,index]
    assert wb.set_list_fraction("striving", 0.3).ok
    assert wb.comparison.overall["listed_candidate"] > wb.comparison.overall["listed_base"]
    assert wb.candidate.subsidies[3].stage == "startup"
    assert wb.set_subsidy(3, "amount_wan", 8).ok  # 5 → 8 万元 for the same winners
    startup = wb.comparison.subsidies.loc["startup"]
    assert startup["firms_candidate"] > 0
    assert startup["net_wan"] == pytest.approx(3 * startup["firms_candidate"])
    assert wb.comparison.overall["subsidy_net_wan"] == pytest.approx(startup["net_wan"])
    assert wb.reset().ok and wb.comparison.unchanged
    assert wb.candidate is baseline.framework


def test_a_document_edit_waits_for_the_points_draft(wb: Workbench) -> None:
    assert wb.set_points("rd_expense", "growth", 9).status == "draft"
    outcome = wb.set_list_fraction("striving", 0.3)
    assert outcome.status == "refused"
    assert "add up to 102" in outcome.problems[0]


# --- outcome metrics: which years, held out or not ---------------------------------------------


def test_metrics_years_are_labelled_honestly(wb: Workbench, longwan: Framework) -> None:
    years = wb.evaluation_years
    assert years.years == (2022, 2023) and not years.held_out  # 2024 has no next year to label
    assert wb.full_comparison().outcome_metrics is not None
    assert wb.comparison.labels is None  # edits compare without labels; see outcome_metrics
    wb.load_suggestion(suggested(longwan))
    years = wb.evaluation_years
    assert years.years == (2023,) and years.excluded == (2022,) and years.held_out
    full = wb.full_comparison()
    lab = full.labels
    assert lab is not None
    in_train = wb.baseline.data["year"].to_numpy() == 2022
    assert lab[in_train].isna().all() and lab[~in_train].notna().any()
    metrics = full.outcome_metrics
    assert metrics is not None
    assert metrics.at["n", "base"] == int(lab.notna().sum()) - _vetoed_labelled(wb)


def _vetoed_labelled(wb: Workbench) -> int:
    lab = wb.labels()
    assert lab is not None
    vetoed = wb.baseline.scores.frame["vetoed"].to_numpy(dtype=bool)
    vetoed = vetoed | wb.candidate_scores.frame["vetoed"].to_numpy(dtype=bool)
    return int((lab.notna().to_numpy() & vetoed).sum())


# --- the edit path -----------------------------------------------------------------------------


def test_stepping_through_a_suggestions_edit_path(wb: Workbench, longwan: Framework) -> None:
    sug = suggested(longwan)
    assert wb.load_suggestion(sug).ok
    assert wb.candidate is sug
    path = wb.edit_path
    assert list(path["step"]) == [0, 1, 2, 3]
    assert path.loc[1, "text_zh"] == "第 1 步" and path.loc[3, "firms_changing_list"] == 12
    assert wb.step_to(0).ok and wb.comparison.unchanged
    assert wb.step_to(1).ok
    assert wb.candidate.points()["rd_expense"]["growth"] == 9
    assert wb.candidate.points()["roe"]["growth"] == longwan.points()["roe"]["growth"]
    assert wb.step_to(2).ok
    assert wb.candidate.points()["roe"]["growth"] == 6
    assert wb.step_to(3).ok and wb.candidate is sug
    out = wb.step_to(4)
    assert out.status == "refused" and out.problems == (
        "step 4 is not on the edit path; steps run from 0 to 3",
    )


def test_a_step_without_points_shows_the_whole_suggestion_and_says_so(
    wb: Workbench, longwan
) -> None:  # type: ignore[no-untyped-def]
    sug = suggested(longwan)
    cal = dict(sug.calibration or {})
    cal["edits"] = [dict(e) for e in cal["edits"]]
    del cal["edits"][1]["points"]
    sug = sug.with_points({}, calibration=cal)
    wb.load_suggestion(sug)
    out = wb.step_to(1)
    assert out.ok and wb.candidate is sug
    assert out.problems == (
        "step 1 of the edit path carries no points table; showing the whole suggestion",
    )


# --- a firm ------------------------------------------------------------------------------------


def test_a_firms_points_old_and_new_and_its_nearest_path(wb: Workbench) -> None:
    wb.set_points("rd_expense", "growth", 9)
    wb.set_points("rd_intensity", "growth", 7)
    frame = wb.candidate_scores.frame
    row = int(
        np.flatnonzero(
            (frame["stage"] == "growth").to_numpy() & (frame["pts__rd_expense"] > 0).to_numpy()
        )[0]
    )
    eid, year = str(frame["enterprise_id"].iloc[row]), frame["year"].iloc[row]
    assert year in set(wb.find_firm(eid))
    pts = wb.firm_points(eid, year)
    assert pts.index[0] == "rd_expense"
    assert pts.loc["rd_expense", "change"] > 0
    total_change = frame["total"].iloc[row] - wb.baseline.scores.frame["total"].iloc[row]
    assert math.isclose(pts["change"].sum(), total_change, abs_tol=1e-9)
    path = wb.firm_path(eid, year)
    assert path.enterprise_id == eid and path.framework is wb.candidate
    with pytest.raises(KeyError, match="no firm 'nobody'"):
        wb.find_firm("nobody")


# --- saving ------------------------------------------------------------------------------------


def test_saves_validated_yaml_and_an_xlsx_named_by_fingerprints(wb: Workbench, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from openpyxl import load_workbook

    wb.set_list_fraction("striving", 0.3)
    path = wb.save_framework(tmp_path)
    saved = Framework.load(path)
    assert saved.tiers == wb.candidate.tiers
    assert saved.version == f"{wb.candidate.version}+workbench"
    assert path.name == f"{saved.id}-workbench-{saved.fingerprint}.yaml"
    assert wb.save_framework(tmp_path).read_bytes() == path.read_bytes()
    book = wb.save_comparison(tmp_path)
    assert (
        book.name
        == f"comparison-{wb.comparison.fingerprints[0]}-{wb.comparison.fingerprints[1]}.xlsx"
    )
    sheets = load_workbook(book, read_only=True).sheetnames
    assert sheets[:3] == ["points_changed", "firms", "transitions"]
    assert "outcome_metrics" in sheets
    lists = pd.read_excel(book, sheet_name="lists")
    assert list(lists["entered"]) == list(wb.comparison.lists["entered"])
    outcomes = pd.read_excel(book, sheet_name="outcome_metrics").set_index("metric")
    assert outcomes.at["auc_within_group", "candidate"] == pytest.approx(
        wb.outcome_metrics().at["auc_within_group", "candidate"]
    )  # type: ignore[union-attr]


def test_a_save_is_an_mlflow_run(wb: Workbench, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from calibrate.tracking import Tracker

    wb.set_list_fraction("striving", 0.3)
    files = [wb.save_framework(tmp_path), wb.save_comparison(tmp_path)]
    run = Tracker(f"sqlite:///{tmp_path / 'mlflow.db'}").log_edit(
        wb.candidate, wb.baseline.framework, extra_artifacts=files
    )
    assert run is not None
    assert "framework.yaml" in run.artifacts and f"extra/{files[1].name}" in run.artifacts


# --- command line ------------------------------------------------------------------------------


def test_serve_refuses_events_without_target(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "calibrate.cli",
            "serve",
            "--framework",
            "longwan-2022",
            "--data",
            str(tmp_path / "x.csv"),
            "--events",
            "e.csv",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr == "error: give --events and --target together (or neither)\n"


def test_serve_with_an_unknown_framework_exits_2(tmp_path) -> None:  # type: ignore[no-untyped-def]
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "calibrate.cli",
            "serve",
            "--framework",
            "nowhere-2030",
            "--data",
            str(tmp_path / "x.csv"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "nowhere-2030" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_outcome_metrics_match_the_comparisons_and_are_reused_when_totals_stay(
    wb: Workbench,
) -> None:
    assert wb.set_points("rd_expense", "growth", 9).status == "draft"
    assert wb.set_points("rd_intensity", "growth", 7).ok
    mine = wb.outcome_metrics()
    theirs = wb.full_comparison().outcome_metrics
    assert mine is not None and theirs is not None
    for side in ("base", "candidate"):
        assert mine.at["auc_within_group", side] == theirs.at["auc_within_group", side]
        assert mine.at["prec_top10", side] == theirs.at["prec_top10", side]
        assert mine.at["n", side] == theirs.at["n", side]
    cached = dict(wb._metrics_cache)
    assert wb.set_subsidy(3, "amount_wan", 8).ok  # totals do not move
    again = wb.outcome_metrics()
    assert again is not None and again.equals(mine)
    assert wb._metrics_cache == cached  # nothing recomputed


def test_serve_on_a_taken_port_exits_2_with_the_fix(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import socket

    data = generate(
        SynthConfig(enterprises=30, parks=1, years=(2024, 2024), seed=1), progress=False
    )
    path = data.write(tmp_path, fmt="csv")["enterprises"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = subprocess.run(
            [sys.executable, "-m", "calibrate.cli", "serve", "--framework", "longwan-2022"]
            + ["--data", str(path), "--port", str(port), "--no-track"],
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"error: cannot listen on 127.0.0.1:{port} (")
    assert proc.stderr.endswith("pass --port with a free port, or --port 0 for any free port\n")
