"""Plots of the report: each takes a result object and an optional ``ax`` and returns a Figure.

Compute once, draw separately: nothing here fits or scores. Every function draws inside
:func:`calibrate.report.style.context` (the report font — a CJK font shipped by ``mplfonts`` —
and style), never calls ``show()`` and never touches pyplot's global state: without ``ax`` a new
:class:`matplotlib.figure.Figure` is made; with ``ax`` the plot goes there and ``ax``'s figure is
returned. ``lang`` (``"zh"`` or ``"en"``) chooses the language of titles and labels.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from calibrate.compare import UNLISTED_STATES
from calibrate.framework import Framework
from calibrate.framework.model import Name
from calibrate.report import style
from calibrate.report._data import (
    BONUS_CAP,
    DEDUCTION,
    FirmChange,
    MetricsTable,
    firm_change,
    indicator_name,
    metrics_table,
)
from calibrate.report.calibration import EditStep
from calibrate.report.i18n import Translator
from calibrate.report.industries import industry_name

if TYPE_CHECKING:
    from calibrate.compare import Comparison
    from calibrate.explain import ShapResult
    from calibrate.models import FitResult
    from calibrate.sensitivity import RankUncertainty
    from calibrate.suggest import Suggestion

__all__ = [
    "plot_metrics",
    "plot_points_grid",
    "plot_points_intervals",
    "plot_rank_intervals",
    "plot_seat_shares",
    "plot_shap",
    "plot_transitions",
    "plot_waterfall",
]

MSG_STAGE = "no stage {stage!r} in the suggestion; stages are {known}"
MSG_FIRM = "firm {firm!r} in year {year} is not in the comparison"
MSG_NO_EDITS = "nothing to plot: the edit path is empty (the calibration block has no edits)"
MSG_NO_METRICS = (
    "nothing to plot: give a Suggestion, a Comparison with labels, a FitResult or extra metrics"
)

#: Metrics drawn by :func:`plot_metrics` by default.
PLOT_METRICS = ("auc_within_group", "prec_top5", "prec_top10", "prec_top20")


def _wrap(label: str, width: int = 12) -> str:
    """A long Latin label broken over lines at spaces (CJK labels are short enough)."""
    if len(label) <= width or " " not in label:
        return label
    lines, line = [], ""
    for word in label.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return "\n".join([*lines, line])


def _short(name: Any, t: Translator, fallback: str) -> str:
    return t.pick(name) if name is not None else fallback


def _state_label(state: str, fw: Framework, t: Translator) -> str:
    if state in UNLISTED_STATES:
        return t(f"state_{state}")
    for tier in fw.tiers:
        if tier.id == state:
            return t.pick(tier.name)
    return state


# --- points with intervals ------------------------------------------------------------------------


class PointsSource(Protocol):
    """Anything with a points table (``indicator, stage, group, name_zh, name_en, current,
    suggested, low, high``) and the framework it belongs to, e.g. a :class:`Suggestion`."""

    @property
    def points(self) -> pd.DataFrame: ...

    @property
    def base(self) -> Framework: ...


def _stage_rows(suggestion: PointsSource, stage: str) -> pd.DataFrame:
    pts = suggestion.points
    stages = list(dict.fromkeys(pts["stage"].astype(str)))
    if stage not in stages:
        raise ValueError(MSG_STAGE.format(stage=stage, known=", ".join(stages)))
    return pts[pts["stage"].astype(str) == stage].reset_index(drop=True)


def _points_legend(t: Translator) -> list[Line2D]:
    """Legend entries of the points plots: today's points, suggested points, bootstrap interval."""
    return [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor="white",
            markeredgecolor=style.COLORS["current"],
            label=t("legend_current"),
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=style.COLORS["suggested"],
            label=t("legend_suggested"),
        ),
        Line2D([], [], color=style.COLORS["interval"], linewidth=5, label=t("legend_interval")),
    ]


