"""Section ``overview``: What was tested, what changed and how sure (summary), then data and method."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from calibrate.report._data import outcome_values
from calibrate.report.context import (
    AUC_NAMES,
    FEW_BOOTSTRAP,
    UNCERTAIN_THRESHOLD,
    ReportContext,
    Section,
    _constraints_text,
    _h,
    _kv,
    _note,
    _p,
)


def build(ctx: ReportContext) -> Section:
    """Summary, then data and method, as one section."""
    sec = ctx.section("overview")
    sec.blocks += summary(ctx).blocks
    sec.blocks.append(_h(ctx.t("sec_data")))
    sec.blocks += data_method(ctx).blocks
    return sec


def summary(ctx: ReportContext) -> Section:
    t, s, c = ctx.t, ctx.s, ctx.c
    sec = Section("overview", "")
    cal = ctx.cal
    if cal is not None and cal.target is not None and cal.held_out is not None:
        values = cal.held_out.values
        sec.blocks.append(
            _p(
                t(
                    "sum_tested_suggest",
                    base=ctx.fw_name(ctx.inp.base),
                    horizon=cal.horizon if cal.horizon is not None else "–",
                    target=ctx.target(cal.target),
                    train=t.years(cal.train_years),
                    objective=ctx.objective(cal.objective or "–"),
                    test=t.years(cal.held_out.years),
                    n=t.num(values.get("n", (math.nan,))[0]),
                    events=t.num(values.get("events", (math.nan,))[0]),
                )
            )
        )
        if not cal.held_out.held_out:
            sec.blocks.append(
                _note(t("sum_not_held_out", years=t.years(cal.held_out.in_sample_years)))
            )
    elif c is not None:
        sec.blocks.append(
            _p(
                t(
                    "sum_tested_compare",
                    year=ctx.year,
                    n=t.num(c.n_firms),
                    base=ctx.fw_name(c.base),
                    candidate=ctx.fw_name(c.candidate),
                )
            )
        )
    else:
        sec.blocks.append(_p(t("sum_tested_base", base=ctx.fw_name(ctx.inp.base))))
    pts = ctx.points_view()
    if pts is not None:
        sec.blocks.append(summary_points(ctx, pts))
    if c is not None:
        o = c.overall
        sec.blocks.append(
            _p(
                t(
                    "sum_changed_lists",
                    year=ctx.year,
                    entered=t.num(o["entered"]),
                    left=t.num(o["left"]),
                    rho=t.num(o["spearman"]),
                    gained=t.num(o["subsidy_gained"]),
                    lost=t.num(o["subsidy_lost"]),
                    net=t.signed(o["subsidy_net_wan"]),
                )
            )
        )
    sec.blocks += summary_metrics(ctx)
    if ctx.cal is not None and ctx.cal.points:
        sec.blocks += summary_marks(ctx)
    elif s is not None and s.n_bootstrap == 0:
        sec.blocks.append(_p(t("sum_no_boot")))
    if ctx.inp.sensitivity is not None:
        ru = ctx.inp.sensitivity
        k = len(ctx.uncertain_firms(ru))
        sec.blocks.append(
            _p(
                t(
                    "sum_uncertain",
                    year=ctx.year,
                    draws=t.num(ru.n_draws),
                    k=t.num(k),
                    threshold=t.pct(UNCERTAIN_THRESHOLD, 0),
                )
            )
        )
    return sec


def summary_points(ctx: ReportContext, pts: pd.DataFrame) -> dict[str, Any]:
    t = ctx.t
    changed = pts[pts["change"] != 0]
    if len(changed) == 0:
        return _p(t("sum_no_change"))
    order = np.argsort(-changed["change"].abs().to_numpy(dtype=np.float64), kind="stable")
    diff = changed.iloc[order]

    def moves(part: pd.DataFrame) -> str:
        items = [
            f"{ctx.ind(str(r.indicator))}"
            f"{t('paren', x=ctx.stage(str(r.stage), short=True) + ' ' + t.signed(r.change))}"
            for r in part.head(3).itertuples()
        ]
        return t.join(items)

    return _p(
        t(
            "sum_changed_points",
            n_changed=len(diff),
            n_cells=len(pts),
            ups=moves(diff[diff["change"] > 0]),
            downs=moves(diff[diff["change"] < 0]),
        )
    )


def summary_metrics(ctx: ReportContext) -> list[dict[str, Any]]:
    """AUC and top-10 % precision, with the years they were computed on and how."""
    t = ctx.t
    cal = ctx.cal
    out: list[dict[str, Any]] = []
    if cal is not None and cal.held_out is not None:
        values = {k: v for k, v in cal.held_out.values.items()}
        basis = ctx.basis(cal.held_out.years, cal.train_years)
    elif ctx.c_all is not None and ctx.c_all.outcome_metrics is not None:
        om = ctx.c_all.outcome_metrics
        values = outcome_values(om)
        basis = ctx.basis(ctx.labelled_years(), None)
    else:
        return out
    auc = AUC_NAMES[0]
    a0, a1 = values.get(auc, (math.nan, math.nan))
    p0, p1 = values.get("prec_top10", (math.nan, math.nan))
    delta = a1 - a0
    verdict = (
        "verdict_same"
        if not abs(delta) > 0.005
        else ("verdict_better" if delta > 0 else "verdict_worse")
    )
    out.append(
        _p(
            t(
                "sum_metrics",
                basis=basis,
                auc=ctx.metric_name(auc),
                auc0=t.num(a0),
                auc1=t.num(a1),
                verdict=t(verdict),
                p0=t.pct(p0),
                p1=t.pct(p1),
            )
        )
    )
    oracle = ctx.oracle_auc()
    if oracle is not None:
        out.append(_p(t("sum_oracle", auc=t.num(oracle))))
    return out


def summary_marks(ctx: ReportContext) -> list[dict[str, Any]]:
    """How many changed points the engine calls confident, unsure or pinned."""
    t = ctx.t
    assert ctx.cal is not None
    pts = ctx.points_view()
    out: list[dict[str, Any]] = []
    if pts is None or ctx.cal.n_bootstrap == 0:
        return [_p(t("sum_no_boot"))]
    changed = pts[pts["change"] != 0]
    if not ctx.cal.has_marks:
        out.append(_p(t("sum_no_marks", n_boot=ctx.cal.n_bootstrap)))
    else:
        marks = changed["mark"].value_counts()
        out.append(
            _p(
                t(
                    "sum_bootstrap",
                    n_boot=ctx.cal.n_bootstrap,
                    k_sure=int(marks.get("confident", 0)),
                    k_unsure=int(marks.get("unsure", 0) + marks.get("noise", 0)),
                    k_pinned=int(marks.get("pinned", 0)),
                )
            )
        )
    if ctx.cal.n_bootstrap < FEW_BOOTSTRAP:
        out.append(_note(t("sum_few_boot", n_boot=ctx.cal.n_bootstrap)))
    return out


def data_method(ctx: ReportContext) -> Section:
    t, s, c = ctx.t, ctx.s, ctx.c
    sec = Section("overview", "")
    items: list[tuple[str, str]] = [(t("k_base"), ctx.fw_full(ctx.inp.base))]
    if ctx.cand is not None:
        items.append((t("k_candidate"), ctx.fw_full(ctx.cand)))
    frame = ctx.panel_frame()
    if frame is not None and len(frame):
        firms = frame["enterprise_id"].nunique() if "enterprise_id" in frame.columns else math.nan
        years: list[int] = (
            sorted({int(y) for y in frame["year"]}) if "year" in frame.columns else []
        )
        parks = frame["park"].nunique() if "park" in frame.columns else math.nan
        items.append(
            (
                t("k_data"),
                t(
                    "v_data",
                    rows=t.num(len(frame)),
                    firms=t.num(firms),
                    years=t.years(years),
                    parks=t.num(parks),
                ),
            )
        )
    if s is not None:
        items += [
            (t("k_data_fp"), s.data_fingerprint),
            (t("k_target"), ctx.target(s.target)),
            (
                t("k_direction"),
                t(f"v_direction_{s.direction}")
                if s.direction in ("higher", "lower")
                else s.direction,
            ),
            (t("k_horizon"), t("v_horizon", h=s.horizon)),
            (t("k_train"), t.years(s.train_years)),
            (t("k_test"), t.years(s.test_years)),
            (
                t("k_objective"),
                f"{ctx.objective(s.objective)}{t('paren', x=s.objective + ' · ' + s.solver)}",
            ),
            (t("k_constraints"), _constraints_text(s.constraints.to_dict(), t)),
            (t("k_bootstrap"), t("v_bootstrap", n=s.n_bootstrap, seed=s.seed)),
        ]
        if s.label_counts:
            items.append(
                (t("k_labels"), "; ".join(f"{k} {t.num(v)}" for k, v in s.label_counts.items()))
            )
    if c is not None:
        items.append((t("k_compared"), t("v_compared", n=t.num(c.n_firms))))
        if s is None and c.target is not None:
            items += [
                (t("k_target"), ctx.target(c.target)),
                (t("k_horizon"), t("v_horizon", h=c.horizon)),
            ]
    sec.blocks.append(_kv(items))
    if s is not None:
        sec.blocks.append(_p(t("method_suggest")))
    if c is not None:
        sec.blocks.append(_p(t("method_compare")))
    return sec
