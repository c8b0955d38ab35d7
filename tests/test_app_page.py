"""The workbench page's handlers without a browser: what each user action puts on the page.

The page's widgets are plain Panel objects, so a handler can be called with the event a browser
would send and the panes read back. The browser itself is tested in ``test_app_browser.py``.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from calibrate.app import Baseline, Workbench
from calibrate.app._page import Page
from calibrate.app._session import MAX_MOVERS
from calibrate.framework import Framework, load_framework
from calibrate.synth import SynthConfig, generate

pytest.importorskip("panel")  # the page builds Panel widgets


@pytest.fixture(scope="module")
def baseline() -> Baseline:
    panel = generate(
        SynthConfig(enterprises=200, parks=2, years=(2022, 2024), seed=4), progress=False
    )
    return Baseline.from_events(
        load_framework("longwan-2022"), panel.enterprises, panel.events, "hte_certified"
    )


@pytest.fixture()
def saved() -> list[tuple[str, list[Path]]]:
    return []


@pytest.fixture()
def page(baseline: Baseline, tmp_path: Path, saved: list) -> Page:  # type: ignore[type-arg]
    def on_save(framework: Framework, files: list[Path]) -> str:
        saved.append((framework.fingerprint, files))
        return "run-123"

    return Page(Workbench(baseline), lang="zh", out_dir=tmp_path, on_save=on_save)


def edit(table, row: int, column: str, value: object) -> SimpleNamespace:  # type: ignore[no-untyped-def]
    return SimpleNamespace(row=row, column=column, value=value, old=table.value.iloc[row][column])


def test_a_refused_points_edit_puts_the_message_on_the_page_and_restores_the_cell(
    page: Page,
) -> None:
    table = page.points
    row = list(table.value["indicator"]).index("graduates_hired")
    before = table.value.iloc[row]["seed"]
    page._on_points(edit(table, row, "seed", -1))
    assert page.message.visible and page.message.alert_type == "danger"
    assert page.message.object.startswith("修改被拒绝，未作任何改变：")
    assert "must be >= 0, found -1" in page.message.object
    assert page.points.value.iloc[row]["seed"] == before


def test_a_draft_then_a_balancing_edit(page: Page) -> None:
    table = page.points
    ids = list(table.value["indicator"])
    page._on_points(edit(table, ids.index("rd_expense"), "growth", 9))
    assert page.message.alert_type == "warning" and "草稿未计分" in page.message.object
    assert page.points.value.iloc[ids.index("rd_expense")]["growth"] == 9  # the draft stays
    state = page.budget.value.set_index("stage")
    assert state.loc["成长期", "gap"] == pytest.approx(2.0)
    assert state.loc["成长期", "balanced"] == "否" and state.loc["种子期", "balanced"] == "是"
    assert page.budget.titles["gap"] == "差额"
    page._on_points(edit(page.points, ids.index("rd_intensity"), "growth", 7))
    assert not page.message.visible
    assert page.status.object.startswith("已重新计分并对比")
    assert "没有变化" not in page.summary.object
    assert len(page.movers.value) == min(page.wb.view(outcomes=False).n_movers, MAX_MOVERS)
    assert set(page.movers.value["change"]) <= {"进入", "离开"}
    assert list(page.lists.value["list"]) == ["创新领跑榜", "创新竞跑榜", "创新进取榜"]


def test_language_switch_redraws_in_english(page: Page) -> None:
    page._on_lang(SimpleNamespace(new="English"))
    assert page.lang == "en"
    assert "Rank churn" in page.summary.object
    assert page.points.titles["growth"] == "Growth"
    assert "all years, not split into training and test" in page.years.object
    page._on_lang(SimpleNamespace(new="中文"))
    assert "排名变动" in page.summary.object and page.points.titles["growth"] == "成长期"


def test_firm_search_shows_old_and_new_points_and_a_nearest_path(page: Page) -> None:
    eid = str(page.wb.baseline.data["enterprise_id"].iloc[0])
    page.firm_input.value = eid
    page._on_firm(None)
    assert eid in page.firm_head.object
    assert list(page.firm_points.value.columns) == ["indicator", "name", "old", "new", "change"]
    assert "reachable" in page.firm_path.value.columns
    page.firm_input.value = "nobody"
    page._on_firm(None)
    assert page.message.visible and "no firm 'nobody'" in page.message.object


def test_loading_a_missing_suggestion_file_is_a_message(page: Page, tmp_path: Path) -> None:
    page.path_input.value = str(tmp_path / "missing.yaml")
    page._on_load(None)
    assert page.message.visible and "missing.yaml" in page.message.object
    assert page.wb.suggestion is None


def test_loading_a_suggestion_and_stepping(page: Page, tmp_path: Path) -> None:
    base = page.wb.baseline.framework
    edits = [
        {"step": 0, "move": "start", "text_zh": "起点", "text_en": "start"},
        {
            "step": 1,
            "move": "points",
            "indicator": "rd_expense",
            "text_zh": "研发费用 +2",
            "text_en": "R&D +2",
            "train": {"auc_within_group": 0.81},
            "held_out": {"auc_within_group": 0.8},
            "points": {"rd_expense": {"growth": 9}, "rd_intensity": {"growth": 7}},
        },
    ]
    sug = base.with_points(
        {"rd_expense": {"growth": 9}, "rd_intensity": {"growth": 7}},
        id="longwan-2022+hte",
        calibration={"train_years": [2022], "edits": edits},
    )
    path = sug.save(tmp_path / "suggested.yaml")
    page.path_input.value = str(path)
    page._on_load(None)
    assert not page.message.visible
    assert page.wb.candidate == sug
    assert page.step.end == 1 and page.step.value == 1
    assert list(page.path_table.value["step"]) == [0, 1]
    assert page.path_table.value.iloc[1]["train"] == "auc_within_group 0.81"
    assert "留出年份 2023" in page.years.object
    page._on_step(SimpleNamespace(new=0))
    assert page.wb.comparison.unchanged
    assert page.path_note.object.endswith("：起点")
    page._on_step(SimpleNamespace(new=1))
    assert page.wb.candidate.points()["rd_expense"]["growth"] == 9
    assert page.path_note.object.endswith("：研发费用 +2")


def test_save_writes_both_files_and_reports_the_run(
    page: Page, tmp_path: Path, saved: list
) -> None:  # type: ignore[type-arg]
    page._on_tier(edit(page.tiers, 2, "top_fraction", 0.3))
    page._on_save(None)
    assert len(saved) == 1
    fingerprint, files = saved[0]
    assert fingerprint == page.wb.candidate.fingerprint
    assert all(f.exists() and f.parent == tmp_path for f in files)
    assert "MLflow 运行 run-123" in page.save_note.object


def test_save_waits_for_a_balanced_draft(page: Page, saved: list) -> None:  # type: ignore[type-arg]
    ids = list(page.points.value["indicator"])
    page._on_points(edit(page.points, ids.index("rd_expense"), "growth", 9))
    page._on_save(None)
    assert saved == []
    assert "草稿未平衡" in page.save_note.object