def _draw_points(
    ax: Axes, rows: pd.DataFrame, t: Translator, *, labels: bool, legend: bool, title: str
) -> None:
    n = len(rows)
    y = np.arange(n)[::-1].astype(np.float64)
    low = rows["low"].to_numpy(dtype=np.float64)
    high = rows["high"].to_numpy(dtype=np.float64)
    cur = rows["current"].to_numpy(dtype=np.float64)
    sug = rows["suggested"].to_numpy(dtype=np.float64)
    ok = np.isfinite(low) & np.isfinite(high)
    ax.hlines(y[ok], low[ok], high[ok], color=style.COLORS["interval"], linewidth=5, zorder=1)
    ax.scatter(
        cur,
        y,
        s=30,
        facecolors="white",
        edgecolors=style.COLORS["current"],
        linewidths=1.3,
        zorder=3,
    )
    ax.scatter(sug, y, s=22, color=style.COLORS["suggested"], zorder=4)
    groups = rows["group"].astype(str).to_numpy()
    for i in range(1, n):
        if groups[i] != groups[i - 1]:
            ax.axhline(y[i] + 0.5, color="#cccccc", linewidth=0.6, zorder=0)
    if labels:
        names = [
            t.pick(Name(str(z), str(e)))
            for z, e in zip(rows["name_zh"], rows["name_en"], strict=True)
        ]
        ax.set_yticks(y, names)
    else:
        ax.tick_params(labelleft=False)
    ax.set_ylim(-0.7, n - 0.3)
    ax.grid(axis="x")
    ax.set_xlabel(t("plot_points_x"))
    ax.set_title(title, loc="left")
    if legend:
        handles = _points_legend(t)
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)


def _x_limits(frames: list[pd.DataFrame]) -> tuple[float, float]:
    values = np.concatenate(
        [
            f[c].to_numpy(dtype=np.float64)
            for f in frames
            for c in ("current", "suggested", "low", "high")
        ]
    )
    values = values[np.isfinite(values)]
    hi = float(values.max()) if values.size else 1.0
    lo = min(0.0, float(values.min())) if values.size else 0.0
    pad = 0.04 * max(hi - lo, 1.0)
    return lo - pad, hi + pad


def plot_points_intervals(
    suggestion: PointsSource, stage: str, ax: Axes | None = None, *, lang: str = "zh"
) -> Figure:
    """Official and suggested points of every core indicator in one stage, with bootstrap intervals.

    Hollow grey dots are today's points, blue dots the suggested points, light blue bars the
    bootstrap interval.

    Parameters
    ----------
    suggestion : Suggestion
    stage : str
        A stage id of the suggestion's framework.
    ax : matplotlib Axes, optional
    lang : {"zh", "en"}

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    rows = _stage_rows(suggestion, stage)
    stage_name = (
        t.pick(suggestion.base.stage(stage).name) if stage in suggestion.base.stage_ids else stage
    )
    with style.context():
        fig, ax = style.new_axes(ax, (6.8, 0.24 * len(rows) + 1.3))
        _draw_points(
            ax, rows, t, labels=True, legend=True, title=t("plot_points_title", stage=stage_name)
        )
        ax.set_xlim(*_x_limits([rows]))
    style.use_fonts(ax)
    return fig


def plot_points_grid(
    suggestion: PointsSource, stages: list[str] | None = None, *, lang: str = "zh"
) -> Figure:
    """:func:`plot_points_intervals` for several stages side by side (one panel per stage, shared axes).

    Parameters
    ----------
    suggestion : Suggestion
    stages : list of str, optional
        Stage ids (default: every stage of the suggestion, in order).
    lang : {"zh", "en"}

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    stages = stages or list(dict.fromkeys(suggestion.points["stage"].astype(str)))
    frames = [_stage_rows(suggestion, s) for s in stages]
    n = max(len(f) for f in frames)
    with style.context():
        fig = Figure(figsize=(2.4 + 2.1 * len(stages), 0.24 * n + 1.5), layout="constrained")
        # room between panels: the last tick label of one panel must not touch the next's first
        fig.get_layout_engine().set(wspace=0.12)  # type: ignore[union-attr,call-arg]
        axes = fig.subplots(1, len(stages), sharex=True, sharey=True, squeeze=False)[0]
        for k, (stage, rows) in enumerate(zip(stages, frames, strict=True)):
            name = (
                t.pick(suggestion.base.stage(stage).name)
                if stage in suggestion.base.stage_ids
                else stage
            )
            _draw_points(axes[k], rows, t, labels=k == 0, legend=False, title=name)
        axes[0].set_xlim(*_x_limits(frames))
        axes[0].xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True, prune="both"))
        handles = _points_legend(t)
        fig.legend(handles=handles, loc="outside lower center", ncols=3)
    style.use_fonts(fig)
    return fig


