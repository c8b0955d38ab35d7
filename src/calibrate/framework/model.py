"""Typed, pure model of a points framework (no pandas, no I/O).

A framework is an editable additive model: every scored indicator turns a firm's raw value into
a *fraction* in [0, 1] by its rule, and earns ``points[stage] × fraction``. Keeping the rule
(which fraction) apart from the points (how much it is worth) is what lets ``calibrate`` re-weight
a policy without touching how indicators are measured, and reuse one fraction matrix for
thousands of candidate weightings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, TypeAlias

__all__ = [
    "BandsRule",
    "BinaryRule",
    "CountRule",
    "Group",
    "Indicator",
    "LinearRule",
    "Name",
    "Penalty",
    "PercentileRule",
    "Provenance",
    "Rule",
    "Stage",
    "StageValue",
    "Subsidy",
    "Tier",
]

#: A parameter that is either one number for every stage or a number per stage id.
StageValue: TypeAlias = float | Mapping[str, float]


def value_at(value: StageValue, stage: str) -> float:
    """Resolve a :data:`StageValue` for one stage."""
    if isinstance(value, Mapping):
        return float(value[stage])
    return float(value)


@dataclass(frozen=True)
class Name:
    """Chinese and English names of an element."""

    zh: str
    en: str


@dataclass(frozen=True)
class Provenance:
    """Where a number comes from: ``official`` (with its source) or ``reconstructed`` (with why)."""

    status: Literal["official", "reconstructed"]
    source: str | None = None
    reasoning: str | None = None

    @property
    def is_reconstructed(self) -> bool:
        return self.status == "reconstructed"


@dataclass(frozen=True)
class Stage:
    """A growth stage by revenue (万元): ``revenue_min`` inclusive, ``revenue_max`` exclusive."""

    id: str
    name: Name
    revenue_min: float
    revenue_max: float | None
    provenance: Provenance


@dataclass(frozen=True)
class Group:
    """An indicator group. ``core`` groups share the per-stage budget; ``bonus`` groups are capped."""

    id: str
    name: Name
    kind: Literal["core", "bonus"]
    provenance: Provenance
    cap: float | None = None


# --- scoring rules -------------------------------------------------------------------------
# Every rule maps a raw value to a fraction in [0, 1]. Parameters may differ per stage.


@dataclass(frozen=True)
class LinearRule:
    """Linear between goalposts: 0 at ``low``, 1 at ``high``, clipped outside.

    ``high < low`` scores a "smaller is better" indicator (e.g. a debt ratio).
    """

    low: StageValue
    high: StageValue
    kind: Literal["linear"] = "linear"


@dataclass(frozen=True)
class Band:
    """One step of a band table: values ``>= min`` earn ``value`` (until the next band)."""

    min: float
    value: float


@dataclass(frozen=True)
class BandsRule:
    """Step bands. ``value_is='fraction'``: band values are fractions of the indicator's points.

    ``value_is='points'``: band values are points, and the indicator's points in a stage must equal
    the largest band value there (the fraction is value / largest value). Values below the first
    band's ``min`` score 0.
    """

    bands: tuple[Band, ...] | Mapping[str, tuple[Band, ...]]
    value_is: Literal["fraction", "points"] = "fraction"
    kind: Literal["bands"] = "bands"

    def bands_at(self, stage: str) -> tuple[Band, ...]:
        if isinstance(self.bands, Mapping):
            return tuple(self.bands[stage])
        return tuple(self.bands)


@dataclass(frozen=True)
class PercentileRule:
    """Fraction = share of the *other* firms with a value in the ranking group strictly below this one.

    The best firm in its group gets 1, the worst 0, a firm alone in its group 1; tied firms get
    the same fraction. Firms with a missing value neither score nor count in the reference.
    """

    kind: Literal["percentile"] = "percentile"


@dataclass(frozen=True)
class CountRule:
    """A count earning ``per_unit`` points per unit, capped at the indicator's points in the stage."""

    per_unit: StageValue
    kind: Literal["count"] = "count"


@dataclass(frozen=True)
class BinaryRule:
    """Yes/no: full points when the value is > 0 (true), none otherwise."""

    kind: Literal["binary"] = "binary"


Rule: TypeAlias = LinearRule | BandsRule | PercentileRule | CountRule | BinaryRule

MissingPolicy: TypeAlias = Literal["zero", "error", "median"]


@dataclass(frozen=True)
class Indicator:
    """A scored indicator.

    Parameters
    ----------
    id : str
        Stable id, also the data column name.
    missing : {"zero", "error", "median"}
        What a missing value does: no points (what parks do when a department has no record),
        a data error, or the ranking group's median of the raw value.
    points : mapping of stage id to points
        What the indicator is worth at full fraction in each stage.
    """

    id: str
    name: Name
    unit: str
    group: str
    rule: Rule
    points: Mapping[str, float]
    provenance: Provenance
    missing: MissingPolicy = "zero"
    aliases: tuple[str, ...] = ()
    description: str | None = None

    @property
    def direction(self) -> Literal[1, -1]:
        """+1 if more of the raw value never earns fewer points, -1 if less is better."""
        rule = self.rule
        if isinstance(rule, LinearRule):
            lows = rule.low.values() if isinstance(rule.low, Mapping) else [rule.low]
            highs = rule.high.values() if isinstance(rule.high, Mapping) else [rule.high]
            return 1 if min(highs) > max(lows) else -1
        if isinstance(rule, BandsRule):
            tables = rule.bands.values() if isinstance(rule.bands, Mapping) else [rule.bands]
            for bands in tables:
                values = [b.value for b in bands]
                if values and values[0] > values[-1]:
                    return -1
        return 1


@dataclass(frozen=True)
class Penalty:
    """A penalty item read from a 0/1 flag column: deduct ``points`` or veto the firm."""

    id: str
    name: Name
    action: Literal["deduct", "veto"]
    provenance: Provenance
    points: StageValue | None = None
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Tier:
    """A published list: the firms in the top ``top_fraction`` of their ranking group.

    Tiers are cumulative cut-offs in increasing order (5 %, 10 %, 20 %); a firm belongs to the
    first tier whose cut-off it makes.
    """

    id: str
    name: Name
    top_fraction: float
    provenance: Provenance


@dataclass(frozen=True)
class Subsidy:
    """A subsidy for the top ``top_fraction`` of each ranking group of one stage."""

    stage: str
    top_fraction: float
    amount_wan: float
    provenance: Provenance
    max_firms: int | None = None


@dataclass(frozen=True)
class FrameworkData:
    """All fields of a framework; :class:`calibrate.framework.Framework` adds behaviour."""

    id: str
    version: str
    name: Name
    provenance: Provenance
    core_budget: float
    stages: tuple[Stage, ...]
    groups: tuple[Group, ...]
    indicators: tuple[Indicator, ...]
    penalties: tuple[Penalty, ...] = ()
    tiers: tuple[Tier, ...] = ()
    subsidies: tuple[Subsidy, ...] = ()
    ranking_group: tuple[str, ...] = ("park", "stage", "year")
    tier_seats: Literal["floor", "ceil", "round"] = "floor"
    decimals: int = 2
    description: str | None = None
    calibration: Mapping[str, Any] | None = field(default=None, compare=True)


def with_fields(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-exported for the editing methods."""
    return replace(obj, **changes)
