"""Fixtures shared by several test modules."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from calibrate.framework import Framework

FRAMEWORKS = Path(__file__).parent / "frameworks"


@pytest.fixture(scope="session")
def mini() -> Framework:
    """Two stages, four indicators (every rule kind but percentile), a bonus cap, a deduction, a
    veto, two lists and a capped subsidy — small enough to reason about by hand."""
    return Framework.load(FRAMEWORKS / "mini_official.yaml")


@pytest.fixture(scope="session", autouse=True)
def _mlflow_store_outside_the_checkout(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    """Every computing command tracks by default; tests keep that store in a temporary folder."""
    from calibrate.tracking import default_tracking_uri

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLFLOW_TRACKING_URI", default_tracking_uri(tmp_path_factory.mktemp("mlflow")))
        yield