# --- held-out metrics -----------------------------------------------------------------------------


def _metric_labels(t: Translator, fit: FitResult | None) -> dict[str, str]:
    fit_name = type(fit.estimator).__name__ if fit is not None else ""
    return {
        "current": t("fw_current"),
        "suggested": t("fw_suggested"),
        "base": t("fw_base"),
        "candidate": t("fw_candidate"),
        "fit": t("fw_fit", name=fit_name),
    }


def _role_colors(roles: tuple[str, ...]) -> list[str]:
    extra = iter(style.EXTRA_COLORS * 4)
    out = []
    for role in roles:
        if role in ("current", "base"):
            out.append(style.COLORS["current"])
        elif role in ("suggested", "candidate"):
            out.append(style.COLORS["suggested"])
        else:
            out.append(next(extra))
    return out


def plot_metrics(
    source: Suggestion | Comparison | MetricsTable | None = None,
    extra: Mapping[str, Mapping[str, float]] | None = None,
    ax: Axes | None = None,
    *,
    fit: FitResult | None = None,
    metrics: tuple[str, ...] = PLOT_METRICS,
    lang: str = "zh",
    title: str | None = None,
) -> Figure:
    """Held-out metrics side by side: one group of bars per metric, one bar per way of ranking.

    Parameters
    ----------
    source : Suggestion, Comparison (with labels) or a metrics table, optional
        Today's and the suggested (or base and candidate) framework.
    extra : mapping, optional
        More columns, e.g. ``{"oracle": {"auc_within_group": 0.93, "prec_top10": 0.4}, "LightGBM": {...}}``;
        metric names as in :func:`calibrate.suggest.evaluate_policy` (``precision_top10`` and
        ``event_rate`` are understood too).
    ax : matplotlib Axes, optional
    fit : FitResult, optional
        A fitted model's pooled held-out metrics as one more column.
    metrics : tuple of str
        Metric rows to draw (AUC and precision at the top 5 / 10 / 20 % by default).
    lang : {"zh", "en"}
    title : str, optional
        What the metrics were computed on (default: "held-out performance"); say which years.

    Returns
    -------
    matplotlib.figure.Figure
    """
    from calibrate.compare import Comparison
    from calibrate.suggest import Suggestion

    t = Translator(lang)
    if isinstance(source, MetricsTable):
        table = source
    else:
        table_or_none = metrics_table(
            _metric_labels(t, fit),
            suggestion=source if isinstance(source, Suggestion) else None,
            comparison=source if isinstance(source, Comparison) else None,
            fit=fit,
            extra=extra,
        )
        if table_or_none is None:
            raise ValueError(MSG_NO_METRICS)
        table = table_or_none
    metrics = tuple(dict.fromkeys(metrics))
    rows = [m for m in metrics if m in table.frame.index]
    frame = table.frame.loc[rows]
    k = frame.shape[1]
    colors = _role_colors(table.roles)
    with style.context():
        fig, ax = style.new_axes(ax, (6.8, 3.0))
        x = np.arange(len(rows), dtype=np.float64)
        width = 0.8 / max(k, 1)
        for j, col in enumerate(frame.columns):
            vals = frame[col].to_numpy(dtype=np.float64)
            pos = x - 0.4 + width * (j + 0.5)
            ax.bar(pos, np.nan_to_num(vals), width=width * 0.92, color=colors[j], label=str(col))
            for xi, v in zip(pos, vals, strict=True):
                if np.isfinite(v):
                    ax.text(xi, v + 0.01, f"{v:.2f}", ha="center", va="bottom", fontsize=6.5)
        ax.set_xticks(x, [t(f"m_{m}") if t.has(f"m_{m}") else m for m in rows])
        top = float(np.nanmax(frame.to_numpy(dtype=np.float64))) if frame.size else 1.0
        ax.set_ylim(0, max(1.0, top + 0.08) if math.isfinite(top) else 1.0)
        ax.grid(axis="y")
        ax.set_title(title or t("plot_metrics_title"), loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=7.5)
    style.use_fonts(ax)
    return fig


