"""The what-if workbench (``calibrate serve``): edit a framework in the browser, see what changes.

Layer 6 (with ``report/``): the page only calls scoring, compare and explain. The state lives
in :class:`Workbench` (plain Python, usable from a notebook); :func:`serve` shows it with Panel.
"""

from calibrate.app._server import make_app, serve
from calibrate.app._session import Baseline, EditOutcome, EvaluationYears, View, Workbench

__all__ = [
    "Baseline",
    "EditOutcome",
    "EvaluationYears",
    "View",
    "Workbench",
    "make_app",
    "serve",
]
