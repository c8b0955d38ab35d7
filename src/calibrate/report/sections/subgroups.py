"""Section ``subgroups``: Seats by park, industry and stage in the year under review, and the gaming check."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from calibrate.explain.points import compare_gaming
from calibrate.framework import Framework
from calibrate.report import plots, style
from calibrate.report.context import (
    FAIR_MIN_CHANGE,
    FAIR_TOP,
    MAX_GAMING,
    SEAT_DIMS,
    ReportContext,
    Section,
    _h,
    _note,
    _p,
    _ratio,
    _table,
    _ul,
)

if TYPE_CHECKING:
    from calibrate.compare import Comparison


def build(ctx: ReportContext) -> Section:
    """Seats by park, industry and stage in the year under review, and the gaming check."""
    t, c = ctx.t, ctx.c
    if c is None and ctx.cand is None:
        return ctx.omit("subgroups", "why_no_comparison")
    sec = ctx.section("subgroups")
    if c is None:
        sec.blocks.append(_note(t("omitted", why=t("why_no_comparison"))))
    elif not c.n_lists:
        sec.blocks.append(_p(t("fair_no_lists")))
    else:
        sec.blocks.append(_note(t("year_under_review", year=ctx.year)))
        sec.blocks.append(_p(t("fair_intro")))
        dims = [dim for dim in SEAT_DIMS if dim in c.firms.columns]
        sec.blocks.append(_ul([seat_note(ctx, c, dim) for dim in dims]))
        for dim in dims:
            sec.blocks += seat_blocks(ctx, c, dim)
    if ctx.cand is not None:
        sec.blocks += gaming(ctx, ctx.inp.base, ctx.cand)
    return sec


def seat_blocks(ctx: ReportContext, c: Comparison, dim: str) -> list[dict[str, Any]]:
    t = ctx.t
    dim_name = t(f"dim_{dim}")
    out = [_h(t("h_seats", dim=dim_name))]
    with style.context():
        fig = plots.plot_seat_shares(c, dim, lang=ctx.lang)
    out.append(ctx.figure(fig, t("plot_seats_title", dim=dim_name)))
    shares = c.seat_shares(dim)
    order = np.argsort(
        -(shares["seats_base"] + shares["seats_candidate"]).to_numpy(), kind="stable"
    )
    top = shares.iloc[order[:12]]
    rows = [
        [
            ctx.value_name(dim, v),
            t.num(r["seats_base"]),
            t.num(r["seats_candidate"]),
            t.pct(r["share_base"]),
            t.pct(r["share_candidate"]),
            t.pp(r["share_change"]),
        ]
        for v, r in top.iterrows()
    ]
    caption = (
        t("seats_top_note", n=len(top), dim=dim_name, total=len(shares))
        if len(shares) > len(top)
        else None
    )
    out.append(
        _table(
            [
                t("col_value"),
                t("col_seats_base"),
                t("col_seats_candidate"),
                t("col_share_base"),
                t("col_share_candidate"),
                t("col_share_change"),
            ],
            rows,
            [False] + [True] * 5,
            caption,
        )
    )
    return out


def seat_note(ctx: ReportContext, c: Comparison, dim: str) -> str:
    """Who gains or loses list seats along one dimension, in words."""
    t = ctx.t
    shares = c.seat_shares(dim)
    change = shares["share_change"].fillna(0.0).to_numpy()
    dim_name = t(f"dim_{dim}")
    gains = [i for i in np.argsort(-change, kind="stable") if change[i] >= FAIR_MIN_CHANGE][
        :FAIR_TOP
    ]
    losses = [i for i in np.argsort(change, kind="stable") if change[i] <= -FAIR_MIN_CHANGE][
        :FAIR_TOP
    ]
    if not gains and not losses:
        return t("fair_flat", dim=dim_name, pp=t.num(100 * FAIR_MIN_CHANGE, 1))
    words = []
    for i, key in [(i, "fair_gain") for i in gains] + [(i, "fair_loss") for i in losses]:
        v = shares.index[i]
        r = shares.iloc[i]
        words.append(
            t(
                key,
                who=ctx.value_name(dim, v),
                pp=t.num(abs(100 * r["share_change"]), 1),
                b=t.num(r["seats_base"]),
                c=t.num(r["seats_candidate"]),
            )
        )
    return t("fair_dim", dim=dim_name, items=t("fair_sep").join(words))


def gaming(ctx: ReportContext, base: Framework, candidate: Framework) -> list[dict[str, Any]]:
    """Which indicators the candidate makes cheaper to inflate (:func:`calibrate.explain.compare_gaming`)."""
    t = ctx.t
    g = compare_gaming(base, candidate, ctx.inp.data)
    out = [_h(t("h_gaming")), _p(t("gaming_intro"))]
    cheaper = g.cheaper()
    paper = g.cheaper(manipulable=True)
    if not len(cheaper):
        return [*out, _p(t("gaming_none"))]
    out.append(_p(t("gaming_count", n=len(cheaper), m=len(paper))))
    if not len(paper):
        return out
    reasons = g.base.frame.drop_duplicates("indicator").set_index("indicator")
    reason_col = "manipulable_reason_zh" if ctx.lang == "zh" else "manipulable_reason"
    rows = []
    top = paper.head(MAX_GAMING)
    for ident, stage, ratio in zip(
        top["indicator"].astype(str),
        top["stage"].astype(str),
        top["ratio"].to_numpy(dtype=np.float64),
        strict=True,
    ):
        why = reasons[reason_col].get(ident) if reason_col in reasons.columns else None
        rows.append(
            [
                ctx.ind(ident),
                ctx.stage(stage, short=True),
                _ratio(float(ratio)),
                str(why) if isinstance(why, str) and why else "–",
            ]
        )
    out.append(
        _table(
            [t("col_indicator"), t("col_stage"), t("col_ratio"), t("col_why_manipulable")],
            rows,
            [False, False, True, False],
            caption=t("rows_shown", shown=len(rows), total=len(paper)),
            wrap=(0, 3),
        )
    )
    return out
