"""Constraint parsing, feasibility, projection and exact-budget rounding."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from calibrate.constraints import ConstraintSet, project, round_to_grid
from calibrate.exceptions import ConstraintError
from calibrate.framework import Framework

FW = """
schema: calibrate/framework@1
id: three
version: "1"
name: {zh: 三项, en: three}
provenance: {status: reconstructed, reasoning: test}
core_budget: 100
stages:
  - {id: small, name: {zh: 小, en: small}, revenue_min: 0, revenue_max: 500, provenance: {status: official, source: doc}}
  - {id: big, name: {zh: 大, en: big}, revenue_min: 500, provenance: {status: official, source: doc}}
groups:
  - {id: tech, name: {zh: 技术, en: tech}, kind: core, provenance: {status: official, source: doc}}
  - {id: growth, name: {zh: 成长, en: growth}, kind: core, provenance: {status: official, source: doc}}
indicators:
  - {id: rd_intensity, name: {zh: 研发强度, en: R&D intensity}, unit: fraction, group: tech,
     rule: {kind: linear, low: 0, high: 0.1}, points: {small: 40, big: 30}, provenance: {status: reconstructed, reasoning: x}}
  - {id: pct_apps, name: {zh: PCT, en: PCT}, unit: count, group: tech,
     rule: {kind: binary}, points: {small: 20, big: 20}, provenance: {status: reconstructed, reasoning: x}}
  - {id: revenue_growth, name: {zh: 增长, en: growth}, unit: fraction, group: growth,
     rule: {kind: linear, low: 0, high: 0.5}, points: {small: 40, big: 50}, provenance: {status: reconstructed, reasoning: x}}
