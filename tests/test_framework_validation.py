"""Framework validation reports every problem with its YAML path; edits keep the model valid.

Each test starts from a valid document, makes one or several mistakes and compares the
:class:`FrameworkError` problems — place and message — exactly with the message constants of
``calibrate.framework._parse``.
"""

from __future__ import annotations

import copy
import math
from collections import Counter
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
import yaml

from calibrate.exceptions import FrameworkError
from calibrate.framework import BandsRule, Framework, load_framework, shipped_frameworks
from calibrate.framework._parse import (
    MSG_BANDS_POINTS,
    MSG_BONUS_CAP,
    MSG_CHOICE,
    MSG_CORE_BUDGET,
    MSG_CORE_CAP,
    MSG_DUPLICATE_ID,
    MSG_MISSING_KEY,
    MSG_NOT_MAPPING,
    MSG_OFFICIAL_SOURCE,
    MSG_PROVENANCE,
    MSG_RECONSTRUCTED_WHY,
    MSG_STAGE_GAP,
    MSG_STAGE_OPEN,
    MSG_TIERS_ORDER,
    MSG_UNKNOWN_GROUP,
    MSG_UNKNOWN_KEY,
    MSG_UNKNOWN_STAGE,
)
from calibrate.scoring import score
from reference_scorer import every_rule_framework, random_table

VALID_YAML = """\
schema: calibrate/framework@1
id: mini
version: "1"
name: {zh: 迷你, en: mini}
provenance: {status: reconstructed, reasoning: test}
core_budget: 100
stages:
  - id: small
    name: {zh: 小, en: small}
    revenue_min: 0
    revenue_max: 500
    provenance: {status: official, source: doc}
  - id: big
    name: {zh: 大, en: big}
    revenue_min: 500
    provenance: {status: official, source: doc}
groups:
  - {id: tech, name: {zh: 技术, en: tech}, kind: core, provenance: {status: official, source: doc}}
  - {id: aux, name: {zh: 辅助, en: aux}, kind: bonus, cap: 10, provenance: {status: official, source: doc}}
indicators:
  - id: rd_intensity
    name: {zh: 研发强度, en: R&D intensity}
    unit: fraction
    group: tech
    rule: {kind: linear, low: 0, high: {small: 0.1, big: 0.05}}
    points: {small: 60, big: 50}
    provenance: {status: reconstructed, reasoning: x}
  - id: invention_patent_apps
    name: {zh: 发明, en: patents}
    unit: count
    group: tech
    rule: {kind: bands, bands: [{min: 1, value: 0.5}, {min: 3, value: 1}]}
    points: {small: 40, big: 50}
    provenance: {status: reconstructed, reasoning: x}
  - id: vc_financing
    name: {zh: 风投, en: VC}
    unit: wan
    group: aux
    rule: {kind: count, per_unit: 0.01}
    points: {small: 8, big: 8}
    provenance: {status: reconstructed, reasoning: x}
  - id: awards_provincial
    name: {zh: 奖, en: awards}
    unit: count
    group: aux
    rule: {kind: binary}
    points: {small: 5, big: 5}
    provenance: {status: reconstructed, reasoning: x}
penalties:
  - {id: env_violation, name: {zh: 环境, en: env}, action: deduct, points: 5, provenance: {status: reconstructed, reasoning: x}}
  - {id: research_misconduct, name: {zh: 失信, en: misconduct}, action: veto, provenance: {status: reconstructed, reasoning: x}}
tiers:
  - {id: leading, name: {zh: 领跑, en: leading}, top_fraction: 0.2, provenance: {status: official, source: doc}}
  - {id: racing, name: {zh: 竞跑, en: racing}, top_fraction: 0.5, provenance: {status: official, source: doc}}
subsidies:
  - {stage: small, top_fraction: 0.5, amount_wan: 5, max_firms: 1, provenance: {status: official, source: doc}}
"""

