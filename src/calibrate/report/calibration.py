"""The ``calibration`` block of a suggested framework, read as the report needs it.

A suggested framework file carries its own evidence (see ``DESIGN.md``, "Suggested framework"):
the years the points were fitted on and the years held out, per-point bootstrap intervals (with
``pinned`` and ``confident`` computed by the suggestion engine), held-out metrics, the direction
checks, the ordered edit path and the name of the file with the stored bootstrap draws. The
report reads that block — never a live :class:`~calibrate.suggest.Suggestion` — so the demo's
report and ``calibrate report --candidate SUGGESTED.yaml`` show the same thing.

Nothing is recomputed here: a point is ``confident`` only when the engine said so, an interval is
``pinned`` only when the engine said so, and metrics are ``held_out`` only for the years the block
lists as held out and not among its training years.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from calibrate.exceptions import CalibrateError
from calibrate.framework import Framework

__all__ = [
    "CalibrationBlock",
    "CalibrationError",
    "DirectionCheck",
    "EditStep",
    "MetricSet",
    "PointRow",
    "read_calibration",
]

MSG_BLOCK = "{where}: calibration.{path}: {found}; {fix}"
MSG_DRAWS_MISSING = (
    "{where}: calibration.bootstrap_draws_file names {file}, which does not exist next to the "
    "framework file; put the draws file beside the YAML or remove the key"
)
MSG_DRAWS_COLUMNS = "{file}: the bootstrap draws need columns {need}; found {have}"

PINNED = ("bound", "max_change")
DRAW_COLUMNS = ("draw", "indicator", "stage", "points")


class CalibrationError(CalibrateError, ValueError):
    """A calibration block that does not follow the contract (message names the YAML path)."""


def _float(value: Any) -> float:
    if value is None or isinstance(value, bool):
        return math.nan
    try:
        return float(value)
    except (TypeError, ValueError):
        return math.nan


def _int(value: Any, default: int) -> int:
    x = _float(value)
    return default if math.isnan(x) else int(x)


def _years(value: Any) -> tuple[int, ...]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return ()
    out = []
    for v in value:
        try:
            out.append(int(v))
        except (TypeError, ValueError):
            continue
    return tuple(sorted(set(out)))


@dataclass(frozen=True)
class PointRow:
    """One indicator × stage of the suggested points table."""

    indicator: str
    stage: str
    current: float
    suggested: float
    low: float
    high: float
    pinned: str | None  # None, "bound" or "max_change"
    confident: bool | None  # None: the engine did not say (then no mark is shown)

    @property
    def change(self) -> float:
        return self.suggested - self.current

    @property
    def mark(self) -> str:
        """``pinned``, ``confident``, ``unsure`` or ``""`` (no claim made)."""
        if self.pinned is not None:
            return "pinned"
        if self.confident is None:
            return ""
        return "confident" if self.confident else "unsure"


@dataclass(frozen=True)
class MetricSet:
    """Metrics of two frameworks on named years, with whether those years were used for fitting.

    ``held_out`` is true only when every year is outside the training years; ``years`` empty
    means "all years of the data" (then the metrics are in-sample whenever anything was fitted).
    """

    values: dict[str, tuple[float, float]]  # metric -> (current, suggested)
    years: tuple[int, ...]
    train_years: tuple[int, ...]

    @property
    def held_out(self) -> bool:
        return bool(self.years) and not set(self.years) & set(self.train_years)

    @property
    def in_sample_years(self) -> tuple[int, ...]:
        return tuple(y for y in self.years if y in set(self.train_years))


@dataclass(frozen=True)
class DirectionCheck:
    """Does an indicator's rule direction agree with its association with the outcome?"""

    indicator: str
    rule_direction: int
    marginal: float
    conditional: float
    sign_probability: float
    verdict: str
    action: str


@dataclass(frozen=True)
class EditStep:
    """One step of the edit path (step 0 is the starting framework)."""

    step: int
    move: str
    indicator: str | None
    text_zh: str
    text_en: str
    train: dict[str, float]
    held_out: dict[str, float]
    chosen_share: float
    firms_changing_list: int

    def text(self, lang: str) -> str:
        """The edit in ``lang``, or in the other language when only that one exists."""
        first, other = (
            (self.text_zh, self.text_en) if lang == "zh" else (self.text_en, self.text_zh)
        )
        return first or other