# --- tier transitions -----------------------------------------------------------------------------


def plot_transitions(comparison: Comparison, ax: Axes | None = None, *, lang: str = "zh") -> Figure:
    """Heat map of firms by base list (rows) and candidate list (columns), counts written in.

    Colour is the share of each base row (so small lists show their churn); the numbers are
    firm counts.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    counts = comparison.transitions()
    shares = comparison.transitions(normalize="index").fillna(0.0)
    rows = [_state_label(str(r), comparison.base, t) for r in counts.index]
    cols = [_state_label(str(c), comparison.candidate, t) for c in counts.columns]
    with style.context():
        fig, ax = style.new_axes(ax, (5.6, 3.6))
        ax.imshow(
            shares.to_numpy(dtype=np.float64),
            cmap=style.HEAT_CMAP,
            vmin=0.0,
            vmax=1.0,
            aspect="auto",
        )
        values = counts.to_numpy()
        share = shares.to_numpy(dtype=np.float64)
        for i in range(values.shape[0]):
            for j in range(values.shape[1]):
                ax.text(
                    j,
                    i,
                    f"{int(values[i, j]):,}",
                    ha="center",
                    va="center",
                    fontsize=8,
                    color="white" if share[i, j] > 0.6 else "#222222",
                )
        ax.set_xticks(np.arange(len(cols)), [_wrap(c) for c in cols])
        ax.set_yticks(np.arange(len(rows)), rows)
        ax.tick_params(length=0)
        for spine in ax.spines.values():
            spine.set_visible(False)
        ax.set_xlabel(t("axis_candidate"))
        ax.set_ylabel(t("axis_base"))
        ax.set_title(t("plot_transitions_title"), loc="left")
    style.use_fonts(ax)
    return fig


# --- SHAP ---------------------------------------------------------------------------------------


def plot_shap(
    shap: ShapResult,
    ax: Axes | None = None,
    *,
    top: int = 15,
    framework: Framework | None = None,
    lang: str = "zh",
) -> Figure:
    """Global importance: mean |SHAP| of the ``top`` most important features, largest on top.

    Features named like a framework's indicators get the indicator's name. The title says how
    many rows the values were computed on.

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    imp = shap.importance.head(top)
    n = len(imp)
    labels = [_short(indicator_name(str(f), framework), t, str(f)) for f in imp.index]
    with style.context():
        fig, ax = style.new_axes(ax, (6.4, 0.26 * n + 1.2))
        y = np.arange(n)[::-1]
        vals = imp["mean_abs"].to_numpy(dtype=np.float64)
        ax.barh(y, vals, color=style.COLORS["suggested"], height=0.7)
        ax.set_yticks(y, labels)
        ax.grid(axis="x")
        ax.set_xlabel(t("plot_shap_x"))
        ax.set_title(
            f"{t('plot_shap_title')} · n = {shap.n_rows_used:,}/{shap.n_rows_total:,}", loc="left"
        )
    style.use_fonts(ax)
    return fig


# --- waterfall ------------------------------------------------------------------------------------


def _waterfall_steps(change: FirmChange, t: Translator, top: int) -> tuple[list[str], list[float]]:
    """Bar labels and steps of a waterfall: base, the ``top`` largest components, the rest, candidate."""
    comp = change.components
    comp = comp[comp.abs() > 1e-9]
    order = np.argsort(-comp.abs().to_numpy(), kind="stable")
    shown = comp.iloc[order[:top]]
    rest = comp.iloc[order[top:]]

    def label(ident: str) -> str:
        if ident == BONUS_CAP:
            return t("driver_bonus_cap")
        if ident == DEDUCTION:
            return t("driver_deduction")
        return _short(change.names.get(ident), t, ident)

    names = [t("wf_base")] + [label(str(i)) for i in shown.index]
    steps = list(shown.to_numpy(dtype=np.float64))
    if len(rest):
        names.append(t("wf_other", n=len(rest)))
        steps.append(float(rest.sum()))
    names.append(t("wf_candidate"))
    return names, steps


