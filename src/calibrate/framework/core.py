"""The :class:`Framework`: a validated points policy with its table, edits and YAML round trip."""

from __future__ import annotations

import dataclasses
import hashlib
import math
from collections.abc import Iterable, Mapping
from functools import cached_property
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from calibrate.exceptions import FrameworkError, Problem
from calibrate.framework._dump import to_document
from calibrate.framework._parse import parse_framework
from calibrate.framework._yaml import dump_yaml, load_yaml, read_yaml_file
from calibrate.framework.model import (
    Band,
    BandsRule,
    CountRule,
    FrameworkData,
    Group,
    Indicator,
    Penalty,
    Stage,
)

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Framework", "load_framework", "shipped_frameworks"]

_SHIPPED = "calibrate.frameworks"


@dataclasses.dataclass(frozen=True)
class Framework(FrameworkData):
    """A points policy: stages, indicator groups, rules, points per stage, lists and subsidies.

    Build one with :func:`load_framework` (a shipped id or a YAML path) or
    :meth:`Framework.from_yaml`. Frameworks are immutable: every edit returns a new, validated
    framework.
    """

    # -- construction and I/O -------------------------------------------------------------------
    @classmethod
    def from_document(cls, document: Any, source: str = "<framework>") -> Framework:
        """Validate a parsed YAML document; raises :class:`FrameworkError` listing every problem."""
        data = parse_framework(document, source)
        return cls(**{f.name: getattr(data, f.name) for f in dataclasses.fields(FrameworkData)})

    @classmethod
    def from_yaml(cls, text: str, source: str = "<framework>") -> Framework:
        """Parse YAML text (safely) into a framework."""
        return cls.from_document(load_yaml(text, source), source)

    @classmethod
    def load(cls, path: str | Path) -> Framework:
        """Read a framework file."""
        return cls.from_document(read_yaml_file(path), str(path))

    def to_dict(self) -> dict[str, Any]:
        """The framework as a plain mapping in the schema's key order."""
        return to_document(self)

    def to_yaml(self) -> str:
        """Canonical YAML; ``Framework.from_yaml(f.to_yaml()) == f``."""
        return dump_yaml(self.to_dict())

    def save(self, path: str | Path) -> Path:
        """Write the canonical YAML to ``path``."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.to_yaml(), encoding="utf-8")
        return path

    @cached_property
    def fingerprint(self) -> str:
        """SHA-256 of the canonical YAML (first 16 hex digits): same policy, same fingerprint.

        Computed once per object (frameworks are immutable; every edit returns a new one).
        """
        return hashlib.sha256(self.to_yaml().encode("utf-8")).hexdigest()[:16]

    # -- lookups --------------------------------------------------------------------------------
    @property
    def stage_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.stages)

    @property
    def needs_revenue(self) -> bool:
        """Whether stages are cut by revenue: several stages, or bounds on the only one.

        A framework with one open stage (``revenue_min`` 0, no ``revenue_max``) places every firm
        in it, so its data need no revenue column.
        """
        first = self.stages[0]
        return len(self.stages) > 1 or first.revenue_min > 0 or first.revenue_max is not None

    @property
    def indicator_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.indicators)

    @property
    def penalty_ids(self) -> tuple[str, ...]:
        return tuple(p.id for p in self.penalties)

    @property
    def core_indicator_ids(self) -> tuple[str, ...]:
        core = {g.id for g in self.groups if g.kind == "core"}
        return tuple(i.id for i in self.indicators if i.group in core)

    @property
    def bonus_indicator_ids(self) -> tuple[str, ...]:
        bonus = {g.id for g in self.groups if g.kind == "bonus"}
        return tuple(i.id for i in self.indicators if i.group in bonus)

    def indicator(self, ident: str) -> Indicator:
        """The indicator with this id or alias."""
        for ind in self.indicators:
            if ind.id == ident or ident in ind.aliases:
                return ind
        raise KeyError(f"no indicator {ident!r} in framework {self.id!r}")

    def group(self, ident: str) -> Group:
        for g in self.groups:
            if g.id == ident:
                return g
        raise KeyError(f"no group {ident!r} in framework {self.id!r}")

    def stage(self, ident: str) -> Stage:
        for s in self.stages:
            if s.id == ident:
                return s
        raise KeyError(f"no stage {ident!r} in framework {self.id!r}")

    def penalty(self, ident: str) -> Penalty:
        for p in self.penalties:
            if p.id == ident:
                return p
        raise KeyError(f"no penalty {ident!r} in framework {self.id!r}")

    def reconstructed(self) -> list[tuple[str, str]]:
        """Every element marked ``reconstructed``, as ``(what, reasoning)`` — for report limitations."""
        out: list[tuple[str, str]] = []

        def visit(kind: str, ident: str, prov: Any) -> None:
            if prov.is_reconstructed:
                out.append((f"{kind} {ident}", prov.reasoning or ""))

        visit("framework", self.id, self.provenance)
        for s in self.stages:
            visit("stage", s.id, s.provenance)
        for g in self.groups:
            visit("group", g.id, g.provenance)
        for i in self.indicators:
            visit("indicator", i.id, i.provenance)
        for p in self.penalties:
            visit("penalty", p.id, p.provenance)
        for t in self.tiers:
            visit("tier", t.id, t.provenance)
        for sub in self.subsidies:
            visit("subsidy", sub.stage, sub.provenance)
        for li in self.lists:
            visit("list", li.id, li.provenance)
        if self.eligibility is not None:
            visit("eligibility", "categories", self.eligibility.provenance)
            for c in self.eligibility.conditions:
                visit("eligibility condition", c.id, c.provenance)
        for pool in self.pools:
            visit("pool", pool.id, pool.provenance)
        if self.credit is not None:
            visit("credit", "lines", self.credit.provenance)
        return out

    def provenance_counts(self) -> dict[str, dict[str, int]]:
        """Elements per kind that are ``official`` and ``reconstructed``, for ``calibrate frameworks``.

        Returns ``{kind: {"official": n, "reconstructed": m}}`` over the framework itself, stages,
        groups, indicators, penalties, tiers, lists, subsidies, eligibility (the section, then each
        condition), pools and credit lines (kinds the framework does not have are left out).
        """
        kinds: dict[str, list[Any]] = {
            "framework": [self],
            "stages": list(self.stages),
            "groups": list(self.groups),
            "indicators": list(self.indicators),
            "penalties": list(self.penalties),
            "tiers": list(self.tiers),
            "lists": list(self.lists),
            "subsidies": list(self.subsidies),
            "eligibility": []
            if self.eligibility is None
            else [self.eligibility, *self.eligibility.conditions],  # the categories, then columns
            "pools": list(self.pools),
            "credit": [] if self.credit is None else [self.credit],
        }
        out: dict[str, dict[str, int]] = {}
        for kind, items in kinds.items():
            if not items:
                continue
            official = sum(1 for x in items if x.provenance.status == "official")
            out[kind] = {"official": official, "reconstructed": len(items) - official}
        return out

    # -- the points table -------------------------------------------------------------------------
    def points(self) -> dict[str, dict[str, float]]:
        """Points per indicator per stage: ``{indicator: {stage: points}}``."""
        return {i.id: dict(i.points) for i in self.indicators}

    def table(self) -> pd.DataFrame:
        """The points table: one row per indicator, names in both languages, one column per stage."""
        import pandas as pd  # framework/ is pandas-free except for this view

        kinds = {g.id: g.kind for g in self.groups}
        rows = []
        for ind in self.indicators:
            row: dict[str, Any] = {
                "indicator": ind.id,
                "name_zh": ind.name.zh,
                "name_en": ind.name.en,
                "group": ind.group,
                "group_kind": kinds[ind.group],
                "unit": ind.unit,
                "rule": ind.rule.kind,
                "provenance": ind.provenance.status,
            }
            row.update({s: ind.points[s] for s in self.stage_ids})
            rows.append(row)
        return pd.DataFrame(rows).set_index("indicator")

    def diff(self, other: Framework) -> pd.DataFrame:
        """Points of ``other`` minus points of ``self`` for indicators in either, per stage (long form)."""
        import pandas as pd

        rows = []
        ids = list(self.indicator_ids) + [
            i for i in other.indicator_ids if i not in self.indicator_ids
        ]
        stages = list(self.stage_ids) + [s for s in other.stage_ids if s not in self.stage_ids]
        mine, theirs = self.points(), other.points()
        for ind in ids:
            source = self if ind in mine else other
            name = source.indicator(ind).name
            for s in stages:
                old = mine.get(ind, {}).get(s, math.nan)
                new = theirs.get(ind, {}).get(s, math.nan)
                rows.append(
                    {
                        "indicator": ind,
                        "name_zh": name.zh,
                        "name_en": name.en,
                        "stage": s,
                        "old": old,
                        "new": new,
                        "change": new - old,
                    }
                )
        return pd.DataFrame(rows)

    # -- edits (each returns a new, validated framework) ------------------------------------------
    def with_points(
        self, points: Mapping[str, Mapping[str, float]] | pd.DataFrame, **fields: Any
    ) -> Framework:
        """Replace points for some indicators and stages; rules keep their fractions.

        Parameters
        ----------
        points : mapping or DataFrame
            ``{indicator: {stage: points}}`` or a table indexed by indicator with one column per
            stage (as :meth:`table` returns); indicators or stages not given keep their points.
        **fields
            Other top-level fields to set at the same time (``id``, ``version``, ``calibration`` …).

        Notes
        -----
        A ``count`` rule's ``per_unit`` and a points-valued band table are rescaled with the points,
        so every firm keeps the same fraction of the indicator's points (the cap moves with them).
        """
        if not isinstance(points, Mapping):
            frame = points
            stage_cols = [c for c in frame.columns if c in self.stage_ids]
            points = {
                str(idx): {s: float(cast(Any, frame.at[idx, s])) for s in stage_cols}
                for idx in frame.index
            }
        unknown = [k for k in points if k not in self.indicator_ids]
        if unknown:
            raise FrameworkError(
                f"framework {self.id}",
                [
                    Problem(
                        f"points.{k}",
                        f"no such indicator; indicators are {', '.join(self.indicator_ids)}",
                    )
                    for k in unknown
                ],
            )
        indicators = []
        for ind in self.indicators:
            if ind.id not in points:
                indicators.append(ind)
                continue
            new = {s: float(points[ind.id].get(s, ind.points[s])) for s in self.stage_ids}
            indicators.append(
                dataclasses.replace(ind, points=new, rule=_rescale_rule(ind, new, self.stage_ids))
            )
        return self._rebuild(indicators=tuple(indicators), **fields)

    def reweight(
        self, factors: Mapping[str, float], *, renormalise: bool = True, **fields: Any
    ) -> Framework:
        """Multiply the points of indicators or whole groups by factors.

        Parameters
        ----------
        factors : mapping
            ``{indicator_or_group_id: factor}``; an indicator's own factor wins over its group's.
        renormalise : bool
            Rescale the core indicators afterwards so each stage's core points add up to the budget
            again (bonus indicators are never renormalised: their cap governs them).
        """
        groups = {g.id for g in self.groups}
        unknown = [k for k in factors if k not in groups and k not in self.indicator_ids]
        if unknown:
            raise KeyError(f"unknown indicator or group id(s): {', '.join(unknown)}")
        new: dict[str, dict[str, float]] = {}
        for ind in self.indicators:
            factor = factors.get(ind.id, factors.get(ind.group, 1.0))
            new[ind.id] = {s: ind.points[s] * factor for s in self.stage_ids}
        if renormalise:
            new = self._renormalised(new)
        return self.with_points(new, **fields)

    def drop(self, ids: Iterable[str], *, renormalise: bool = True, **fields: Any) -> Framework:
        """Remove indicators (e.g. one a park cannot collect); core points are renormalised by default."""
        ids = set(ids)
        missing = ids - set(self.indicator_ids)
        if missing:
            raise KeyError(f"unknown indicator id(s): {', '.join(sorted(missing))}")
        kept = tuple(i for i in self.indicators if i.id not in ids)
        pools = tuple(
            dataclasses.replace(p, indicators=tuple(i for i in p.indicators if i not in ids))
            for p in self.pools
            if any(i not in ids for i in p.indicators)
        )  # a pool keeps its other indicators; one left with none is removed
        trimmed = self._rebuild(indicators=kept, pools=pools, validate=False)
        if not renormalise:
            return trimmed._rebuild(**fields)
        return trimmed.with_points(trimmed._renormalised(trimmed.points()), **fields)

    def _renormalised(self, points: dict[str, dict[str, float]]) -> dict[str, dict[str, float]]:
        core = set(self.core_indicator_ids)
        out = {k: dict(v) for k, v in points.items()}
        for s in self.stage_ids:
            total = math.fsum(out[i][s] for i in core if i in out)
            if total <= 0:
                continue
            for i in core:
                if i in out:
                    out[i][s] = out[i][s] * self.core_budget / total
        return out

    def _rebuild(self, *, validate: bool = True, **changes: Any) -> Framework:
        draft = dataclasses.replace(self, **changes)
        if not validate:
            return draft
        return Framework.from_document(to_document(draft), f"framework {draft.id} (edited)")


def _rescale_rule(ind: Indicator, new: Mapping[str, float], stages: tuple[str, ...]) -> Any:
    rule = ind.rule
    old = ind.points
    # A stage set to 0 points keeps its rule parameters, so setting the points back restores the
    # same fractions (0 points switch the indicator off; they carry no scale to rescale by).
    if isinstance(rule, CountRule):
        per_unit = {
            s: (rule.per_unit[s] if isinstance(rule.per_unit, Mapping) else rule.per_unit)
            for s in stages
        }
        scaled = {
            s: per_unit[s] * new[s] / old[s] if old[s] > 0 and new[s] > 0 else per_unit[s]
            for s in stages
        }
        if len(set(scaled.values())) == 1:
            return CountRule(next(iter(scaled.values())))
        return CountRule(scaled)
    if isinstance(rule, BandsRule) and rule.value_is == "points":

        def rescaled(s: str) -> tuple[Band, ...]:
            bands = rule.bands_at(s)
            top = max((b.value for b in bands), default=0.0)
            if new[s] <= 0 or top <= 0:
                return bands
            return tuple(Band(b.min, b.value * new[s] / top) for b in bands)

        tables = {s: rescaled(s) for s in stages}
        first = next(iter(tables.values()))
        if all(t == first for t in tables.values()):
            return BandsRule(first, "points")
        return BandsRule(tables, "points")
    return rule


def shipped_frameworks() -> list[str]:
    """Ids of the frameworks shipped with the package."""
    folder = resources.files(_SHIPPED)
    return sorted(
        p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml")
    )


def load_framework(spec: str | Path | Framework) -> Framework:
    """Load a framework by shipped id (e.g. ``"longwan-2022"``) or by YAML path.

    Raises
    ------
    FrameworkError
        When the id is unknown and no file exists, or the file is invalid (every problem listed).
    """
    if isinstance(spec, Framework):
        return spec
    text = str(spec)
    if text in shipped_frameworks():
        resource = resources.files(_SHIPPED).joinpath(f"{text}.yaml")
        return Framework.from_yaml(resource.read_text(encoding="utf-8"), f"{text} (shipped)")
    path = Path(text)
    if path.exists():
        return Framework.load(path)
    raise FrameworkError(
        text,
        [
            Problem(
                "<framework>",
                f"not a shipped framework and no such file; shipped frameworks are "
                f"{', '.join(shipped_frameworks())} — or give the path to a YAML file",
            )
        ],
    )