@dataclass(frozen=True)
class CalibrationBlock:
    """The parts of a calibration block the report shows (all optional but the years)."""

    raw: Mapping[str, Any]
    target: str | None
    direction: str | None
    horizon: int | None
    objective: str | None
    train_years: tuple[int, ...]
    test_years: tuple[int, ...]
    n_bootstrap: int
    points: tuple[PointRow, ...]
    held_out: MetricSet | None
    directions: tuple[DirectionCheck, ...]
    edits: tuple[EditStep, ...]
    warnings: tuple[str, ...]
    draws: pd.DataFrame | None = field(default=None, repr=False)
    draws_file: Path | None = None

    @property
    def has_marks(self) -> bool:
        """Whether the engine computed confidence marks from a bootstrap (else none are shown:
        without intervals there is nothing a mark could say)."""
        return any(
            p.confident is not None and not (math.isnan(p.low) or math.isnan(p.high))
            for p in self.points
        )

    def points_frame(self) -> pd.DataFrame:
        """The points as a table (``indicator, stage, current, suggested, low, high, change, pinned, mark``)."""
        return pd.DataFrame(
            [
                {
                    "indicator": p.indicator,
                    "stage": p.stage,
                    "current": p.current,
                    "suggested": p.suggested,
                    "low": p.low,
                    "high": p.high,
                    "change": p.change,
                    "pinned": p.pinned or "",
                    "mark": p.mark,
                }
                for p in self.points
            ],
            columns=[
                "indicator",
                "stage",
                "current",
                "suggested",
                "low",
                "high",
                "change",
                "pinned",
                "mark",
            ],
        )


