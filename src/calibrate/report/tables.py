"""The report's full tables as one ``.xlsx`` beside the HTML (and CSVs in UTF-8 with BOM).

The HTML shows the first rows of each list; a panel wants all of them, and per-firm points, in
Excel. :func:`write_tables` writes ``report.xlsx`` next to ``report.html``: one sheet per table,
headers frozen, sheet and column names in the report's language, names instead of codes
(stages, tiers, industries). Workbook bytes depend on the data only (fixed timestamps).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from calibrate.report.industries import industry_name

if TYPE_CHECKING:
    from calibrate.compare import Comparison
    from calibrate.report.context import ReportContext as _Builder

__all__ = ["SHEETS", "to_csv", "write_tables"]

#: Sheet names by table id (zh, en); Excel limits names to 31 characters.
SHEETS: dict[str, tuple[str, str]] = {
    "firms": ("企业分值", "Firm points"),
    "lists": ("榜单名单", "Lists"),
    "movers": ("进出榜企业", "Entrants and leavers"),
    "points": ("建议分值", "Suggested points"),
    "uncertain": ("榜单不确定企业", "Uncertain firms"),
}
#: Column headers (zh, en) of the columns the tables share.
COLUMNS: dict[str, tuple[str, str]] = {
    "enterprise_id": ("企业代码", "Enterprise id"),
    "year": ("年份", "Year"),
    "park": ("园区", "Park"),
    "industry": ("行业", "Industry"),
    "carrier": ("载体", "Carrier"),
    "stage": ("阶段", "Stage"),
    "stage_candidate": ("阶段（候选）", "Stage (candidate)"),
    "total_base": ("总分（基准）", "Total (base)"),
    "total_candidate": ("总分（候选）", "Total (candidate)"),
    "total_change": ("总分变化", "Total change"),
    "rank_base": ("名次（基准）", "Rank (base)"),
    "rank_candidate": ("名次（候选）", "Rank (candidate)"),
    "rank_change": ("名次变化", "Rank change"),
    "percentile_base": ("百分位（基准）", "Percentile (base)"),
    "percentile_candidate": ("百分位（候选）", "Percentile (candidate)"),
    "tier_base": ("榜单（基准）", "List (base)"),
    "tier_candidate": ("榜单（候选）", "List (candidate)"),
    "subsidy_base": ("补贴万元（基准）", "Subsidy 万元 (base)"),
    "subsidy_candidate": ("补贴万元（候选）", "Subsidy 万元 (candidate)"),
    "subsidy_change": ("补贴变化万元", "Subsidy change 万元"),
    "label": ("结果标签", "Outcome label"),
    "list": ("榜单", "List"),
    "change": ("变化", "Change"),
    "direction": ("方向", "Direction"),
    "margin_base": ("距线（基准）", "Margin (base)"),
    "margin_candidate": ("距线（候选）", "Margin (candidate)"),
    "drivers": ("主要原因", "Main reasons"),
    "indicator": ("指标", "Indicator"),
    "current": ("现行分值", "Official points"),
    "suggested": ("建议分值", "Suggested points"),
    "low": ("区间下限", "Interval low"),
    "high": ("区间上限", "Interval high"),
    "pinned": ("受约束", "Pinned"),
    "mark": ("判断", "Verdict"),
    "group": ("类别", "Group"),
    "rank": ("名次", "Rank"),
    "rank_low": ("名次下限", "Rank low"),
    "rank_high": ("名次上限", "Rank high"),
    "tier": ("榜单", "List"),
    "most_likely_tier": ("最可能榜单", "Most likely list"),
    "p_most_likely": ("其概率", "Its probability"),
}


def _header(col: str, lang: str) -> str:
    pair = COLUMNS.get(col)
    return col if pair is None else pair[0 if lang == "zh" else 1]


def _named(frame: pd.DataFrame, b: _Builder, fw_of: Callable[[str], Any]) -> pd.DataFrame:
    """Stage, tier and industry codes replaced by names (``C39 计算机…``), columns by headers."""
    out = frame.copy()
    for col in ("stage", "stage_candidate"):
        if col in out.columns:
            out[col] = [b.stage(str(v), short=True) for v in out[col]]
    for col in ("tier_base", "tier_candidate", "tier", "most_likely_tier"):
        if col in out.columns:
            out[col] = [b.state(str(v), fw_of(col)) for v in out[col]]
    if "industry" in out.columns:
        out["industry"] = [industry_name(str(v), b.lang) for v in out["industry"]]
    if "indicator" in out.columns:
        out["indicator"] = [b.ind(str(v)) for v in out["indicator"]]
    if "list" in out.columns:
        out["list"] = [b.list_label(str(v)) for v in out["list"]]
    if "change" in out.columns and out["change"].dtype != np.float64:
        out["change"] = [b.t(f"change_{v}") if b.t.has(f"change_{v}") else v for v in out["change"]]
    if "direction" in out.columns:
        out["direction"] = [b.t(f"dir_{v}") if b.t.has(f"dir_{v}") else v for v in out["direction"]]
    if "drivers" in out.columns:
        out["drivers"] = [b.reasons(v) for v in out["drivers"]]
    return out.rename(columns={c: _header(str(c), b.lang) for c in out.columns})


def _firm_points(c: Comparison, b: _Builder) -> pd.DataFrame:
    """One row per firm of the year under review: totals, ranks, lists and every indicator's points."""
    firms = c.firms.drop(columns=["label"], errors="ignore")
    parts = [firms]
    for which, scores in (("base", c.base_scores), ("candidate", c.candidate_scores)):
        word = b.t("fw_base") if which == "base" else b.t("fw_candidate")
        cols = [f"pts__{i}" for i in scores.framework.indicator_ids]
        pts = scores.frame[[col for col in cols if col in scores.frame.columns]]
        parts.append(pts.set_axis([f"{b.ind(col[5:])}（{word}）" for col in pts.columns], axis=1))
    return pd.concat([p.reset_index(drop=True) for p in parts], axis=1)


