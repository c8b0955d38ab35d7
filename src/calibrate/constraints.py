"""Constraints a policy office accepts on re-weighted points, and the arithmetic that keeps them.

A :class:`ConstraintSet` is declared in YAML (or on the command line) and applies to the **core**
indicators of a framework, stage by stage (bonus indicators are capped extras and keep their
points):

.. code-block:: yaml

    granularity: 1            # whole points (0.5 = half points, 0 = continuous)
    bounds:                   # points per indicator, default 0 … core budget
      default: {min: 0, max: 30}
      rd_intensity: {min: 5}
    max_change: {absolute: 5}  # or {relative: 0.5}: at most ±50 % of today's points
    groups:                   # sums of points per group and stage
      tech: {min: 50}
    same_across_stages: false
    nonzero: [rd_intensity]    # must keep at least one granule of points

The core points of every stage always add up to the framework's ``core_budget`` — exactly, also
after rounding to the granularity. Everything is turned into per-(indicator, stage) lower and
upper bounds plus linear group rows, which :func:`project` and :func:`round_to_grid` respect.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from calibrate.exceptions import ConstraintError, Problem
from calibrate.framework import Framework, read_yaml_file

__all__ = ["Box", "ConstraintSet", "project", "round_to_grid"]

FloatArray = npt.NDArray[np.float64]
_TOL = 1e-9

_KEYS = {
    "granularity",
    "bounds",
    "max_change",
    "groups",
    "same_across_stages",
    "nonzero",
    "moves",
    "frozen",
    "frozen_thresholds",
}
#: Kinds of policy edit a suggestion may make (see :mod:`calibrate.suggest`).
MOVES: tuple[str, ...] = ("points", "direction", "shape", "indicators")
#: What a suggestion may change when nobody says: new indicators need data a park may not collect.
DEFAULT_MOVES: tuple[str, ...] = ("points", "direction", "shape")
MSG_UNKNOWN_MOVE = "unknown move {name!r}; choose from {choices} or all"


def parse_moves(value: Any, where: str = "moves") -> tuple[tuple[str, ...], list[Problem]]:
    """Moves from ``"all"``, ``"points,shape"`` or a list; unknown names are problems."""
    if value is None:
        return DEFAULT_MOVES, []
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        return DEFAULT_MOVES, [Problem(where, f"expected a list of move names, found {value!r}")]
    names = [str(v).strip().lower() for v in items if str(v).strip()]
    if names == ["all"]:
        return MOVES, []
    problems = [
        Problem(where, MSG_UNKNOWN_MOVE.format(name=n, choices=", ".join(MOVES)))
        for n in names
        if n not in MOVES
    ]
    if not names:
        problems.append(Problem(where, f"no move given; choose from {', '.join(MOVES)} or all"))
    return tuple(m for m in MOVES if m in names), problems


def _number_problem(value: Any, minimum: float) -> str | None:
    """Why ``value`` is not a usable constraint number (``None`` when it is)."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return f"expected a number >= {minimum:g}, found the text {value!r}"
        return f"expected a number, found the text {value!r}; write it without quotes: {value}"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return f"expected a number >= {minimum:g}, found {value!r}"
    if not math.isfinite(value):
        return f"expected a finite number >= {minimum:g}, found {value!r}; give a real limit"
    if value < minimum:
        return f"expected a number >= {minimum:g}, found {value!r}; a limit cannot be negative"
    return None


def _min_above_max(section: str, limits: Mapping[Any, Bound]) -> list[Problem]:
    return [
        Problem(
            f"{section}.{ident}",
            f"min {b.min:g} is above max {b.max:g}; swap them or loosen one",
        )
        for ident, b in limits.items()
        if b.min is not None and b.max is not None and b.min > b.max
    ]


@dataclass(frozen=True)
class Bound:
    """Lower and upper points for one indicator (``None`` = no limit of its own)."""

    min: float | None = None
    max: float | None = None


