"""Framework → plain document, in the canonical key order of the schema."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from calibrate.framework._parse import SCHEMA
from calibrate.framework.model import (
    BandsRule,
    Benefit,
    CountRule,
    FrameworkData,
    LinearRule,
    Name,
    PolicyList,
    Pool,
    Provenance,
    Rule,
    SeatOptions,
    StageValue,
)


def _num(value: float) -> float | int:
    # Whole numbers are written without ".0" so hand-written files round-trip unchanged.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _stage_value(value: StageValue) -> Any:
    if isinstance(value, Mapping):
        return {k: _num(v) for k, v in value.items()}
    return _num(value)


def _name(name: Name) -> dict[str, str]:
    return {"zh": name.zh, "en": name.en}


def _provenance(p: Provenance) -> dict[str, str]:
    out: dict[str, str] = {"status": p.status}
    if p.source is not None:
        out["source"] = p.source
    if p.reasoning is not None:
        out["reasoning"] = p.reasoning
    return out


def _rule(rule: Rule) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": rule.kind}
    if isinstance(rule, LinearRule):
        out["low"] = _stage_value(rule.low)
        out["high"] = _stage_value(rule.high)
    elif isinstance(rule, BandsRule):
        if rule.value_is != "fraction":
            out["value_is"] = rule.value_is

        def table(bands: Any) -> list[dict[str, Any]]:
            return [{"min": _num(b.min), "value": _num(b.value)} for b in bands]

        if isinstance(rule.bands, Mapping):
            out["bands"] = {k: table(v) for k, v in rule.bands.items()}
        else:
            out["bands"] = table(rule.bands)
    elif isinstance(rule, CountRule):
        out["per_unit"] = _stage_value(rule.per_unit)
    return out


def to_document(f: FrameworkData) -> dict[str, Any]:
    """The framework as a plain, YAML-ready mapping (optional fields only when set)."""
    doc: dict[str, Any] = {
        "schema": SCHEMA,
        "id": f.id,
        "version": f.version,
        "name": _name(f.name),
    }
    if f.description is not None:
        doc["description"] = f.description
    doc["provenance"] = _provenance(f.provenance)
    doc["ranking_group"] = list(f.ranking_group)
    doc["decimals"] = f.decimals
    doc["core_budget"] = _num(f.core_budget)
    doc["stages"] = [
        {
            "id": s.id,
            "name": _name(s.name),
            "revenue_min": _num(s.revenue_min),
            **({"revenue_max": _num(s.revenue_max)} if s.revenue_max is not None else {}),
            "provenance": _provenance(s.provenance),
        }
        for s in f.stages
    ]
    doc["groups"] = [
        {
            "id": g.id,
            "name": _name(g.name),
            "kind": g.kind,
            **({"cap": _num(g.cap)} if g.cap is not None else {}),
            "provenance": _provenance(g.provenance),
        }
        for g in f.groups
    ]
    indicators = []
    for ind in f.indicators:
        item: dict[str, Any] = {
            "id": ind.id,
            "name": _name(ind.name),
            "unit": ind.unit,
            "group": ind.group,
        }
        if ind.aliases:
            item["aliases"] = list(ind.aliases)
        if ind.description is not None:
            item["description"] = ind.description
        item["missing"] = ind.missing
        item["rule"] = _rule(ind.rule)
        item["points"] = {k: _num(v) for k, v in ind.points.items()}
        item["provenance"] = _provenance(ind.provenance)
        indicators.append(item)
    doc["indicators"] = indicators
    if f.penalties:
        doc["penalties"] = [
            {
                "id": p.id,
                "name": _name(p.name),
                **({"aliases": list(p.aliases)} if p.aliases else {}),
                "action": p.action,
                **({"points": _stage_value(p.points)} if p.points is not None else {}),
                "provenance": _provenance(p.provenance),
            }
            for p in f.penalties
        ]
    if f.tiers or f.lists or f.tier_seats != "floor":
        doc["tier_seats"] = f.tier_seats
    if f.min_seats:
        doc["min_seats"] = f.min_seats
    if f.ties != "all":
        doc["ties"] = f.ties
    if f.tie_breaker is not None:
        doc["tie_breaker"] = {"column": f.tie_breaker.column, "order": f.tie_breaker.order}
    if f.tiers:
        doc["tiers"] = [
            {
                "id": t.id,
                "name": _name(t.name),
                "top_fraction": _num(t.top_fraction),
                "provenance": _provenance(t.provenance),
            }
            for t in f.tiers
        ]
    if f.lists:
        doc["lists"] = [_list(li) for li in f.lists]
    if f.subsidies:
        doc["subsidies"] = [
            {
                "stage": s.stage,
                "top_fraction": _num(s.top_fraction),
                "amount_wan": _num(s.amount_wan),
                **({"max_firms": s.max_firms} if s.max_firms is not None else {}),
                **_seats(s.seats),
                "provenance": _provenance(s.provenance),
            }
            for s in f.subsidies
        ]
    _policy_sections(f, doc)
    if f.calibration is not None:
        doc["calibration"] = dict(f.calibration)
    return doc


def _seats(options: SeatOptions) -> dict[str, Any]:
    """``{"seats": {...}}`` with the options that are set, or nothing."""
    if options.is_default:
        return {}
    out: dict[str, Any] = {}
    if options.rounding is not None:
        out["rounding"] = options.rounding
    if options.min_seats is not None:
        out["min_seats"] = options.min_seats
    if options.ties is not None:
        out["ties"] = options.ties
    return {"seats": out}


def _benefit(b: Benefit) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": b.kind}
    if b.amount is not None:
        out["amount"] = _num(b.amount)
    if b.description is not None:
        out["description"] = b.description
    return out


def _list(li: PolicyList) -> dict[str, Any]:
    out: dict[str, Any] = {
        "id": li.id,
        "name": _name(li.name),
        "top_fraction": _num(li.top_fraction),
    }
    if li.stages:
        out["stages"] = list(li.stages)
    if li.within is not None:
        out["within"] = li.within
    if li.max_firms is not None:
        out["max_firms"] = li.max_firms
    out.update(_seats(li.seats))
    if li.benefits:
        out["benefits"] = [_benefit(b) for b in li.benefits]
    out["provenance"] = _provenance(li.provenance)
    return out


def _pool(p: Pool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": p.id, "name": _name(p.name)}
    if p.certification is not None:
        out["certification"] = p.certification
    out["indicators"] = list(p.indicators)
    out["ranking_group"] = list(p.ranking_group)
    for key in ("top_fraction", "max_firms", "min_score"):
        value = getattr(p, key)
        if value is not None:
            out[key] = _num(value)
    if p.exclude:
        out["exclude"] = list(p.exclude)
    out["provenance"] = _provenance(p.provenance)
    return out


def _policy_sections(f: FrameworkData, doc: dict[str, Any]) -> None:
    """Eligibility, pools and credit lines, in that order, when set."""
    if f.eligibility is not None:
        e = f.eligibility
        doc["eligibility"] = {
            "mode": e.mode,
            "conditions": [
                {
                    "id": c.id,
                    "name": _name(c.name),
                    "column": c.column,
                    "op": c.op,
                    "value": _num(c.value),
                    "provenance": _provenance(c.provenance),
                }
                for c in e.conditions
            ],
            "provenance": _provenance(e.provenance),
        }
    if f.pools:
        doc["pools"] = [_pool(p) for p in f.pools]
    if f.credit is not None:
        credit: dict[str, Any] = {"base_wan": _num(f.credit.base_wan)}
        if f.credit.bands:
            credit["bands"] = [
                {"min_total": _num(b.min_total), "amount_wan": _num(b.amount_wan)}
                for b in f.credit.bands
            ]
        credit["provenance"] = _provenance(f.credit.provenance)
        doc["credit"] = credit
