"""The report model: what a report can show (:class:`ReportInputs`) and what every section
reads (:class:`ReportContext`), plus the small content blocks the section partials render.

One model, filled from whatever inputs are given: a live :class:`~calibrate.suggest.Suggestion`
or only a suggested framework file with its ``calibration`` block give the same sections.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from calibrate.compare import UNLISTED_STATES, Comparison
from calibrate.framework import Framework
from calibrate.report import style
from calibrate.report._data import (
    BONUS_CAP,
    DEDUCTION,
    indicator_name,
    latest_year,
    parse_drivers,
    year_comparison,
)
from calibrate.report.calibration import (
    CalibrationBlock,
    noise_stages,
    read_calibration,
)
from calibrate.report.i18n import Translator
from calibrate.report.industries import industry_name
from calibrate.scoring import ScoreResult
from calibrate.suggest import Suggestion

if TYPE_CHECKING:
    from calibrate.explain import ShapResult
    from calibrate.models import FitResult
    from calibrate.sensitivity import RankUncertainty

__all__ = ["SECTIONS", "ReportContext", "ReportInputs", "Section"]

#: Section ids in report order (also the HTML ``id`` of each ``<section>``); stable, so readers
#: and tests can link to them.
SECTIONS = (
    "overview",
    "points",
    "calibration",
    "uncertainty",
    "edits",
    "compare",
    "subgroups",
    "firms",
    "warnings",
    "provenance",
)
_TITLE_KEYS = {sid: f"sec_{sid}" for sid in SECTIONS}

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
#: Metric names of the within-group AUC, today's name first (see :mod:`calibrate.metrics`).
AUC_NAMES = ("auc_within_group",)
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
        Firms to draw cards for; default: entrants and leavers of every list spread over stages
        and tiers.
    title : str, optional
    synthetic : bool
        The data are synthetic (a banner and a limitation say so).
    notes : list of str
        Extra notes for the provenance section.
    calibration : CalibrationBlock, optional
        The candidate's calibration block (default: read from the candidate framework, with the
        suggestion's bootstrap draws when a suggestion is given).
    year : int, optional
        The year under review: lists, counts and example firms are of this year (default: the
        latest year of the scores).
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
    calibration: CalibrationBlock | None = None
    year: int | None = None

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
class Section:
    id: str
    title: str
    blocks: list[dict[str, Any]] = field(default_factory=list)
    omitted: str | None = None


@dataclass(frozen=True)
class _PointsSource:
    """What the points plots read: a points table (with names and groups) and the framework."""

    points: pd.DataFrame
    base: Framework


def _calibration_of(inputs: ReportInputs, candidate: Framework | None) -> CalibrationBlock | None:
    """The candidate's calibration block, with a live suggestion's bootstrap draws when given."""
    if candidate is None:
        return None
    s = inputs.suggestion
    draws = s.bootstrap_draws if s is not None and len(s.bootstrap_draws) else None
    return read_calibration(candidate, draws=draws)


# --- the context ---------------------------------------------------------------------------------


class ReportContext:
    """What every section reads: the inputs, resolved once (comparison of the year under review,
    calibration block, noisy stages), and the names and numbers in the report's language."""

    def __init__(self, inputs: ReportInputs, lang: str, max_cards: int) -> None:
        self.inp = inputs
        self.t = Translator(lang)
        self.lang = lang
        self.max_cards = max_cards
        self.s = inputs.suggestion
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
        self.cal = inputs.calibration or _calibration_of(inputs, self.cand)
        self.c_all = inputs.resolved_comparison()
        self.year = inputs.year
        if self.year is None and self.c_all is not None:
            self.year = latest_year(self.c_all.base_scores)
        self.c = (
            year_comparison(self.c_all, self.year)
            if self.c_all is not None and self.year is not None
            else self.c_all
        )
        self.noise = (
            noise_stages(self.cal.warnings, self.cand.stage_ids)
            if self.cal is not None and self.cand is not None
            else frozenset()
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
        if state in UNLISTED_STATES:
            return self.t(f"state_{state}")
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

    def section(self, sid: str) -> Section:
        return Section(sid, self.t(_TITLE_KEYS[sid]))

    def omit(self, sid: str, why_key: str) -> Section:
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

    def oracle_auc(self) -> float | None:
        for name, values in (self.inp.extra_metrics or {}).items():
            if "oracle" in str(name).lower() and AUC_NAMES[0] in values:
                return float(values[AUC_NAMES[0]])
        return None

    # -- sections -----------------------------------------------------------------------------------

    def basis(self, years: tuple[int, ...] | list[int], train: tuple[int, ...] | None) -> str:
        """What a set of metrics was computed on: the years, and whether they were fitted on.

        ``train`` None: nothing says which years were fitted on ("all years, in-sample").
        """
        t = self.t
        if train is None:
            return t("basis_unsplit", years=t.years(years))
        overlap = [y for y in years if y in set(train)]
        if years and not overlap:
            return t("basis_held_out", years=t.years(years))
        return t("basis_in_sample", years=t.years(years), train=t.years(overlap))

    def labelled_years(self) -> list[int]:
        c = self.c_all
        if c is None or c.labels is None:
            return []
        mask = c.labels.notna().to_numpy()
        years = c.base_scores.frame["year"].to_numpy(dtype=np.int64)[mask]
        return sorted({int(y) for y in years})

    def metric_name(self, name: str) -> str:
        """Display name of a metric (by its name in :mod:`calibrate.metrics`; the raw name if unknown)."""
        key = f"m_{name}"
        return self.t(key) if self.t.has(key) else name

    def points_view(self) -> pd.DataFrame | None:
        """The suggested points with names, groups and marks, stages in the framework's order.

        From the candidate's calibration block (marks computed by the engine: ``confident``,
        ``unsure``, ``pinned``; none when the engine gave none), else from a live suggestion
        (no marks). A confident point of a stage the warnings call "mostly noise" is shown as
        ``noise`` instead.
        """
        fw = self.cand or self.inp.base
        if self.cal is not None and self.cal.points:
            pts = self.cal.points_frame()
        elif self.s is not None:
            pts = self.s.points.assign(mark="", pinned="")
        else:
            return None
        pts = pts[pts["indicator"].isin(fw.indicator_ids) & pts["stage"].isin(fw.stage_ids)]
        noisy = pts["stage"].isin(self.noise) & (pts["mark"] == "confident")
        pts = pts.assign(mark=pts["mark"].where(~noisy, "noise"))
        ind_pos = {ident: k for k, ident in enumerate(fw.indicator_ids)}
        stage_pos = {sid: k for k, sid in enumerate(fw.stage_ids)}
        pts = pts.assign(
            _s=pts["stage"].map(stage_pos),
            _i=pts["indicator"].map(ind_pos),
            group=[fw.indicator(i).group for i in pts["indicator"]],
            name_zh=[fw.indicator(i).name.zh for i in pts["indicator"]],
            name_en=[fw.indicator(i).name.en for i in pts["indicator"]],
        )
        return (
            pts.sort_values(["_s", "_i"], kind="stable")
            .drop(columns=["_s", "_i"])
            .reset_index(drop=True)
        )

    def mark_text(self, mark: str, pinned: str) -> str:
        t = self.t
        if mark == "pinned":
            return t(f"mark_pinned_{pinned}")
        return t(f"mark_{mark}") if mark else ""

    def uncertain_firms(self, ru: RankUncertainty) -> pd.DataFrame:
        """Firms of the year under review whose most likely list has probability below the threshold."""
        unc = ru.uncertain(UNCERTAIN_THRESHOLD)
        if self.year is not None and "year" in unc.columns:
            unc = unc[unc["year"].to_numpy(dtype=np.int64) == self.year]
        return unc

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

    def stage_short(self, sid: str) -> str:
        return self.stage(sid, short=True)

    def value_name(self, dim: str, value: Any) -> str:
        """A stage or industry by name (industry codes via the GB/T 4754 table), others as given."""
        if dim == "stage":
            return self.stage(str(value))
        if dim == "industry":
            return industry_name(str(value), self.lang)
        return str(value)


_CJK = re.compile(r"[\u4e00-\u9fff]")


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

    def key(k: Any) -> str:
        """A constraint key in words (``max_change`` → 最大调整幅度); other keys (ids) as given."""
        return t(f"ck_{k}") if t.has(f"ck_{k}") else str(k)

    def show(v: Any, nested: bool = False) -> str:
        if isinstance(v, Mapping):
            inner = t("sep").join(f"{key(k)} {show(x, True)}" for k, x in v.items())
            return t("paren", x=inner).strip() if nested else inner
        if isinstance(v, list | tuple):
            return t("and").join(show(x, True) for x in v)
        if isinstance(v, bool):
            return t("yes") if v else t("no")
        return t.num(v, 4) if isinstance(v, int | float) else str(v)

    return t("sep_items").join(f"{key(k)}{t('colon')}{show(v)}" for k, v in constraints.items())
