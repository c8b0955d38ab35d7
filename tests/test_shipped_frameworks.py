"""The shipped frameworks: load, canonical form, budgets, provenance and the published numbers.

Expected numbers are written out here from ``DOMAIN.md`` (not read from the files under test), and
the core budget is recomputed from the raw YAML rather than trusted from the parser.
"""

from __future__ import annotations

import math
import re
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml

from calibrate.framework import (
    BandsRule,
    Framework,
    load_framework,
    shipped_frameworks,
)

SHIPPED = ["national-2024", "longwan-2022", "longwan-2022-text", "hangzhou-2020"]
#: The policy texts on file (``../shared/seeds``): an ``official`` label must cite one of them.
SOURCES_ON_FILE = (
    "Wenzhou Longwan 2022 innovation points plan",
    "Zhejiang Online (浙江在线), Hangzhou channel, 9 September 2020",
)
DOCS = Path(__file__).resolve().parents[1] / "docs"

# --- facts from DOMAIN.md ----------------------------------------------------------------------

NATIONAL_IDS = {
    "tech": [
        "rd_expense",
        "rd_growth",
        "rd_intensity",
        "st_staff_share",
        "invention_patent_apps",
        "pct_apps",
        "tech_contract_turnover",
    ],
    "growth": [
        "hitech_product_revenue",
        "revenue",
        "revenue_growth",
        "postgrad_share",
        "rd_deduction_relief",
        "roe",
    ],
    "auxiliary": [
        "graduates_hired",
        "platforms_provincial",
        "awards_provincial",
        "vc_financing",
        "standards_drafted",
    ],
}
NATIONAL_ALL = [i for ids in NATIONAL_IDS.values() for i in ids]
LOCAL_IDS = [
    "invention_patents_owned",
    "utility_patent_apps",
    "software_copyrights",
    "industry_university_projects",
    "tax_paid",
    "tax_growth",
    "employees",
    "net_profit",
    "labour_productivity",
    "hte_valid",
    "tech_sme_registered",
    "specialised_sme",
    "talent_programs",
    "listed_reserve",
]
PENALTY_IDS = {"major_safety_accident", "env_violation", "dishonest_debtor", "research_misconduct"}

# (id, Chinese name, revenue_min, revenue_max) in 万元
LONGWAN_STAGES = [
    ("seed", "种子期", 0, 100),
    ("startup", "初创期", 100, 500),
    ("growth", "成长期", 500, 2000),
    ("expansion", "扩张期", 2000, 10000),
    ("mature", "成熟期", 10000, None),
]
LONGWAN_TIERS = [
    ("leading", "创新领跑榜", 0.05),
    ("racing", "创新竞跑榜", 0.10),
    ("striving", "创新进取榜", 0.20),
]
# stage: (top_fraction, amount 万元, max_firms)
LONGWAN_SUBSIDIES = {
    "mature": (0.01, 30, 3),
    "expansion": (0.01, 30, 3),
    "growth": (0.01, 10, 3),
    "startup": (0.02, 5, 3),
    "seed": (0.02, 5, 10),
}
HANGZHOU_STAGES = [
    ("seed", "种子期", 0, 50),
    ("sapling", "苗木期", 50, 500),
    ("growth", "成长期", 500, 2000),
    ("scaleup", "壮大期", 2000, 10000),
    ("mature", "成熟期", 10000, None),
]
NATIONAL_STAGE_NAMES = ["初创期", "成长期", "稳定期"]

_CJK = re.compile(r"[\u4e00-\u9fff]")


# --- helpers -------------------------------------------------------------------------------------


def _text(fid: str) -> str:
    return (
        resources.files("calibrate.frameworks").joinpath(f"{fid}.yaml").read_text(encoding="utf-8")
    )


def _raw(fid: str) -> dict[str, Any]:
    return yaml.safe_load(_text(fid))


def _core_groups(raw: dict[str, Any]) -> set[str]:
    return {g["id"] for g in raw["groups"] if g["kind"] == "core"}


