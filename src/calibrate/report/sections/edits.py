"""Section ``edits``: The ordered edit path of a suggestion and the cumulative gain per edit."""

from __future__ import annotations

from calibrate.report import plots, style
from calibrate.report.calibration import edit_metric
from calibrate.report.context import (
    ReportContext,
    Section,
    _note,
    _p,
    _table,
)


def build(ctx: ReportContext) -> Section:
    """The ordered edit path of a suggestion: each step, its evidence and the cumulative gain."""
    t, cal = ctx.t, ctx.cal
    if cal is None:
        return ctx.omit("edits", "why_no_calibration")
    if not cal.edits:
        return ctx.omit("edits", "why_no_edits")
    sec = ctx.section("edits")
    metric = edit_metric(cal.edits)
    sec.blocks.append(_p(t("edits_intro", metric=ctx.metric_name(metric))))
    if cal.held_out is not None:
        sec.blocks.append(_note(ctx.basis(cal.held_out.years, cal.train_years)))
    with style.context():
        fig = plots.plot_edit_path(cal.edits, metric, lang=ctx.lang)
    sec.blocks.append(ctx.figure(fig, t("plot_edits_title")))
    rows = [
        [
            str(e.step),
            t(f"move_{e.move}") if t.has(f"move_{e.move}") else e.move,
            e.text(ctx.lang)
            + ("" if (e.text_zh if ctx.lang == "zh" else e.text_en) else t("only_other_lang")),
            t.num(e.train.get(metric), 3),
            t.num(e.held_out.get(metric), 3),
            t.pct(e.chosen_share, 0),
            t.num(e.firms_changing_list),
        ]
        for e in cal.edits
    ]
    sec.blocks.append(
        _table(
            [
                t("col_step"),
                t("col_move"),
                t("col_edit"),
                t("col_train_metric", metric=ctx.metric_name(metric)),
                t("col_held_out_metric", metric=ctx.metric_name(metric)),
                t("col_chosen_share"),
                t("col_firms_changing"),
            ],
            rows,
            [True, False, False, True, True, True, True],
            wrap=(2,),
        )
    )
    return sec
