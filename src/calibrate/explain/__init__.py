"""Explanations: why a model predicts what it predicts.

:func:`shap_importance` — SHAP attributions and global importance of a fitted outcome model.
"""

from calibrate.explain.model import ShapResult, shap_importance

__all__ = ["ShapResult", "shap_importance"]
