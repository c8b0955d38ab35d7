"""Section ``uncertainty``: Rank intervals and list probabilities, and where the draws came from."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from calibrate.report import plots, style
from calibrate.report.context import (
    MAX_UNCERTAIN,
    UNCERTAIN_THRESHOLD,
    ReportContext,
    Section,
    _h,
    _note,
    _p,
    _table,
)

if TYPE_CHECKING:
    from calibrate.sensitivity import RankUncertainty


def build(ctx: ReportContext) -> Section:
    t, ru = ctx.t, ctx.inp.sensitivity
    if ru is None:
        return ctx.omit("uncertainty", "why_no_sensitivity")
    sec = ctx.section("uncertainty")
    lo = round(100 * (1 - ru.level) / 2)
    sec.blocks.append(
        _p(
            t(
                "unc_intro",
                framework=ctx.fw_name(ru.framework),
                draws=t.num(ru.n_draws),
                sampler=sampler_name(ctx, ru),
                level=t("unc_level", lo=lo, hi=100 - lo),
            )
        )
    )
    sec.blocks.append(_note(t(uncertainty_source(ctx, ru))))
    sec.blocks += stability_blocks(ctx, ru)
    sec.blocks += uncertain_blocks(ctx, ru)
    return sec


def stability_blocks(ctx: ReportContext, ru: RankUncertainty) -> list[dict[str, Any]]:
    """Per list: how often its firms keep it across the draws."""
    t = ctx.t
    out: list[dict[str, Any]] = []
    out.append(_h(t("h_stability")))
    years = sorted({int(y) for y in ru.frame["year"]}) if "year" in ru.frame.columns else []
    if len(years) > 1:
        out.append(_note(t("stability_pooled", years=t.years(years))))
    stab = ru.stability(UNCERTAIN_THRESHOLD)
    out.append(
        _table(
            [
                t("col_tier"),
                t("col_firms"),
                t("col_p_keep"),
                t("col_uncertain"),
                t("col_share_uncertain"),
            ],
            [
                [
                    ctx.state(str(tier), ru.framework),
                    t.num(r["firms"]),
                    t.pct(r["p_keep"]),
                    t.num(r["uncertain"]),
                    t.pct(r["share_uncertain"]),
                ]
                for tier, r in stab.iterrows()
            ],
            [False, True, True, True, True],
        )
    )
    return out


def uncertain_blocks(ctx: ReportContext, ru: RankUncertainty) -> list[dict[str, Any]]:
    """The firms of the year under review whose list is least certain."""
    t = ctx.t
    out: list[dict[str, Any]] = []
    out.append(_h(t("h_uncertain")))
    if ctx.year is not None:
        out.append(_note(t("year_under_review", year=ctx.year)))
    unc = ctx.uncertain_firms(ru)
    if len(unc) == 0:
        out.append(_p(t("unc_none")))
        return out
    shown = unc.head(MAX_UNCERTAIN)
    out.append(
        _p(
            t(
                "unc_threshold",
                threshold=t.pct(UNCERTAIN_THRESHOLD, 0),
                k=t.num(len(unc)),
                shown=len(shown),
            )
        )
    )
    with style.context():
        fig = plots.plot_rank_intervals(
            ru, n=MAX_UNCERTAIN, threshold=UNCERTAIN_THRESHOLD, lang=ctx.lang
        )
    out.append(ctx.figure(fig, t("plot_ranks_title")))
    rows = [
        [
            str(r["enterprise_id"]),
            str(r["year"]),
            str(r.get("park", "–")),
            ctx.stage(str(r["stage"]), short=True),
            ctx.state(str(r["tier"]), ru.framework),
            t.num(r["rank"]),
            f"{t.num(r['rank_low'])}–{t.num(r['rank_high'])}",
            ctx.state(str(r["most_likely_tier"]), ru.framework),
            t.pct(r["p_most_likely"]),
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
                t("col_tier"),
                t("col_rank"),
                t("col_rank_interval"),
                t("col_most_likely"),
                t("col_p_most_likely"),
            ],
            rows,
            [False, False, False, False, False, True, True, False, True],
        )
    )
    return out


def sampler_name(ctx: ReportContext, ru: RankUncertainty) -> str:
    """Where the points tables come from, in words (the class name if unknown)."""
    key = f"sampler_{type(ru.weights).__name__}"
    return ctx.t(key) if ctx.t.has(key) else type(ru.weights).__name__


def uncertainty_source(ctx: ReportContext, ru: RankUncertainty) -> str:
    """Message key saying where the points draws came from (stored bootstrap or not)."""
    from calibrate.sensitivity import FromDraws, FromIntervals

    if isinstance(ru.weights, FromDraws):
        return "unc_from_draws"
    if isinstance(ru.weights, FromIntervals):
        return "unc_from_intervals"
    return "unc_not_data"
