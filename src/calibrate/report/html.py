"""The explainability report: one self-contained HTML file (and optionally its PDF and xlsx).

:func:`build_report` turns whatever result objects are at hand — a :class:`Suggestion`, a
:class:`Comparison`, rank uncertainty, SHAP importance, a model fit, extra metrics, or only a
suggested framework with its ``calibration`` block — into one HTML file with every plot embedded
as a base64 PNG, the CSS inline and a subset of the CJK font embedded as ``@font-face``: it
opens offline and reads the same on any machine. Text comes from :mod:`calibrate.report.i18n`
(Chinese by default, English with ``lang="en"``); indicators are named in both languages.

Sections (stable ids, :data:`SECTIONS`): overview, points, calibration, uncertainty, edits,
compare, subgroups, firms, warnings, provenance. Each has one data function in
:mod:`calibrate.report.sections` and one Jinja partial in ``templates/sections/``. A section
whose input is absent keeps its heading and says why it is omitted.

The same inputs give the same bytes: no timestamps, PNGs without software metadata, every table
in a fixed order.
"""

from __future__ import annotations

import html as html_module
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import calibrate
from calibrate.compare import Comparison
from calibrate.report import style
from calibrate.report.context import SECTIONS, ReportContext, ReportInputs
from calibrate.report.pdf import html_to_pdf
from calibrate.suggest import Suggestion

__all__ = ["SECTIONS", "ReportFiles", "ReportInputs", "build_report", "render_html"]


@dataclass(frozen=True)
class ReportFiles:
    """The files written: the HTML report and the PDF (None when not asked for or no browser)."""

    html: Path
    pdf: Path | None = None
    tables: tuple[Path, ...] = ()

    def __iter__(self) -> Iterator[Path | None]:
        return iter((self.html, self.pdf))


# --- rendering -----------------------------------------------------------------------------------


def _environment() -> Any:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("calibrate.report", "templates"),
        autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def render_html(
    inputs: ReportInputs | Suggestion | Comparison, *, lang: str = "zh", max_cards: int = 4
) -> str:
    """The report as one self-contained HTML string (see :func:`build_report`)."""
    return _render(ReportContext(ReportInputs.of(inputs), lang, max_cards))


def _render(builder: ReportContext) -> str:
    inp, t = builder.inp, builder.t
    from calibrate.report.sections import BUILDERS

    sections = [BUILDERS[sid](builder) for sid in SECTIONS]
    template = _environment().get_template("report.html.j2")
    page = template.render(
        lang=t("html_lang"),
        title=inp.title or t("title_default"),
        subtitle=t("subtitle", version=calibrate.__version__),
        toc=t("toc"),
        synthetic=t("synthetic_banner") if inp.synthetic else None,
        frameworks=[builder.fw_full(fw) for fw in [inp.base, builder.cand] if fw is not None],
        sections=sections,
        font_face=_FONT_SLOT,
    )
    page = str(page)
    text = html_module.unescape(_DATA_URI.sub("", page))
    return page.replace(_FONT_SLOT, style.font_face_css(text), 1)


_FONT_SLOT = "/* calibrate: embedded font */"
_DATA_URI = re.compile(r"data:[a-z/+]+;base64,[A-Za-z0-9+/=]+")


def _html_path(out: str | Path) -> Path:
    path = Path(out)
    if path.suffix.lower() in (".html", ".htm"):
        return path
    return path / "report.html"


def build_report(
    inputs: ReportInputs | Suggestion | Comparison,
    out: str | Path,
    *,
    lang: str = "zh",
    pdf: bool = False,
    max_cards: int = 4,
) -> ReportFiles:
    """Write the explainability report as one self-contained HTML file, and optionally a PDF.

    Parameters
    ----------
    inputs : ReportInputs, Suggestion or Comparison
        What to report; a suggestion or a comparison alone is enough (absent sections are
        omitted with a note).
    out : str or Path
        The HTML file (``….html``), or a directory to write ``report.html`` into.
    lang : {"zh", "en"}
        Chinese (default) or English.
    pdf : bool
        Also print the HTML to PDF (beside it, ``.pdf``) with headless Chromium. Without a
        browser the PDF is skipped with a :class:`~calibrate.report.pdf.ChromiumMissingWarning`.
    max_cards : int
        Firm cards drawn when ``inputs.firms`` is not given.

    Returns
    -------
    ReportFiles
        ``(html, pdf)``; ``pdf`` is None when not made; ``tables``: the ``.xlsx`` written beside
        the HTML (full lists, entrants and leavers, per-firm points, suggested points).
    """
    from calibrate.report.tables import write_tables

    builder = ReportContext(ReportInputs.of(inputs), lang, max_cards)
    text = _render(builder)
    path = _html_path(out)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    tables = write_tables(builder, path)
    pdf_path = html_to_pdf(path) if pdf else None
    return ReportFiles(path, pdf_path, tables)