RULE_KINDS = "linear, bands, percentile, count, binary"
INDICATOR_KEYS = "aliases, description, group, id, missing, name, points, provenance, rule, unit"
TOP_KEYS = (
    "calibration, core_budget, credit, decimals, description, eligibility, groups, id, indicators, "
    "lists, min_seats, name, penalties, pools, provenance, ranking_group, schema, stages, "
    "subsidies, tie_breaker, tier_seats, tiers, ties, version"
)


def valid() -> dict[str, Any]:
    return yaml.safe_load(VALID_YAML)


def problems(document: Any) -> list[tuple[str, str]]:
    """The (where, message) pairs of the FrameworkError raised for ``document``."""
    with pytest.raises(FrameworkError) as info:
        Framework.from_document(document, "policy.yaml")
    assert info.value.source == "policy.yaml"
    return [(p.where, p.message) for p in info.value.problems]


def mutated(*edits: Callable[[dict[str, Any]], Any]) -> dict[str, Any]:
    doc = valid()
    for edit in edits:
        edit(doc)
    return doc


def test_the_starting_document_is_valid() -> None:
    f = Framework.from_document(valid())
    assert f.stage_ids == ("small", "big")
    assert f.core_indicator_ids == ("rd_intensity", "invention_patent_apps")


# --- one mistake, one problem ---------------------------------------------------------------