def plot_waterfall(
    source: Comparison | FirmChange,
    enterprise_id: str | None = None,
    year: int | None = None,
    ax: Axes | None = None,
    *,
    top: int = 8,
    lang: str = "zh",
) -> Figure:
    """Waterfall of one firm's total from the base to the candidate framework, per indicator.

    Parameters
    ----------
    source : Comparison or FirmChange
        A comparison (then give ``enterprise_id`` and ``year``) or one firm's change.
    enterprise_id, year : optional
        The firm-year, with a comparison.
    ax : matplotlib Axes, optional
    top : int
        Largest components drawn one by one; the rest are summed into one bar.
    lang : {"zh", "en"}

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    if isinstance(source, FirmChange):
        change = source
    else:
        found = firm_change(source, str(enterprise_id), int(year if year is not None else -1))
        if found is None:
            raise ValueError(MSG_FIRM.format(firm=enterprise_id, year=year))
        change = found
    names, steps = _waterfall_steps(change, t, top)
    with style.context():
        fig, ax = style.new_axes(ax, (6.4, 0.3 * len(names) + 1.2))
        y = np.arange(len(names))[::-1].astype(np.float64)
        ax.barh(y[0], change.base_total, color=style.COLORS["base"], height=0.6)
        level = change.base_total
        for i, step in enumerate(steps, start=1):
            color = style.COLORS["up"] if step > 0 else style.COLORS["down"]
            ax.barh(y[i], step, left=level, color=color, height=0.6)
            ax.text(
                level + step + (0.4 if step > 0 else -0.4),
                y[i],
                t.signed(step),
                va="center",
                ha="left" if step > 0 else "right",
                fontsize=7.5,
            )
            level += step
        ax.barh(y[-1], change.candidate_total, color=style.COLORS["candidate"], height=0.6)
        for yy, v in ((y[0], change.base_total), (y[-1], change.candidate_total)):
            ax.text(v + 0.4, yy, t.num(v, 2), va="center", ha="left", fontsize=7.5)
        ax.set_yticks(y, names)
        lo = min(0.0, change.base_total, change.candidate_total, level)
        hi = max(
            change.base_total, change.candidate_total, *(np.cumsum([change.base_total, *steps]))
        )
        ax.set_xlim(lo, hi * 1.12 + 1)
        ax.grid(axis="x")
        ax.set_xlabel(t("plot_waterfall_x"))
        ax.set_title(
            t("plot_waterfall_title", firm=f"{change.enterprise_id} · {change.year}"), loc="left"
        )
    style.use_fonts(ax)
    return fig


# --- seat shares ----------------------------------------------------------------------------------


def plot_seat_shares(
    comparison: Comparison,
    by: str = "park",
    ax: Axes | None = None,
    *,
    top: int = 12,
    lang: str = "zh",
) -> Figure:
    """Share of list seats per slice (park, industry, stage, carrier) under both frameworks.

    Only the ``top`` slices with most seats are drawn (most first).

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    shares = comparison.seat_shares(by)
    seats_all = (shares["seats_base"] + shares["seats_candidate"]).to_numpy()
    order = np.argsort(-seats_all, kind="stable")[:top]
    part = shares.iloc[order]
    labels = []
    for v in part.index:
        if by == "stage" and str(v) in comparison.base.stage_ids:
            labels.append(t.pick(comparison.base.stage(str(v)).name))
        elif by == "industry":
            labels.append(_wrap(industry_name(str(v), lang), 24))
        else:
            labels.append(str(v))
    n = len(part)
    dim = t(f"dim_{by}") if t.has(f"dim_{by}") else by
    with style.context():
        fig, ax = style.new_axes(ax, (6.0, 0.38 * n + 1.3))
        y = np.arange(n)[::-1].astype(np.float64)
        h = 0.38
        ax.barh(
            y + h / 2,
            part["share_base"].fillna(0.0).to_numpy(),
            height=h,
            color=style.COLORS["base"],
            label=t("fw_base"),
        )
        ax.barh(
            y - h / 2,
            part["share_candidate"].fillna(0.0).to_numpy(),
            height=h,
            color=style.COLORS["candidate"],
            label=t("fw_candidate"),
        )
        ax.set_yticks(y, labels)
        ax.xaxis.set_major_formatter(lambda v, _pos: f"{100 * v:.0f}%")
        ax.grid(axis="x")
        ax.set_xlabel(t("plot_seats_x"))
        ax.set_title(t("plot_seats_title", dim=dim), loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    style.use_fonts(ax)
    return fig


# --- rank intervals -----------------------------------------------------------------------------


def plot_rank_intervals(
    sensitivity: RankUncertainty,
    ax: Axes | None = None,
    *,
    n: int = 15,
    threshold: float = 0.8,
    lang: str = "zh",
) -> Figure:
    """Rank intervals of the ``n`` firms whose list is least certain (line: interval, dot: median).

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    sel = sensitivity.uncertain(threshold).head(n)
    k = len(sel)
    with style.context():
        fig, ax = style.new_axes(ax, (6.4, 0.26 * max(k, 1) + 1.3))
        y = np.arange(k)[::-1].astype(np.float64)
        lo = sel["rank_low"].to_numpy(dtype=np.float64, na_value=np.nan)
        hi = sel["rank_high"].to_numpy(dtype=np.float64, na_value=np.nan)
        med = sel["rank_median"].to_numpy(dtype=np.float64, na_value=np.nan)
        now = sel["rank"].to_numpy(dtype=np.float64, na_value=np.nan)
        ax.hlines(y, lo, hi, color=style.COLORS["interval"], linewidth=5)
        ax.scatter(
            med, y, color=style.COLORS["suggested"], s=20, zorder=3, label=t("legend_rank_median")
        )
        ax.scatter(
            now,
            y,
            facecolors="white",
            edgecolors=style.COLORS["current"],
            s=26,
            zorder=4,
            label=t("legend_rank_now"),
        )
        labels = [f"{e} · {yr}" for e, yr in zip(sel["enterprise_id"], sel["year"], strict=True)]
        ax.set_yticks(y, labels)
        ax.invert_xaxis()
        ax.grid(axis="x")
        ax.set_xlabel(t("plot_ranks_x"))
        ax.set_title(t("plot_ranks_title"), loc="left")
        if k:
            ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    style.use_fonts(ax)
    return fig


# --- edit path -------------------------------------------------------------------------------------


def plot_edit_path(
    edits: Sequence[EditStep], metric: str, ax: Axes | None = None, *, lang: str = "zh"
) -> Figure:
    """Cumulative gain per edit: the change of ``metric`` from step 0, on training and held-out years.

    Parameters
    ----------
    edits : sequence of EditStep
        The edit path of a calibration block (step 0 = the starting framework).
    metric : str
        A metric name both ``train`` and ``held_out`` of the steps carry.
    ax : matplotlib Axes, optional
    lang : {"zh", "en"}

    Returns
    -------
    matplotlib.figure.Figure
    """
    t = Translator(lang)
    if not edits:
        raise ValueError(MSG_NO_EDITS)
    steps = np.array([e.step for e in edits], dtype=np.float64)
    name = t(f"m_{metric}") if t.has(f"m_{metric}") else metric
    with style.context():
        fig, ax = style.new_axes(ax, (6.8, 3.0))
        for key, color, marker in (
            ("train", style.COLORS["current"], "s"),
            ("held_out", style.COLORS["suggested"], "o"),
        ):
            vals = np.array(
                [getattr(e, key).get(metric, math.nan) for e in edits], dtype=np.float64
            )
            gain = vals - vals[0]
            ax.plot(steps, gain, marker=marker, color=color, label=t(f"legend_{key}"))
        ax.axhline(0.0, color="#bbbbbb", linewidth=0.8, zorder=0)
        ax.set_xticks(steps, [str(int(x)) for x in steps])
        ax.set_xlabel(t("plot_edits_x"))
        ax.set_ylabel(t("plot_edits_y", metric=name))
        ax.grid(axis="y")
        ax.set_title(t("plot_edits_title"), loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
    style.use_fonts(ax)
    return fig
