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
    "Benefit",
    "Condition",
    "Credit",
    "CreditBand",
    "Eligibility",
    "PolicyList",
    "Pool",
    "SeatOptions",
    "TieBreaker",
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


SeatRounding: TypeAlias = Literal["floor", "ceil", "round"]
TieRule: TypeAlias = Literal["all", "none", "tie_breaker"]


@dataclass(frozen=True)
class SeatOptions:
    """How a list's or subsidy's share becomes seats; ``None`` fields take the framework default.

    ``rounding`` turns ``top_fraction × n`` into seats; ``min_seats`` (0 or 1) gives a non-empty
    group at least that many seats; ``ties`` says who is listed when firms tie at the last seat:
    ``all`` of them (the list may run over its seats), ``none`` of them, or the order of the
    framework's ``tie_breaker`` column decides.
    """

    rounding: SeatRounding | None = None
    min_seats: int | None = None
    ties: TieRule | None = None

    @property
    def is_default(self) -> bool:
        return self.rounding is None and self.min_seats is None and self.ties is None


@dataclass(frozen=True)
class TieBreaker:
    """A data column that orders firms with equal totals (``higher_first`` or ``lower_first``)."""

    column: str
    order: Literal["higher_first", "lower_first"] = "higher_first"


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
    seats: SeatOptions = SeatOptions()


@dataclass(frozen=True)
class Benefit:
    """What being on a list brings.

    ``kind``: ``grade_up`` (``amount`` grades up in another evaluation), ``extra_points`` (in
    another evaluation; ``amount`` may be left out when the text does not say how many),
    ``subsidy`` (``amount`` 万元, paid into ``subsidy_wan``), ``credit`` (a credit line of
    ``amount`` 万元, raising ``credit_wan`` to at least that), or ``other``.
    """

    kind: Literal["grade_up", "extra_points", "subsidy", "credit", "other"]
    amount: float | None = None
    description: str | None = None


@dataclass(frozen=True)
class PolicyList:
    """A named list: the top ``top_fraction`` of each ranking group, independent of other lists.

    Unlike tiers (exclusive: a firm sits on the first tier it makes), every list is decided on
    its own, so a firm may be on several. ``stages`` limits the list to some stages (empty: all);
    ``within`` nests it: a firm must also be on that tier or earlier list.
    """

    id: str
    name: Name
    top_fraction: float
    provenance: Provenance
    stages: tuple[str, ...] = ()
    within: str | None = None
    max_firms: int | None = None
    seats: SeatOptions = SeatOptions()
    benefits: tuple[Benefit, ...] = ()


@dataclass(frozen=True)
class Condition:
    """One eligibility condition: ``column op value`` (a missing value never meets it)."""

    id: str
    name: Name
    column: str
    op: Literal[">", ">=", "<", "<=", "==", "!="]
    value: float
    provenance: Provenance


@dataclass(frozen=True)
class Eligibility:
    """Who is evaluated: firms meeting ``any`` (or ``all``) of the conditions.

    Ineligible firms keep their points on record but are never ranked, listed, pooled,
    subsidised or given credit; ``ineligible_reason`` says why.
    """

    mode: Literal["any", "all"]
    conditions: tuple[Condition, ...]
    provenance: Provenance


@dataclass(frozen=True)
class Pool:
    """A cultivation pool: eligible firms ranked on a subset of indicators mirroring a certification.

    The pool score is the sum of the firm's points on ``indicators``; firms are ranked on it within
    ``ranking_group``; the pool holds the top ``top_fraction`` (seats as the framework's lists),
    at most ``max_firms`` per group, and only firms with a pool score ``>= min_score`` and > 0.
    Firms with a value > 0 in any ``exclude`` column (e.g. already certified) are no candidates:
    they are neither ranked nor counted.
    """

    id: str
    name: Name
    indicators: tuple[str, ...]
    provenance: Provenance
    certification: str | None = None
    ranking_group: tuple[str, ...] = ("park", "year")
    top_fraction: float | None = None
    max_firms: int | None = None
    min_score: float | None = None
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class CreditBand:
    """Firms with a total ``>= min_total`` get a credit line of ``amount_wan``."""

    min_total: float
    amount_wan: float


@dataclass(frozen=True)
class Credit:
    """Points → credit line (万元): ``base_wan`` for every ranked firm, raised by bands and lists."""

    base_wan: float
    provenance: Provenance
    bands: tuple[CreditBand, ...] = ()


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
    tier_seats: SeatRounding = "floor"
    min_seats: int = 0
    ties: TieRule = "all"
    tie_breaker: TieBreaker | None = None
    lists: tuple[PolicyList, ...] = ()
    eligibility: Eligibility | None = None
    pools: tuple[Pool, ...] = ()
    credit: Credit | None = None
    decimals: int = 2
    description: str | None = None
    calibration: Mapping[str, Any] | None = field(default=None, compare=True)


def with_fields(obj: Any, **changes: Any) -> Any:
    """``dataclasses.replace`` re-exported for the editing methods."""
    return replace(obj, **changes)
