"""Policy cases as data: every case in tests/cases/rules/*.yaml, compared with ``==``."""

from __future__ import annotations

import math
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from calibrate.rules import RuleResult, hnte, innovative_sme, tech_sme

CASES_DIR = Path(__file__).resolve().parents[1] / "cases" / "rules"


def _cases() -> list[dict[str, Any]]:
    out = []
    for path in sorted(CASES_DIR.glob("*.yaml")):
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        out.extend(doc["cases"])
    return out


CASES = _cases()


def _evaluate(case: dict[str, Any]) -> RuleResult:
    df = pd.DataFrame(case["rows"])
    if case["rule"] == "hnte":
        return hnte.evaluate(df, case["expert_quality"])
    if case["rule"] == "tech_sme":
        return tech_sme.evaluate(df)
    if case["rule"] == "innovative_sme":
        return innovative_sme.evaluate(df)
    raise AssertionError(f"unknown rule {case['rule']!r}")


def _num(x: Any) -> float | None:
    """Float, with NaN as None so that a missing gap compares equal to YAML null."""
    if x is None:
        return None
    f = float(x)
    return None if math.isnan(f) else f


def test_enough_cases_per_rule() -> None:
    counts = Counter(case["rule"] for case in CASES)
    assert counts["hnte"] >= 8
    assert counts["tech_sme"] >= 8
    assert counts["innovative_sme"] >= 8
    assert len({case["id"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_policy_case(case: dict[str, Any]) -> None:
    result = _evaluate(case)
    assert result.rule == case["rule"]
    assert len(case["expected"]) == len(case["rows"]) == len(result.frame)
    for i, exp in enumerate(case["expected"]):
        row = result.frame.iloc[i]
        gaps = result.gaps.iloc[i]
        got: dict[str, Any] = {
            "passed": bool(row["passed"]),
            "score": float(row["score"]),
            "failed": str(row["failed"]),
        }
        want: dict[str, Any] = {
            "passed": exp["passed"],
            "score": float(exp["score"]),
            "failed": exp["failed"],
        }
        if "route" in exp:
            got["route"], want["route"] = str(row["route"]), exp["route"]
        for key, prefix, frame, conv in [
            ("items", "item__", row, _num),
            ("groups", "group__", row, _num),
            ("conds", "cond__", row, bool),
            ("routes", "route__", row, bool),
            ("gaps", "gap__", gaps, _num),
        ]:
            for name, value in exp.get(key, {}).items():
                got[prefix + name] = conv(frame[prefix + name])
                want[prefix + name] = value if value is None else conv(value)
        assert got == want, f"row {i}"
