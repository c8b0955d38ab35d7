"""Section ``points``: Official and suggested points per stage, with intervals and the engine's marks."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from calibrate.report import plots, style
from calibrate.report._data import _num
from calibrate.report.context import (
    ReportContext,
    Section,
    _h,
    _note,
    _p,
    _PointsSource,
    _table,
)


def build(ctx: ReportContext) -> Section:
    t = ctx.t
    pts = ctx.points_view()
    if pts is None:
        return ctx.omit("points", "why_no_points")
    sec = ctx.section("points")
    sec.blocks.append(_p(t("points_intro")))
    marked = ctx.cal is not None and ctx.cal.has_marks
    sec.blocks.append(_note(t("points_marks_note" if marked else "points_no_marks_note")))
    if ctx.noise:
        order = [x for x in (ctx.cand or ctx.inp.base).stage_ids if x in ctx.noise]
        names = [ctx.stage(x, short=True) for x in order]
        sec.blocks.append(_note(t("points_noise_note", stages=t.join(names))))
    stages = list(dict.fromkeys(pts["stage"].astype(str)))
    view = _PointsSource(pts, ctx.cand or ctx.inp.base)
    with style.context():
        fig = plots.plot_points_grid(view, stages, lang=ctx.lang)
    sec.blocks.append(ctx.figure(fig, t("sec_points")))
    for stage in stages:
        sec.blocks.append(_h(t("points_stage", stage=ctx.stage(stage))))
        sec.blocks.append(points_table(ctx, pts[pts["stage"].astype(str) == stage]))
    return sec


def points_table(ctx: ReportContext, part: pd.DataFrame) -> dict[str, Any]:
    t = ctx.t
    fw = ctx.cand or ctx.inp.base
    groups = {g.id: g.name for g in fw.groups}
    rows = []
    for r in part.itertuples():
        low, high = _num(r.low), _num(r.high)
        group = groups.get(str(r.group))
        rows.append(
            [
                ctx.ind(str(r.indicator)),
                t.pick(group) if group is not None else str(r.group),
                t.num(r.current, 2),
                t.num(r.suggested, 2),
                f"[{t.num(low, 2)}, {t.num(high, 2)}]" if np.isfinite(low) else "–",
                t.signed(r.change),
                ctx.mark_text(str(r.mark), str(r.pinned)),
            ]
        )
    return _table(
        [
            t("col_indicator"),
            t("col_group"),
            t("col_current"),
            t("col_suggested"),
            t("col_interval"),
            t("col_change"),
            t("col_mark"),
        ],
        rows,
        [False, False, True, True, True, True, False],
    )