ONE_MISTAKE: dict[str, tuple[Callable[[dict[str, Any]], Any], list[tuple[str, str]]]] = {
    "overlapping stages": (
        lambda d: d["stages"][1].update(revenue_min=400),
        [
            (
                "stages[1].revenue_min",
                MSG_STAGE_GAP.format(stage="big", start=400.0, prev="small", end=500.0),
            )
        ],
    ),
    "gap between stages": (
        lambda d: d["stages"][1].update(revenue_min=600),
        [
            (
                "stages[1].revenue_min",
                MSG_STAGE_GAP.format(stage="big", start=600.0, prev="small", end=500.0),
            )
        ],
    ),
    "open stage before the last": (
        lambda d: d["stages"][0].pop("revenue_max"),
        [("stages[0].revenue_max", MSG_STAGE_OPEN)],
    ),
    "core points off the budget in one stage": (
        lambda d: d["indicators"][0]["points"].update(big=40),
        [
            (
                "indicators[*].points.big",
                MSG_CORE_BUDGET.format(
                    stage="big", total=90.0, budget=100.0, ids="rd_intensity, invention_patent_apps"
                ),
            )
        ],
    ),
    "unknown group (bonus indicator)": (
        lambda d: d["indicators"][2].update(group="auxx"),
        [("indicators[2].group", MSG_UNKNOWN_GROUP.format(found="auxx", known="tech, aux"))],
    ),
    "unknown group (core indicator: no follow-on budget complaint)": (
        lambda d: d["indicators"][0].update(group="tec"),
        [("indicators[0].group", MSG_UNKNOWN_GROUP.format(found="tec", known="tech, aux"))],
    ),
    "duplicate indicator id": (
        lambda d: d["indicators"][1].update(id="rd_intensity"),
        [
            (
                "indicators[1].id",
                MSG_DUPLICATE_ID.format(found="rd_intensity", first="indicators[0].id"),
            )
        ],
    ),
    "penalty id clashing with an indicator id": (
        lambda d: d["penalties"][0].update(id="vc_financing"),
        [
            (
                "penalties[0].id",
                MSG_DUPLICATE_ID.format(found="vc_financing", first="indicators[2].id"),
            )
        ],
    ),
    "tiers not increasing": (
        lambda d: d["tiers"][1].update(top_fraction=0.1),
        [("tiers[1].top_fraction", MSG_TIERS_ORDER.format(found=0.1, prev=0.2))],
    ),
    "tiers equal": (
        lambda d: d["tiers"][1].update(top_fraction=0.2),
        [("tiers[1].top_fraction", MSG_TIERS_ORDER.format(found=0.2, prev=0.2))],
    ),
    "linear rule without high": (
        lambda d: d["indicators"][0]["rule"].pop("high"),
        [("indicators[0].rule.high", MSG_MISSING_KEY.format(key="high"))],
    ),
    "count rule without per_unit": (
        lambda d: d["indicators"][2]["rule"].pop("per_unit"),
        [("indicators[2].rule.per_unit", MSG_MISSING_KEY.format(key="per_unit"))],
    ),
    "misspelt rule kind with the right parameters": (
        lambda d: d["indicators"][0]["rule"].update(kind="lineer"),
        [("indicators[0].rule.kind", MSG_CHOICE.format(choices=RULE_KINDS, found="lineer"))],
    ),
    "unknown key with a did-you-mean hint": (
        lambda d: d["indicators"][0].update(missng="zero"),
        [
            (
                "indicators[0].missng",
                MSG_UNKNOWN_KEY.format(
                    key="missng", hint=" (did you mean 'missing'?)", allowed=INDICATOR_KEYS
                ),
            )
        ],
    ),
    "unknown top-level key with a hint": (
        lambda d: d.update(tier_seat="ceil"),
        [
            (
                "tier_seat",
                MSG_UNKNOWN_KEY.format(
                    key="tier_seat", hint=" (did you mean 'tier_seats'?)", allowed=TOP_KEYS
                ),
            )
        ],
    ),
    "bad provenance status": (
        lambda d: d["stages"][0]["provenance"].update(status="offical"),
        [("stages[0].provenance.status", MSG_PROVENANCE.format(found="offical"))],
    ),
    "official provenance without a source": (
        lambda d: d["groups"][0]["provenance"].pop("source"),
        [("groups[0].provenance.source", MSG_OFFICIAL_SOURCE)],
    ),
    "reconstructed provenance without reasoning": (
        lambda d: d["indicators"][3]["provenance"].pop("reasoning"),
        [("indicators[3].provenance.reasoning", MSG_RECONSTRUCTED_WHY)],
    ),
    "bonus group without cap": (
        lambda d: d["groups"][1].pop("cap"),
        [("groups[1].cap", MSG_BONUS_CAP)],
    ),
    "bonus group with cap 0": (
        lambda d: d["groups"][1].update(cap=0),
        [("groups[1].cap", MSG_BONUS_CAP)],
    ),
    "core group with a cap": (
        lambda d: d["groups"][0].update(cap=50),
        [("groups[0].cap", MSG_CORE_CAP)],
    ),
    "points-mode bands not matching the points": (
        lambda d: d["indicators"][1].update(
            rule={
                "kind": "bands",
                "value_is": "points",
                "bands": [{"min": 1, "value": 20}, {"min": 3, "value": 40}],
            }
        ),
        [("indicators[1].points", MSG_BANDS_POINTS.format(stage="big", top=40.0, points=50.0))],
    ),
    "subsidy for an unknown stage": (
        lambda d: d["subsidies"][0].update(stage="tiny"),
        [("subsidies[0].stage", MSG_UNKNOWN_STAGE.format(found="tiny", known="small, big"))],
    ),
}


@pytest.mark.parametrize("mistake", list(ONE_MISTAKE))
def test_one_mistake_is_reported_once_with_its_path(mistake: str) -> None:
    edit, expected = ONE_MISTAKE[mistake]
    assert problems(mutated(edit)) == expected


def test_unknown_rule_kind_is_reported_alone() -> None:
    doc = mutated(lambda d: d["indicators"][1]["rule"].update(kind="step"))
    assert problems(doc) == [
        ("indicators[1].rule.kind", MSG_CHOICE.format(choices=RULE_KINDS, found="step")),
    ]


def test_unknown_rule_kind_names_the_kind_first() -> None:
    doc = mutated(lambda d: d["indicators"][1]["rule"].update(kind="step"))
    assert problems(doc)[0] == (
        "indicators[1].rule.kind",
        MSG_CHOICE.format(choices=RULE_KINDS, found="step"),
    )


# --- several mistakes, all at once ----------------------------------------------------------


