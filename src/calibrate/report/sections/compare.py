"""Section ``compare``: What-if in the year under review: rank agreement, transitions, entrants and leavers, subsidies."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calibrate.report import plots, style
from calibrate.report.context import (
    MAX_MOVERS,
    ReportContext,
    Section,
    _h,
    _kv,
    _note,
    _p,
    _table,
)

if TYPE_CHECKING:
    from calibrate.compare import Comparison


def build(ctx: ReportContext) -> Section:
    """Rank agreement, transitions, list churn, entrants and leavers, subsidies (year under review)."""
    t, c = ctx.t, ctx.c
    if c is None:
        return ctx.omit("compare", "why_no_comparison")
    sec = ctx.section("compare")
    sec.blocks.append(_note(t("year_under_review", year=ctx.year)))
    sec.blocks.append(
        _p(t("whatif_intro", base=ctx.fw_full(c.base), candidate=ctx.fw_full(c.candidate)))
    )
    for part in (rank_blocks, transition_blocks, list_blocks, mover_blocks, subsidy_blocks):
        sec.blocks += part(ctx, c)
    return sec


def rank_blocks(ctx: ReportContext, c: Comparison) -> list[dict[str, Any]]:
    """How far the two rankings agree."""
    t = ctx.t
    o = c.overall
    out: list[dict[str, Any]] = []
    out.append(_h(t("h_rank")))
    out.append(
        _kv(
            [
                (t("k_ranked_both"), t.num(o["ranked_both"])),
                (t("k_spearman"), t.num(o["spearman"])),
                (t("k_kendall"), t.num(o["kendall"])),
                (t("k_mean_move"), t.num(o["mean_abs_rank_move"], 2)),
                (t("k_max_move"), t.num(o["max_abs_rank_move"])),
                (t("k_share_moved"), t.pct(o["share_rank_moved"])),
            ]
        )
    )
    return out


def transition_blocks(ctx: ReportContext, c: Comparison) -> list[dict[str, Any]]:
    """From which list to which: heat map and table."""
    t = ctx.t
    out: list[dict[str, Any]] = []
    out.append(_h(t("h_transitions")))
    out.append(_p(t("transitions_intro")))
    with style.context():
        fig = plots.plot_transitions(c, lang=ctx.lang)
    out.append(ctx.figure(fig, t("plot_transitions_title")))
    trans = c.transitions()
    out.append(
        _table(
            [
                f"{t('axis_base')} \\ {t('axis_candidate')}",
                *[ctx.state(str(x), c.candidate) for x in trans.columns],
            ],
            [[ctx.state(str(r), c.base), *[t.num(v) for v in trans.loc[r]]] for r in trans.index],
            [False] + [True] * trans.shape[1],
        )
    )
    return out


def list_blocks(ctx: ReportContext, c: Comparison) -> list[dict[str, Any]]:
    """Members, stayers, entrants and leavers per list."""
    t = ctx.t
    out: list[dict[str, Any]] = []
    if c.n_lists:
        out.append(_h(t("h_lists")))
        out.append(
            _table(
                [
                    t("col_list"),
                    t("col_firms_base"),
                    t("col_firms_candidate"),
                    t("col_stayed"),
                    t("col_entered"),
                    t("col_left"),
                    t("col_churn"),
                ],
                [
                    [
                        ctx.list_label(str(r.list)),
                        t.num(r.firms_base),
                        t.num(r.firms_candidate),
                        t.num(r.stayed),
                        t.num(r.entered),
                        t.num(r.left),
                        t.pct(r.churn),
                    ]
                    for r in c.lists.itertuples()
                ],
                [False] + [True] * 6,
            )
        )
    return out


def mover_blocks(ctx: ReportContext, c: Comparison) -> list[dict[str, Any]]:
    """The first entrants and leavers of each list, with their reasons."""
    t = ctx.t
    out: list[dict[str, Any]] = []
    out.append(_h(t("h_movers")))
    movers = c.movers
    if len(movers) == 0:
        out.append(_p(t("movers_none")))
    else:
        out.append(_p(t("movers_intro")))
        for label in c.list_ids:
            for change, key in (("entered", "movers_entered"), ("left", "movers_left")):
                part = movers[(movers["list"] == label) & (movers["change"] == change)]
                if len(part) == 0:
                    continue
                out.append(_h(t(key, list=ctx.list_label(label)), 4))
                shown = part.head(MAX_MOVERS)
                margin = "margin_candidate" if change == "entered" else "margin_base"
                rows = [
                    [
                        str(r["enterprise_id"]),
                        str(r["year"]),
                        str(r.get("park", "–")),
                        ctx.stage(str(r["stage"]), short=True),
                        t(f"dir_{r['direction']}"),
                        f"{t.num(r['rank_base'])} → {t.num(r['rank_candidate'])}",
                        t.signed(r["total_change"]),
                        t.signed(r[margin]),
                        ctx.reasons(r["drivers"]),
                    ]
                    for _, r in shown.iterrows()
                ]
                out.append(
                    _table(
                        [
                            t("col_firm"),
                            t("col_year"),
                            t("col_park"),
                            t("col_stage"),
                            t("col_direction"),
                            t("col_rank_move"),
                            t("col_total_change"),
                            t("col_margin"),
                            t("col_reasons"),
                        ],
                        rows,
                        [False, False, False, False, False, True, True, True, False],
                        caption=t("movers_shown", shown=len(shown), total=len(part)),
                        wrap=(8,),
                    )
                )
    return out


def subsidy_blocks(ctx: ReportContext, c: Comparison) -> list[dict[str, Any]]:
    """Subsidies gained, lost and moved per stage."""
    t = ctx.t
    out: list[dict[str, Any]] = []
    out.append(_h(t("h_subsidies")))
    subs = c.subsidies
    if not (subs[["paid_base_wan", "paid_candidate_wan"]].to_numpy() > 0).any():
        out.append(_p(t("subsidies_none")))
    else:
        rows = [
            [
                t("total_row") if str(st) == "total" else ctx.stage(str(st)),
                t.num(r["firms_base"]),
                t.num(r["firms_candidate"]),
                t.num(r["gained"]),
                t.num(r["lost"]),
                t.num(r["paid_base_wan"], 2),
                t.num(r["paid_candidate_wan"], 2),
                t.signed(r["net_wan"]),
            ]
            for st, r in subs.iterrows()
        ]
        out.append(
            _table(
                [
                    t("col_stage"),
                    t("col_subsidised_base"),
                    t("col_subsidised_candidate"),
                    t("col_gained"),
                    t("col_lost"),
                    t("col_paid_base"),
                    t("col_paid_candidate"),
                    t("col_net"),
                ],
                rows,
                [False] + [True] * 7,
            )
        )
    return out
