"""Turn a YAML mapping into a :class:`FrameworkData`, reporting every problem with its YAML path.

Parsing and validation are one pass: each reader appends a :class:`Problem` and carries on with a
placeholder, so a user sees all mistakes in a file at once (pandera's lazy validation).
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Mapping
from typing import Any, cast

from calibrate.exceptions import FrameworkError, Problem
from calibrate.framework.model import (
    Band,
    BandsRule,
    Benefit,
    BinaryRule,
    Condition,
    CountRule,
    Credit,
    CreditBand,
    Eligibility,
    FrameworkData,
    Group,
    Indicator,
    LinearRule,
    Name,
    Penalty,
    PercentileRule,
    PolicyList,
    Pool,
    Provenance,
    Rule,
    SeatOptions,
    Stage,
    StageValue,
    Subsidy,
    TieBreaker,
    Tier,
    value_at,
)

SCHEMA = "calibrate/framework@1"
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
_FRAMEWORK_ID = re.compile(r"^[a-z0-9][a-z0-9_.+-]*$")
_TOL = 1e-9

# Messages are constants so tests can compare them exactly (fairlearn habit).
MSG_UNKNOWN_KEY = "unknown key {key!r}{hint}; allowed keys: {allowed}"
MSG_MISSING_KEY = "required key {key!r} is missing"
MSG_NOT_NUMBER = "expected a number, found {found!r}"
MSG_NOT_MAPPING = "expected a mapping (key: value), found {found}"
MSG_NOT_LIST = "expected a list, found {found}"
MSG_BAD_ID = "id {found!r} must be lower-case letters, digits and '_' and start with a letter"
MSG_DUPLICATE_ID = "duplicate id {found!r} (first used at {first}); ids must be unique"
MSG_SCHEMA = (
    "schema must be {expected!r}, found {found!r}; this file was written for another version"
)
MSG_STAGE_GAP = (
    "stage {stage!r} starts at {start:g} but the previous stage {prev!r} ends at {end:g}; "
    "stages must be contiguous (each revenue_min equal to the previous revenue_max)"
)
MSG_STAGE_EMPTY = "revenue_max {hi:g} must be greater than revenue_min {lo:g}"
MSG_STAGE_OPEN = "only the last stage may leave revenue_max empty (open-ended)"
MSG_CORE_BUDGET = (
    "core points in stage {stage!r} add up to {total:g}, not the core budget {budget:g}; "
    "change the points of the core indicators ({ids}) so they sum to {budget:g}"
)
MSG_POINTS_STAGES = "points are missing for stage(s) {stages}; give points for every stage"
MSG_POINTS_UNKNOWN = "points given for unknown stage(s) {stages}; stages are {known}"
MSG_UNKNOWN_GROUP = "group {found!r} is not defined under groups ({known})"
MSG_UNKNOWN_STAGE = "stage {found!r} is not defined under stages ({known})"
MSG_TIERS_ORDER = (
    "top_fraction {found:g} must be larger than the previous tier's {prev:g}; "
    "list tiers from the smallest (best) list to the largest"
)
MSG_FRACTION_RANGE = "must be a fraction in (0, 1], found {found!r}"
MSG_BONUS_CAP = "a bonus group needs cap > 0 (the most bonus points a firm can earn)"
MSG_CORE_CAP = "a core group cannot have a cap; core groups share core_budget instead"
MSG_BANDS_ORDER = "band minimums must strictly increase; found {found} after {prev}"
MSG_BANDS_FRACTION = "with value_is: fraction each band value must be in [0, 1], found {found!r}"
MSG_BANDS_POINTS = (
    "with value_is: points the largest band value in stage {stage!r} is {top:g} but the indicator "
    "has {points:g} points there; make them equal (or 0 to switch it off) or use value_is: fraction"
)
MSG_LINEAR_EQUAL = "low and high are both {found:g} in stage {stage!r}; goalposts must differ"
MSG_LINEAR_DIRECTION = (
    "high > low in some stages and high < low in others; an indicator must reward the same "
    "direction in every stage (more is better, or less is better)"
)
MSG_DEDUCT_POINTS = "a deduct penalty needs points > 0 (how many points it takes away)"
MSG_VETO_POINTS = "a veto penalty takes no points (it removes the firm from ranking); drop 'points'"
MSG_PROVENANCE = (
    "provenance status {found!r} is not one of 'official', 'reconstructed'; "
    "say whether the number is published or reconstructed"
)
MSG_OFFICIAL_SOURCE = "official provenance needs a source (the document it comes from)"
MSG_RECONSTRUCTED_WHY = "reconstructed provenance needs reasoning (why this number)"
MSG_CHOICE = "must be one of {choices}, found {found!r}"
MSG_WHOLE = "must be a whole number >= {minimum} or left out, found {found!r}"
MSG_MIN_SEATS = "must be 0 or 1 (a non-empty group gets at least this many seats), found {found!r}"
MSG_TIE_BREAKER_NEEDED = (
    "ties: tie_breaker needs a top-level tie_breaker naming the column that orders tied firms; "
    "add tie_breaker: {column: COLUMN, order: higher_first} or use ties: all or none"
)
MSG_LIST_WITHIN = (
    "within {found!r} is not a tier or an earlier list ({known}); a list can only be nested in a "
    "tier or in a list defined before it"
)
MSG_LIST_STAGES = "stage {found!r} is not defined under stages ({known})"
MSG_BENEFIT_AMOUNT = "a {kind} benefit needs amount > 0 ({unit})"
MSG_POOL_INDICATOR = "{found!r} is not an indicator of this framework; indicators are {known}"
MSG_POOL_SIZE = (
    "a pool needs top_fraction, max_firms or min_score (how many firms it holds); give at least one"
)
MSG_POOL_EMPTY = "a pool needs at least one indicator"
MSG_ELIGIBILITY_EMPTY = "eligibility needs at least one condition"
MSG_CREDIT_ORDER = "min_total must strictly increase; found {found:g} after {prev:g}"
MSG_NEGATIVE = "must be >= 0, found {found!r}"


def _type_name(value: Any) -> str:
    if value is None:
        return "nothing"
    return type(value).__name__


class _Reader:
    """Reads a nested mapping, collecting problems instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self._missing: set[str] = set()  # paths already reported as missing keys

    def add(self, where: str, message: str) -> None:
        self.problems.append(Problem(where or "<top>", message))

    # -- primitives ---------------------------------------------------------------------------
    def mapping(self, value: Any, where: str) -> Mapping[str, Any] | None:
        if isinstance(value, Mapping):
            return value
        self.add(where, MSG_NOT_MAPPING.format(found=_type_name(value)))
        return None

    def keys(
        self, obj: Mapping[str, Any], where: str, required: set[str], optional: set[str]
    ) -> None:
        allowed = required | optional
        for key in obj:
            if key not in allowed:
                close = difflib.get_close_matches(str(key), sorted(allowed), n=1)
                hint = f" (did you mean {close[0]!r}?)" if close else ""
                self.add(
                    _join(where, str(key)),
                    MSG_UNKNOWN_KEY.format(key=key, hint=hint, allowed=", ".join(sorted(allowed))),
                )
        for key in sorted(required - set(obj)):
            self.add(_join(where, key), MSG_MISSING_KEY.format(key=key))
            self._missing.add(_join(where, key))

    def number(self, value: Any, where: str, *, minimum: float | None = None) -> float:
        if value is None and where in self._missing:
            return math.nan  # reported once, as a missing key
        if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
            self.add(where, MSG_NOT_NUMBER.format(found=value))
            return math.nan
        if minimum is not None and value < minimum:
            self.add(where, MSG_NEGATIVE.format(found=value))
        return float(value)

    def text(self, value: Any, where: str) -> str:
        if isinstance(value, str) and value.strip():
            return value
        if value is None and where in self._missing:
            return ""
        self.add(where, f"expected non-empty text, found {value!r}")
        return ""

    def ident(self, value: Any, where: str, pattern: re.Pattern[str] = _ID) -> str:
        if isinstance(value, str) and pattern.match(value):
            return value
        self.add(where, MSG_BAD_ID.format(found=value))
        return str(value)

    def choice(self, value: Any, where: str, choices: tuple[str, ...]) -> str:
        if value in choices:
            return cast(str, value)
        self.add(where, MSG_CHOICE.format(choices=", ".join(choices), found=value))
        return choices[0]

    def items(self, value: Any, where: str) -> list[Any]:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.add(where, MSG_NOT_LIST.format(found=_type_name(value)))
        return []

    def fraction(self, value: Any, where: str) -> float:
        number = self.number(value, where)
        if not math.isnan(number) and not 0.0 < number <= 1.0:
            self.add(where, MSG_FRACTION_RANGE.format(found=value))
        return number

    # -- shared structures --------------------------------------------------------------------
    def name(self, value: Any, where: str) -> Name:
        obj = self.mapping(value, where)
        if obj is None:
            return Name("", "")
        self.keys(obj, where, {"zh", "en"}, set())
        return Name(
            self.text(obj.get("zh"), _join(where, "zh")),
            self.text(obj.get("en"), _join(where, "en")),
        )

    def provenance(self, value: Any, where: str) -> Provenance:
        obj = self.mapping(value, where)
        if obj is None:
            return Provenance("reconstructed", reasoning="")
        self.keys(obj, where, {"status"}, {"source", "reasoning"})
        status = obj.get("status")
        source = obj.get("source")
        reasoning = obj.get("reasoning")
        if status not in ("official", "reconstructed"):
            if "status" in obj:
                self.add(_join(where, "status"), MSG_PROVENANCE.format(found=status))
            return Provenance("reconstructed", source=source, reasoning=reasoning)
        if status == "official" and not (isinstance(source, str) and source.strip()):
            self.add(_join(where, "source"), MSG_OFFICIAL_SOURCE)
        if status == "reconstructed" and not (isinstance(reasoning, str) and reasoning.strip()):
            self.add(_join(where, "reasoning"), MSG_RECONSTRUCTED_WHY)
        return Provenance(cast(Any, status), source=source, reasoning=reasoning)

    def stage_value(
        self, value: Any, where: str, stages: list[str], *, minimum: float | None = None
    ) -> StageValue:
        """A number, or a mapping with a number for every stage."""
        if isinstance(value, Mapping):
            self._stage_keys(value, where, stages)
            return {
                str(k): self.number(v, _join(where, str(k)), minimum=minimum)
                for k, v in value.items()
            }
        return self.number(value, where, minimum=minimum)

    def _stage_keys(self, value: Mapping[str, Any], where: str, stages: list[str]) -> None:
        if not stages:
            return  # the stages list itself is reported; per-stage keys cannot be checked
        missing = [s for s in stages if s not in value]
        unknown = [str(k) for k in value if k not in stages]
        if missing:
            self.add(where, MSG_POINTS_STAGES.format(stages=", ".join(missing)))
        if unknown:
            self.add(
                where, MSG_POINTS_UNKNOWN.format(stages=", ".join(unknown), known=", ".join(stages))
            )