def test_several_mistakes_are_all_reported_at_once() -> None:
    doc = mutated(
        lambda d: d["stages"][1].update(revenue_min=450),
        lambda d: d["groups"][1].pop("cap"),
        lambda d: d["indicators"][1].update(id="rd_intensity"),
        lambda d: d["indicators"][3].update(group="award"),
        lambda d: d["indicators"][2].update(unti="wan"),
        lambda d: d["tiers"][1].update(top_fraction=0.15),
        lambda d: d["penalties"][1]["provenance"].update(status="guess"),
    )
    with pytest.raises(FrameworkError) as info:
        Framework.from_document(doc, "policy.yaml")
    got = [(p.where, p.message) for p in info.value.problems]
    expected = [
        (
            "stages[1].revenue_min",
            MSG_STAGE_GAP.format(stage="big", start=450.0, prev="small", end=500.0),
        ),
        ("groups[1].cap", MSG_BONUS_CAP),
        (
            "indicators[1].id",
            MSG_DUPLICATE_ID.format(found="rd_intensity", first="indicators[0].id"),
        ),
        (
            "indicators[2].unti",
            MSG_UNKNOWN_KEY.format(
                key="unti", hint=" (did you mean 'unit'?)", allowed=INDICATOR_KEYS
            ),
        ),
        ("indicators[3].group", MSG_UNKNOWN_GROUP.format(found="award", known="tech, aux")),
        ("penalties[1].provenance.status", MSG_PROVENANCE.format(found="guess")),
        ("tiers[1].top_fraction", MSG_TIERS_ORDER.format(found=0.15, prev=0.2)),
    ]
    assert Counter(got) == Counter(expected)
    assert str(info.value).startswith("policy.yaml: 7 framework problems\n  - ")
    for where, message in expected:
        assert f"\n  - {where}: {message}" in str(info.value)


# --- YAML text ------------------------------------------------------------------------------


def _yaml_problems(text: str) -> list[tuple[str, str]]:
    with pytest.raises(FrameworkError) as info:
        Framework.from_yaml(text, "policy.yaml")
    return [(p.where, p.message) for p in info.value.problems]


def test_duplicate_yaml_key_names_both_lines() -> None:
    lines = VALID_YAML.splitlines()
    first = lines.index("    points: {small: 40, big: 50}")  # 0-based
    lines.insert(first + 1, "    points: {small: 30, big: 50}")
    text = "\n".join(lines) + "\n"
    assert _yaml_problems(text) == [
        (
            f"line {first + 2}, column 5",
            f"not valid YAML: found duplicate key 'points' (first at line {first + 1})",
        ),
    ]


def test_duplicate_top_level_key() -> None:
    text = VALID_YAML + "core_budget: 90\n"
    n = len(VALID_YAML.splitlines())
    assert _yaml_problems(text) == [
        (
            f"line {n + 1}, column 1",
            "not valid YAML: found duplicate key 'core_budget' (first at line 6)",
        ),
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "schema: x\nid: [a, b\nversion: 1\n",
            ("line 3, column 8", "not valid YAML: expected ',' or ']', but got ':'"),
        ),
        (
            "a: 1\n  b: 2\n",
            ("line 2, column 4", "not valid YAML: mapping values are not allowed here"),
        ),
        (
            "a:\n\tb: 1\n",
            (
                "line 2, column 1",
                "not valid YAML: found character '\\t' that cannot start any token",
            ),
        ),
        (
            "a: 1\nid: a\x00b\n",  # a NUL pasted from another program
            (
                "line 2, column 6",
                "a control character (code 0x0000) that YAML does not allow; delete it (it is "
                "often left by a copy from another program)",
            ),
        ),
    ],
    ids=["unclosed-list", "bad-indent", "tab", "control-character"],
)
def test_yaml_syntax_errors_name_line_and_column(text: str, expected: tuple[str, str]) -> None:
    assert _yaml_problems(text) == [expected]


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "list"), ("", "nothing"), ("just text\n", "str"), ("42\n", "int")],
    ids=["list", "empty", "text", "number"],
)
def test_a_document_that_is_not_a_mapping(text: str, found: str) -> None:
    assert _yaml_problems(text) == [("<top>", MSG_NOT_MAPPING.format(found=found))]


