"""Section ``firms``: Example firms: old vs new points and the nearest path to the next list."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from calibrate.explain.points import REASONS
from calibrate.explain.points import nearest_path as value_path
from calibrate.report import plots, style
from calibrate.report._data import (
    firm_change,
    nearest_path,
)
from calibrate.report.context import (
    ReportContext,
    Section,
    _h,
    _note,
    _p,
    _table,
    _ul,
    _value,
)

if TYPE_CHECKING:
    from calibrate.scoring import ScoreResult


def card_firms(ctx: ReportContext) -> list[tuple[str, int]]:
    """The named firms, or entrants and leavers spread over stages, lists and directions.

    Firms are taken round-robin from each (stage, list, entered/left) cell of the year under
    review, stages in the framework's order, so no stage or tier fills the cards alone.
    """
    if ctx.inp.firms is not None:
        return [(str(e), int(y)) for e, y in ctx.inp.firms]
    c = ctx.c
    if c is None or c.n_lists == 0:
        return []
    movers = c.movers
    if not len(movers):
        return []
    stage_pos = {sid: k for k, sid in enumerate(c.candidate.stage_ids)}
    list_pos = {lab: k for k, lab in enumerate(c.list_ids)}
    cells: dict[tuple[int, int, int], list[tuple[str, int]]] = {}
    for eid, year, stage, lab, change in zip(
        movers["enterprise_id"].astype(str),
        movers["year"].to_numpy(dtype=np.int64),
        movers["stage"].astype(str),
        movers["list"].astype(str),
        movers["change"].astype(str),
        strict=True,
    ):
        key = (stage_pos.get(stage, 99), list_pos.get(lab, 99), 0 if change == "entered" else 1)
        cells.setdefault(key, []).append((eid, int(year)))
    picked: list[tuple[str, int]] = []
    rank: dict[tuple[int, int, int], int] = {}
    for k in sorted(cells):
        rank[k] = sum(1 for other in rank if other[0] == k[0])
    queues = [cells[k] for k in sorted(cells, key=lambda k: (rank[k], k))]
    while len(picked) < ctx.max_cards and any(queues):
        for q in queues:
            if q and len(picked) < ctx.max_cards:
                firm = q.pop(0)
                if firm not in picked:
                    picked.append(firm)
    return picked


def build(ctx: ReportContext) -> Section:
    t, c = ctx.t, ctx.c
    if c is None:
        return ctx.omit("firms", "why_no_scores")
    firms = card_firms(ctx)
    if not firms:
        return ctx.omit("firms", "why_no_firms")
    sec = ctx.section("firms")
    sec.blocks.append(_p(t("cards_intro")))
    for firm, year in firms:
        assert ctx.c_all is not None
        change = firm_change(ctx.c_all, firm, year)
        if change is None:
            sec.blocks.append(_note(t("card_not_found", firm=firm, year=year)))
            continue
        blocks: list[dict[str, Any]] = []
        blocks.append(
            _p(
                t(
                    "card_totals",
                    b=t.num(change.base_total, 2),
                    c=t.num(change.candidate_total, 2),
                    rb=t.num(change.rank_base),
                    rc=t.num(change.rank_candidate),
                    tb=ctx.state(change.tier_base, c.base),
                    tc=ctx.state(change.tier_candidate, c.candidate),
                    sb=t.num(change.subsidy_base),
                    sc=t.num(change.subsidy_candidate),
                )
            )
        )
        with style.context():
            fig = plots.plot_waterfall(change, lang=ctx.lang)
            fig_block = ctx.figure(fig, t("plot_waterfall_title", firm=f"{firm} · {year}"))
        blocks.append(fig_block)
        comp = change.components
        order = list(comp.index)
        ids = sorted(
            (i for i in order if abs(float(comp[i])) > 1e-9),
            key=lambda i: (-abs(float(comp[i])), order.index(i)),
        )
        rows = [
            [
                ctx.component(str(i)),
                t.num(change.base_points.get(i, math.nan), 2),
                t.num(change.candidate_points.get(i, math.nan), 2),
                t.signed(comp[i]),
            ]
            for i in ids
        ]
        blocks.append(
            _table(
                [
                    t("col_indicator"),
                    t("col_pts_base"),
                    t("col_pts_candidate"),
                    t("col_change"),
                ],
                rows,
                [False, True, True, True],
                caption=t(
                    "card_points_table",
                    n=len(change.base_points)
                    - len([i for i in ids if i in change.base_points.index]),
                ),
            )
        )
        blocks.append(_h(t("h_path"), 4))
        blocks += path_blocks(ctx, ctx.c_all.candidate_scores, change.row, firm, year)
        title = t(
            "card_title",
            firm=firm,
            year=year,
            park=change.park or "–",
            stage=ctx.stage(change.stage),
        )
        sec.blocks.append({"kind": "card", "title": title, "blocks": blocks})
    return sec


def path_blocks(
    ctx: ReportContext, scores: ScoreResult, row: int, firm: str, year: int
) -> list[dict[str, Any]]:
    """Nearest path to the next list under ``scores.framework``.

    With the enterprise table, :func:`calibrate.explain.points.nearest_path` gives, per
    indicator, the raw value that alone lifts the firm onto the list. Without it (or when no
    single indicator is enough) the fewest indicators whose unearned points close the gap
    are listed (:func:`calibrate.report._data.nearest_path`).
    """
    out: list[dict[str, Any]] = []
    if ctx.inp.data is not None:
        out, done = value_path_blocks(ctx, scores, firm, year)
        if done:
            return out
    return out + points_path_blocks(ctx, scores, row)


def value_path_blocks(
    ctx: ReportContext, scores: ScoreResult, firm: str, year: int
) -> tuple[list[dict[str, Any]], bool]:
    """The raw value of one indicator that alone lifts the firm onto the next list; True when done."""
    assert ctx.inp.data is not None
    t = ctx.t
    fw = scores.framework
    out: list[dict[str, Any]] = []
    path = value_path(fw, ctx.inp.data, scores, firm, year)
    target = ctx.state(path.target, fw) if path.target else "–"
    if path.reason == "top":
        return [_p(t("path_top", list=ctx.state(path.tier, fw) if path.tier else target))], True
    if path.reason is not None:
        name = REASONS.get(path.reason)
        return [_p(t.pick(name) if name is not None else path.reason)], True
    out.append(
        _p(
            t(
                "path_gap_value",
                list=target,
                cutoff=t.num(path.cutoff, 2),
                gap=t.num(path.need, 2),
            )
        )
    )
    reach = path.reachable()
    if len(reach):
        rows = []
        for ident, r in reach.iterrows():
            unit = str(r["unit"])
            rows.append(
                [
                    ctx.ind(str(ident)),
                    _value(r["current"], unit, t),
                    _value(r["value"], unit, t),
                    _value(r["change"], unit, t, signed=True),
                    f"{t.num(r['points_now'], 2)} → {t.num(r['points_after'], 2)}",
                ]
            )
        out.append(
            _table(
                [
                    t("col_indicator"),
                    t("col_value_now"),
                    t("col_value_needed"),
                    t("col_change"),
                    t("col_points_now_after"),
                ],
                rows,
                [False, True, True, True, True],
            )
        )
        return out, True
    out.append(_note(t("path_no_single")))
    return out, False


def points_path_blocks(ctx: ReportContext, scores: ScoreResult, row: int) -> list[dict[str, Any]]:
    """The fewest indicators whose unearned points close the gap to the next list."""
    t = ctx.t
    fw = scores.framework
    out: list[dict[str, Any]] = []
    path_pts = nearest_path(scores, row)
    tier = ctx.state(path_pts.tier, fw) if path_pts.tier else "–"
    if path_pts.status == "top":
        return out + [_p(t("path_top", list=tier))]
    if path_pts.status == "vetoed":
        return out + [_p(t("path_vetoed"))]
    if path_pts.status == "ineligible":
        return out + [_p(t.pick(REASONS["ineligible"]))]
    if path_pts.status == "no_seat":
        return out + [_p(t("path_no_seat", list=tier))]
    out.append(
        _p(
            t(
                "path_gap",
                list=tier,
                cutoff=t.num(path_pts.cutoff, 2),
                gap=t.num(path_pts.gap, 2),
            )
        )
    )
    out.append(
        _ul(
            [
                t(
                    "path_item",
                    indicator=ctx.ind(ident),
                    earned=t.num(earned, 2),
                    full=t.num(full, 2),
                    room=t.num(room, 2),
                )
                for ident, earned, full, room in path_pts.steps
            ]
        )
    )
    if path_pts.status == "impossible":
        out.append(_note(t("path_impossible")))
    return out
