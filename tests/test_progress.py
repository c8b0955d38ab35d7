"""Progress: a bar on a terminal, ten plain lines in a log file, nothing when switched off."""

from __future__ import annotations

import io
import re

from calibrate.progress import progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_log_file_gets_one_plain_line_per_tenth() -> None:
    log = io.StringIO()
    assert list(progress(range(200), desc="bootstrap", unit="sample", stream=log)) == list(
        range(200)
    )
    lines = log.getvalue().splitlines()
    assert len(lines) == 10
    assert all(re.fullmatch(r"bootstrap: \d+/200 sample \(\d+%\), \d+\.\d s", x) for x in lines)
    assert lines[0].startswith("bootstrap: 20/200 sample (10%)")
    assert lines[-1].startswith("bootstrap: 200/200 sample (100%)")
    assert "\r" not in log.getvalue()


def test_update_counts_and_short_loops_still_end_at_100_percent() -> None:
    log = io.StringIO()
    with progress(total=3, desc="synth", unit="year", stream=log) as bar:
        for _ in range(3):
            bar.update()
    assert log.getvalue().splitlines()[-1].startswith("synth: 3/3 year (100%)")
    assert len(log.getvalue().splitlines()) == 3


def test_a_terminal_gets_a_bar_and_switched_off_gets_nothing() -> None:
    tty = Terminal()
    list(progress(range(50), desc="bootstrap", stream=tty))
    assert "\r" in tty.getvalue() and "bootstrap: 5/50" not in tty.getvalue()
    quiet = io.StringIO()
    list(progress(range(50), desc="bootstrap", stream=quiet, enabled=False))
    assert quiet.getvalue() == ""
