"""Run the command line as a user would and check the bad-input promise.

The promise (README, "What happens with bad input"): bad input stops with exit code 2 and ONE
message on stderr that names the place (file, row, column or YAML path); never a traceback; no
input file is changed. :func:`expect_bad_input` checks all of it; :func:`run_cli` just runs.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import socket
import subprocess
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import calibrate
from calibrate.cli import main

SRC = str(Path(calibrate.__file__).resolve().parents[1])


@dataclass(frozen=True)
class CliRun:
    """Exit code and captured output of one command."""

    code: int
    out: str
    err: str

    @property
    def errors(self) -> list[str]:
        """The lines on stderr that start an error message."""
        return [line for line in self.err.splitlines() if line.startswith("error:")]


def run_cli(
    args: Sequence[str],
    *,
    in_process: bool = False,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 120,
) -> CliRun:
    """Run ``calibrate ARGS`` in a subprocess (default) or in this process via ``main``."""
    args = [str(a) for a in args]
    if in_process:
        out, err = io.StringIO(), io.StringIO()
        old = os.getcwd()
        try:
            if cwd is not None:
                os.chdir(cwd)
            with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
                code = main(args)
        finally:
            os.chdir(old)
        return CliRun(code, out.getvalue(), err.getvalue())
    full_env = {**os.environ, "PYTHONPATH": SRC}
    full_env.pop("CALIBRATE_DEBUG", None)
    full_env.update(env or {})
    proc = subprocess.run(
        [sys.executable, "-m", "calibrate.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full_env,
        timeout=timeout,
        check=False,
    )
    return CliRun(proc.returncode, proc.stdout, proc.stderr)


def free_port() -> int:
    """A local TCP port nobody listens on (free when this returns)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def file_hashes(paths: Iterable[Path]) -> dict[Path, str]:
    """SHA-256 of every file (a folder: of every file below it); absent files hash to ''."""
    hashes: dict[Path, str] = {}
    for path in map(Path, paths):
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for f in files:
            hashes[f] = hashlib.sha256(f.read_bytes()).hexdigest() if f.exists() else ""
    return hashes


def expect_bad_input(
    args: Sequence[str],
    *,
    place: str | Sequence[str],
    inputs: Iterable[Path] = (),
    found: str | Sequence[str] = (),
    code: int = 2,
    in_process: bool = True,
    absent: Iterable[Path] = (),
    cwd: Path | None = None,
) -> CliRun:
    """Run a command that must fail on bad input and check every part of the promise.

    ``place`` (the file, row, column or YAML path) and ``found`` (what was found / the fix) must
    each appear in the single error message; ``inputs`` must be byte-identical afterwards;
    ``absent`` paths (outputs) must not exist afterwards.
    """
    inputs = [Path(p) for p in inputs]
    before = file_hashes(inputs)
    run = run_cli(args, in_process=in_process, cwd=cwd)
    shown = f"exit {run.code}\n--- stdout\n{run.out}\n--- stderr\n{run.err}"
    assert run.code == code, shown
    assert "Traceback" not in run.out + run.err, shown
    assert len(run.errors) == 1, shown
    message = run.err[run.err.index("error:") :]
    for text in [place] if isinstance(place, str) else place:
        assert text in message, f"{text!r} not named\n{shown}"
    for text in [found] if isinstance(found, str) else found:
        assert text in message, f"{text!r} not said\n{shown}"
    assert file_hashes(inputs) == before, f"an input file changed\n{shown}"
    for path in absent:
        assert not Path(path).exists(), f"{path} was written\n{shown}"
    return run