def _elements(raw: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    """Every element that must carry provenance, with a label for messages."""
    out = [("framework", raw)]
    for section in ("stages", "groups", "indicators", "penalties", "tiers"):
        out += [(f"{section}[{e['id']}]", e) for e in raw.get(section, [])]
    out += [(f"subsidies[{s['stage']}]", s) for s in raw.get("subsidies", [])]
    for section in ("lists", "pools"):
        out += [(f"{section}[{e['id']}]", e) for e in raw.get(section, [])]
    if "eligibility" in raw:
        out.append(("eligibility", raw["eligibility"]))
        out += [(f"eligibility[{c['id']}]", c) for c in raw["eligibility"]["conditions"]]
    if "credit" in raw:
        out.append(("credit", raw["credit"]))
    return out


def _catalogue_ids() -> set[str]:
    return set(
        re.findall(r"`([a-z][a-z0-9_]*)`", (DOCS / "columns.md").read_text(encoding="utf-8"))
    )


# --- every shipped framework ---------------------------------------------------------------------


def test_all_are_shipped() -> None:
    assert set(SHIPPED) <= set(shipped_frameworks())


@pytest.mark.parametrize("fid", SHIPPED)
def test_loads(fid: str) -> None:
    f = load_framework(fid)
    assert isinstance(f, Framework)
    assert f.id == fid
    assert f.core_budget == 100


@pytest.mark.parametrize("fid", SHIPPED)
def test_canonical_round_trip(fid: str) -> None:
    path = Path(str(resources.files("calibrate.frameworks").joinpath(f"{fid}.yaml")))
    text = path.read_text(encoding="utf-8")
    assert Framework.load(path).to_yaml() == text
    assert Framework.from_yaml(text) == load_framework(fid)


@pytest.mark.parametrize("fid", SHIPPED)
def test_core_points_sum_to_budget(fid: str) -> None:
    raw = _raw(fid)
    core = _core_groups(raw)
    assert core, "a framework needs a core group"
    for stage in (s["id"] for s in raw["stages"]):
        total = math.fsum(i["points"][stage] for i in raw["indicators"] if i["group"] in core)
        assert total == raw["core_budget"], (stage, total)


@pytest.mark.parametrize("fid", SHIPPED)
def test_points_are_whole_or_half(fid: str) -> None:
    raw = _raw(fid)
    for ind in raw["indicators"]:
        assert set(ind["points"]) == {s["id"] for s in raw["stages"]}, ind["id"]
        for stage, value in ind["points"].items():
            assert value >= 0 and float(value * 2).is_integer(), (ind["id"], stage, value)
    for pen in raw.get("penalties", []):
        if pen["action"] == "deduct":
            assert float(pen["points"] * 2).is_integer() and pen["points"] > 0, pen["id"]


@pytest.mark.parametrize("fid", SHIPPED)
def test_every_element_has_provenance(fid: str) -> None:
    for label, element in _elements(_raw(fid)):
        prov = element.get("provenance")
        assert isinstance(prov, dict), label
        assert prov["status"] in ("official", "reconstructed"), label
        if prov["status"] == "official":
            assert isinstance(prov.get("source"), str) and prov["source"].strip(), label
        else:
            assert isinstance(prov.get("reasoning"), str) and len(prov["reasoning"].strip()) > 20, (
                label
            )


@pytest.mark.parametrize("fid", SHIPPED)
def test_points_are_never_claimed_official(fid: str) -> None:
    # No shipped scheme publishes its per-indicator points: each must be a labelled reconstruction,
    # and so must the framework as a whole, with the description saying so.
    raw = _raw(fid)
    assert raw["provenance"]["status"] == "reconstructed"
    assert "reconstruct" in raw["description"]
    for ind in raw["indicators"]:
        assert ind["provenance"]["status"] == "reconstructed", ind["id"]


@pytest.mark.parametrize("fid", SHIPPED)
def test_names_in_both_languages(fid: str) -> None:
    for label, element in _elements(_raw(fid)):
        if label.startswith("subsidies") or label in ("eligibility", "credit"):
            continue  # these carry no name of their own
        name = element["name"]
        assert set(name) == {"zh", "en"}, label
        assert _CJK.search(name["zh"]), (label, name["zh"])
        assert name["en"].strip() and not _CJK.search(name["en"]), (label, name["en"])


@pytest.mark.parametrize("fid", SHIPPED)
def test_ids_come_from_the_column_catalogue(fid: str) -> None:
    f = load_framework(fid)
    known = _catalogue_ids()
    assert set(f.indicator_ids) <= known
    assert set(f.penalty_ids) <= PENALTY_IDS


@pytest.mark.parametrize("fid", SHIPPED)
def test_missing_scores_zero(fid: str) -> None:
    assert {i.missing for i in load_framework(fid).indicators} == {"zero"}


@pytest.mark.parametrize("fid", SHIPPED)
def test_table_shape(fid: str) -> None:
    f = load_framework(fid)
    table = f.table()
    assert table.shape == (len(f.indicators), 7 + len(f.stages))
    assert list(table.index) == list(f.indicator_ids)
    assert list(table.columns[-len(f.stages) :]) == list(f.stage_ids)
    assert table.loc[list(f.core_indicator_ids), list(f.stage_ids)].sum().tolist() == [100.0] * len(
        f.stages
    )
    assert set(table["group_kind"]) <= {"core", "bonus"}


@pytest.mark.parametrize("fid", SHIPPED)
def test_scores_a_table_within_bounds(fid: str) -> None:
    f = load_framework(fid)
    from calibrate.scoring import score

    rng = np.random.default_rng(7)
    n = 400
    revenue = np.exp(rng.uniform(0, np.log(50_000), n))
    data: dict[str, Any] = {
        "enterprise_id": [f"E{i:04d}" for i in range(n)],
        "year": 2024,
        "park": "p",
        "revenue": revenue,
    }
    for ind in f.indicators:
        if ind.id == "revenue":
            continue
        x = {
            "fraction": rng.uniform(-0.2, 0.5, n),
            "0/1": rng.integers(0, 2, n).astype(float),
            "count": rng.poisson(2, n).astype(float),
        }.get(ind.unit, revenue * rng.uniform(0, 0.3, n))
        x[rng.random(n) < 0.1] = np.nan
        data[ind.id] = x
    for pen in f.penalties:
        data[pen.id] = (rng.random(n) < 0.02).astype(int)
    for cond in f.eligibility.conditions if f.eligibility else ():
        data.setdefault(cond.column, rng.integers(0, 2, n).astype(float))
    frame = score(f, pd.DataFrame(data)).frame
    assert (frame["core"] <= f.core_budget).all() and (frame["core"] >= 0).all()
    caps = sum(g.cap or 0 for g in f.groups if g.kind == "bonus")
    assert (frame["bonus"] <= caps).all()
    assert not frame.loc[frame["vetoed"], "tier"].notna().any()
    unranked = frame["vetoed"] | ~frame["eligible"]
    for ident in [t.id for t in f.tiers] + [li.id for li in f.lists]:
        assert not frame.loc[unranked, f"list__{ident}"].any(), ident


@pytest.mark.parametrize("fid", SHIPPED)
def test_official_labels_cite_a_text_on_file(fid: str) -> None:
    """A label is a promise: ``official`` only where a policy text on file states the number."""
    for label, element in _elements(_raw(fid)):
        prov = element.get("provenance")
        if prov and prov["status"] == "official":
            assert prov["source"].startswith(SOURCES_ON_FILE), (label, prov["source"])


# --- national-2024 -------------------------------------------------------------------------------


def test_national_has_exactly_the_18_domain_indicators() -> None:
    f = load_framework("national-2024")
    assert len(f.indicators) == 18
    assert sorted(f.indicator_ids) == sorted(NATIONAL_ALL)
    for group, ids in NATIONAL_IDS.items():
        assert [i.id for i in f.indicators if i.group == group] == ids


def test_national_stages_and_weights() -> None:
    f = load_framework("national-2024")
    assert [s.name.zh for s in f.stages] == NATIONAL_STAGE_NAMES
    assert all(s.provenance.is_reconstructed for s in f.stages)  # cut-offs not public
    assert {g.id: g.kind for g in f.groups} == {
        "tech": "core",
        "growth": "core",
        "auxiliary": "core",
    }
    weights = {
        g: [sum(i.points[s] for i in f.indicators if i.group == g) for s in f.stage_ids]
        for g in NATIONAL_IDS
    }
    assert weights["tech"][0] > weights["tech"][-1]  # start-up weights innovation input more
    assert weights["growth"][0] < weights["growth"][-1]  # stable weights growth and scale more
    # the national text publishes no list fractions: reconstructed lists after Longwan's, no subsidies
    assert [(t.id, t.top_fraction) for t in f.tiers] == [
        ("top5", 0.05),
        ("top10", 0.1),
        ("top20", 0.2),
    ]
    assert all(t.provenance.status == "reconstructed" and t.provenance.reasoning for t in f.tiers)
    assert f.subsidies == ()


def test_national_fifth_auxiliary_indicator_is_flagged() -> None:
    prov = load_framework("national-2024").indicator("standards_drafted").provenance
    assert prov.is_reconstructed
    assert "not public" in prov.reasoning and "likeliest candidate" in prov.reasoning


# --- longwan-2022 --------------------------------------------------------------------------------


def test_longwan_stages_are_domain_numbers() -> None:
    f = load_framework("longwan-2022")
    got = [(s.id, s.name.zh, s.revenue_min, s.revenue_max) for s in f.stages]
    assert got == LONGWAN_STAGES
    assert all(s.provenance.status == "official" for s in f.stages)


def test_longwan_tiers_are_domain_numbers() -> None:
    f = load_framework("longwan-2022")
    assert [(t.id, t.name.zh, t.top_fraction) for t in f.tiers] == LONGWAN_TIERS
    assert all(t.provenance.status == "official" for t in f.tiers)
    assert f.tier_seats == "floor"


def test_longwan_subsidies_are_domain_numbers() -> None:
    f = load_framework("longwan-2022")
    got = {s.stage: (s.top_fraction, s.amount_wan, s.max_firms) for s in f.subsidies}
    assert got == LONGWAN_SUBSIDIES
    assert all(s.provenance.status == "official" for s in f.subsidies)


def test_longwan_has_32_indicators_national_plus_local() -> None:
    f = load_framework("longwan-2022")
    assert len(f.indicators) == 32
    assert sorted(f.indicator_ids) == sorted(NATIONAL_ALL + LOCAL_IDS)


def test_longwan_groups_budget_and_bonus_cap() -> None:
    f = load_framework("longwan-2022")
    assert {g.id: (g.kind, g.cap) for g in f.groups} == {
        "tech": ("core", None),
        "growth": ("core", None),
        "auxiliary": ("bonus", 50),
    }
    for ind in NATIONAL_IDS["auxiliary"]:
        assert f.indicator(ind).group == "auxiliary"
    for stage in f.stage_ids:
        offered = sum(i.points[stage] for i in f.indicators if i.group == "auxiliary")
        assert offered > 50, (stage, offered)  # the cap binds for strong firms


def test_longwan_penalties() -> None:
    f = load_framework("longwan-2022")
    assert set(f.penalty_ids) == PENALTY_IDS
    assert {p.action for p in f.penalties} == {"deduct", "veto"}
    assert all(p.provenance.is_reconstructed for p in f.penalties)


def test_longwan_uses_every_rule_kind() -> None:
    f = load_framework("longwan-2022")
    assert {i.rule.kind for i in f.indicators} == {
        "linear",
        "bands",
        "percentile",
        "count",
        "binary",
    }
    bands = [i.rule for i in f.indicators if isinstance(i.rule, BandsRule)]
    assert any(r.value_is == "points" for r in bands)
    assert any(isinstance(r.bands, dict) for r in bands)


def test_longwan_per_mu_lists_sit_beside_the_tiers() -> None:
    f = load_framework("longwan-2022")
    got = [(li.id, li.top_fraction, [b.kind for b in li.benefits]) for li in f.lists]
    assert got == [("mu_grade_up", 0.02, ["grade_up"]), ("mu_extra_points", 0.05, ["extra_points"])]
    assert all(li.provenance.status == "official" and not li.stages for li in f.lists)
    assert "20" in f.provenance.reasoning and "first-batch" in f.provenance.reasoning


def test_longwan_text_variant_follows_the_plan() -> None:
    """32 items counting the negative ones, auxiliary positive items worth exactly 50."""
    f = load_framework("longwan-2022-text")
    assert len(f.indicators) + len(f.penalties) == 32 and len(f.penalties) == 4
    for stage in f.stage_ids:
        offered = sum(i.points[stage] for i in f.indicators if i.group == "auxiliary")
        assert offered == 50 == f.group("auxiliary").cap, stage
    base = load_framework("longwan-2022")
    assert set(f.indicator_ids) < set(base.indicator_ids)
    assert (f.stages, f.tiers, f.subsidies, f.lists) == (
        base.stages,
        base.tiers,
        base.subsidies,
        base.lists,
    )
    assert f.eligibility is not None and f.eligibility.mode == "any"
    assert f.eligibility.provenance.status == "official"
    # every category is read from a column the framework scores anyway: no extra data needed
    assert {c.column for c in f.eligibility.conditions} <= set(f.indicator_ids)
    assert {p.certification for p in f.pools} == {"tech_sme", "hnte", "innovative_sme"}
    # pools look for candidates: firms already certified are left out
    assert {p.id: p.exclude for p in f.pools} == {
        "tech_sme": ("tech_sme_registered",),
        "hnte": ("hte_valid",),
        "specialised": (),
    }


# --- hangzhou-2020 -------------------------------------------------------------------------------


def test_hangzhou_stages_are_domain_numbers() -> None:
    f = load_framework("hangzhou-2020")
    got = [(s.id, s.name.zh, s.revenue_min, s.revenue_max) for s in f.stages]
    assert got == HANGZHOU_STAGES
    # the cited article names the stages but not the cut-offs: those are labelled reconstructed
    for s in f.stages:
        assert s.provenance.is_reconstructed and "cut-offs" in (s.provenance.reasoning or "")


def test_hangzhou_base_credit_line_is_the_published_one() -> None:
    f = load_framework("hangzhou-2020")
    assert f.credit is not None and f.credit.base_wan == 50 and f.credit.bands == ()
    assert f.credit.provenance.status == "official"


def test_national_claims_nothing_official() -> None:
    """No national guideline text is on file, so no element of national-2024 is official."""
    counts = load_framework("national-2024").provenance_counts()
    assert sum(c["official"] for c in counts.values()) == 0


def test_hangzhou_four_dimensions_and_24_indicators() -> None:
    f = load_framework("hangzhou-2020")
    kinds = {g.id: g.kind for g in f.groups}
    assert kinds == {"input": "core", "output": "core", "growth": "core", "auxiliary": "bonus"}
    assert len(f.indicators) == 24
    assert (len(f.core_indicator_ids), len(f.bonus_indicator_ids)) == (17, 7)
    cap = f.group("auxiliary").cap
    assert cap is not None and f.group("auxiliary").provenance.is_reconstructed
    for stage in f.stage_ids:
        assert sum(f.indicator(i).points[stage] for i in f.bonus_indicator_ids) > cap
    assert "22" in f.provenance.reasoning and "24" in f.provenance.reasoning  # count reconciled
