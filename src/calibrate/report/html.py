"""The explainability report: one self-contained HTML file (and optionally its PDF).

:func:`build_report` turns whatever result objects are at hand — a :class:`Suggestion`, a
:class:`Comparison`, rank uncertainty, SHAP importance, a model fit, extra metrics — into one
HTML file with every plot embedded as a base64 PNG and the CSS inline: it opens offline, with no
CDN and no external font. Text comes from :mod:`calibrate.report.i18n` (Chinese by default,
English with ``lang="en"``); indicators are always named in both languages.

Sections, in order: summary, data and method, official vs suggested points, held-out metrics,
global drivers, what-if, uncertainty, fairness notes, firm cards, limitations. A section whose
input is absent keeps its heading and says why it is omitted, so a report can be built from a
suggestion alone or from a comparison alone.

The same inputs give the same bytes: no timestamps, PNGs without software metadata, every table
in a fixed order.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

import calibrate
from calibrate.compare import Comparison
from calibrate.explain.points import REASONS, compare_gaming
from calibrate.explain.points import nearest_path as value_path
from calibrate.framework import Framework
from calibrate.report import plots, style
from calibrate.report._data import (
    BONUS_CAP,
    DEDUCTION,
    MetricsTable,
    firm_change,
    indicator_name,
    metrics_table,
    nearest_path,
    parse_drivers,
)
from calibrate.report.i18n import Translator
from calibrate.report.pdf import html_to_pdf
from calibrate.scoring import ScoreResult
from calibrate.suggest import Suggestion

if TYPE_CHECKING:
    from calibrate.explain import ShapResult
    from calibrate.models import FitResult
    from calibrate.sensitivity import RankUncertainty

__all__ = ["SECTIONS", "ReportFiles", "ReportInputs", "build_report", "render_html"]

#: Section ids in report order (also the HTML ``id`` of each ``<section>``).
SECTIONS = (
    "summary",
    "data-method",
    "points",
    "metrics",
    "drivers",
    "what-if",
    "uncertainty",
    "fairness",
    "cards",
    "limitations",
)
_TITLE_KEYS = {
    "summary": "sec_summary",
    "data-method": "sec_data",
    "points": "sec_points",
    "metrics": "sec_metrics",
    "drivers": "sec_drivers",
    "what-if": "sec_whatif",
    "uncertainty": "sec_uncertainty",
    "fairness": "sec_fairness",
    "cards": "sec_cards",
    "limitations": "sec_limitations",
}

MSG_INPUTS = "build_report needs ReportInputs, a Suggestion or a Comparison; got {found}"
MSG_SCORES = (
    "{which}_scores were computed with framework {got!r}, not with the {which} framework {want!r}"
)

#: Rows shown per list and direction in the entrants / leavers tables.
MAX_MOVERS = 8
#: Uncertain firms listed.
MAX_UNCERTAIN = 15
#: Probability below which a firm's list counts as uncertain.
UNCERTAIN_THRESHOLD = 0.8
#: Seat-share changes smaller than this (in share, 0.005 = 0.5 points) are not called out.
FAIR_MIN_CHANGE = 0.005
#: Largest movements named per dimension in the fairness notes.
FAIR_TOP = 3
#: Few events make held-out metrics noisy.
FEW_EVENTS = 30
#: Fewer bootstrap samples than this make intervals rough.
FEW_BOOTSTRAP = 50
#: Rows of the gaming table.
MAX_GAMING = 8
#: Slices whose seat shares are shown.
SEAT_DIMS = ("park", "industry", "stage")


@dataclass
class ReportInputs:
    """Everything a report can show; all optional except the base framework.

    Attributes
    ----------
    base : Framework
        Today's (official) framework.
    candidate : Framework, optional
        The framework compared with it (default: the suggestion's or the comparison's).
    suggestion : Suggestion, optional
    comparison : Comparison, optional
        Built from ``base_scores`` and ``candidate_scores`` when those are given instead.
    sensitivity : RankUncertainty, optional
    shap : ShapResult, optional
    fit : FitResult, optional
    extra_metrics : dict, optional
        More held-out metric columns: ``{"oracle": {"auc_within_group": …}, "best baseline (entropy)": {…}}``.
    data : pandas.DataFrame, optional
        The enterprise table (for sample sizes).
    base_scores, candidate_scores : ScoreResult, optional
    firms : list of (enterprise_id, year), optional
        Firms to draw cards for; default: the first entrants and leavers of the best list.
    title : str, optional
    synthetic : bool
        The data are synthetic (a banner and a limitation say so).
    notes : list of str
        Extra notes for the limitations section.
    """

    base: Framework
    candidate: Framework | None = None
    suggestion: Suggestion | None = None
    comparison: Comparison | None = None
    sensitivity: RankUncertainty | None = None
    shap: ShapResult | None = None
    fit: FitResult | None = None
    extra_metrics: dict[str, dict[str, float]] | None = None
    data: pd.DataFrame | None = None
    base_scores: ScoreResult | None = None
    candidate_scores: ScoreResult | None = None
    firms: list[tuple[str, int]] | None = None
    title: str | None = None
    synthetic: bool = False
    notes: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, source: ReportInputs | Suggestion | Comparison) -> ReportInputs:
        """Inputs from a suggestion or a comparison alone (inputs are returned unchanged)."""
        if isinstance(source, ReportInputs):
            return source
        if isinstance(source, Suggestion):
            return cls(base=source.base, suggestion=source)
        if isinstance(source, Comparison):
            return cls(base=source.base, comparison=source)
        raise TypeError(MSG_INPUTS.format(found=type(source).__name__))

    @property
    def candidate_framework(self) -> Framework | None:
        """The candidate: given, or the suggestion's, or the comparison's."""
        if self.candidate is not None:
            return self.candidate
        if self.suggestion is not None:
            return self.suggestion.framework
        if self.comparison is not None:
            return self.comparison.candidate
        return None

    def resolved_comparison(self) -> Comparison | None:
        """The comparison, or one assembled from ``base_scores`` and ``candidate_scores``."""
        if self.comparison is not None:
            return self.comparison
        if self.base_scores is None or self.candidate_scores is None:
            return None
        return Comparison(
            self.base_scores.framework,
            self.candidate_scores.framework,
            self.base_scores,
            self.candidate_scores,
        )


@dataclass(frozen=True)
class ReportFiles:
    """The files written: the HTML report and the PDF (None when not asked for or no browser)."""

    html: Path
    pdf: Path | None = None

    def __iter__(self) -> Iterator[Path | None]:
        return iter((self.html, self.pdf))


# --- blocks (rendered by the template's macros) -----------------------------------------------------


def _p(text: str) -> dict[str, Any]:
    return {"kind": "p", "text": text}


def _note(text: str) -> dict[str, Any]:
    return {"kind": "note", "text": text}


def _h(text: str, level: int = 3) -> dict[str, Any]:
    return {"kind": "h", "text": text, "level": level}


def _ul(items: list[str]) -> dict[str, Any]:
    return {"kind": "ul", "items": items}


def _kv(items: list[tuple[str, str]]) -> dict[str, Any]:
    return {"kind": "kv", "items": items}


def _table(
    columns: list[str],
    rows: list[list[str]],
    numeric: list[bool] | None = None,
    caption: str | None = None,
    *,
    wrap: tuple[int, ...] = (0,),
) -> dict[str, Any]:
    """A table block; columns in ``wrap`` (default: the first) may wrap, the others stay on one line."""
    numeric = numeric or [False] * len(columns)
    classes = [
        " ".join(c for c in ("num" if numeric[j] else "", "wrap" if j in wrap else "") if c)
        for j in range(len(columns))
    ]
    return {
        "kind": "table",
        "columns": columns,
        "rows": rows,
        "classes": classes,
        "caption": caption,
    }


@dataclass
class _Section:
    id: str
    title: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    omitted: str | None = None


# --- the builder ---------------------------------------------------------------------------------


class _Builder:
    """Turns :class:`ReportInputs` into the template's sections, in one language."""

    def __init__(self, inputs: ReportInputs, lang: str, max_cards: int) -> None:
        self.inp = inputs
        self.t = Translator(lang)
        self.lang = lang
        self.max_cards = max_cards
        self.s = inputs.suggestion
        self.c = inputs.resolved_comparison()
        self.cand = inputs.candidate_framework
        self.figures = 0
        self._fingerprints: dict[int, str] = {}
        for which, scores, fw in (
            ("base", inputs.base_scores, inputs.base),
            ("candidate", inputs.candidate_scores, self.cand),
        ):
            if scores is not None and fw is not None and scores.framework != fw:
                raise ValueError(
                    MSG_SCORES.format(which=which, got=scores.framework.id, want=fw.id)
                )

    # -- names -----------------------------------------------------------------------------------
    def frameworks(self) -> list[Framework]:
        return [
            fw
            for fw in (
                self.inp.base,
                self.cand,
                self.c.base if self.c else None,
                self.c.candidate if self.c else None,
            )
            if fw is not None
        ]

    def ind(self, ident: str) -> str:
        name = indicator_name(ident, *self.frameworks())
        return self.t.both(name) if name is not None else ident

    def stage(self, sid: str, *, short: bool = False) -> str:
        for fw in self.frameworks():
            if sid in fw.stage_ids:
                name = fw.stage(sid).name
                return self.t.pick(name) if short else self.t.both(name)
        return sid

    def state(self, state: str, fw: Framework | None = None) -> str:
        if state == "none":
            return self.t("state_none")
        if state == "vetoed":
            return self.t("state_vetoed")
        for f in ([fw] if fw is not None else []) + self.frameworks():
            for tier in f.tiers:
                if tier.id == state:
                    return self.t.both(tier.name)
        return state

    def list_label(self, label: str) -> str:
        if "/" in label:
            return " / ".join(self.state(part) for part in label.split("/"))
        return self.state(label)

    def fw_name(self, fw: Framework) -> str:
        return self.t.both(fw.name)

    def fingerprint(self, fw: Framework) -> str:
        """``fw.fingerprint``, computed once per framework (it dumps the whole YAML)."""
        key = id(fw)
        if key not in self._fingerprints:
            known = {id(self.c.base): 0, id(self.c.candidate): 1} if self.c is not None else {}
            self._fingerprints[key] = (
                self.c.fingerprints[known[key]]
                if self.c is not None and key in known
                else fw.fingerprint
            )
        return self._fingerprints[key]

    def fw_full(self, fw: Framework) -> str:
        return self.t(
            "v_framework",
            name=self.fw_name(fw),
            id=fw.id,
            version=fw.version,
            fp=self.fingerprint(fw),
        )

    def target(self, event: str | None) -> str:
        if event is None:
            return "–"
        key = f"event_{event}"
        return f"{self.t(key)}{self.t('paren', x=event)}" if self.t.has(key) else event

    def objective(self, objective: str) -> str:
        key = f"obj_{objective}"
        return self.t(key) if self.t.has(key) else objective

    def figure(self, fig: Figure, alt: str, caption: str | None = None) -> dict[str, Any]:
        self.figures += 1
        return {
            "kind": "figure",
            "src": style.to_data_uri(fig),
            "alt": alt,
            "caption": caption,
            "n": self.figures,
        }

    def section(self, sid: str) -> _Section:
        return _Section(sid, self.t(_TITLE_KEYS[sid]))

    def omit(self, sid: str, why_key: str) -> _Section:
        sec = self.section(sid)
        sec.omitted = self.t("omitted", why=self.t(why_key))
        return sec

    # -- data shared by sections -------------------------------------------------------------------
    def panel_frame(self) -> pd.DataFrame | None:
        if self.inp.data is not None:
            return self.inp.data
        if self.inp.base_scores is not None:
            return self.inp.base_scores.frame
        if self.c is not None:
            return self.c.base_scores.frame
        return None

    def metrics(self) -> MetricsTable | None:
        labels = {
            "current": self.t("fw_current"),
            "suggested": self.t("fw_suggested"),
            "base": self.t("fw_base"),
            "candidate": self.t("fw_candidate"),
            "fit": self.t("fw_fit", name=type(self.inp.fit.estimator).__name__)
            if self.inp.fit
            else "",
        }
        return metrics_table(
            labels,
            suggestion=self.s,
            comparison=self.c,
            fit=self.inp.fit,
            extra=self.inp.extra_metrics,
        )

    def oracle_auc(self) -> float | None:
        for name, values in (self.inp.extra_metrics or {}).items():
            if "oracle" in str(name).lower() and "auc_within_group" in values:
                return float(values["auc_within_group"])
        return None

    # -- sections -----------------------------------------------------------------------------------
    def build(self) -> list[_Section]:
        return [
            self.summary(),
            self.data_method(),
            self.points(),
            self.held_out(),
            self.drivers(),
            self.what_if(),
            self.uncertainty(),
            self.fairness(),
            self.cards(),
            self.limitations(),
        ]

    def summary(self) -> _Section:
        t, s, c = self.t, self.s, self.c
        sec = self.section("summary")
        if s is not None:
            m = s.metrics["current"]
            sec.blocks.append(
                _p(
                    t(
                        "sum_tested_suggest",
                        base=self.fw_name(s.base),
                        horizon=s.horizon,
                        target=self.target(s.target),
                        train=t.years(s.train_years),
                        objective=self.objective(s.objective),
                        test=t.years(s.test_years),
                        n=t.num(m.get("n")),
                        events=t.num(m.get("events")),
                    )
                )
            )
        elif c is not None:
            sec.blocks.append(
                _p(
                    t(
                        "sum_tested_compare",
                        n=t.num(c.n_firms),
                        base=self.fw_name(c.base),
                        candidate=self.fw_name(c.candidate),
                    )
                )
            )
        else:
            sec.blocks.append(_p(t("sum_tested_base", base=self.fw_name(self.inp.base))))
        if s is not None:
            diff = s.diff()
            if len(diff) == 0:
                sec.blocks.append(_p(t("sum_no_change")))
            else:

                def moves(part: pd.DataFrame) -> str:
                    items = [
                        f"{self.ind(str(r.indicator))}"
                        f"{t('paren', x=self.stage(str(r.stage), short=True) + ' ' + t.signed(r.change))}"
                        for r in part.head(3).itertuples()
                    ]
                    return t.join(items)

                sec.blocks.append(
                    _p(
                        t(
                            "sum_changed_points",
                            n_changed=len(diff),
                            n_cells=len(s.points),
                            ups=moves(diff[diff["change"] > 0]),
                            downs=moves(diff[diff["change"] < 0]),
                        )
                    )
                )
        if c is not None:
            o = c.overall
            sec.blocks.append(
                _p(
                    t(
                        "sum_changed_lists",
                        entered=t.num(o["entered"]),
                        left=t.num(o["left"]),
                        rho=t.num(o["spearman"]),
                        gained=t.num(o["subsidy_gained"]),
                        lost=t.num(o["subsidy_lost"]),
                        net=t.signed(o["subsidy_net_wan"]),
                    )
                )
            )
        table = self.metrics()
        if table is not None and table.source in ("suggestion", "comparison"):
            f = table.frame
            a0, a1 = (float(f.iloc[:, j].get("auc_within_group", math.nan)) for j in (0, 1))
            p0, p1 = (float(f.iloc[:, j].get("prec_top10", math.nan)) for j in (0, 1))
            delta = a1 - a0
            verdict = (
                "verdict_same"
                if not abs(delta) > 0.005
                else ("verdict_better" if delta > 0 else "verdict_worse")
            )
            sec.blocks.append(
                _p(
                    t(
                        "sum_metrics",
                        auc0=t.num(a0),
                        auc1=t.num(a1),
                        verdict=t(verdict),
                        p0=t.pct(p0),
                        p1=t.pct(p1),
                    )
                )
            )
            oracle = self.oracle_auc()
            if oracle is not None:
                sec.blocks.append(_p(t("sum_oracle", auc=t.num(oracle))))
        if s is not None:
            if s.n_bootstrap == 0:
                sec.blocks.append(_p(t("sum_no_boot")))
            else:
                changed = s.points[s.points["change"] != 0]
                sure = int(
                    (
                        (changed["low"] > changed["current"])
                        | (changed["high"] < changed["current"])
                    ).sum()
                )
                sec.blocks.append(
                    _p(
                        t(
                            "sum_bootstrap",
                            n_boot=s.n_bootstrap,
                            k_sure=sure,
                            k_unsure=len(changed) - sure,
                        )
                    )
                )
                if s.n_bootstrap < FEW_BOOTSTRAP:
                    sec.blocks.append(_note(t("sum_few_boot", n_boot=s.n_bootstrap)))
        if self.inp.sensitivity is not None:
            ru = self.inp.sensitivity
            k = int((ru.frame["p_most_likely"] < UNCERTAIN_THRESHOLD).sum())
            sec.blocks.append(
                _p(
                    t(
                        "sum_uncertain",
                        draws=t.num(ru.n_draws),
                        k=t.num(k),
                        threshold=t.pct(UNCERTAIN_THRESHOLD, 0),
                    )
                )
            )
        return sec

    def data_method(self) -> _Section:
        t, s, c = self.t, self.s, self.c
        sec = self.section("data-method")
        items: list[tuple[str, str]] = [(t("k_base"), self.fw_full(self.inp.base))]
        if self.cand is not None:
            items.append((t("k_candidate"), self.fw_full(self.cand)))
        frame = self.panel_frame()
        if frame is not None and len(frame):
            firms = (
                frame["enterprise_id"].nunique() if "enterprise_id" in frame.columns else math.nan
            )
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
                (t("k_target"), self.target(s.target)),
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
                    f"{self.objective(s.objective)}{t('paren', x=s.objective + ' · ' + s.solver)}",
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
                    (t("k_target"), self.target(c.target)),
                    (t("k_horizon"), t("v_horizon", h=c.horizon)),
                ]
        sec.blocks.append(_kv(items))
        if s is not None:
            sec.blocks.append(_p(t("method_suggest")))
        if c is not None:
            sec.blocks.append(_p(t("method_compare")))
        return sec

    def points(self) -> _Section:
        t, s = self.t, self.s
        if s is None:
            return self.omit("points", "why_no_suggestion")
        sec = self.section("points")
        sec.blocks.append(_p(t("points_intro")))
        sec.blocks.append(_note(t("points_sure_note")))
        pts = s.points
        stages = list(dict.fromkeys(pts["stage"].astype(str)))
        with style.context():
            fig = plots.plot_points_grid(s, stages, lang=self.lang)
        sec.blocks.append(self.figure(fig, t("sec_points")))
        for stage in stages:
            sec.blocks.append(_h(t("points_stage", stage=self.stage(stage))))
            rows = []
            part = pts[pts["stage"].astype(str) == stage]
            for r, low, high, cur in zip(
                part.itertuples(),
                part["low"].to_numpy(dtype=np.float64),
                part["high"].to_numpy(dtype=np.float64),
                part["current"].to_numpy(dtype=np.float64),
                strict=True,
            ):
                sure = bool(np.isfinite(low) and (low > cur or high < cur))
                group = (
                    s.base.group(str(r.group)).name
                    if str(r.group) in {g.id for g in s.base.groups}
                    else None
                )
                rows.append(
                    [
                        self.ind(str(r.indicator)),
                        t.pick(group) if group is not None else str(r.group),
                        t.num(r.current, 2),
                        t.num(r.suggested, 2),
                        f"[{t.num(low, 2)}, {t.num(high, 2)}]" if np.isfinite(low) else "–",
                        t.signed(r.change) + (" ★" if sure else ""),
                    ]
                )
            sec.blocks.append(
                _table(
                    [
                        t("col_indicator"),
                        t("col_group"),
                        t("col_current"),
                        t("col_suggested"),
                        t("col_interval"),
                        t("col_change"),
                    ],
                    rows,
                    [False, False, True, True, True, True],
                )
            )
        return sec

    def held_out(self) -> _Section:
        t = self.t
        table = self.metrics()
        if table is None:
            return self.omit("metrics", "why_no_metrics")
        sec = self.section("metrics")
        sec.blocks.append(_p(t("metrics_intro")))
        if table.source == "suggestion" and self.s is not None:
            sec.blocks.append(
                _kv(
                    [
                        (t("k_test"), t.years(self.s.test_years)),
                        (t("k_target"), self.target(self.s.target)),
                    ]
                )
            )
        if (
            table.source == "comparison"
            and self.c is not None
            and self.c.outcome_metrics is not None
        ):
            sec.blocks.append(
                _note(t("metrics_compare_note", n=t.num(self.c.outcome_metrics.loc["n", "base"])))
            )
        with style.context():
            fig = plots.plot_metrics(table, lang=self.lang)
        sec.blocks.append(self.figure(fig, t("plot_metrics_title")))
        f = table.frame
        rows = []
        for metric in f.index:
            digits = 0 if metric in ("n", "events") else 3
            label = t(f"m_{metric}") if t.has(f"m_{metric}") else str(metric)
            rows.append([label, *[t.num(v, digits) for v in f.loc[metric]]])
        sec.blocks.append(
            _table(
                [t("col_metric"), *[str(c) for c in f.columns]], rows, [False] + [True] * f.shape[1]
            )
        )
        if any("oracle" in str(c).lower() for c in f.columns):
            sec.blocks.append(_note(t("metrics_oracle_note")))
        if self.s is not None and table.source == "suggestion":
            by = self.s.metrics_by_year
            if len(by) and by["year"].nunique() > 1:
                auc = by[by["metric"] == "auc_within_group"].pivot(
                    index="year", columns="framework", values="value"
                )
                sec.blocks.append(_h(t("metrics_by_year"), 4))
                sec.blocks.append(
                    _table(
                        [t("col_year"), t("fw_current"), t("fw_suggested")],
                        [
                            [str(y), t.num(auc.at[y, "current"]), t.num(auc.at[y, "suggested"])]
                            for y in auc.index
                        ],
                        [False, True, True],
                    )
                )
        return sec

    def drivers(self) -> _Section:
        t, sh = self.t, self.inp.shap
        if sh is None:
            return self.omit("drivers", "why_no_shap")
        sec = self.section("drivers")
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
        if self.inp.fit is not None:
            sec.blocks.append(
                _p(
                    t(
                        "shap_fit",
                        model=type(self.inp.fit.estimator).__name__,
                        auc=t.num(self.inp.fit.auc),
                    )
                )
            )
        with style.context():
            fig = plots.plot_shap(sh, framework=self.inp.base, lang=self.lang)
        sec.blocks.append(self.figure(fig, t("plot_shap_title")))
        imp = sh.importance.head(15)
        rows = [
            [
                str(int(r["rank"])),
                self.ind(str(feat)),
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

    def component(self, ident: str) -> str:
        """Name of a points component: an indicator, the bonus cap's effect or deductions."""
        if ident == BONUS_CAP:
            return self.t("driver_bonus_cap")
        if ident == DEDUCTION:
            return self.t("driver_deduction")
        return self.ind(ident)

    def reasons(self, text: Any) -> str:
        parts = parse_drivers(text)
        if not parts:
            return str(text) if isinstance(text, str) and text else "–"
        return "; ".join(
            f"{self.component(ident)} {self.t.signed(value)}" for ident, value in parts
        )

    def what_if(self) -> _Section:
        t, c = self.t, self.c
        if c is None:
            return self.omit("what-if", "why_no_comparison")
        sec = self.section("what-if")
        o = c.overall
        sec.blocks.append(
            _p(t("whatif_intro", base=self.fw_full(c.base), candidate=self.fw_full(c.candidate)))
        )
        sec.blocks.append(_h(t("h_rank")))
        sec.blocks.append(
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
        sec.blocks.append(_h(t("h_transitions")))
        sec.blocks.append(_p(t("transitions_intro")))
        with style.context():
            fig = plots.plot_transitions(c, lang=self.lang)
        sec.blocks.append(self.figure(fig, t("plot_transitions_title")))
        trans = c.transitions()
        sec.blocks.append(
            _table(
                [
                    f"{t('axis_base')} \\ {t('axis_candidate')}",
                    *[self.state(str(x), c.candidate) for x in trans.columns],
                ],
                [
                    [self.state(str(r), c.base), *[t.num(v) for v in trans.loc[r]]]
                    for r in trans.index
                ],
                [False] + [True] * trans.shape[1],
            )
        )
        if c.n_lists:
            sec.blocks.append(_h(t("h_lists")))
            sec.blocks.append(
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
                            self.list_label(str(r.list)),
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
        sec.blocks.append(_h(t("h_movers")))
        movers = c.movers
        if len(movers) == 0:
            sec.blocks.append(_p(t("movers_none")))
        else:
            sec.blocks.append(_p(t("movers_intro")))
            for label in c.list_ids:
                for change, key in (("entered", "movers_entered"), ("left", "movers_left")):
                    part = movers[(movers["list"] == label) & (movers["change"] == change)]
                    if len(part) == 0:
                        continue
                    sec.blocks.append(_h(t(key, list=self.list_label(label)), 4))
                    shown = part.head(MAX_MOVERS)
                    margin = "margin_candidate" if change == "entered" else "margin_base"
                    rows = [
                        [
                            str(r["enterprise_id"]),
                            str(r["year"]),
                            str(r.get("park", "–")),
                            self.stage(str(r["stage"]), short=True),
                            t(f"dir_{r['direction']}"),
                            f"{t.num(r['rank_base'])} → {t.num(r['rank_candidate'])}",
                            t.signed(r["total_change"]),
                            t.signed(r[margin]),
                            self.reasons(r["drivers"]),
                        ]
                        for _, r in shown.iterrows()
                    ]
                    sec.blocks.append(
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
        sec.blocks.append(_h(t("h_subsidies")))
        subs = c.subsidies
        if not (subs[["paid_base_wan", "paid_candidate_wan"]].to_numpy() > 0).any():
            sec.blocks.append(_p(t("subsidies_none")))
        else:
            rows = [
                [
                    t("total_row") if str(st) == "total" else self.stage(str(st)),
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
            sec.blocks.append(
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
        if c.n_lists:
            for dim in SEAT_DIMS:
                if dim not in c.firms.columns:
                    continue
                dim_name = t(f"dim_{dim}")
                sec.blocks.append(_h(t("h_seats", dim=dim_name)))
                with style.context():
                    fig = plots.plot_seat_shares(c, dim, lang=self.lang)
                sec.blocks.append(self.figure(fig, t("plot_seats_title", dim=dim_name)))
                shares = c.seat_shares(dim)
                order = np.argsort(
                    -(shares["seats_base"] + shares["seats_candidate"]).to_numpy(), kind="stable"
                )
                top = shares.iloc[order[:12]]
                rows = [
                    [
                        self.stage(str(v)) if dim == "stage" else str(v),
                        t.num(r["seats_base"]),
                        t.num(r["seats_candidate"]),
                        t.pct(r["share_base"]),
                        t.pct(r["share_candidate"]),
                        t.signed(100 * r["share_change"], 2),
                    ]
                    for v, r in top.iterrows()
                ]
                caption = (
                    t("seats_top_note", n=len(top), dim=dim_name, total=len(shares))
                    if len(shares) > len(top)
                    else None
                )
                sec.blocks.append(
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
        return sec

    def uncertainty(self) -> _Section:
        t, ru = self.t, self.inp.sensitivity
        if ru is None:
            return self.omit("uncertainty", "why_no_sensitivity")
        sec = self.section("uncertainty")
        lo = round(100 * (1 - ru.level) / 2)
        sec.blocks.append(
            _p(
                t(
                    "unc_intro",
                    framework=self.fw_name(ru.framework),
                    draws=t.num(ru.n_draws),
                    sampler=type(ru.weights).__name__,
                    level=t("unc_level", lo=lo, hi=100 - lo),
                )
            )
        )
        sec.blocks.append(_h(t("h_stability")))
        stab = ru.stability(UNCERTAIN_THRESHOLD)
        sec.blocks.append(
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
                        self.state(str(tier), ru.framework),
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
        sec.blocks.append(_h(t("h_uncertain")))
        unc = ru.uncertain(UNCERTAIN_THRESHOLD)
        if len(unc) == 0:
            sec.blocks.append(_p(t("unc_none")))
            return sec
        shown = unc.head(MAX_UNCERTAIN)
        sec.blocks.append(
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
                ru, n=MAX_UNCERTAIN, threshold=UNCERTAIN_THRESHOLD, lang=self.lang
            )
        sec.blocks.append(self.figure(fig, t("plot_ranks_title")))
        rows = [
            [
                str(r["enterprise_id"]),
                str(r["year"]),
                str(r.get("park", "–")),
                self.stage(str(r["stage"]), short=True),
                self.state(str(r["tier"]), ru.framework),
                t.num(r["rank"]),
                f"{t.num(r['rank_low'])}–{t.num(r['rank_high'])}",
                self.state(str(r["most_likely_tier"]), ru.framework),
                t.pct(r["p_most_likely"]),
            ]
            for _, r in shown.iterrows()
        ]
        sec.blocks.append(
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
        return sec

    def fairness(self) -> _Section:
        t, c = self.t, self.c
        if c is None and self.cand is None:
            return self.omit("fairness", "why_no_comparison")
        sec = self.section("fairness")
        sec.blocks.append(_h(t("h_seat_fairness")))
        if c is None:
            sec.blocks.append(_note(t("omitted", why=t("why_no_comparison"))))
        elif not c.n_lists:
            sec.blocks.append(_p(t("fair_no_lists")))
        else:
            sec.blocks.append(_p(t("fair_intro")))
            sec.blocks.append(
                _ul([self.seat_note(c, dim) for dim in SEAT_DIMS if dim in c.firms.columns])
            )
        if self.cand is not None:
            sec.blocks += self.gaming(self.inp.base, self.cand)
        return sec

    def seat_note(self, c: Comparison, dim: str) -> str:
        """Who gains or loses list seats along one dimension, in words."""
        t = self.t
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
                    who=self.stage(str(v)) if dim == "stage" else str(v),
                    pp=t.num(abs(100 * r["share_change"]), 1),
                    b=t.num(r["seats_base"]),
                    c=t.num(r["seats_candidate"]),
                )
            )
        return t("fair_dim", dim=dim_name, items=t("fair_sep").join(words))

    def gaming(self, base: Framework, candidate: Framework) -> list[dict[str, Any]]:
        """Which indicators the candidate makes cheaper to inflate (:func:`calibrate.explain.compare_gaming`)."""
        t = self.t
        g = compare_gaming(base, candidate, self.inp.data)
        out = [_h(t("h_gaming")), _p(t("gaming_intro"))]
        cheaper = g.cheaper()
        paper = g.cheaper(manipulable=True)
        if not len(cheaper):
            return [*out, _p(t("gaming_none"))]
        out.append(_p(t("gaming_count", n=len(cheaper), m=len(paper))))
        if not len(paper):
            return out
        reasons = g.base.frame.drop_duplicates("indicator").set_index("indicator")
        reason_col = "manipulable_reason_zh" if self.lang == "zh" else "manipulable_reason"
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
                    self.ind(ident),
                    self.stage(stage, short=True),
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

    def card_firms(self) -> list[tuple[str, int]]:
        if self.inp.firms is not None:
            return [(str(e), int(y)) for e, y in self.inp.firms]
        c = self.c
        if c is None or c.n_lists == 0:
            return []
        picked: list[tuple[str, int]] = []
        half = max(1, self.max_cards // 2)
        for frame in (c.entered(0).head(half), c.left(0).head(half)):
            for _, r in frame.iterrows():
                key = (str(r["enterprise_id"]), int(r["year"]))
                if key not in picked:
                    picked.append(key)
        return picked[: self.max_cards]

    def cards(self) -> _Section:
        t, c = self.t, self.c
        if c is None:
            return self.omit("cards", "why_no_scores")
        firms = self.card_firms()
        if not firms:
            return self.omit("cards", "why_no_firms")
        sec = self.section("cards")
        sec.blocks.append(_p(t("cards_intro")))
        for firm, year in firms:
            change = firm_change(c, firm, year)
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
                        tb=self.state(change.tier_base, c.base),
                        tc=self.state(change.tier_candidate, c.candidate),
                        sb=t.num(change.subsidy_base),
                        sc=t.num(change.subsidy_candidate),
                    )
                )
            )
            with style.context():
                fig = plots.plot_waterfall(change, lang=self.lang)
                fig_block = self.figure(fig, t("plot_waterfall_title", firm=f"{firm} · {year}"))
            blocks.append(fig_block)
            comp = change.components
            order = list(comp.index)
            ids = sorted(
                (i for i in order if abs(float(comp[i])) > 1e-9),
                key=lambda i: (-abs(float(comp[i])), order.index(i)),
            )
            rows = [
                [
                    self.component(str(i)),
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
            blocks += self.path_blocks(c.candidate_scores, change.row, firm, year)
            title = t(
                "card_title",
                firm=firm,
                year=year,
                park=change.park or "–",
                stage=self.stage(change.stage),
            )
            sec.blocks.append({"kind": "card", "title": title, "blocks": blocks})
        return sec

    def path_blocks(
        self, scores: ScoreResult, row: int, firm: str, year: int
    ) -> list[dict[str, Any]]:
        """Nearest path to the next list under ``scores.framework``.

        With the enterprise table, :func:`calibrate.explain.points.nearest_path` gives, per
        indicator, the raw value that alone lifts the firm onto the list. Without it (or when no
        single indicator is enough) the fewest indicators whose unearned points close the gap
        are listed (:func:`calibrate.report._data.nearest_path`).
        """
        t = self.t
        fw = scores.framework
        out: list[dict[str, Any]] = []
        if self.inp.data is not None:
            path = value_path(fw, self.inp.data, scores, firm, year)
            target = self.state(path.target, fw) if path.target else "–"
            if path.reason == "top":
                return [_p(t("path_top", list=self.state(path.tier, fw) if path.tier else target))]
            if path.reason is not None:
                name = REASONS.get(path.reason)
                return [_p(t.pick(name) if name is not None else path.reason)]
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
                            self.ind(str(ident)),
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
                return out
            out.append(_note(t("path_no_single")))
        path_pts = nearest_path(scores, row)
        tier = self.state(path_pts.tier, fw) if path_pts.tier else "–"
        if path_pts.status == "top":
            return out + [_p(t("path_top", list=tier))]
        if path_pts.status == "vetoed":
            return out + [_p(t("path_vetoed"))]
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
                        indicator=self.ind(ident),
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

    def limitations(self) -> _Section:
        t, s = self.t, self.s
        sec = self.section("limitations")
        sec.blocks.append(_h(t("h_reconstructed")))
        sec.blocks.append(_p(t("lim_reconstructed")))
        seen: dict[str, Framework] = {}
        for fw in self.frameworks():
            seen.setdefault(self.fingerprint(fw), fw)
        shown: list[tuple[Framework, list[tuple[str, str]]]] = []
        for fw in seen.values():
            items = fw.reconstructed()
            if not items:
                sec.blocks.append(_p(t("lim_fw_none", name=self.fw_name(fw), id=fw.id)))
                continue
            sec.blocks.append(_h(t("lim_fw", name=self.fw_name(fw), id=fw.id, n=len(items)), 4))
            same_as = next((prev for prev, prev_items in shown if prev_items), None)
            rest = items
            if same_as is not None:
                earlier = set(same_as.reconstructed())
                rest = [it for it in items if it not in earlier]
                if len(rest) < len(items):
                    sec.blocks.append(
                        _note(
                            t("lim_shared", n=len(items) - len(rest), other=self.fw_name(same_as))
                        )
                    )
            sec.blocks.append(
                _table(
                    [t("col_element"), t("col_reasoning")],
                    [[self.element(what, fw), why or "–"] for what, why in rest],
                    wrap=(0, 1),
                )
            )
            shown.append((fw, items))
        if self.inp.synthetic:
            sec.blocks.append(_note(t("lim_synthetic")))
        sec.blocks.append(_h(t("h_samples")))
        sizes: list[str] = []
        frame = self.panel_frame()
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
        if self.c is not None:
            sizes.append(t("lim_compared", n=t.num(self.c.n_firms)))
        if self.inp.shap is not None:
            sizes.append(
                t(
                    "lim_shap",
                    used=t.num(self.inp.shap.n_rows_used),
                    total=t.num(self.inp.shap.n_rows_total),
                )
            )
        if self.inp.sensitivity is not None:
            sizes.append(t("lim_draws", n=t.num(self.inp.sensitivity.n_draws)))
        sec.blocks.append(_ul(sizes))
        if few:
            sec.blocks.append(_note(t("lim_few_events")))
        sec.blocks.append(_p(t("lim_general")))
        if self.inp.notes:
            sec.blocks.append(_h(t("h_notes")))
            sec.blocks.append(_ul([str(n) for n in self.inp.notes]))
        return sec

    def element(self, what: str, fw: Framework) -> str:
        kind, _, ident = what.partition(" ")
        key = f"kind_{kind}"
        label = f"{self.t(key)} {ident}" if self.t.has(key) else what
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
        return f"{label} · {self.t.both(name)}" if name is not None else label


def _ratio(value: float) -> str:
    """A rate ratio: ``×2.5`` (``×∞`` when the base rate was 0)."""
    if math.isinf(value):
        return "×∞"
    return f"×{value:.2f}".rstrip("0").rstrip(".")


def _value(value: Any, unit: str, t: Translator, *, signed: bool = False) -> str:
    """A raw indicator value with its unit: fractions as percentages, counts bare."""
    if unit == "fraction":
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        text = f"{100 * float(value):.2f}".rstrip("0").rstrip(".")
        text = t("pct", v=text)
        return f"+{text}" if signed and float(value) > 0 else text.replace("-", "−")
    text = t.signed(value, 2) if signed else t.num(value, 2)
    return text if unit in ("count", "0/1", "") or text == "–" else f"{text} {unit}"


def _constraints_text(constraints: Mapping[str, Any], t: Translator) -> str:
    if (
        not constraints
        or set(constraints) == {"granularity"}
        and float(constraints["granularity"]) == 1.0
    ):
        return t("constraints_none")

    def show(v: Any) -> str:
        if isinstance(v, Mapping):
            return "{" + ", ".join(f"{k}: {show(x)}" for k, x in v.items()) + "}"
        if isinstance(v, list | tuple):
            return "[" + ", ".join(show(x) for x in v) + "]"
        return t.num(v, 4) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)

    return "; ".join(f"{k}: {show(v)}" for k, v in constraints.items())


# --- rendering -----------------------------------------------------------------------------------


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("calibrate.report", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(
    inputs: ReportInputs | Suggestion | Comparison, *, lang: str = "zh", max_cards: int = 4
) -> str:
    """The report as one self-contained HTML string (see :func:`build_report`)."""
    inp = ReportInputs.of(inputs)
    builder = _Builder(inp, lang, max_cards)
    sections = builder.build()
    t = builder.t
    template = _environment().get_template("report.html.j2")
    return str(
        template.render(
            lang=t("html_lang"),
            title=inp.title or t("title_default"),
            subtitle=t("subtitle", version=calibrate.__version__),
            toc=t("toc"),
            synthetic=t("synthetic_banner") if inp.synthetic else None,
            frameworks=[builder.fw_full(fw) for fw in [inp.base, builder.cand] if fw is not None],
            sections=sections,
        )
    )


def _html_path(out: str | Path) -> Path:
    path = Path(out)
    if path.suffix.lower() in (".html", ".htm"):
        return path
    return path / "report.html"


def build_report(
    inputs: ReportInputs | Suggestion | Comparison,
    out: str | Path,
    *,
    lang: str = "zh",
    pdf: bool = False,
    max_cards: int = 4,
) -> ReportFiles:
    """Write the explainability report as one self-contained HTML file, and optionally a PDF.

    Parameters
    ----------
    inputs : ReportInputs, Suggestion or Comparison
        What to report; a suggestion or a comparison alone is enough (absent sections are
        omitted with a note).
    out : str or Path
        The HTML file (``….html``), or a directory to write ``report.html`` into.
    lang : {"zh", "en"}
        Chinese (default) or English.
    pdf : bool
        Also print the HTML to PDF (beside it, ``.pdf``) with headless Chromium. Without a
        browser the PDF is skipped with a :class:`~calibrate.report.pdf.ChromiumMissingWarning`.
    max_cards : int
        Firm cards drawn when ``inputs.firms`` is not given.

    Returns
    -------
    ReportFiles
        ``(html, pdf)``; ``pdf`` is None when not made.
    """
    text = render_html(inputs, lang=lang, max_cards=max_cards)
    path = _html_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    pdf_path = html_to_pdf(path) if pdf else None
    return ReportFiles(path, pdf_path)
