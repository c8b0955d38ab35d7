"""PDF of the HTML report through a real renderer: headless Chromium's ``--print-to-pdf``.

The browser is found as ``$CALIBRATE_CHROMIUM`` or the first of :data:`BROWSERS` on ``PATH``
(Debian's ``chromium`` package provides ``/usr/bin/chromium``). Nothing is downloaded. It runs
headless, sandbox off (containers), with every background network feature off and a throw-away
profile directory, so printing needs no network and leaves nothing behind.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

from calibrate.exceptions import CalibrateWarning

__all__ = [
    "BROWSERS",
    "ChromiumMissingWarning",
    "chromium_args",
    "find_chromium",
    "html_to_pdf",
    "run_chromium",
]

#: Executable names tried in order on ``PATH``.
BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Environment variable that names the browser executable explicitly.
ENV_BROWSER = "CALIBRATE_CHROMIUM"
#: Seconds a browser run may take.
TIMEOUT = 120.0

MSG_NO_CHROMIUM = (
    "no headless Chromium found (set ${env} or install Debian's `chromium` package); "
    "the PDF was skipped and the HTML report is at {html}"
)
MSG_FAILED = "Chromium failed to print {html} to PDF (exit code {code}): {stderr}"
MSG_NO_OUTPUT = "Chromium exited without writing {pdf}; stderr: {stderr}"


class ChromiumMissingWarning(CalibrateWarning):
    """No headless Chromium is available, so the PDF is skipped (the HTML is still written)."""


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable, or None."""
    explicit = os.environ.get(ENV_BROWSER)
    if explicit:
        found = shutil.which(explicit)
        return found or (explicit if Path(explicit).is_file() else None)
    for name in BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def chromium_args(browser: str, profile: str | Path) -> list[str]:
    """The command line that starts ``browser`` headless and offline with profile dir ``profile``."""
    return [
        browser,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-default-apps",
        "--mute-audio",
        "--hide-scrollbars",
        f"--user-data-dir={profile}",
    ]


def run_chromium(
    args: Sequence[str], target: str | Path, *, browser: str | None = None, timeout: float = TIMEOUT
) -> subprocess.CompletedProcess[str]:
    """Run headless Chromium with extra ``args`` (e.g. ``--dump-dom``) on the file ``target``.

    A fresh profile directory is made and removed around the run. Raises ``FileNotFoundError``
    when no browser is found.
    """
    exe = browser or find_chromium()
    if exe is None:
        raise FileNotFoundError(MSG_NO_CHROMIUM.format(env=ENV_BROWSER, html=target))
    url = Path(target).resolve().as_uri()
    with tempfile.TemporaryDirectory(prefix="calibrate-chromium-") as profile:
        return subprocess.run(
            [*chromium_args(exe, profile), *args, url],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            stdin=subprocess.DEVNULL,
        )


def html_to_pdf(
    html: str | Path, pdf: str | Path | None = None, *, browser: str | None = None
) -> Path | None:
    """Print an HTML file to PDF with headless Chromium.

    Parameters
    ----------
    html : path
        The HTML file (self-contained: it is opened offline).
    pdf : path, optional
        Output path; default: beside ``html`` with the ``.pdf`` suffix.
    browser : str, optional
        The browser executable (default: :func:`find_chromium`).

    Returns
    -------
    Path or None
        The PDF, or None when no browser is found (a :class:`ChromiumMissingWarning` is issued).

    Raises
    ------
    RuntimeError
        The browser ran but did not produce the PDF.
    """
    html = Path(html)
    out = Path(pdf) if pdf is not None else html.with_suffix(".pdf")
    exe = browser or find_chromium()
    if exe is None:
        warnings.warn(
            MSG_NO_CHROMIUM.format(env=ENV_BROWSER, html=html), ChromiumMissingWarning, stacklevel=2
        )
        return None
    out.parent.mkdir(parents=True, exist_ok=True)
    if out.exists():
        out.unlink()
    proc = run_chromium(
        ["--no-pdf-header-footer", f"--print-to-pdf={out.resolve()}"], html, browser=exe
    )
    if proc.returncode != 0:
        raise RuntimeError(
            MSG_FAILED.format(html=html, code=proc.returncode, stderr=_tail(proc.stderr))
        )
    if not out.is_file() or out.stat().st_size == 0:
        raise RuntimeError(MSG_NO_OUTPUT.format(pdf=out, stderr=_tail(proc.stderr)))
    return out


def _tail(text: str, lines: int = 5) -> str:
    useful = [ln for ln in text.splitlines() if "dbus" not in ln and ln.strip()]
    return " | ".join(useful[-lines:]) or "(no message)"