"""


@pytest.fixture
def fw() -> Framework:
    return Framework.from_yaml(FW)


def test_box_combines_bounds_change_and_grid(fw: Framework) -> None:
    cs = ConstraintSet.from_dict(
        {
            "granularity": 1,
            "bounds": {"default": {"max": 45}, "pct_apps": {"min": 12.5}},
            "max_change": {"absolute": 10},
        }
    )
    box = cs.box(fw)
    assert box.ids == ["rd_intensity", "pct_apps", "revenue_growth"]
    # rd: [max(0, 40-10), min(45, 50)] / [20, 40]; pct: min 12.5 → 13 on the grid; growth: [30, 45] / [40, 45]
    assert box.lo.tolist() == [[30, 20], [13, 13], [30, 40]]
    assert box.hi.tolist() == [[45, 40], [30, 30], [45, 45]]


def test_relative_change_and_same_across_stages(fw: Framework) -> None:
    box = ConstraintSet(max_change_relative=0.5, same_across_stages=True, granularity=0.5).box(fw)
    # rd: small [20, 60], big [15, 45] → shared [20, 45]
    assert box.lo[0].tolist() == [20, 20] and box.hi[0].tolist() == [45, 45]


def test_infeasible_constraints_name_every_stage(fw: Framework) -> None:
    cs = ConstraintSet.from_dict(
        {"bounds": {"default": {"max": 30}}, "max_change": {"absolute": 1}}
    )
    with pytest.raises(ConstraintError) as info:
        cs.box(fw)
    wheres = [p.where for p in info.value.problems]
    assert "rd_intensity in stage small" in wheres  # [39, 30] is empty
    assert "stage small" in wheres and "stage big" in wheres


def test_unknown_ids_and_bad_values_are_reported_with_paths(fw: Framework) -> None:
    with pytest.raises(ConstraintError) as info:
        ConstraintSet.from_dict({"granularity": -1, "bounds": {"x": 3}, "colour": 1})
    assert [p.where for p in info.value.problems] == ["colour", "granularity", "bounds.x"]
    with pytest.raises(ConstraintError) as info:
        ConstraintSet.from_dict(
            {"bounds": {"nope": {"min": 1}}, "groups": {"aux": {"min": 5}}}
        ).box(fw)
    assert [p.where for p in info.value.problems] == ["bounds.nope", "groups.aux"]


def test_budget_must_be_a_multiple_of_the_grid(fw: Framework) -> None:
    with pytest.raises(ConstraintError, match="not a multiple of 3"):
        ConstraintSet(granularity=3).box(fw)


def test_projection_is_the_closest_feasible_point() -> None:
    v = np.array([50.0, 50.0, 50.0])
    lo, hi = np.zeros(3), np.array([20.0, 100.0, 100.0])
    w = project(v, lo, hi, 100.0)
    # the first is capped at 20, the other two share the remaining 80 equally
    assert np.allclose(w, [20, 40, 40], atol=1e-9)


def test_projection_with_group_limits() -> None:
    v = np.array([10.0, 10.0, 80.0])
    member = np.array([1.0, 1.0, 0.0])
    w = project(v, np.zeros(3), np.full(3, 100.0), 100.0, [("tech", member, 50.0, 100.0)])
    assert member @ w == pytest.approx(50.0, abs=1e-6) and w.sum() == pytest.approx(100.0, abs=1e-6)
    assert np.allclose(w, [25, 25, 50], atol=1e-4)  # closest point moves the group up evenly


@settings(max_examples=200, deadline=None)
@given(
    raw=st.lists(st.floats(0.01, 1.0), min_size=2, max_size=12),
    grid=st.sampled_from([1.0, 0.5]),
    cap=st.floats(0.2, 1.0),
)
def test_rounding_keeps_budget_grid_and_bounds(raw: list[float], grid: float, cap: float) -> None:
    budget = 100.0
    n = len(raw)
    hi = np.full(n, np.floor(max(cap * budget, budget / n + grid) / grid) * grid)
    lo = np.zeros(n)
    w = project(np.array(raw) * budget / sum(raw), lo, hi, budget)
    out = round_to_grid(w, lo, hi, budget, grid)
    assert out.sum() == budget
    assert np.all(out >= lo) and np.all(out <= hi)
    assert np.all(np.abs(out / grid - np.round(out / grid)) < 1e-9)
    assert np.all(
        np.abs(out - w) < grid + 1e-9
    )  # rounding moves no value by a full granule or more


def test_rounding_repairs_a_group_floor() -> None:
    # continuous optimum sits exactly on the group floor 50; naive rounding would give 49
    w = np.array([24.6, 24.6, 50.8])
    member = np.array([1.0, 1.0, 0.0])
    out = round_to_grid(
        w, np.zeros(3), np.full(3, 100.0), 100.0, 1.0, [("tech", member, 49.2, 100.0)]
    )
    assert out.tolist() == [25, 25, 50]  # largest remainder gave [25, 24, 51]; one granule moved in
    w = np.array([24.4, 24.4, 51.2])
    out = round_to_grid(
        w, np.zeros(3), np.full(3, 100.0), 100.0, 1.0, [("tech", member, 49.0, 100.0)]
    )
    assert out.tolist() == [25, 24, 51]  # ties in remainder go to the first indicator


def test_violations_and_round_trip(fw: Framework) -> None:
    cs = ConstraintSet.from_dict(
        {
            "granularity": 1,
            "max_change": {"absolute": 5},
            "groups": {"tech": {"min": 50}},
            "nonzero": ["pct_apps"],
        }
    )
    assert ConstraintSet.from_dict(cs.to_dict()) == cs
    ok = fw.with_points(
        {"rd_intensity": {"small": 44, "big": 33}, "revenue_growth": {"small": 36, "big": 47}}
    )
    assert cs.check(fw, ok) == []
    bad = fw.with_points(
        {"rd_intensity": {"small": 30, "big": 30.5}, "revenue_growth": {"small": 50, "big": 49.5}}
    )
    messages = [str(p) for p in cs.check(fw, bad)]
    assert messages == [
        "rd_intensity in stage small: 30 outside [35, 45]",
        "revenue_growth in stage small: 50 outside [35, 45]",
        "rd_intensity in stage big: 30.5 is not a multiple of 1",
        "revenue_growth in stage big: 49.5 is not a multiple of 1",
    ]


def test_constraint_files_refuse_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(
        "granularity: 1\nmax_change: {absolute: 5}\nmax_change: {absolute: 50}\n", encoding="utf-8"
    )
    with pytest.raises(ConstraintError) as info:
        ConstraintSet.from_yaml(path)
    assert [str(p) for p in info.value.problems] == [
        "line 3, column 1: not valid YAML: found duplicate key 'max_change' (first at line 2)"
    ]