def _join(where: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{where}[{key}]"
    return f"{where}.{key}" if where else key


def _unique_ids(reader: _Reader, seen: dict[str, str], ident: str, where: str) -> None:
    if ident in seen:
        reader.add(where, MSG_DUPLICATE_ID.format(found=ident, first=seen[ident]))
    else:
        seen[ident] = where


# --- sections ------------------------------------------------------------------------------


def _stages(r: _Reader, raw: Any) -> tuple[Stage, ...]:
    stages: list[Stage] = []
    seen: dict[str, str] = {}
    items = r.items(raw, "stages")
    if raw is not None and not items:
        r.add("stages", "a framework needs at least one stage")
    for i, item in enumerate(items):
        where = _join("stages", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(obj, where, {"id", "name", "revenue_min", "provenance"}, {"revenue_max"})
        ident = r.ident(obj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        lo = r.number(obj.get("revenue_min"), _join(where, "revenue_min"), minimum=0)
        hi_raw = obj.get("revenue_max")
        hi = None if hi_raw is None else r.number(hi_raw, _join(where, "revenue_max"))
        if hi is not None and not math.isnan(lo) and not math.isnan(hi) and hi <= lo:
            r.add(_join(where, "revenue_max"), MSG_STAGE_EMPTY.format(hi=hi, lo=lo))
        stages.append(
            Stage(
                ident,
                r.name(obj.get("name"), _join(where, "name")),
                lo,
                hi,
                r.provenance(obj.get("provenance"), _join(where, "provenance")),
            )
        )
    for i in range(1, len(stages)):
        prev, cur = stages[i - 1], stages[i]
        if prev.revenue_max is None:
            r.add(_join(_join("stages", i - 1), "revenue_max"), MSG_STAGE_OPEN)
        elif not (math.isnan(prev.revenue_max) or math.isnan(cur.revenue_min)) and (
            prev.revenue_max != cur.revenue_min
        ):
            r.add(
                _join(_join("stages", i), "revenue_min"),
                MSG_STAGE_GAP.format(
                    stage=cur.id, start=cur.revenue_min, prev=prev.id, end=prev.revenue_max
                ),
            )
    return tuple(stages)


def _groups(r: _Reader, raw: Any) -> tuple[Group, ...]:
    groups: list[Group] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(r.items(raw, "groups")):
        where = _join("groups", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(obj, where, {"id", "name", "kind", "provenance"}, {"cap"})
        ident = r.ident(obj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        kind = r.choice(obj.get("kind"), _join(where, "kind"), ("core", "bonus"))
        cap: float | None = None
        if kind == "bonus":
            if obj.get("cap") is None:
                r.add(_join(where, "cap"), MSG_BONUS_CAP)
            else:
                cap = r.number(obj.get("cap"), _join(where, "cap"))
                if not math.isnan(cap) and cap <= 0:
                    r.add(_join(where, "cap"), MSG_BONUS_CAP)
        elif obj.get("cap") is not None:
            r.add(_join(where, "cap"), MSG_CORE_CAP)
        groups.append(
            Group(
                ident,
                r.name(obj.get("name"), _join(where, "name")),
                cast(Any, kind),
                r.provenance(obj.get("provenance"), _join(where, "provenance")),
                cap,
            )
        )
    return tuple(groups)


def _bands(r: _Reader, raw: Any, where: str) -> tuple[Band, ...]:
    bands: list[Band] = []
    items = r.items(raw, where)
    if raw is not None and not items:
        r.add(where, "a band table needs at least one band")
    for i, item in enumerate(items):
        bwhere = _join(where, i)
        obj = r.mapping(item, bwhere)
        if obj is None:
            continue
        r.keys(obj, bwhere, {"min", "value"}, set())
        bands.append(
            Band(
                r.number(obj.get("min"), _join(bwhere, "min")),
                r.number(obj.get("value"), _join(bwhere, "value"), minimum=0),
            )
        )
    for i in range(1, len(bands)):
        if not bands[i].min > bands[i - 1].min:
            r.add(
                _join(_join(where, i), "min"),
                MSG_BANDS_ORDER.format(found=bands[i].min, prev=bands[i - 1].min),
            )
    return tuple(bands)


_RULE_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "linear": ({"kind", "low", "high"}, set()),
    "bands": ({"kind", "bands"}, {"value_is"}),
    "percentile": ({"kind"}, set()),
    "count": ({"kind", "per_unit"}, set()),
    "binary": ({"kind"}, set()),
}


def _rule(r: _Reader, raw: Any, where: str, stages: list[str]) -> Rule:  # noqa: C901 - one branch per rule kind of the schema
    obj = r.mapping(raw, where)
    if obj is None:
        return BinaryRule()
    if not isinstance(obj.get("kind"), str) or obj["kind"] not in _RULE_KEYS:
        r.choice(obj.get("kind"), _join(where, "kind"), tuple(_RULE_KEYS))
        return BinaryRule()  # its parameters cannot be checked against an unknown kind
    kind = str(obj["kind"])
    required, optional = _RULE_KEYS[kind]
    r.keys(obj, where, required, optional)
    if kind == "linear":
        low = r.stage_value(obj.get("low"), _join(where, "low"), stages)
        high = r.stage_value(obj.get("high"), _join(where, "high"), stages)
        for s in stages:
            try:
                lo, hi = value_at(low, s), value_at(high, s)
            except KeyError:
                continue
            if lo == hi:
                r.add(where, MSG_LINEAR_EQUAL.format(found=lo, stage=s))
        signs = set()
        for s in stages:
            try:
                signs.add(value_at(high, s) > value_at(low, s))
            except KeyError:
                continue
        if len(signs) > 1:
            r.add(where, MSG_LINEAR_DIRECTION)
        return LinearRule(low, high)
    if kind == "bands":
        value_is = r.choice(
            obj.get("value_is", "fraction"), _join(where, "value_is"), ("fraction", "points")
        )
        raw_bands = obj.get("bands")
        bwhere = _join(where, "bands")
        bands: tuple[Band, ...] | dict[str, tuple[Band, ...]]
        if isinstance(raw_bands, Mapping):
            r._stage_keys(raw_bands, bwhere, stages)
            bands = {str(k): _bands(r, v, _join(bwhere, str(k))) for k, v in raw_bands.items()}
            tables = list(bands.values())
        else:
            bands = _bands(r, raw_bands, bwhere)
            tables = [bands]
        if value_is == "fraction":
            for table in tables:
                for b in table:
                    if not math.isnan(b.value) and b.value > 1:
                        r.add(bwhere, MSG_BANDS_FRACTION.format(found=b.value))
        return BandsRule(bands, cast(Any, value_is))
    if kind == "percentile":
        return PercentileRule()
    if kind == "count":
        return CountRule(
            r.stage_value(obj.get("per_unit"), _join(where, "per_unit"), stages, minimum=0)
        )
    return BinaryRule()


def _indicators(
    r: _Reader, raw: Any, stages: list[str], groups: dict[str, Group], seen: dict[str, str]
) -> tuple[Indicator, ...]:
    indicators: list[Indicator] = []
    items = r.items(raw, "indicators")
    if raw is not None and not items:
        r.add("indicators", "a framework needs at least one indicator")
    for i, item in enumerate(items):
        where = _join("indicators", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(
            obj,
            where,
            {"id", "name", "unit", "group", "rule", "points", "provenance"},
            {"missing", "aliases", "description"},
        )
        ident = r.ident(obj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        group = obj.get("group")
        if not isinstance(group, str) or group not in groups:
            r.add(
                _join(where, "group"),
                MSG_UNKNOWN_GROUP.format(found=group, known=", ".join(groups)),
            )
        rule = _rule(r, obj.get("rule"), _join(where, "rule"), stages)
        points_raw = obj.get("points")
        pwhere = _join(where, "points")
        points: dict[str, float] = {}
        pobj = r.mapping(points_raw, pwhere) if points_raw is not None else None
        if points_raw is None:
            r.add(pwhere, MSG_MISSING_KEY.format(key="points"))
        if pobj is not None:
            r._stage_keys(pobj, pwhere, stages)
            points = {
                str(k): r.number(v, _join(pwhere, str(k)), minimum=0) for k, v in pobj.items()
            }
        if isinstance(rule, BandsRule) and rule.value_is == "points":
            for s in stages:
                if s in points and not math.isnan(points[s]):
                    try:
                        top = max((b.value for b in rule.bands_at(s)), default=0.0)
                    except KeyError:
                        continue
                    if abs(top - points[s]) > _TOL and points[s] != 0:  # 0 points switches it off
                        r.add(pwhere, MSG_BANDS_POINTS.format(stage=s, top=top, points=points[s]))
        aliases = tuple(str(a) for a in r.items(obj.get("aliases"), _join(where, "aliases")))
        for j, alias in enumerate(aliases):
            _unique_ids(r, seen, alias, _join(_join(where, "aliases"), j))
        indicators.append(
            Indicator(
                id=ident,
                name=r.name(obj.get("name"), _join(where, "name")),
                unit=r.text(obj.get("unit"), _join(where, "unit")),
                group=str(group),
                rule=rule,
                points=points,
                provenance=r.provenance(obj.get("provenance"), _join(where, "provenance")),
                missing=cast(
                    Any,
                    r.choice(
                        obj.get("missing", "zero"),
                        _join(where, "missing"),
                        ("zero", "error", "median"),
                    ),
                ),
                aliases=aliases,
                description=obj.get("description"),
            )
        )
    return tuple(indicators)


def _penalties(
    r: _Reader, raw: Any, stages: list[str], seen: dict[str, str]
) -> tuple[Penalty, ...]:
    penalties: list[Penalty] = []
    for i, item in enumerate(r.items(raw, "penalties")):
        where = _join("penalties", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(obj, where, {"id", "name", "action", "provenance"}, {"points", "aliases"})
        ident = r.ident(obj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        action = r.choice(obj.get("action"), _join(where, "action"), ("deduct", "veto"))
        points: StageValue | None = None
        if action == "deduct":
            if obj.get("points") is None:
                r.add(_join(where, "points"), MSG_DEDUCT_POINTS)
            else:
                points = r.stage_value(obj.get("points"), _join(where, "points"), stages, minimum=0)
                values = points.values() if isinstance(points, Mapping) else [points]
                if any(not math.isnan(v) and v <= 0 for v in values):
                    r.add(_join(where, "points"), MSG_DEDUCT_POINTS)
        elif obj.get("points") is not None:
            r.add(_join(where, "points"), MSG_VETO_POINTS)
        aliases = tuple(str(a) for a in r.items(obj.get("aliases"), _join(where, "aliases")))
        penalties.append(
            Penalty(
                ident,
                r.name(obj.get("name"), _join(where, "name")),
                cast(Any, action),
                r.provenance(obj.get("provenance"), _join(where, "provenance")),
                points,
                aliases,
            )
        )
    return tuple(penalties)


def _tiers(r: _Reader, raw: Any) -> tuple[Tier, ...]:
    tiers: list[Tier] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(r.items(raw, "tiers")):
        where = _join("tiers", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(obj, where, {"id", "name", "top_fraction", "provenance"}, set())
        ident = r.ident(obj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        frac = r.fraction(obj.get("top_fraction"), _join(where, "top_fraction"))
        if tiers and not math.isnan(frac) and not frac > tiers[-1].top_fraction:
            r.add(
                _join(where, "top_fraction"),
                MSG_TIERS_ORDER.format(found=frac, prev=tiers[-1].top_fraction),
            )
        tiers.append(
            Tier(
                ident,
                r.name(obj.get("name"), _join(where, "name")),
                frac,
                r.provenance(obj.get("provenance"), _join(where, "provenance")),
            )
        )
    return tuple(tiers)


def _subsidies(r: _Reader, raw: Any, stages: list[str]) -> tuple[Subsidy, ...]:
    out: list[Subsidy] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(r.items(raw, "subsidies")):
        where = _join("subsidies", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(
            obj,
            where,
            {"stage", "top_fraction", "amount_wan", "provenance"},
            {"max_firms", "seats"},
        )
        stage = obj.get("stage")
        if stage not in stages:
            r.add(
                _join(where, "stage"),
                MSG_UNKNOWN_STAGE.format(found=stage, known=", ".join(stages)),
            )
        else:
            _unique_ids(r, seen, str(stage), _join(where, "stage"))
        max_firms = _whole(r, obj.get("max_firms"), _join(where, "max_firms"))
        out.append(
            Subsidy(
                str(stage),
                r.fraction(obj.get("top_fraction"), _join(where, "top_fraction")),
                r.number(obj.get("amount_wan"), _join(where, "amount_wan"), minimum=0),
                r.provenance(obj.get("provenance"), _join(where, "provenance")),
                max_firms,
                _seat_options(r, obj.get("seats"), _join(where, "seats")),
            )
        )
    return tuple(out)


# --- lists, eligibility, pools, credit (what parks do with the ranking) -----------------------

_BENEFIT_UNITS = {
    "grade_up": "grades",
    "extra_points": "points",
    "subsidy": "万元",
    "credit": "万元",
    "other": "",
}


def _whole(r: _Reader, value: Any, where: str, minimum: int = 1) -> int | None:
    """An optional whole number >= ``minimum``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        r.add(where, MSG_WHOLE.format(minimum=minimum, found=value))
        return None
    return value


def _min_seats(r: _Reader, value: Any, where: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or value not in (0, 1):
        r.add(where, MSG_MIN_SEATS.format(found=value))
        return None
    return int(value)


def _seat_options(r: _Reader, raw: Any, where: str) -> SeatOptions:
    if raw is None:
        return SeatOptions()
    obj = r.mapping(raw, where)
    if obj is None:
        return SeatOptions()
    r.keys(obj, where, set(), {"rounding", "min_seats", "ties"})
    rounding = obj.get("rounding")
    ties = obj.get("ties")
    return SeatOptions(
        rounding=None
        if rounding is None
        else cast(Any, r.choice(rounding, _join(where, "rounding"), ("floor", "ceil", "round"))),
        min_seats=_min_seats(r, obj.get("min_seats"), _join(where, "min_seats")),
        ties=None
        if ties is None
        else cast(Any, r.choice(ties, _join(where, "ties"), ("all", "none", "tie_breaker"))),
    )


def _tie_breaker(r: _Reader, raw: Any) -> TieBreaker | None:
    if raw is None:
        return None
    obj = r.mapping(raw, "tie_breaker")
    if obj is None:
        return None
    r.keys(obj, "tie_breaker", {"column"}, {"order"})
    order = r.choice(
        obj.get("order", "higher_first"), "tie_breaker.order", ("higher_first", "lower_first")
    )
    return TieBreaker(r.text(obj.get("column"), "tie_breaker.column"), cast(Any, order))


def _benefits(r: _Reader, raw: Any, where: str) -> tuple[Benefit, ...]:
    out: list[Benefit] = []
    for i, item in enumerate(r.items(raw, where)):
        bwhere = _join(where, i)
        obj = r.mapping(item, bwhere)
        if obj is None:
            continue
        r.keys(obj, bwhere, {"kind"}, {"amount", "description"})
        kind = r.choice(obj.get("kind"), _join(bwhere, "kind"), tuple(_BENEFIT_UNITS))
        amount = obj.get("amount")
        value = None if amount is None else r.number(amount, _join(bwhere, "amount"))
        needs_amount = kind in ("grade_up", "subsidy", "credit")
        if needs_amount and (value is None or not value > 0):
            r.add(
                _join(bwhere, "amount"),
                MSG_BENEFIT_AMOUNT.format(kind=kind, unit=_BENEFIT_UNITS[kind]),
            )
        description = obj.get("description")
        if description is not None:
            description = r.text(description, _join(bwhere, "description"))
        out.append(Benefit(cast(Any, kind), value, description))
    return tuple(out)


def _lists(
    r: _Reader, raw: Any, stages: list[str], tiers: tuple[Tier, ...]
) -> tuple[PolicyList, ...]:
    out: list[PolicyList] = []
    seen: dict[str, str] = {t.id: f"tiers[{i}].id" for i, t in enumerate(tiers)}
    for i, item in enumerate(r.items(raw, "lists")):
        where = _join("lists", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(
            obj,
            where,
            {"id", "name", "top_fraction", "provenance"},
            {"stages", "within", "max_firms", "seats", "benefits"},
        )
        known = list(seen)  # tiers and earlier lists
        ident = r.ident(obj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        list_stages = [str(s) for s in r.items(obj.get("stages"), _join(where, "stages"))]
        for j, st in enumerate(list_stages):
            if st not in stages:
                r.add(
                    _join(_join(where, "stages"), j),
                    MSG_LIST_STAGES.format(found=st, known=", ".join(stages)),
                )
        within = obj.get("within")
        if within is not None and within not in known:
            r.add(
                _join(where, "within"),
                MSG_LIST_WITHIN.format(found=within, known=", ".join(known) or "none"),
            )
        out.append(
            PolicyList(
                id=ident,
                name=r.name(obj.get("name"), _join(where, "name")),
                top_fraction=r.fraction(obj.get("top_fraction"), _join(where, "top_fraction")),
                provenance=r.provenance(obj.get("provenance"), _join(where, "provenance")),
                stages=tuple(list_stages),
                within=None if within is None else str(within),
                max_firms=_whole(r, obj.get("max_firms"), _join(where, "max_firms")),
                seats=_seat_options(r, obj.get("seats"), _join(where, "seats")),
                benefits=_benefits(r, obj.get("benefits"), _join(where, "benefits")),
            )
        )
    return tuple(out)


def _eligibility(r: _Reader, raw: Any) -> Eligibility | None:
    if raw is None:
        return None
    obj = r.mapping(raw, "eligibility")
    if obj is None:
        return None
    r.keys(obj, "eligibility", {"mode", "conditions", "provenance"}, set())
    mode = r.choice(obj.get("mode"), "eligibility.mode", ("any", "all"))
    conditions: list[Condition] = []
    seen: dict[str, str] = {}
    items = r.items(obj.get("conditions"), "eligibility.conditions")
    if "conditions" in obj and not items:
        r.add("eligibility.conditions", MSG_ELIGIBILITY_EMPTY)
    for i, item in enumerate(items):
        where = _join("eligibility.conditions", i)
        cobj = r.mapping(item, where)
        if cobj is None:
            continue
        r.keys(cobj, where, {"id", "name", "column", "op", "value", "provenance"}, set())
        ident = r.ident(cobj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        conditions.append(
            Condition(
                ident,
                r.name(cobj.get("name"), _join(where, "name")),
                r.text(cobj.get("column"), _join(where, "column")),
                cast(
                    Any,
                    r.choice(
                        cobj.get("op"), _join(where, "op"), (">", ">=", "<", "<=", "==", "!=")
                    ),
                ),
                r.number(cobj.get("value"), _join(where, "value")),
                r.provenance(cobj.get("provenance"), _join(where, "provenance")),
            )
        )
    return Eligibility(
        cast(Any, mode),
        tuple(conditions),
        r.provenance(obj.get("provenance"), "eligibility.provenance"),
    )


def _column_list(r: _Reader, raw: Any, where: str) -> tuple[str, ...]:
    items = r.items(raw, where)
    if (
        not items
        or not all(isinstance(c, str) and c for c in items)
        or len(set(items)) != len(items)
    ):
        r.add(where, f"must be a non-empty list of distinct column names, found {raw!r}")
    return tuple(str(c) for c in items)


def _pools(r: _Reader, raw: Any, indicator_ids: list[str]) -> tuple[Pool, ...]:
    out: list[Pool] = []
    seen: dict[str, str] = {}
    for i, item in enumerate(r.items(raw, "pools")):
        where = _join("pools", i)
        obj = r.mapping(item, where)
        if obj is None:
            continue
        r.keys(
            obj,
            where,
            {"id", "name", "indicators", "provenance"},
            {"certification", "ranking_group", "top_fraction", "max_firms", "min_score", "exclude"},
        )
        ident = r.ident(obj.get("id"), _join(where, "id"))
        _unique_ids(r, seen, ident, _join(where, "id"))
        inds = [str(x) for x in r.items(obj.get("indicators"), _join(where, "indicators"))]
        if "indicators" in obj and not inds:
            r.add(_join(where, "indicators"), MSG_POOL_EMPTY)
        for j, ind in enumerate(inds):
            if ind not in indicator_ids:
                r.add(
                    _join(_join(where, "indicators"), j),
                    MSG_POOL_INDICATOR.format(found=ind, known=", ".join(indicator_ids)),
                )
        frac_raw, score_raw = obj.get("top_fraction"), obj.get("min_score")
        top = None if frac_raw is None else r.fraction(frac_raw, _join(where, "top_fraction"))
        min_score = (
            None if score_raw is None else r.number(score_raw, _join(where, "min_score"), minimum=0)
        )
        max_firms = _whole(r, obj.get("max_firms"), _join(where, "max_firms"))
        if top is None and min_score is None and obj.get("max_firms") is None:
            r.add(where, MSG_POOL_SIZE)
        cert = obj.get("certification")
        group = obj.get("ranking_group")
        out.append(
            Pool(
                id=ident,
                name=r.name(obj.get("name"), _join(where, "name")),
                indicators=tuple(inds),
                provenance=r.provenance(obj.get("provenance"), _join(where, "provenance")),
                certification=None if cert is None else r.text(cert, _join(where, "certification")),
                ranking_group=("park", "year")
                if group is None
                else _column_list(r, group, _join(where, "ranking_group")),
                top_fraction=top,
                max_firms=max_firms,
                min_score=min_score,
                exclude=()
                if obj.get("exclude") is None
                else _column_list(r, obj.get("exclude"), _join(where, "exclude")),
            )
        )
    return tuple(out)


def _credit(r: _Reader, raw: Any) -> Credit | None:
    if raw is None:
        return None
    obj = r.mapping(raw, "credit")
    if obj is None:
        return None
    r.keys(obj, "credit", {"base_wan", "provenance"}, {"bands"})
    bands: list[CreditBand] = []
    for i, item in enumerate(r.items(obj.get("bands"), "credit.bands")):
        where = _join("credit.bands", i)
        bobj = r.mapping(item, where)
        if bobj is None:
            continue
        r.keys(bobj, where, {"min_total", "amount_wan"}, set())
        band = CreditBand(
            r.number(bobj.get("min_total"), _join(where, "min_total")),
            r.number(bobj.get("amount_wan"), _join(where, "amount_wan"), minimum=0),
        )
        if bands and not band.min_total > bands[-1].min_total:
            r.add(
                _join(where, "min_total"),
                MSG_CREDIT_ORDER.format(found=band.min_total, prev=bands[-1].min_total),
            )
        bands.append(band)
    return Credit(
        r.number(obj.get("base_wan"), "credit.base_wan", minimum=0),
        r.provenance(obj.get("provenance"), "credit.provenance"),
        tuple(bands),
    )


def _needs_tie_breaker(subsidies: tuple[Subsidy, ...], lists: tuple[PolicyList, ...]) -> list[str]:
    """YAML paths of the seat options that ask for the tie-breaker column."""
    out = [
        f"subsidies[{i}].seats.ties"
        for i, s in enumerate(subsidies)
        if s.seats.ties == "tie_breaker"
    ]
    out += [
        f"lists[{i}].seats.ties" for i, li in enumerate(lists) if li.seats.ties == "tie_breaker"
    ]
    return out


_TOP_REQUIRED = {
    "schema",
    "id",
    "version",
    "name",
    "provenance",
    "core_budget",
    "stages",
    "groups",
    "indicators",
}
_TOP_OPTIONAL = {
    "penalties",
    "tiers",
    "subsidies",
    "ranking_group",
    "tier_seats",
    "min_seats",
    "ties",
    "tie_breaker",
    "lists",
    "eligibility",
    "pools",
    "credit",
    "decimals",
    "description",
    "calibration",
}


def parse_framework(raw: Any, source: str) -> FrameworkData:
    """Build a framework from a parsed YAML document, or raise :class:`FrameworkError` with every problem."""
    r = _Reader()
    obj = r.mapping(raw, "")
    if obj is None:
        raise FrameworkError(source, r.problems)
    r.keys(obj, "", _TOP_REQUIRED, _TOP_OPTIONAL)
    if "schema" in obj and obj.get("schema") != SCHEMA:
        r.add("schema", MSG_SCHEMA.format(expected=SCHEMA, found=obj.get("schema")))
    ident = r.ident(obj.get("id"), "id", _FRAMEWORK_ID)
    raw_version = obj.get("version")
    if raw_version is not None and not isinstance(raw_version, str):
        r.add(
            "version",
            f'write the version as quoted text (e.g. "{raw_version}"); YAML reads '
            f"{raw_version!r} as a number, so 1.10 would become 1.1",
        )
    version = str(raw_version) if raw_version is not None else ""
    stages = _stages(r, obj.get("stages"))
    stage_ids = [s.id for s in stages]
    groups = _groups(r, obj.get("groups"))
    group_map = {g.id: g for g in groups}
    seen: dict[str, str] = {}
    indicators = _indicators(r, obj.get("indicators"), stage_ids, group_map, seen)
    penalties = _penalties(r, obj.get("penalties"), stage_ids, seen)
    tiers = _tiers(r, obj.get("tiers"))
    subsidies = _subsidies(r, obj.get("subsidies"), stage_ids)
    budget = r.number(obj.get("core_budget"), "core_budget", minimum=0)
    name = r.name(obj.get("name"), "name")
    provenance = r.provenance(obj.get("provenance"), "provenance")
    tier_seats = r.choice(obj.get("tier_seats", "floor"), "tier_seats", ("floor", "ceil", "round"))
    min_seats = _min_seats(r, obj.get("min_seats", 0), "min_seats")
    ties = r.choice(obj.get("ties", "all"), "ties", ("all", "none", "tie_breaker"))
    tie_breaker = _tie_breaker(r, obj.get("tie_breaker"))
    lists = _lists(r, obj.get("lists"), stage_ids, tiers)
    if tie_breaker is None:
        wanting = (["ties"] if ties == "tie_breaker" else []) + _needs_tie_breaker(subsidies, lists)
        for where in wanting:
            r.add(where, MSG_TIE_BREAKER_NEEDED)
    eligibility = _eligibility(r, obj.get("eligibility"))
    pools = _pools(r, obj.get("pools"), [i.id for i in indicators])
    credit = _credit(r, obj.get("credit"))

    ranking_raw = obj.get("ranking_group", ["park", "stage", "year"])
    ranking = r.items(ranking_raw, "ranking_group")
    if (
        not ranking
        or not all(isinstance(c, str) and c for c in ranking)
        or len(set(ranking)) != len(ranking)
    ):
        r.add(
            "ranking_group",
            f"must be a non-empty list of distinct column names, found {ranking_raw!r}",
        )

    decimals = obj.get("decimals", 2)
    if isinstance(decimals, bool) or not isinstance(decimals, int) or not 0 <= decimals <= 6:
        r.add("decimals", f"must be a whole number from 0 to 6, found {decimals!r}")
        decimals = 2

    # Core points must add up to the budget in every stage — the invariant parks publish.
    core_groups = {g.id for g in groups if g.kind == "core"}
    core = [ind for ind in indicators if ind.group in core_groups]
    unknown_group = any(ind.group not in group_map for ind in indicators)
    if not math.isnan(budget) and core and not unknown_group:
        for s in stage_ids:
            values = [ind.points.get(s, math.nan) for ind in core]
            if any(math.isnan(v) for v in values):
                continue  # already reported
            total = math.fsum(values)
            if abs(total - budget) > _TOL:
                r.add(
                    f"indicators[*].points.{s}",
                    MSG_CORE_BUDGET.format(
                        stage=s, total=total, budget=budget, ids=", ".join(ind.id for ind in core)
                    ),
                )
    calibration = obj.get("calibration")
    if calibration is not None and not isinstance(calibration, Mapping):
        r.add("calibration", MSG_NOT_MAPPING.format(found=_type_name(calibration)))
        calibration = None

    if r.problems:
        raise FrameworkError(source, r.problems)
    return FrameworkData(
        id=ident,
        version=version,
        name=name,
        provenance=provenance,
        core_budget=budget,
        stages=stages,
        groups=groups,
        indicators=indicators,
        penalties=penalties,
        tiers=tiers,
        subsidies=subsidies,
        ranking_group=tuple(ranking),
        tier_seats=cast(Any, tier_seats),
        min_seats=min_seats or 0,
        ties=cast(Any, ties),
        tie_breaker=tie_breaker,
        lists=lists,
        eligibility=eligibility,
        pools=pools,
        credit=credit,
        decimals=decimals,
        description=obj.get("description"),
        calibration=calibration,
    )
