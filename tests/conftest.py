"""Fixtures shared by several test modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from calibrate.framework import Framework

FRAMEWORKS = Path(__file__).parent / "frameworks"


@pytest.fixture(scope="session")
def mini() -> Framework:
    """Two stages, four indicators (every rule kind but percentile), a bonus cap, a deduction, a
    veto, two lists and a capped subsidy — small enough to reason about by hand."""
    return Framework.load(FRAMEWORKS / "mini_official.yaml")