def _tables(b: _Builder) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    c = b.c
    fw_of: Callable[[str], Any] = lambda col: (  # noqa: E731
        c.base if c is not None and col.endswith("_base") else b.cand
    )
    if c is not None:
        firm_points = _firm_points(c, b)
        out["firms"] = _named(firm_points, b, fw_of)
        on_list = firm_points[
            (firm_points["tier_candidate"].astype(str) != "none")
            | (firm_points["tier_base"].astype(str) != "none")
        ]
        on_list = on_list.sort_values(["tier_candidate", "park", "stage", "rank_candidate"])
        keep = [col for col in c.firms.columns if col != "label"]
        out["lists"] = _named(on_list[keep], b, fw_of)
        out["movers"] = _named(c.movers, b, fw_of)
    pts = b.points_view()
    if pts is not None:
        cols = ["indicator", "stage", "group", "current", "suggested", "low", "high", "change"]
        view = pts[cols].assign(
            mark=[b.mark_text(m, p) for m, p in zip(pts["mark"], pts["pinned"], strict=True)]
        )
        out["points"] = _named(view, b, fw_of)
    if b.inp.sensitivity is not None:
        unc = b.uncertain_firms(b.inp.sensitivity)
        out["uncertain"] = _named(unc, b, lambda col: b.inp.sensitivity.framework)  # type: ignore[union-attr]
    return out


def write_tables(b: _Builder, html: Path) -> tuple[Path, ...]:
    """Write ``<html stem>.xlsx`` beside the report; return the files written (none if no table)."""
    from calibrate._io import write_workbook_to

    tables = _tables(b)
    if not tables:
        return ()
    path = html.with_suffix(".xlsx")
    lang = 0 if b.lang == "zh" else 1
    write_workbook_to({SHEETS[key][lang]: frame for key, frame in tables.items()}, path)
    return (path,)


def to_csv(frame: pd.DataFrame, path: str | Path) -> Path:
    """A table as CSV in UTF-8 with BOM, so Excel opens Chinese text without garbling."""
    out = Path(path)
    frame.to_csv(out, index=False, encoding="utf-8-sig")
    return out
