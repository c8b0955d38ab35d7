"""Section ``provenance``: Where each number comes from: reconstructed framework elements, sample sizes, notes."""

from __future__ import annotations

import math

from calibrate.framework import Framework
from calibrate.report.context import (
    _CJK,
    FEW_EVENTS,
    ReportContext,
    Section,
    _h,
    _note,
    _p,
    _table,
    _ul,
)


def build(ctx: ReportContext) -> Section:
    t, s = ctx.t, ctx.s
    sec = ctx.section("provenance")
    sec.blocks.append(_h(t("h_reconstructed")))
    sec.blocks.append(_p(t("lim_reconstructed")))
    seen: dict[str, Framework] = {}
    for fw in ctx.frameworks():
        seen.setdefault(ctx.fingerprint(fw), fw)
    shown: list[tuple[Framework, list[tuple[str, str]]]] = []
    for fw in seen.values():
        items = fw.reconstructed()
        if not items:
            sec.blocks.append(_p(t("lim_fw_none", name=ctx.fw_name(fw), id=fw.id)))
            continue
        sec.blocks.append(_h(t("lim_fw", name=ctx.fw_name(fw), id=fw.id, n=len(items)), 4))
        same_as = next((prev for prev, prev_items in shown if prev_items), None)
        rest = items
        if same_as is not None:
            earlier = set(same_as.reconstructed())
            rest = [it for it in items if it not in earlier]
            if len(rest) < len(items):
                sec.blocks.append(
                    _note(t("lim_shared", n=len(items) - len(rest), other=ctx.fw_name(same_as)))
                )
        sec.blocks.append(
            _table(
                [t("col_element"), t("col_reasoning")],
                [[element(ctx, what, fw), provenance_text(ctx, why)] for what, why in rest],
                wrap=(0, 1),
            )
        )
        shown.append((fw, items))
    if ctx.inp.synthetic:
        sec.blocks.append(_note(t("lim_synthetic")))
    sec.blocks.append(_h(t("h_samples")))
    sizes: list[str] = []
    frame = ctx.panel_frame()
    if frame is not None:
        sizes.append(t("lim_n_rows", n=t.num(len(frame))))
    few = False
    if s is not None:
        m = s.metrics["current"]
        sizes.append(
            t(
                "lim_held_out",
                years=t.years(s.test_years),
                n=t.num(m.get("n")),
                events=t.num(m.get("events")),
            )
        )
        sizes.append(t("lim_boot", n=s.n_bootstrap))
        few = float(m.get("events", math.nan)) < FEW_EVENTS
    if ctx.c is not None:
        sizes.append(t("lim_compared", n=t.num(ctx.c.n_firms)))
    if ctx.inp.shap is not None:
        sizes.append(
            t(
                "lim_shap",
                used=t.num(ctx.inp.shap.n_rows_used),
                total=t.num(ctx.inp.shap.n_rows_total),
            )
        )
    if ctx.inp.sensitivity is not None:
        sizes.append(t("lim_draws", n=t.num(ctx.inp.sensitivity.n_draws)))
    sec.blocks.append(_ul(sizes))
    if few:
        sec.blocks.append(_note(t("lim_few_events")))
    sec.blocks.append(_p(t("lim_general")))
    if ctx.inp.notes:
        sec.blocks.append(_h(t("h_notes")))
        sec.blocks.append(_ul([provenance_text(ctx, str(n)) for n in ctx.inp.notes]))
    return sec


def provenance_text(ctx: ReportContext, why: str | None) -> str:
    """Reasoning as written; in a zh report, English-only text says that only English exists."""
    if not why:
        return "–"
    if ctx.lang == "zh" and not _CJK.search(why):
        return f"{why}{ctx.t('only_english')}"
    return why


def element(ctx: ReportContext, what: str, fw: Framework) -> str:
    kind, _, ident = what.partition(" ")
    key = f"kind_{kind}"
    label = f"{ctx.t(key)} {ident}" if ctx.t.has(key) else what
    name = None
    if kind == "indicator" and ident in fw.indicator_ids:
        name = fw.indicator(ident).name
    elif kind == "stage" and ident in fw.stage_ids:
        name = fw.stage(ident).name
    elif kind == "group" and ident in {g.id for g in fw.groups}:
        name = fw.group(ident).name
    elif kind == "penalty" and ident in fw.penalty_ids:
        name = fw.penalty(ident).name
    elif kind == "tier":
        name = next((tr.name for tr in fw.tiers if tr.id == ident), None)
    elif kind == "subsidy" and ident in fw.stage_ids:
        name = fw.stage(ident).name
    elif kind == "framework":
        name = fw.name
    return f"{label} · {ctx.t.both(name)}" if name is not None else label