@dataclass(frozen=True)
class ConstraintSet:
    """Constraints on suggested core points.

    Parameters
    ----------
    granularity : float
        Points are multiples of this (1 = whole points, 0.5 = half points, 0 = continuous).
    bounds : mapping of indicator id (or ``"default"``) to :class:`Bound`
    max_change_absolute, max_change_relative : float, optional
        Largest allowed move from today's points, in points or as a share of today's points.
    group_min, group_max : mapping of group id to points
        Floors and ceilings on a group's points in every stage.
    same_across_stages : bool
        One set of points for every stage.
    nonzero : tuple of indicator ids
        Indicators that must keep at least one granule (or a small positive amount if continuous).
    moves : tuple of str
        Kinds of edit allowed (:data:`MOVES`): ``points`` (re-weight), ``direction`` (reverse a
        rule), ``shape`` (re-fit goalposts, bands, caps), ``indicators`` (add or drop).
    frozen : tuple of indicator ids
        Indicators nothing may change: points, rule and membership stay as they are.
    frozen_thresholds : tuple of indicator ids
        Indicators whose rule (goalposts, bands, direction) stays; their points may move.
    """

    granularity: float = 1.0
    bounds: Mapping[str, Bound] = field(default_factory=dict)
    max_change_absolute: float | None = None
    max_change_relative: float | None = None
    group_min: Mapping[str, float] = field(default_factory=dict)
    group_max: Mapping[str, float] = field(default_factory=dict)
    same_across_stages: bool = False
    nonzero: tuple[str, ...] = ()
    moves: tuple[str, ...] = DEFAULT_MOVES
    frozen: tuple[str, ...] = ()
    frozen_thresholds: tuple[str, ...] = ()

    def allows(self, move: str) -> bool:
        """Whether edits of kind ``move`` (one of :data:`MOVES`) may be suggested."""
        return move in self.moves

    # -- construction ---------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, raw: Any, source: str = "<constraints>") -> ConstraintSet:  # noqa: C901 - validates every key of the constraints YAML, one branch per key
        """Build from a parsed YAML mapping; every problem is reported with its YAML path."""
        problems: list[Problem] = []
        if raw is None:
            return cls()
        if not isinstance(raw, Mapping):
            raise ConstraintError(
                source, [Problem("<top>", f"expected a mapping, found {type(raw).__name__}")]
            )
        if "constraints" in raw and len(raw) == 1:  # allow a top-level `constraints:` key
            raw = raw["constraints"]
        for key in raw:
            if key not in _KEYS:
                problems.append(
                    Problem(str(key), f"unknown key; allowed keys: {', '.join(sorted(_KEYS))}")
                )

        def number(value: Any, where: str, minimum: float = 0.0) -> float | None:
            if value is None:
                return None
            message = _number_problem(value, minimum)
            if message is not None:
                problems.append(Problem(where, message))
                return None
            return float(value)

        granularity = number(raw.get("granularity", 1.0), "granularity")
        bounds: dict[str, Bound] = {}
        raw_bounds = raw.get("bounds") or {}
        if not isinstance(raw_bounds, Mapping):
            problems.append(Problem("bounds", "expected a mapping of indicator id to {min, max}"))
            raw_bounds = {}
        for ident, spec in raw_bounds.items():
            if not isinstance(spec, Mapping) or set(spec) - {"min", "max"}:
                problems.append(
                    Problem(f"bounds.{ident}", f"expected {{min: …, max: …}}, found {spec!r}")
                )
                continue
            bounds[str(ident)] = Bound(
                number(spec.get("min"), f"bounds.{ident}.min"),
                number(spec.get("max"), f"bounds.{ident}.max"),
            )
        change = raw.get("max_change") or {}
        if not isinstance(change, Mapping) or set(change) - {"absolute", "relative"}:
            problems.append(
                Problem(
                    "max_change",
                    f"expected {{absolute: points}} or {{relative: share}}, found {change!r}",
                )
            )
            change = {}
        groups_raw = raw.get("groups") or {}
        group_min: dict[str, float] = {}
        group_max: dict[str, float] = {}
        if not isinstance(groups_raw, Mapping):
            problems.append(Problem("groups", "expected a mapping of group id to {min, max}"))
            groups_raw = {}
        for ident, spec in groups_raw.items():
            if not isinstance(spec, Mapping) or set(spec) - {"min", "max"}:
                problems.append(
                    Problem(f"groups.{ident}", f"expected {{min: …, max: …}}, found {spec!r}")
                )
                continue
            lo = number(spec.get("min"), f"groups.{ident}.min")
            hi = number(spec.get("max"), f"groups.{ident}.max")
            if lo is not None:
                group_min[str(ident)] = lo
            if hi is not None:
                group_max[str(ident)] = hi
        nonzero = raw.get("nonzero") or []
        if not isinstance(nonzero, list):
            problems.append(Problem("nonzero", "expected a list of indicator ids"))
            nonzero = []
        same = raw.get("same_across_stages", False)
        if not isinstance(same, bool):
            problems.append(
                Problem("same_across_stages", f"expected true or false, found {same!r}")
            )
            same = False
        absolute = number(change.get("absolute"), "max_change.absolute")
        relative = number(change.get("relative"), "max_change.relative")
        problems += _min_above_max("bounds", bounds) + _min_above_max(
            "groups", {g: Bound(group_min.get(g), group_max.get(g)) for g in groups_raw}
        )
        moves, move_problems = parse_moves(raw.get("moves"))
        problems.extend(move_problems)
        frozen = _id_list(raw.get("frozen"), "frozen", problems)
        frozen_thresholds = _id_list(raw.get("frozen_thresholds"), "frozen_thresholds", problems)
        if problems:  # every value is checked before this: none is silently dropped
            raise ConstraintError(source, problems)
        return cls(
            moves=moves,
            frozen=frozen,
            frozen_thresholds=frozen_thresholds,
            granularity=granularity if granularity is not None else 1.0,
            bounds=bounds,
            max_change_absolute=absolute,
            max_change_relative=relative,
            group_min=group_min,
            group_max=group_max,
            same_across_stages=same,
            nonzero=tuple(str(x) for x in nonzero),
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> ConstraintSet:
        """Read constraints from a YAML file (safe loader, duplicate keys refused)."""
        return cls.from_dict(read_yaml_file(path, ConstraintError), str(path))

    def to_dict(self) -> dict[str, Any]:
        """Plain mapping, the same shape :meth:`from_dict` reads (for the calibration block)."""
        out: dict[str, Any] = {"granularity": self.granularity}
        if self.bounds:
            out["bounds"] = {
                k: {kk: vv for kk, vv in (("min", b.min), ("max", b.max)) if vv is not None}
                for k, b in self.bounds.items()
            }
        change = {
            k: v
            for k, v in (
                ("absolute", self.max_change_absolute),
                ("relative", self.max_change_relative),
            )
            if v is not None
        }
        if change:
            out["max_change"] = change
        groups = {}
        for g in sorted(set(self.group_min) | set(self.group_max)):
            groups[g] = {
                k: v
                for k, v in (("min", self.group_min.get(g)), ("max", self.group_max.get(g)))
                if v is not None
            }
        if groups:
            out["groups"] = groups
        if self.same_across_stages:
            out["same_across_stages"] = True
        if self.nonzero:
            out["nonzero"] = list(self.nonzero)
        out["moves"] = list(self.moves)
        if self.frozen:
            out["frozen"] = list(self.frozen)
        if self.frozen_thresholds:
            out["frozen_thresholds"] = list(self.frozen_thresholds)
        return out

    def check_ids(self, framework: Framework) -> None:
        """Frozen ids must name indicators of ``framework`` (a typo must not freeze nothing)."""
        known = set(framework.indicator_ids)
        problems = [
            Problem(
                f"{key}.{ident}",
                f"no indicator {ident!r} in {framework.id}; indicators are "
                f"{', '.join(framework.indicator_ids)}",
            )
            for key, ids in (("frozen", self.frozen), ("frozen_thresholds", self.frozen_thresholds))
            for ident in ids
            if ident not in known
        ]
        if problems:
            raise ConstraintError(f"constraints for {framework.id}", problems)

    # -- applied to a framework -----------------------------------------------------------------
    def box(self, framework: Framework) -> Box:  # noqa: C901 - applies each kind of constraint in a fixed order
        """Per-(indicator, stage) bounds and group rows for the core indicators of ``framework``.

        Raises
        ------
        ConstraintError
            Unknown ids, a budget that is not a multiple of the granularity, or constraints that
            no points table can meet (each infeasible stage named, with the arithmetic).
        """
        ids = list(framework.core_indicator_ids)
        stages = list(framework.stage_ids)
        budget = framework.core_budget
        g = self.granularity
        problems: list[Problem] = []
        known_groups = {grp.id for grp in framework.groups if grp.kind == "core"}
        for ident in self.bounds:
            if ident != "default" and ident not in ids:
                problems.append(
                    Problem(
                        f"bounds.{ident}",
                        f"not a core indicator of {framework.id}; "
                        f"core indicators are {', '.join(ids)}",
                    )
                )
        for ident in self.nonzero:
            if ident not in ids:
                problems.append(
                    Problem(f"nonzero.{ident}", f"not a core indicator of {framework.id}")
                )
        for ident in {*self.group_min, *self.group_max}:
            if ident not in known_groups:
                problems.append(
                    Problem(
                        f"groups.{ident}",
                        f"not a core group of {framework.id}; "
                        f"core groups are {', '.join(sorted(known_groups))}",
                    )
                )
        if g > 0 and abs(budget / g - round(budget / g)) > _TOL:
            problems.append(
                Problem(
                    "granularity",
                    f"core budget {budget:g} is not a multiple of {g:g}; "
                    "choose a granularity that divides the budget",
                )
            )
        if problems:
            raise ConstraintError(f"constraints for {framework.id}", problems)

        current = np.array(
            [[framework.indicator(i).points[s] for s in stages] for i in ids], dtype=np.float64
        )
        default = self.bounds.get("default", Bound())
        lo = np.zeros_like(current)
        hi = np.full_like(current, budget)
        for r, ident in enumerate(ids):
            own = self.bounds.get(ident, Bound())
            b_lo = own.min if own.min is not None else default.min
            b_hi = own.max if own.max is not None else default.max
            if b_lo is not None:
                lo[r] = np.maximum(lo[r], b_lo)
            if b_hi is not None:
                hi[r] = np.minimum(hi[r], b_hi)
            if ident in self.nonzero:
                lo[r] = np.maximum(lo[r], g if g > 0 else 1e-6)
            if ident in self.frozen:
                lo[r] = hi[r] = current[r]
        if self.max_change_absolute is not None:
            lo = np.maximum(lo, current - self.max_change_absolute)
            hi = np.minimum(hi, current + self.max_change_absolute)
        if self.max_change_relative is not None:
            lo = np.maximum(lo, current * (1 - self.max_change_relative))
            hi = np.minimum(hi, current * (1 + self.max_change_relative))
        if self.same_across_stages:
            lo = np.repeat(lo.max(axis=1, keepdims=True), len(stages), axis=1)
            hi = np.repeat(hi.min(axis=1, keepdims=True), len(stages), axis=1)
        if g > 0:  # bounds move inwards onto the grid
            lo = np.ceil(lo / g - _TOL) * g
            hi = np.floor(hi / g + _TOL) * g
        group_of = [framework.indicator(i).group for i in ids]
        rows = []
        for grp in sorted({*self.group_min, *self.group_max}):
            member = np.array([gg == grp for gg in group_of], dtype=np.float64)
            rows.append(
                (grp, member, self.group_min.get(grp, 0.0), self.group_max.get(grp, budget))
            )
        box = Box(ids, stages, budget, g, current, lo, hi, rows, self.same_across_stages)
        box.raise_if_infeasible(framework.id)
        return box

    def check(self, framework: Framework, candidate: Framework) -> list[Problem]:
        """Every way ``candidate``'s core points break these constraints relative to ``framework``."""
        box = self.box(framework)
        points = np.array([[candidate.indicator(i).points[s] for s in box.stages] for i in box.ids])
        return box.violations(points)


@dataclass
class Box:
    """Constraints turned into arrays: rows are core indicators, columns are stages."""

    ids: list[str]
    stages: list[str]
    budget: float
    granularity: float
    current: FloatArray
    lo: FloatArray
    hi: FloatArray
    groups: list[tuple[str, FloatArray, float, float]]
    same_across_stages: bool

    def raise_if_infeasible(self, framework_id: str) -> None:
        problems: list[Problem] = []
        for c, stage in enumerate(self.stages):
            for r, ident in enumerate(self.ids):
                if self.lo[r, c] > self.hi[r, c] + _TOL:
                    problems.append(
                        Problem(
                            f"{ident} in stage {stage}",
                            f"lower bound {self.lo[r, c]:g} is above upper bound {self.hi[r, c]:g} "
                            "(after max_change and granularity); loosen bounds or max_change",
                        )
                    )
            lo_sum, hi_sum = self.lo[:, c].sum(), self.hi[:, c].sum()
            if lo_sum > self.budget + _TOL or hi_sum < self.budget - _TOL:
                problems.append(
                    Problem(
                        f"stage {stage}",
                        f"indicator bounds allow {lo_sum:g}–{hi_sum:g} core points in all, "
                        f"but the budget is {self.budget:g}; loosen bounds or max_change",
                    )
                )
            for grp, member, gmin, gmax in self.groups:
                g_lo = float(member @ self.lo[:, c])
                g_hi = float(member @ self.hi[:, c])
                if g_hi < gmin - _TOL or g_lo > gmax + _TOL:
                    problems.append(
                        Problem(
                            f"group {grp} in stage {stage}",
                            f"its indicators can hold {g_lo:g}–{g_hi:g} points but the group needs "
                            f"{gmin:g}–{gmax:g}; loosen the group limits or indicator bounds",
                        )
                    )
        if problems:
            raise ConstraintError(f"constraints for {framework_id}", problems)

    def violations(self, points: FloatArray) -> list[Problem]:
        """Problems with a points table (rows ``ids``, columns ``stages``); empty when it complies."""
        out: list[Problem] = []
        for c, stage in enumerate(self.stages):
            col = points[:, c]
            if abs(col.sum() - self.budget) > 1e-6:
                out.append(
                    Problem(
                        f"stage {stage}",
                        f"core points add up to {col.sum():g}, not {self.budget:g}",
                    )
                )
            for r, ident in enumerate(self.ids):
                if col[r] < self.lo[r, c] - 1e-6 or col[r] > self.hi[r, c] + 1e-6:
                    out.append(
                        Problem(
                            f"{ident} in stage {stage}",
                            f"{col[r]:g} outside [{self.lo[r, c]:g}, {self.hi[r, c]:g}]",
                        )
                    )
                g = self.granularity
                if g > 0 and abs(col[r] / g - round(col[r] / g)) > 1e-6:
                    out.append(
                        Problem(
                            f"{ident} in stage {stage}", f"{col[r]:g} is not a multiple of {g:g}"
                        )
                    )
            for grp, member, gmin, gmax in self.groups:
                total = float(member @ col)
                if total < gmin - 1e-6 or total > gmax + 1e-6:
                    out.append(
                        Problem(
                            f"group {grp} in stage {stage}",
                            f"{total:g} outside [{gmin:g}, {gmax:g}]",
                        )
                    )
        if self.same_across_stages and points.shape[1] > 1 and np.ptp(points, axis=1).max() > 1e-6:
            out.append(Problem("same_across_stages", "points differ between stages"))
        return out


def _id_list(value: Any, where: str, problems: list[Problem]) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(Problem(where, f"expected a list of indicator ids, found {value!r}"))
        return ()
    return tuple(value)


def project(
    v: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    budget: float,
    groups: Sequence[tuple[str, FloatArray, float, float]] = (),
) -> FloatArray:
    """Euclidean projection of ``v`` onto {lo ≤ w ≤ hi, Σw = budget, group limits}.

    Without group limits this is exact by bisection on a shift τ (w = clip(v − τ, lo, hi));
    with them, a small quadratic programme is solved (SLSQP) starting from that point.
    """

    def shifted(tau: float) -> FloatArray:
        return np.clip(v - tau, lo, hi)

    a, b = float(np.min(v - hi)) - 1.0, float(np.max(v - lo)) + 1.0
    for _ in range(100):
        mid = 0.5 * (a + b)
        if shifted(mid).sum() > budget:
            a = mid
        else:
            b = mid
    w = shifted(0.5 * (a + b))
    if not groups or all(gmin - 1e-9 <= m @ w <= gmax + 1e-9 for _, m, gmin, gmax in groups):
        return w
    from scipy.optimize import minimize

    cons = [{"type": "eq", "fun": lambda x: x.sum() - budget, "jac": lambda x: np.ones_like(x)}]
    for _, member, gmin, gmax in groups:
        cons.append(
            {
                "type": "ineq",
                "fun": lambda x, m=member, g0=gmin: m @ x - g0,
                "jac": lambda x, m=member: m,
            }
        )
        cons.append(
            {
                "type": "ineq",
                "fun": lambda x, m=member, g1=gmax: g1 - m @ x,
                "jac": lambda x, m=member: -m,
            }
        )
    res = minimize(
        lambda x: 0.5 * np.sum((x - v) ** 2),
        w,
        jac=lambda x: x - v,
        method="SLSQP",
        bounds=list(zip(lo, hi, strict=True)),
        constraints=cons,
        options={"ftol": 1e-12, "maxiter": 200},
    )
    return np.clip(res.x, lo, hi)


def round_to_grid(
    w: FloatArray,
    lo: FloatArray,
    hi: FloatArray,
    budget: float,
    granularity: float,
    groups: Sequence[tuple[str, FloatArray, float, float]] = (),
) -> FloatArray:
    """Round one stage's points to multiples of ``granularity`` keeping Σ = budget exactly.

    Largest-remainder rounding within the bounds, then a greedy repair of any group limit the
    rounding broke (moving one granule at a time from the indicator that loses least). ``lo``
    and ``hi`` must already lie on the grid. Raises ``ValueError`` if no repair is possible.
    """
    if granularity <= 0:
        return w.copy()
    g = granularity
    units = w / g
    base = np.clip(np.floor(units + _TOL), lo / g, hi / g)
    need = int(round(budget / g - base.sum()))
    remainder = units - base
    order = np.argsort(-remainder, kind="stable")
    out = base.copy()
    step = 1 if need >= 0 else -1
    guard = 0
    while need != 0 and guard < 10 * len(w) * (abs(need) + 1):
        moved = False
        for j in order if step > 0 else order[::-1]:
            if need == 0:
                break
            if (
                step > 0
                and out[j] + 1 <= hi[j] / g + _TOL
                or step < 0
                and out[j] - 1 >= lo[j] / g - _TOL
            ):
                out[j] += step
                need -= step
                moved = True
        if not moved:
            break
        guard += 1
    if need != 0:
        raise ValueError("bounds leave no way to meet the budget on this grid")
    result = out * g
    for _ in range(len(w) * 20):
        broken = [
            (m, gmin, gmax)
            for _, m, gmin, gmax in groups
            if not (gmin - 1e-9 <= m @ result <= gmax + 1e-9)
        ]
        if not broken:
            return result
        member, gmin, gmax = broken[0]
        inside = member > 0
        # move one granule into (or out of) the group, from the indicator whose rounding gave most
        if member @ result < gmin:
            src = np.flatnonzero(~inside & (result - g >= lo - _TOL))
            dst = np.flatnonzero(inside & (result + g <= hi + _TOL))
        else:
            src = np.flatnonzero(inside & (result - g >= lo - _TOL))
            dst = np.flatnonzero(~inside & (result + g <= hi + _TOL))
        if src.size == 0 or dst.size == 0:
            break
        s = src[np.argmin(w[src] - result[src])]  # the one rounded up most (or down least)
        d = dst[np.argmax(w[dst] - result[dst])]
        result[s] -= g
        result[d] += g
    if all(gmin - 1e-9 <= m @ result <= gmax + 1e-9 for _, m, gmin, gmax in groups):
        return result
    raise ValueError("rounding to the grid cannot keep every group limit; loosen group limits")
