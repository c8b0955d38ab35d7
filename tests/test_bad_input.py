"""Bad input and faults: one clear message, exit code 2, nothing lost, nothing destroyed.

Every case goes through :func:`helpers_cli.expect_bad_input`, which checks the exit code, that
there is exactly one error message, that it names the place, that no traceback is shown and
that no input file changed.
"""

from __future__ import annotations

import argparse
import errno
import os
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from calibrate import _io, cli
from calibrate.exceptions import DataContractError, OutputError, Problem
from calibrate.ids import make_uscc
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


# --- a small valid table for the mini framework ----------------------------------------------

COLUMNS = [
    "enterprise_id",
    "year",
    "park",
    "revenue",
    "rd_intensity",
    "invention_patent_apps",
    "vc_financing",
    "awards_provincial",
    "env_violation",
    "research_misconduct",
]


def _ids(n: int) -> list[str]:
    return make_uscc(np.random.default_rng(7), n)


def _rows(n: int = 12, years: tuple[int, ...] = (2021, 2022)) -> list[list[str]]:
    ids = _ids(n)
    rows = []
    for year in years:
        for i, eid in enumerate(ids):
            revenue = 100 + 90 * i
            rows.append(
                [eid, str(year), "p1", str(revenue), f"{0.01 * (i % 7):.2f}", str(i % 4)]
                + [str(10 * (i % 3)), str(i % 2), "0", "0"]
            )
    return rows


def _csv(rows: list[list[str]], header: list[str] = COLUMNS, sep: str = ",") -> str:
    return "\n".join(sep.join(r) for r in [header, *rows]) + "\n"


@pytest.fixture
def good(tmp_path: Path) -> Path:
    path = tmp_path / "firms.csv"
    path.write_text(_csv(_rows()), encoding="utf-8")
    return path


def _score(data: Path, out: Path, *extra: str) -> list[str]:
    return ["score", "--framework", str(MINI), "--data", str(data), "--out", str(out), *extra]


# --- outputs ---------------------------------------------------------------------------------


def test_score_writes_bom_csv_and_real_xlsx(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.csv"
    assert run_cli(_score(good, out), in_process=True).code == 0
    assert out.read_bytes().startswith(b"\xef\xbb\xbfenterprise_id,")
    xlsx = tmp_path / "scores.xlsx"
    assert run_cli(_score(good, xlsx), in_process=True).code == 0
    assert zipfile.is_zipfile(xlsx)
    back = pd.read_excel(xlsx)
    assert len(back) == 24 and list(back.columns[:2]) == ["enterprise_id", "year"]
    assert not list(tmp_path.glob(".*tmp*"))  # no temporary file left behind


def test_out_equal_to_the_input_is_refused(good: Path) -> None:
    expect_bad_input(_score(good, good), place="--out", found="input file", inputs=[good])


def test_rejects_equal_to_the_input_is_refused(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    expect_bad_input(
        _score(good, out, "--rejects", str(good)),
        place="--rejects",
        found="input file",
        inputs=[good],
        absent=[out],
    )


def test_out_and_rejects_the_same_file_is_refused(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "o.csv"
    expect_bad_input(
        _score(good, out, "--rejects", str(out)),
        place="--rejects",
        found="two outputs",
        inputs=[good],
        absent=[out],
    )


def test_out_an_existing_folder_is_refused(good: Path, tmp_path: Path) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    expect_bad_input(_score(good, folder), place="--out", found="existing folder", inputs=[good])


def test_out_below_a_file_is_refused(good: Path, tmp_path: Path) -> None:
    out = good / "scores.csv"
    expect_bad_input(_score(good, out), place="--out", found="which is a file", inputs=[good])


def test_unknown_output_type_is_refused(good: Path, tmp_path: Path) -> None:
    out = tmp_path / "scores.json"
    expect_bad_input(_score(good, out), place="scores.json", found=".xlsx", absent=[out])


def test_read_only_folder_is_a_clear_message(
    good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    if os.geteuid() == 0:  # root may write anyway; make the permission check see what users see
        real = os.access
        monkeypatch.setattr(os, "access", lambda p, m: real(p, m) and Path(p) != folder)
    try:
        expect_bad_input(_score(good, folder / "o.csv"), place="--out", found="cannot be written")
    finally:
        folder.chmod(0o700)


def test_compare_out_folder_holding_the_input_is_refused(good: Path) -> None:
    args = ["compare", "--base", str(MINI), "--candidate", str(MINI), "--data", str(good)]
    expect_bad_input(
        [*args, "--out", str(good.parent)], place="--out", found="input file", inputs=[good]
    )


def test_a_failing_writer_keeps_the_previous_file(
    good: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "scores.csv"
    out.write_text("previous\n", encoding="utf-8")

    def full_disk(frame: object, path: Path, fmt: str) -> None:
        Path(path).write_text("half a tab", encoding="utf-8")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(_io, "write_table_to", full_disk)
    expect_bad_input(
        _score(good, out), place="scores.csv", found="disk is full", inputs=[good, out]
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["firms.csv", "scores.csv"]


def test_an_interrupted_folder_write_keeps_the_previous_set(tmp_path: Path) -> None:
    out = tmp_path / "set"
    with _io.output_folder(out) as tmp:
        (tmp / "a.csv").write_text("old a", encoding="utf-8")
        (tmp / "b.csv").write_text("old b", encoding="utf-8")
    with pytest.raises(KeyboardInterrupt), _io.output_folder(out) as tmp:
        (tmp / "a.csv").write_text("new a", encoding="utf-8")
        raise KeyboardInterrupt
    assert {p.name: p.read_text("utf-8") for p in out.iterdir()} == {
        "a.csv": "old a",
        "b.csv": "old b",
    }
    assert sorted(p.name for p in tmp_path.iterdir()) == ["set"]


def test_a_folder_with_foreign_files_is_kept_and_new_outputs_set_aside(tmp_path: Path) -> None:
    out = tmp_path / "set"
    out.mkdir()
    (out / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(OutputError, match=r"notes\.txt"), _io.output_folder(out) as tmp:
        (tmp / "a.csv").write_text("new a", encoding="utf-8")
    assert (out / "notes.txt").read_text("utf-8") == "mine" and not (out / "a.csv").exists()
    assert (tmp_path / "set.new" / "a.csv").read_text("utf-8") == "new a"


def test_an_interrupted_file_set_keeps_every_previous_file(tmp_path: Path) -> None:
    a, b = tmp_path / "x.yaml", tmp_path / "x.diff.csv"
    a.write_text("old", encoding="utf-8")
    b.write_text("old", encoding="utf-8")
    with pytest.raises(RuntimeError), _io.output_files([a, b]) as (ta, tb):
        ta.write_text("new", encoding="utf-8")
        raise RuntimeError("killed half way")
    assert a.read_text("utf-8") == b.read_text("utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.diff.csv", "x.yaml"]
