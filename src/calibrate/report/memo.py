"""A one-page decision memo: N proposed frameworks side by side for one year.

For a policy meeting: the official framework first, then the proposals (a suggested framework, a
baseline, a hand edit …). Per framework: the held-out metrics (honestly labelled: the years, and
whether they were fitted on), firms entering and leaving each list compared with the first, the
subsidy moved, the three largest point changes and the warnings. Chinese or English; HTML that
prints on one A4 page, optionally the PDF (headless Chromium).

>>> memo = build_memo([official, suggested], data, events=events, target="hte_certified")  # doctest: +SKIP
>>> write_memo(memo, "memo.html", lang="zh", pdf=True)  # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

from calibrate.framework import Framework
from calibrate.report._data import ALIASES, latest_year, outcome_values, year_comparison
from calibrate.report.calibration import (
    CalibrationBlock,
    noise_stages,
    read_calibration,
    translate_warning,
)
from calibrate.report.i18n import Translator

if TYPE_CHECKING:
    from calibrate.compare import Comparison

__all__ = ["Memo", "MemoColumn", "build_memo", "render_memo", "write_memo"]

MSG_FEW = "a memo compares at least two frameworks; got {n}"
#: Metrics shown in the memo (names of :mod:`calibrate.metrics`; one spelling each).
MEMO_METRICS = (("auc_within_group",), ("prec_top10",))
#: Largest point changes shown per framework.
TOP_CHANGES = 3


@dataclass(frozen=True)
class MemoColumn:
    """One framework of the memo, compared with the first."""

    framework: Framework
    calibration: CalibrationBlock | None
    comparison: Comparison | None  # vs the first framework, year under review (None: the first)
    all_years: Comparison | None  # vs the first, all years (for outcome metrics)
    point_changes: pd.DataFrame  # indicator, stage, old, new, change (largest |change| first)


@dataclass(frozen=True)
class Memo:
    """Everything the memo shows; the first column is the reference."""

    columns: tuple[MemoColumn, ...]
    year: int | None
    target: str | None
    notes: tuple[str, ...] = field(default_factory=tuple)


def _points(fw: Framework) -> dict[tuple[str, str], float]:
    return {
        (ind.id, stage): float(value)
        for ind in fw.indicators
        for stage, value in ind.points.items()
    }


def point_changes(old: Framework, new: Framework) -> pd.DataFrame:
    """Every indicator × stage whose points differ, largest change first (missing = 0 points)."""
    a, b = _points(old), _points(new)
    keys = list(dict.fromkeys([*a, *b]))
    rows = [
        (ind, stage, a.get((ind, stage), 0.0), b.get((ind, stage), 0.0))
        for ind, stage in keys
        if a.get((ind, stage), 0.0) != b.get((ind, stage), 0.0)
    ]
    frame = pd.DataFrame(rows, columns=["indicator", "stage", "old", "new"])
    frame["change"] = frame["new"] - frame["old"]
    order = frame["change"].abs().sort_values(ascending=False, kind="stable").index
    return frame.loc[order].reset_index(drop=True)


def build_memo(
    frameworks: list[Framework],
    data: pd.DataFrame,
    *,
    sources: list[Path | None] | None = None,
    events: pd.DataFrame | None = None,
    target: str | None = None,
    horizon: int = 1,
    year: int | None = None,
) -> Memo:
    """Score every framework on ``data`` and compare each with the first.

    Parameters
    ----------
    frameworks : list of Framework
        The reference (official) framework first, then the proposals.
    data : DataFrame
        The validated enterprise-year table.
    sources : list of path or None, optional
        The YAML file of each framework (for the calibration block's draws file).
    events, target, horizon
        Outcome metrics on all labelled years, when no calibration block gives held-out ones.
    year : int, optional
        The year under review (default: the latest).
    """
    from calibrate.compare import compare
    from calibrate.scoring import score

    if len(frameworks) < 2:
        raise ValueError(MSG_FEW.format(n=len(frameworks)))
    sources = sources or [None] * len(frameworks)
    first = frameworks[0]
    first_scores = score(first, data)
    year = year if year is not None else latest_year(first_scores)
    columns = [
        MemoColumn(
            first, read_calibration(first, sources[0]), None, None, point_changes(first, first)
        )
    ]
    for fw, src in zip(frameworks[1:], sources[1:], strict=True):
        c_all = compare(
            first,
            fw,
            data,
            events=events if target is not None else None,
            target=target,
            horizon=horizon,
            base_scores=first_scores,
        )
        c_year = year_comparison(c_all, year) if year is not None else c_all
        columns.append(
            MemoColumn(fw, read_calibration(fw, src), c_year, c_all, point_changes(first, fw))
        )
    return Memo(tuple(columns), year, target)


# --- text ------------------------------------------------------------------------------------


def _metric(
    values: dict[str, tuple[float, float]], names: tuple[str, ...]
) -> tuple[str, tuple[float, float]] | None:
    for name in names:
        if name in values:
            return name, values[name]
    return None


def _metrics_cell(col: MemoColumn, t: Translator) -> list[str]:
    """Held-out metrics of a framework with their basis, or all-year metrics labelled in-sample."""
    cal = col.calibration
    lines: list[str] = []
    if col.comparison is None:
        return [t("memo_reference")]
    if cal is not None and cal.held_out is not None:
        ms = cal.held_out
        basis = _basis(ms.years, cal.train_years, t)
        for names in MEMO_METRICS:
            hit = _metric(ms.values, names)
            if hit is not None:
                lines.append(f"{_metric_name(hit[0], t)} {t.num(hit[1][0])} → {t.num(hit[1][1])}")
        return [*lines, basis]
    if col.all_years is not None and col.all_years.outcome_metrics is not None:
        values = outcome_values(col.all_years.outcome_metrics)
        years = sorted({int(y) for y in col.all_years.base_scores.frame["year"]})
        for names in MEMO_METRICS:
            hit = _metric(values, names)
            if hit is not None:
                lines.append(f"{_metric_name(hit[0], t)} {t.num(hit[1][0])} → {t.num(hit[1][1])}")
        return [*lines, t("basis_unsplit", years=t.years(years))]
    return [t("memo_no_metrics")]


def _basis(years: tuple[int, ...], train: tuple[int, ...], t: Translator) -> str:
    overlap = [y for y in years if y in set(train)]
    if years and not overlap:
        return t("basis_held_out", years=t.years(years))
    return t("basis_in_sample", years=t.years(years), train=t.years(overlap))


def _metric_name(name: str, t: Translator) -> str:
    name = ALIASES.get(name, name)
    return t(f"m_{name}") if t.has(f"m_{name}") else name


def _lists_cell(col: MemoColumn, t: Translator) -> list[str]:
    c = col.comparison
    if c is None:
        return [t("memo_reference")]
    if not c.n_lists:
        return [t("fair_no_lists")]
    out = []
    for r in c.lists.itertuples():
        tier = next((x for x in c.candidate.tiers if x.id == str(r.tier_candidate)), None)
        name = t.pick(tier.name) if tier is not None else str(r.list)
        out.append(t("memo_list", list=name, entered=t.num(r.entered), left=t.num(r.left)))
    return out


def _subsidy_cell(col: MemoColumn, t: Translator) -> list[str]:
    c = col.comparison
    if c is None:
        return [t("memo_reference")]
    o = c.overall
    return [
        t(
            "memo_subsidy",
            gained=t.num(o["subsidy_gained"]),
            lost=t.num(o["subsidy_lost"]),
            net=t.signed(o["subsidy_net_wan"]),
        )
    ]


def _changes_cell(col: MemoColumn, t: Translator) -> list[str]:
    if col.comparison is None:
        return [t("memo_reference")]
    if not len(col.point_changes):
        return [t("sum_no_change")]
    fw = col.framework
    out = []
    top = col.point_changes.head(TOP_CHANGES)
    for ident, sid, old, new in zip(
        top["indicator"].astype(str), top["stage"].astype(str), top["old"], top["new"], strict=True
    ):
        ind = t.pick(fw.indicator(ident).name) if ident in fw.indicator_ids else ident
        stage = t.pick(fw.stage(sid).name) if sid in fw.stage_ids else sid
        out.append(f"{ind}{t('paren', x=stage)} {t.num(old, 2)} → {t.num(new, 2)}")
    return out


def _warnings_cell(col: MemoColumn, t: Translator) -> list[str]:
    cal = col.calibration
    if cal is None or not cal.warnings:
        return [t("none_word")]
    fw = col.framework

    def stage(sid: str) -> str:
        return t.pick(fw.stage(sid).name) if sid in fw.stage_ids else sid

    noisy = noise_stages(cal.warnings, fw.stage_ids)
    if noisy and len(cal.warnings) > 2:
        names = [stage(s) for s in fw.stage_ids if s in noisy]
        return [t("memo_noise", stages=t.join(names)), t("memo_more_warnings", n=len(cal.warnings))]
    return [translate_warning(w, t.lang, stage) for w in cal.warnings]


ROWS = (
    ("memo_row_metrics", _metrics_cell),
    ("memo_row_lists", _lists_cell),
    ("memo_row_subsidy", _subsidy_cell),
    ("memo_row_changes", _changes_cell),
    ("memo_row_warnings", _warnings_cell),
)


def render_memo(memo: Memo, *, lang: str = "zh") -> str:
    """The memo as one self-contained HTML page (embedded font subset, A4 print CSS)."""
    import html as html_module
    import re

    from calibrate import __version__
    from calibrate.report import style
    from calibrate.report.html import _environment

    t = Translator(lang)
    heads = [
        f"{t.pick(col.framework.name)}（{col.framework.id}）"
        if lang == "zh"
        else f"{t.pick(col.framework.name)} ({col.framework.id})"
        for col in memo.columns
    ]
    rows = [(t(key), [cell(col, t) for col in memo.columns]) for key, cell in ROWS]
    slot = "/* calibrate: embedded font */"
    page = (
        _environment()
        .get_template("memo.html.j2")
        .render(
            lang=t("html_lang"),
            title=t("memo_title"),
            intro=t(
                "memo_intro", year=memo.year if memo.year is not None else "–", n=len(memo.columns)
            ),
            heads=heads,
            rows=rows,
            footer=t("subtitle", version=__version__),
            font_face=slot,
        )
    )
    text = html_module.unescape(re.sub(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+", "", page))
    return str(page).replace(slot, style.font_face_css(text), 1)


def write_memo(
    memo: Memo, out: str | Path, *, lang: str = "zh", pdf: bool = False
) -> tuple[Path, Path | None]:
    """Write the memo HTML (and its PDF beside it); return both paths (PDF None when not made)."""
    from calibrate.report.pdf import html_to_pdf

    path = Path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(render_memo(memo, lang=lang).encode("utf-8"))
    return path, (html_to_pdf(path) if pdf else None)
