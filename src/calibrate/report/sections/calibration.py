"""Section ``calibration``: Metrics with the years they were computed on and whether those were fitted on; direction checks; model drivers."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pandas as pd

from calibrate.report import plots, style
from calibrate.report._data import (
    MetricsTable,
    normalise_metrics,
    outcome_values,
)
from calibrate.report.context import (
    ReportContext,
    Section,
    _h,
    _kv,
    _note,
    _p,
    _table,
)


def build(ctx: ReportContext) -> Section:
    """Metrics with their years and fit status, direction checks, and model drivers."""
    t, cal = ctx.t, ctx.cal
    has_all = ctx.c_all is not None and ctx.c_all.outcome_metrics is not None
    if cal is None and not has_all and ctx.inp.shap is None and not ctx.inp.extra_metrics:
        return ctx.omit("calibration", "why_no_calibration")
    sec = ctx.section("calibration")
    sec.blocks.append(_p(t("metrics_intro")))
    if cal is not None:
        sec.blocks.append(
            _kv(
                [
                    (t("k_target"), ctx.target(cal.target)),
                    (t("k_train"), t.years(cal.train_years)),
                    (t("k_test"), t.years(cal.test_years)),
                ]
            )
        )
    if cal is not None and cal.held_out is not None:
        sec.blocks += metric_blocks(
            ctx,
            cal.held_out.values,
            ctx.basis(cal.held_out.years, cal.train_years),
            (t("fw_current"), t("fw_suggested")),
            extra=ctx.inp.extra_metrics,
        )
    elif cal is not None:
        sec.blocks.append(_note(t("why_no_held_out")))
    if has_all:
        assert ctx.c_all is not None and ctx.c_all.outcome_metrics is not None
        om = ctx.c_all.outcome_metrics
        values = outcome_values(om)
        train = cal.train_years if cal is not None and cal.train_years else None
        sec.blocks += metric_blocks(
            ctx, values, ctx.basis(ctx.labelled_years(), train), (t("fw_base"), t("fw_candidate"))
        )
    if ctx.s is not None and cal is not None and cal.held_out is not None:
        sec.blocks += by_year_blocks(ctx)
    if cal is not None and cal.directions:
        sec.blocks += direction_blocks(ctx)
    if ctx.inp.shap is not None:
        sec.blocks.append(_h(t("sec_drivers")))
        sec.blocks += drivers(ctx).blocks
    return sec


def metric_blocks(
    ctx,
    values: Mapping[str, tuple[float, float]],
    basis: str,
    labels: tuple[str, str],
    *,
    extra: Mapping[str, Mapping[str, float]] | None = None,
) -> list[dict[str, Any]]:
    """A heading that says which years and how, a plot and a table of two frameworks' metrics."""
    t = ctx.t
    cols: dict[str, dict[str, float]] = {
        labels[0]: normalise_metrics({k: v[0] for k, v in values.items()}),
        labels[1]: normalise_metrics({k: v[1] for k, v in values.items()}),
    }
    roles = ["current", "suggested"]
    for name, vals in (extra or {}).items():
        cols[str(name)] = normalise_metrics(vals)
        roles.append("extra")
    keys = list(dict.fromkeys(k for c in cols.values() for k in c))
    frame = pd.DataFrame(
        {label: [c.get(k, math.nan) for k in keys] for label, c in cols.items()},
        index=pd.Index(keys, name="metric"),
    )
    table = MetricsTable(frame, tuple(roles), "calibration")
    out = [_h(t("h_metrics", basis=basis))]
    with style.context():
        fig = plots.plot_metrics(table, lang=ctx.lang, title=basis)
    out.append(ctx.figure(fig, basis))
    rows = []
    for metric in frame.index:
        digits = 0 if metric in ("n", "events") else 3
        rows.append([ctx.metric_name(str(metric)), *[t.num(v, digits) for v in frame.loc[metric]]])
    out.append(
        _table(
            [t("col_metric"), *[str(c) for c in frame.columns]],
            rows,
            [False] + [True] * frame.shape[1],
            caption=basis,
        )
    )
    if any("oracle" in str(c).lower() for c in frame.columns):
        out.append(_note(t("metrics_oracle_note")))
    return out


def by_year_blocks(ctx: ReportContext) -> list[dict[str, Any]]:
    t = ctx.t
    assert ctx.s is not None
    by = ctx.s.metrics_by_year
    if not len(by) or by["year"].nunique() <= 1:
        return []
    auc = by[by["metric"] == "auc_within_group"].pivot(
        index="year", columns="framework", values="value"
    )
    return [
        _h(t("metrics_by_year"), 4),
        _table(
            [t("col_year"), t("fw_current"), t("fw_suggested")],
            [
                [str(y), t.num(auc.at[y, "current"]), t.num(auc.at[y, "suggested"])]
                for y in auc.index
            ],
            [False, True, True],
        ),
    ]


def direction_blocks(ctx: ReportContext) -> list[dict[str, Any]]:
    t = ctx.t
    assert ctx.cal is not None
    rows = [
        [
            ctx.ind(d.indicator),
            t("dir_rule_up") if d.rule_direction > 0 else t("dir_rule_down"),
            t.num(d.marginal, 3),
            t.num(d.conditional, 3),
            t.pct(d.sign_probability, 0),
            t(f"verdict_{d.verdict}") if t.has(f"verdict_{d.verdict}") else d.verdict,
            t(f"action_{d.action}") if t.has(f"action_{d.action}") else d.action,
        ]
        for d in ctx.cal.directions
    ]
    return [
        _h(t("h_directions")),
        _p(t("directions_intro")),
        _table(
            [
                t("col_indicator"),
                t("col_rule_direction"),
                t("col_marginal"),
                t("col_conditional"),
                t("col_sign_probability"),
                t("col_verdict"),
                t("col_action"),
            ],
            rows,
            [False, False, True, True, True, False, False],
        ),
    ]


def drivers(ctx: ReportContext) -> Section:
    t, sh = ctx.t, ctx.inp.shap
    if sh is None:
        return ctx.omit("drivers", "why_no_shap")
    sec = Section("calibration", "")
    sec.blocks.append(_p(t("shap_intro")))
    sampled = t("shap_sampled", seed=sh.seed) if sh.sampled else ""
    sec.blocks.append(
        _p(
            t(
                "shap_rows",
                used=t.num(sh.n_rows_used),
                total=t.num(sh.n_rows_total),
                sampled=sampled,
                backend=sh.backend,
                output=sh.output,
            )
        )
    )
    if ctx.inp.fit is not None:
        sec.blocks.append(
            _p(
                t(
                    "shap_fit",
                    model=type(ctx.inp.fit.estimator).__name__,
                    auc=t.num(ctx.inp.fit.auc),
                )
            )
        )
    with style.context():
        fig = plots.plot_shap(sh, framework=ctx.inp.base, lang=ctx.lang)
    sec.blocks.append(ctx.figure(fig, t("plot_shap_title")))
    imp = sh.importance.head(15)
    rows = [
        [
            str(int(r["rank"])),
            ctx.ind(str(feat)),
            t.num(r["mean_abs"], 4),
            t.pct(r["share"]),
            t.signed(r["mean"], 4),
        ]
        for feat, r in imp.iterrows()
    ]
    sec.blocks.append(
        _table(
            [t("col_rank"), t("col_feature"), t("col_mean_abs"), t("col_share"), t("col_mean")],
            rows,
            [True, False, True, True, True],
            wrap=(1,),
        )
    )
    return sec
