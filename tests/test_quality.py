"""Lint, types and layering run with the tests, so the one README test command checks them all."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(*cmd: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff comes with the dev extra")
def test_ruff_lint() -> None:
    result = _run("ruff", "check", "src", "tests", "benchmarks", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(shutil.which("ruff") is None, reason="ruff comes with the dev extra")
def test_ruff_format() -> None:
    result = _run("ruff", "format", "--check", "src", "tests", "benchmarks", "scripts")
    assert result.returncode == 0, result.stdout + result.stderr


def test_mypy_on_src() -> None:
    result = _run(sys.executable, "-m", "mypy", "--no-error-summary")
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(
    shutil.which("lint-imports") is None, reason="import-linter comes with the dev extra"
)
def test_layering_contracts() -> None:
    # The one-way flow of DESIGN.md: a module imports only modules below it.
    result = _run("lint-imports")
    assert result.returncode == 0, result.stdout + result.stderr


def test_import_is_light() -> None:
    # `import calibrate` and the CLI parser must not pull in the heavy stack (STYLE habit 11).
    code = (
        "import sys, calibrate.cli; calibrate.cli.build_parser();"
        "heavy = [m for m in ('lightgbm','shap','optuna','mlflow','matplotlib','sklearn') if m in sys.modules];"
        "print(','.join(heavy))"
    )
    result = _run(sys.executable, "-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
