"""Bad input and faults: one clear message, exit code 2, nothing lost, nothing destroyed.

Every case goes through :func:`helpers_cli.expect_bad_input`, which checks the exit code, that
there is exactly one error message, that it names the place, that no traceback is shown and
that no input file changed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from calibrate import cli
from calibrate.exceptions import DataContractError, Problem
from helpers_cli import expect_bad_input, run_cli

ROOT = Path(__file__).resolve().parents[1]
MINI = ROOT / "tests" / "frameworks" / "mini_official.yaml"


# --- the top-level handler -------------------------------------------------------------------


def _install(monkeypatch: pytest.MonkeyPatch, exc: BaseException) -> None:
    def boom(args: argparse.Namespace) -> int:
        raise exc

    configure, _, help_text = cli._COMMANDS["frameworks"]
    monkeypatch.setitem(cli._COMMANDS, "frameworks", (configure, boom, help_text))


def test_own_error_is_one_message_exit_2(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, DataContractError("x.csv", [Problem("x.csv, row 3", "bad")]))
    expect_bad_input(["frameworks"], place="x.csv, row 3", found="bad")


def test_unexpected_error_is_a_bug_without_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CALIBRATE_DEBUG", raising=False)
    _install(monkeypatch, ZeroDivisionError("division by zero"))
    run = expect_bad_input(
        ["frameworks"], place="internal error", found=["ZeroDivisionError", "--debug"], code=1
    )
    assert len(run.err.strip().splitlines()) == 1


@pytest.mark.parametrize("how", ["flag-before", "flag-after", "env"])
def test_debug_shows_the_traceback(monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    monkeypatch.delenv("CALIBRATE_DEBUG", raising=False)
    _install(monkeypatch, ZeroDivisionError("division by zero"))
    args = {"flag-before": ["--debug", "frameworks"], "flag-after": ["frameworks", "--debug"]}
    if how == "env":
        monkeypatch.setenv("CALIBRATE_DEBUG", "1")
    run = run_cli(args.get(how, ["frameworks"]), in_process=True)
    assert run.code == 1
    assert "Traceback" in run.err and "ZeroDivisionError" in run.err
    assert run.errors[-1].startswith("error: internal error")


def test_ctrl_c_is_one_line_exit_130(monkeypatch: pytest.MonkeyPatch) -> None:
    _install(monkeypatch, KeyboardInterrupt())
    run = run_cli(["frameworks"], in_process=True)
    assert run.code == 130
    assert run.err.strip().splitlines() == [
        "interrupted (Ctrl-C); the outputs of this command were not replaced"
    ]


def test_missing_data_file_in_a_subprocess(tmp_path: Path) -> None:
    expect_bad_input(
        [
            "score",
            "--framework",
            MINI,
            "--data",
            tmp_path / "nope.csv",
            "--out",
            tmp_path / "o.csv",
        ],
        place="nope.csv",
        found="file not found",
        in_process=False,
        absent=[tmp_path / "o.csv"],
    )