# --- round trip and edits -------------------------------------------------------------------


def _frameworks() -> dict[str, Framework]:
    out = {"mini": Framework.from_yaml(VALID_YAML), "every-rule": every_rule_framework()}
    for fid in shipped_frameworks():
        try:
            out[fid] = load_framework(fid)
        except FrameworkError:  # another helper is still writing it
            continue
    return out


@pytest.mark.parametrize("name", list(_frameworks()))
def test_yaml_round_trip(name: str) -> None:
    f = _frameworks()[name]
    text = f.to_yaml()
    again = Framework.from_yaml(text)
    assert again == f
    assert again.to_yaml() == text
    assert again.fingerprint == f.fingerprint


def test_with_points_keeps_fractions_of_count_and_points_bands_rules() -> None:
    f = every_rule_framework()
    data = random_table(f, np.random.default_rng(7), n=300)
    g = f.with_points(
        {
            # core pairs move together so every stage still sums to the budget of 100
            "talent_programs": {"seed": 20, "growth": 5},  # count, per-stage per_unit
            "rd_intensity": {"seed": 25, "growth": 30},
            "st_staff_share": {"growth": 12, "scale": 18},  # points-valued bands per stage
            "invention_patent_apps": {"growth": 28, "scale": 22},
            "vc_financing": {"seed": 12, "growth": 4, "scale": 8},  # bonus count: no budget
        }
    )
    before = score(f, data)
    after = score(g, data)
    assert after.fractions.shape == before.fractions.shape
    assert np.array_equal(after.fractions, before.fractions)
    ind = g.indicator("st_staff_share")
    assert max(b.value for b in ind.rule.bands_at("growth")) == 12
    assert g.indicator("talent_programs").points == {"seed": 20.0, "growth": 5.0, "scale": 10.0}


@pytest.mark.parametrize(
    ("edit", "undo"),
    [
        ({"vc_financing": {"seed": 0}}, {"vc_financing": {"seed": 8}}),
        (
            {"st_staff_share": {"growth": 0}, "invention_patent_apps": {"growth": 40}},
            {"st_staff_share": {"growth": 15}, "invention_patent_apps": {"growth": 25}},
        ),
    ],
    ids=["count", "points-bands"],
)
def test_with_points_through_zero_keeps_fractions(
    edit: dict[str, Any], undo: dict[str, Any]
) -> None:
    f = every_rule_framework()
    data = random_table(f, np.random.default_rng(3), n=200)
    zero = f.with_points(edit)
    before, during = score(f, data), score(zero, data)
    ((ident, stages),) = ((k, v) for k, v in edit.items() if 0 in v.values())
    col = f.indicator_ids.index(ident)
    stage = f.stage_ids.index(next(s for s, v in stages.items() if v == 0))
    in_stage = during.stage_index == stage
    # the switched-off stage earns nothing; every other firm and indicator keeps its fraction
    assert (during.frame.loc[in_stage, f"pts__{ident}"] == 0).all()
    others = np.ones(before.fractions.shape, dtype=bool)
    others[in_stage, col] = False
    assert np.array_equal(during.fractions[others], before.fractions[others])
    if isinstance(
        f.indicator(ident).rule, BandsRule
    ):  # bands keep their shape, so the fraction too
        assert np.array_equal(during.fractions, before.fractions)
    # and setting the points back restores the framework exactly
    assert zero.with_points(undo) == f


