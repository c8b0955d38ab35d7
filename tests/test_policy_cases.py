"""Policy cases as data: every ``tests/cases/*.yaml`` is scored and compared exactly.

A case file holds a ``description``, a complete small ``framework`` (the framework schema), a few
enterprise ``rows`` and, per enterprise id, the ``expected`` outputs computed by hand (the
arithmetic sits beside each number as a YAML comment). An optional top-level ``anchors`` list
holds YAML anchors shared inside the file. A case that expects the data to be rejected gives
``raises`` (the exact problems of the :class:`~calibrate.exceptions.DataContractError`) instead
of ``expected``. A case pinning a known bug carries ``xfail: "BUG: ..."``.

Numbers are compared with ``==``: reproduced scores are exact decimals, never approximations.
A ``percentile`` may be written as a fraction string (``2/3``) and is compared with the float
nearest to that fraction.
"""

from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from calibrate.exceptions import DataContractError
from calibrate.framework import Framework
from calibrate.scoring import score

CASES_DIR = Path(__file__).parent / "cases"
CASE_FILES = sorted(CASES_DIR.glob("*.yaml"))
CASE_KEYS = {"description", "anchors", "framework", "rows", "expected", "raises", "xfail"}
#: Every expected row states at least these outputs (plus every ``pts__<indicator>``).
REQUIRED = ("stage", "bonus", "deduction", "vetoed", "total", "rank", "tier", "subsidy_wan")


def _load(path: Path) -> dict[str, Any]:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert isinstance(case, dict), f"{path.name}: a case is a mapping"
    assert set(case) <= CASE_KEYS, f"{path.name}: unknown keys {sorted(set(case) - CASE_KEYS)}"
    assert isinstance(case.get("description"), str) and case["description"].strip()
    assert ("expected" in case) != ("raises" in case), f"{path.name}: give expected or raises"
    return case


def _is_missing(value: Any) -> bool:
    if value is None or value is pd.NA:
        return True
    return isinstance(value, float) and math.isnan(value)


def _got(frame: pd.DataFrame, pos: int, column: str) -> Any:
    """One output cell as a plain Python value (``None`` for NA / NaN / no tier)."""
    value = frame[column].iloc[pos]
    if _is_missing(value):
        return None
    if hasattr(value, "item"):  # numpy scalar → Python scalar
        value = value.item()
    return value


def _want(column: str, value: Any) -> Any:
    if column == "percentile" and isinstance(value, str):
        return float(Fraction(value))
    return value


def _same(got: Any, want: Any) -> bool:
    if want is None or got is None:
        return want is None and got is None
    if isinstance(want, bool) or isinstance(got, bool):
        return isinstance(want, bool) and isinstance(got, bool) and got is want
    if isinstance(want, str):
        return isinstance(got, str) and got == want
    if isinstance(want, int | float) and isinstance(got, int | float):
        return got == want  # exact: the scorer publishes exact decimals
    return False


@pytest.mark.parametrize("path", CASE_FILES, ids=[p.stem for p in CASE_FILES])
def test_policy_case(path: Path, request: pytest.FixtureRequest) -> None:
    case = _load(path)
    if "xfail" in case:
        request.applymarker(pytest.mark.xfail(strict=True, reason=case["xfail"]))
    framework = Framework.from_document(case["framework"], source=path.name)
    rows = case["rows"]
    data = pd.DataFrame.from_records(rows)

    if "raises" in case:
        with pytest.raises(DataContractError) as info:
            score(framework, data)
        got = [{"where": p.where, "message": p.message} for p in info.value.problems]
        assert got == case["raises"]
        return

    result = score(framework, data)
    frame = result.frame
    ids = [str(r["enterprise_id"]) for r in rows]
    assert len(set(ids)) == len(ids), "enterprise ids must be unique within a case"
    expected = {str(k): v for k, v in case["expected"].items()}
    assert set(expected) == set(ids), "every row needs an expected entry, and only rows"

    required = [*REQUIRED, *(f"pts__{i}" for i in framework.indicator_ids)]
    mismatches = []
    for pos, eid in enumerate(ids):
        want_row = expected[eid]
        absent = [c for c in required if c not in want_row]
        assert not absent, f"{eid}: expected entry lacks {absent}"
        assert frame["enterprise_id"].iloc[pos] == rows[pos]["enterprise_id"]
        for column, want in want_row.items():
            assert column in frame.columns, f"{eid}: no output column {column!r}"
            got = _got(frame, pos, column)
            want = _want(column, want)
            if not _same(got, want):
                mismatches.append(f"{eid}.{column}: got {got!r}, expected {want!r}")
    assert not mismatches, "\n".join(mismatches)


def test_there_are_enough_cases() -> None:
    assert len(CASE_FILES) >= 25


def test_every_case_framework_round_trips() -> None:
    """The case frameworks are valid and survive the canonical YAML round trip unchanged."""
    for path in CASE_FILES:
        f = Framework.from_document(_load(path)["framework"], source=path.name)
        assert Framework.from_yaml(f.to_yaml()) == f, path.name
