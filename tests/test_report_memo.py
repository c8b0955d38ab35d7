"""The one-page decision memo: N frameworks side by side, honest labels, one A4 page."""

from __future__ import annotations

import html
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from calibrate.cli import main
from calibrate.report.memo import build_memo, point_changes, render_memo
from calibrate.report.pdf import find_chromium

sys.path.insert(0, str(Path(__file__).parent))
from test_report import report_objects


@pytest.fixture(scope="module")
def objs() -> SimpleNamespace:
    return report_objects()


def _visible(page: str) -> str:
    page = re.sub(r"<style>.*?</style>", " ", page, flags=re.S)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def test_point_changes_largest_first(objs: SimpleNamespace) -> None:
    s = objs.suggestion
    changes = point_changes(objs.fw, s.framework)
    diff = s.points[s.points["change"] != 0]
    assert len(changes) == len(diff)
    assert changes["change"].abs().iloc[0] == diff["change"].abs().max()
    assert changes["change"].abs().is_monotonic_decreasing
    assert len(point_changes(objs.fw, objs.fw)) == 0


def test_memo_labels_metrics_honestly_in_both_languages(objs: SimpleNamespace) -> None:
    hand = objs.fw.reweight({"rd_intensity": 1.5})
    memo = build_memo(
        [objs.fw, objs.inputs.candidate, hand],
        objs.data,
        events=objs.panel.events,
        target="hte_certified",
    )
    assert memo.year == int(objs.data["year"].max())
    zh = _visible(render_memo(memo, lang="zh"))
    en = _visible(render_memo(memo, lang="en"))
    # the suggested framework's metrics come from its block, on its held-out year
    assert "检验年份 2022 年（未用于求解分值，样本外）" in zh
    assert "held-out years 2022 (not used for fitting)" in en
    # the hand edit has no calibration: all years, labelled unsplit, never held-out
    assert "全部年份 2019–2023 年（未区分训练与检验）" in zh
    assert en.count("held-out years") == 1
    assert "precision_top10" not in zh and "前 10% 精确率" in zh
    c = memo.columns[1].comparison
    assert c is not None
    first = c.lists.iloc[0]
    assert f"进 {first['entered']}，出 {first['left']}" in zh
    assert "大多是噪声" in zh  # the suggestion's warnings, in Chinese


@pytest.mark.skipif(find_chromium() is None, reason="needs Debian chromium")
def test_cli_memo_fits_one_a4_page(objs: SimpleNamespace, tmp_path: Path) -> None:
    cand = tmp_path / "suggested.yaml"
    objs.inputs.candidate.save(cand)
    objs.suggestion.bootstrap_draws.to_csv(tmp_path / "suggested.draws.csv", index=False)
    objs.data.to_csv(tmp_path / "data.csv", index=False)
    objs.panel.events.to_csv(tmp_path / "events.csv", index=False)
    for lang in ("zh", "en"):
        out = tmp_path / f"memo.{lang}.html"
        code = main(
            [
                "memo",
                "--frameworks",
                "longwan-2022",
                str(cand),
                "--data",
                str(tmp_path / "data.csv"),
                "--events",
                str(tmp_path / "events.csv"),
                "--target",
                "hte_certified",
                "--year",
                "2023",
                "--lang",
                lang,
                "--pdf",
                "--out",
                str(out),
            ]
        )
        assert code == 0
        pdf = out.with_suffix(".pdf").read_bytes()
        assert len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf)) == 1
    assert main(["memo", "--frameworks", "longwan-2022", "--data", "x.csv", "--out", "m.html"]) == 2
