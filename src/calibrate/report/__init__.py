"""Explainability reports for review panels: plots and one self-contained HTML (and PDF) file.

The only place matplotlib is used. Everything here reads result objects — nothing is fitted or
scored:

>>> from calibrate.report import ReportInputs, build_report  # doctest: +SKIP
>>> build_report(ReportInputs(base=fw, suggestion=s, comparison=c), "out/report.html", pdf=True)  # doctest: +SKIP
ReportFiles(html=PosixPath('out/report.html'), pdf=PosixPath('out/report.pdf'))

Plot functions (each takes a result object and an optional ``ax`` and returns a Figure) are in
:mod:`calibrate.report.plots`; the font and style in :mod:`calibrate.report.style`; the text in
both languages in :mod:`calibrate.report.i18n`; PDF printing in :mod:`calibrate.report.pdf`.
"""

from calibrate.report._data import year_comparison
from calibrate.report.calibration import CalibrationBlock, edit_metric, read_calibration
from calibrate.report.html import SECTIONS, ReportFiles, ReportInputs, build_report, render_html
from calibrate.report.pdf import ChromiumMissingWarning, find_chromium, html_to_pdf
from calibrate.report.plots import (
    plot_edit_path,
    plot_metrics,
    plot_points_intervals,
    plot_rank_intervals,
    plot_seat_shares,
    plot_shap,
    plot_transitions,
    plot_waterfall,
)

__all__ = [
    "SECTIONS",
    "CalibrationBlock",
    "ChromiumMissingWarning",
    "ReportFiles",
    "ReportInputs",
    "build_report",
    "edit_metric",
    "find_chromium",
    "html_to_pdf",
    "plot_edit_path",
    "plot_metrics",
    "plot_points_intervals",
    "plot_rank_intervals",
    "plot_seat_shares",
    "plot_shap",
    "plot_transitions",
    "plot_waterfall",
    "read_calibration",
    "render_html",
    "year_comparison",
]