def _points(raw: Any, where: str) -> tuple[PointRow, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        raise CalibrationError(
            MSG_BLOCK.format(
                where=where, path="points", found="not a list", fix="write one mapping per point"
            )
        )
    out = []
    for i, p in enumerate(raw):
        if not isinstance(p, Mapping) or "indicator" not in p or "stage" not in p:
            raise CalibrationError(
                MSG_BLOCK.format(
                    where=where,
                    path=f"points[{i}]",
                    found=f"{p!r}",
                    fix="each point needs at least indicator and stage",
                )
            )
        pinned = p.get("pinned")
        if pinned is not None and pinned not in PINNED:
            raise CalibrationError(
                MSG_BLOCK.format(
                    where=where,
                    path=f"points[{i}].pinned",
                    found=f"{pinned!r}",
                    fix="use null, bound or max_change",
                )
            )
        conf = p.get("confident")
        out.append(
            PointRow(
                indicator=str(p["indicator"]),
                stage=str(p["stage"]),
                current=_float(p.get("current")),
                suggested=_float(p.get("suggested")),
                low=_float(p.get("low")),
                high=_float(p.get("high")),
                pinned=str(pinned) if pinned is not None else None,
                confident=bool(conf) if conf is not None else None,
            )
        )
    return tuple(out)


def _metric_set(
    raw: Mapping[str, Any], train: tuple[int, ...], test: tuple[int, ...]
) -> MetricSet | None:
    held = raw.get("held_out")
    if not isinstance(held, Mapping) or not held:
        return None
    values: dict[str, tuple[float, float]] = {}
    for name, pair in held.items():
        if isinstance(pair, Mapping):
            values[str(name)] = (_float(pair.get("current")), _float(pair.get("suggested")))
    years = _years(raw.get("held_out_years")) or test
    return MetricSet(values, years, train)


def _directions(raw: Any) -> tuple[DirectionCheck, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return ()
    return tuple(
        DirectionCheck(
            indicator=str(d.get("indicator")),
            rule_direction=_int(d.get("rule_direction"), 1),
            marginal=_float(d.get("marginal")),
            conditional=_float(d.get("conditional")),
            sign_probability=_float(d.get("sign_probability")),
            verdict=str(d.get("verdict", "")),
            action=str(d.get("action", "")),
        )
        for d in raw
        if isinstance(d, Mapping)
    )


def _metrics_map(raw: Any) -> dict[str, float]:
    if not isinstance(raw, Mapping):
        return {}
    return {str(k): _float(v) for k, v in raw.items()}


def _edits(raw: Any) -> tuple[EditStep, ...]:
    if not isinstance(raw, Sequence) or isinstance(raw, str):
        return ()
    steps = [
        EditStep(
            step=_int(e.get("step"), i),
            move=str(e.get("move", "")),
            indicator=None if e.get("indicator") is None else str(e.get("indicator")),
            text_zh=str(e.get("text_zh") or ""),
            text_en=str(e.get("text_en") or ""),
            train=_metrics_map(e.get("train")),
            held_out=_metrics_map(e.get("held_out")),
            chosen_share=_float(e.get("chosen_share")),
            firms_changing_list=_int(e.get("firms_changing_list"), 0),
        )
        for i, e in enumerate(raw)
        if isinstance(e, Mapping)
    ]
    return tuple(sorted(steps, key=lambda s: s.step))


def read_draws(path: Path) -> pd.DataFrame:
    """The stored bootstrap draws (``draw, indicator, stage, points``) of a suggestion."""
    table = pd.read_csv(path, encoding="utf-8-sig")
    missing = [c for c in DRAW_COLUMNS if c not in table.columns]
    if missing:
        raise CalibrationError(
            MSG_DRAWS_COLUMNS.format(
                file=path, need=", ".join(DRAW_COLUMNS), have=", ".join(map(str, table.columns))
            )
        )
    return table[list(DRAW_COLUMNS)]


def read_calibration(
    framework: Framework,
    source: str | Path | None = None,
    *,
    draws: pd.DataFrame | None = None,
) -> CalibrationBlock | None:
    """The calibration block of ``framework`` (None when it has none).

    Parameters
    ----------
    framework : Framework
    source : path, optional
        The YAML file the framework was read from; ``bootstrap_draws_file`` is looked up
        beside it.
    draws : DataFrame, optional
        Bootstrap draws already in memory (a live suggestion's); they win over the file.
    """
    raw = framework.calibration
    if not raw:
        return None
    where = str(source) if source is not None else framework.id
    train, test = _years(raw.get("train_years")), _years(raw.get("test_years"))
    draws_file = None
    name = raw.get("bootstrap_draws_file")
    if draws is None and name and source is not None:
        draws_file = Path(source).parent / str(name)
        if not draws_file.is_file():
            raise CalibrationError(MSG_DRAWS_MISSING.format(where=where, file=name))
        draws = read_draws(draws_file)
    warnings = raw.get("warnings") or ()
    horizon = raw.get("horizon")
    return CalibrationBlock(
        raw=raw,
        target=None if raw.get("target") is None else str(raw.get("target")),
        direction=None if raw.get("direction") is None else str(raw.get("direction")),
        horizon=int(horizon) if isinstance(horizon, int | float) else None,
        objective=None if raw.get("objective") is None else str(raw.get("objective")),
        train_years=_years(raw.get("train_years")) or train,
        test_years=test,
        n_bootstrap=_int(raw.get("n_bootstrap"), 0),
        points=_points(raw.get("points"), where),
        held_out=_metric_set(raw, train, test),
        directions=_directions(raw.get("directions")),
        edits=_edits(raw.get("edits")),
        warnings=tuple(str(w) for w in warnings),
        draws=draws,
        draws_file=draws_file,
    )


_NOISE = re.compile(r"^\s*(all stages|stage (\S+?)):.*mostly noise", re.IGNORECASE)


def noise_stages(warnings: Sequence[str], stage_ids: Sequence[str]) -> frozenset[str]:
    """Stages a warning calls "mostly noise" (all of them for an ``all stages:`` warning).

    No point of such a stage may carry a confident mark, whatever its interval says.
    """
    out: set[str] = set()
    for w in warnings:
        m = _NOISE.match(str(w))
        if m is None:
            continue
        out.update(stage_ids if m.group(2) is None else [m.group(2)])
    return frozenset(out)


#: Metric the edit path is shown on, first present wins (names of :mod:`calibrate.metrics`).
EDIT_METRICS = ("auc_within_group", "auc_pooled", "prec_top10")


def edit_metric(edits: Sequence[EditStep]) -> str:
    """The metric the edit path is drawn on: the first of :data:`EDIT_METRICS` the steps carry."""
    have = {k for e in edits for k in (*e.held_out, *e.train)}
    for name in EDIT_METRICS:
        if name in have:
            return name
    return sorted(have)[0] if have else "auc_within_group"


_FEW_EVENTS = re.compile(
    r"^(?P<where>all stages|stage (?P<stage>\S+?)): (?P<events>\d+) training firm-years with "
    r"(?P<rarer>.+?) for (?P<free>\d+) free point values \((?P<ratio>[\d.]+) per value; "
    r"(?P<minimum>\d+) is the usual minimum\)"
)


def translate_warning(text: str, lang: str, stage_name: Callable[[str], str]) -> str:
    """A warning of the suggestion engine in the report's language.

    The engine writes its warnings in English; the known ones are rendered in Chinese for
    ``lang="zh"``, any other is shown as written with a note that only English exists.
    """
    if lang != "zh":
        return text
    m = _FEW_EVENTS.match(text)
    if m is None:
        return f"{text}（仅有英文原文）"
    where = "所有阶段" if m.group("stage") is None else f"“{stage_name(m.group('stage'))}”阶段"
    rarer = m.group("rarer")
    rarer_zh = f"未发生 {rarer[3:]}" if rarer.startswith("no ") else f"发生 {rarer}"
    return (
        f"{where}：训练数据中只有 {m.group('events')} 个{rarer_zh}的企业-年度，却要确定 "
        f"{m.group('free')} 个可调分值（每个 {m.group('ratio')} 个，通常至少需要 "
        f"{m.group('minimum')} 个）——这些建议分值大多是噪声。可合并阶段（same_across_stages）、"
        "收紧最大调整幅度（max_change），或增加年份、园区。"
    )
