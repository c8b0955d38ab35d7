"""Explanations: why a model predicts what it predicts.

:func:`shap_importance` — SHAP attributions and global importance of a fitted outcome model.
:mod:`calibrate.explain.points` — why a firm scored what it did under a points framework:
exact decompositions, portraits, old-vs-new changes, nearest path to the next list, gaming check.
"""

from calibrate.explain.model import ShapResult, shap_importance
from calibrate.explain.points import (
    MANIPULABLE,
    Decomposition,
    GamingComparison,
    GamingTable,
    NearestPath,
    PointsChange,
    Portrait,
    compare_gaming,
    decompose,
    gaming_table,
    nearest_path,
    points_change,
    portrait,
)

__all__ = [
    "MANIPULABLE",
    "Decomposition",
    "GamingComparison",
    "GamingTable",
    "NearestPath",
    "PointsChange",
    "Portrait",
    "ShapResult",
    "compare_gaming",
    "decompose",
    "gaming_table",
    "nearest_path",
    "points_change",
    "portrait",
    "shap_importance",
]
