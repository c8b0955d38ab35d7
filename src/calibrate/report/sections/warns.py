"""Section ``warnings``: Why parts of the suggestion should not be trusted, in the report's language."""

from __future__ import annotations

import math

from calibrate.report.calibration import translate_warning
from calibrate.report.context import (
    FEW_BOOTSTRAP,
    FEW_EVENTS,
    ReportContext,
    Section,
    _ul,
)


def build(ctx: ReportContext) -> Section:
    """Why parts of the suggestion should not be trusted, in the report's language."""
    t, cal, s = ctx.t, ctx.cal, ctx.s
    items: list[str] = []
    if cal is not None:
        items += [translate_warning(w, ctx.lang, ctx.stage_short) for w in cal.warnings]
        reversed_ = [d.indicator for d in cal.directions if d.verdict == "reversed"]
        if reversed_:
            items.append(t("warn_reversed", items=t.join([ctx.ind(i) for i in reversed_])))
        if cal.held_out is not None:
            n_events = cal.held_out.values.get("events", (math.nan,))[0]
            if float(n_events) < FEW_EVENTS:
                items.append(t("lim_few_events"))
        if 0 < cal.n_bootstrap < FEW_BOOTSTRAP:
            items.append(t("sum_few_boot", n_boot=cal.n_bootstrap))
    elif s is not None and s.warnings:
        items += [translate_warning(w, ctx.lang, ctx.stage_short) for w in s.warnings]
    if ctx.inp.synthetic:
        items.append(t("lim_synthetic"))
    if not items:
        return ctx.omit("warnings", "why_no_warnings")
    sec = ctx.section("warnings")
    sec.blocks.append(_ul(items))
    return sec