def test_reweight_with_renormalise_keeps_the_core_budget() -> None:
    f = every_rule_framework()
    g = f.reweight({"tech": 2.0, "revenue_growth": 3.0, "vc_financing": 2.0}, renormalise=True)
    for s in g.stage_ids:
        core = math.fsum(g.indicator(i).points[s] for i in g.core_indicator_ids)
        assert core == pytest.approx(g.core_budget, abs=1e-9)
        # the bonus count is doubled and never renormalised
        assert g.indicator("vc_financing").points[s] == 2 * f.indicator("vc_financing").points[s]
        # ratios inside the core follow the factors: tech doubled, revenue_growth tripled
        ratio = g.indicator("rd_intensity").points[s] / g.indicator("debt_ratio").points[s]
        assert ratio == pytest.approx(
            2 * f.indicator("rd_intensity").points[s] / f.indicator("debt_ratio").points[s]
        )
        ratio = g.indicator("revenue_growth").points[s] / g.indicator("debt_ratio").points[s]
        assert ratio == pytest.approx(
            3 * f.indicator("revenue_growth").points[s] / f.indicator("debt_ratio").points[s]
        )


def test_reweight_without_renormalise_may_break_the_budget() -> None:
    f = every_rule_framework()
    with pytest.raises(FrameworkError) as info:
        f.reweight({"tech": 2.0}, renormalise=False)
    assert [p.where for p in info.value.problems] == [
        f"indicators[*].points.{s}" for s in f.stage_ids
    ]
    assert (
        f.reweight({"awards": 2.0}, renormalise=False).indicator("hte_valid").points["seed"] == 12
    )


def test_drop_renormalises_the_remaining_core() -> None:
    f = every_rule_framework()
    g = f.drop(["rd_intensity", "hte_valid"])
    assert "rd_intensity" not in g.indicator_ids and "hte_valid" not in g.indicator_ids
    for s in g.stage_ids:
        kept = [i for i in f.core_indicator_ids if i != "rd_intensity"]
        total = math.fsum(f.indicator(i).points[s] for i in kept)
        for i in kept:
            assert g.indicator(i).points[s] == pytest.approx(
                f.indicator(i).points[s] * 100 / total, rel=1e-12
            )
        assert math.fsum(g.indicator(i).points[s] for i in g.core_indicator_ids) == pytest.approx(
            100, abs=1e-9
        )
    # bonus indicators keep their points
    assert g.indicator("awards_provincial").points == f.indicator("awards_provincial").points


def test_diff_lists_old_new_and_change_per_indicator_and_stage() -> None:
    f = Framework.from_yaml(VALID_YAML)
    g = f.with_points({"rd_intensity": {"small": 70}, "invention_patent_apps": {"small": 30}})
    table = f.diff(g).set_index(["indicator", "stage"])
    assert list(table.columns) == ["name_zh", "name_en", "old", "new", "change"]
    assert len(table) == len(f.indicator_ids) * len(f.stage_ids)
    assert table.loc[("rd_intensity", "small"), ["old", "new", "change"]].tolist() == [
        60.0,
        70.0,
        10.0,
    ]
    assert table.loc[("invention_patent_apps", "small"), ["old", "new", "change"]].tolist() == [
        40.0,
        30.0,
        -10.0,
    ]
    assert table.loc[("rd_intensity", "big"), ["old", "new", "change"]].tolist() == [
        50.0,
        50.0,
        0.0,
    ]
    assert table.loc[("vc_financing", "big"), "name_en"] == "VC"
    assert (f.diff(f)["change"] == 0).all()
    # an indicator only in one framework: the other side is missing
    dropped = f.drop(["awards_provincial"])
    row = f.diff(dropped).set_index(["indicator", "stage"]).loc[("awards_provincial", "small")]
    assert row["old"] == 5.0 and math.isnan(row["new"]) and math.isnan(row["change"])


def test_edits_do_not_change_the_original() -> None:
    f = Framework.from_yaml(VALID_YAML)
    snapshot = copy.deepcopy(f.to_dict())
    f.with_points({"rd_intensity": {"small": 70}, "invention_patent_apps": {"small": 30}})
    f.reweight({"tech": 2.0})
    f.drop(["rd_intensity"])
    assert f.to_dict() == snapshot
