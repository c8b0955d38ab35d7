"""SHAP attributions of a fitted outcome model: what drives the predicted probability.

For a :class:`~calibrate.models.MonotoneGBM` (or any LightGBM booster) the attributions are
exact TreeSHAP values in log-odds: for every row, ``expected_value + sum(values) = raw margin``.
Two backends give the same numbers:

* ``"lightgbm"`` (default) — LightGBM's own ``predict(pred_contrib=True)``. It *is* TreeSHAP:
  ``shap.TreeExplainer`` calls exactly this for LightGBM models. It needs no extra import;
  importing shap pulls in matplotlib (~1.5 s) and emits a matplotlib deprecation warning.
* ``"shap"`` — :class:`shap.TreeExplainer`, for callers who want shap itself in the loop.

A :class:`~calibrate.models.PointsLogit` gets the exact linear decomposition
``coef_j · (x_j − mean_j)`` around the training mean (what ``shap.LinearExplainer`` gives with
independent features), backend ``"linear"``.

TreeSHAP is the slow step (about 1.3 ms per row for 300 trees × 32 features on 2 cores), so
rows are sampled — deterministically from ``seed`` — and the result says how many were used.
shap is imported inside this module only.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["ShapResult", "shap_importance"]

Backend = Literal["lightgbm", "shap"]

MSG_MODEL = (
    "shap_importance explains a fitted MonotoneGBM, PointsLogit or lightgbm Booster; got "
    "{found}. Fit the model first"
)
MSG_FEATURES = "X has {n} columns but the model was fitted on {k}; pass the same feature columns"
MSG_NAMES = (
    "X's columns {got} differ from the model's features {expected}; pass the same columns in "
    "the same order"
)
MSG_MAX_ROWS = "max_rows must be a positive whole number or None (all rows); got {found!r}"
MSG_BACKEND = "backend must be 'lightgbm' or 'shap'; got {found!r}"


@dataclass(frozen=True, eq=False)
class ShapResult:
    """Attributions of one model on a (sampled) set of firm-years.

    Attributes
    ----------
    values : pandas.DataFrame
        One row per explained firm-year (index = the rows' labels in ``X``), one column per
        feature: the feature's contribution to the log-odds.
    expected_value : float
        The model's average margin (the attributions' baseline).
    data : pandas.DataFrame
        The feature values of the explained rows (same index and columns as ``values``).
    n_rows_total : int
        Rows of ``X`` before sampling.
    seed : int
        Sampling seed.
    backend : str
        ``"lightgbm"``, ``"shap"`` or ``"linear"``.
    output : str
        Scale of the values: ``"log-odds"``.
    """

    values: pd.DataFrame = field(repr=False)
    expected_value: float
    data: pd.DataFrame = field(repr=False)
    n_rows_total: int
    seed: int
    backend: str
    output: str = "log-odds"

    @property
    def n_rows_used(self) -> int:
        """Rows explained (after sampling)."""
        return len(self.values)

    @property
    def sampled(self) -> bool:
        """``True`` when fewer rows were explained than ``X`` had."""
        return self.n_rows_used < self.n_rows_total

    @cached_property
    def importance(self) -> pd.DataFrame:
        """Global importance, most important first.

        Returns
        -------
        pandas.DataFrame
            Index ``feature``; ``mean_abs`` (mean |SHAP|), ``share`` (of the sum of
            ``mean_abs``), ``mean`` (signed mean SHAP) and ``rank`` (1 = most important; ties
            broken by feature order).
        """
        v = self.values.to_numpy(dtype=np.float64)
        mean_abs = np.abs(v).mean(axis=0) if len(v) else np.zeros(v.shape[1])
        total = mean_abs.sum()
        out = pd.DataFrame(
            {
                "mean_abs": mean_abs,
                "share": mean_abs / total if total > 0 else np.zeros_like(mean_abs),
                "mean": v.mean(axis=0) if len(v) else np.zeros(v.shape[1]),
            },
            index=pd.Index(self.values.columns, name="feature"),
        )
        out = out.iloc[np.argsort(-mean_abs, kind="stable")]
        out["rank"] = np.arange(1, len(out) + 1)
        return out

    @property
    def margin(self) -> pd.Series:
        """``expected_value + sum of attributions`` per row: the model's raw margin (log-odds)."""
        return (self.values.sum(axis=1) + self.expected_value).rename("margin")

    def attributions(self, row: Any) -> pd.Series:
        """Attributions of one explained row (by its index label), largest |value| first."""
        s = self.values.loc[row]
        return s.iloc[np.argsort(-np.abs(s.to_numpy()), kind="stable")]

    def top(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` most important features."""
        return self.importance.head(n)

    def to_frame(self) -> pd.DataFrame:
        """The global importance table (see :attr:`importance`)."""
        return self.importance

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly summary: importance, baseline and how many rows were used."""
        return {
            "backend": self.backend,
            "output": self.output,
            "expected_value": float(self.expected_value),
            "n_rows_used": self.n_rows_used,
            "n_rows_total": self.n_rows_total,
            "sampled": self.sampled,
            "seed": self.seed,
            "importance": {
                str(k): {
                    "mean_abs": float(r["mean_abs"]),
                    "share": float(r["share"]),
                    "mean": float(r["mean"]),
                    "rank": int(r["rank"]),
                }
                for k, r in self.importance.iterrows()
            },
        }

    def to_explanation(self) -> Any:
        """The same numbers as a :class:`shap.Explanation` (for shap's own plots)."""
        shap = _import_shap()
        return shap.Explanation(
            values=self.values.to_numpy(),
            base_values=np.full(self.n_rows_used, self.expected_value),
            data=self.data.to_numpy(),
            feature_names=[str(c) for c in self.values.columns],
        )


def _import_shap() -> Any:
    with warnings.catch_warnings():
        # shap 0.51 builds its colour maps at import with Colormap.set_bad/set_over/set_under,
        # which matplotlib >= 3.10 flags as pending deprecation; nothing we call is affected.
        warnings.filterwarnings(
            "ignore",
            message=r"The set_\w+ function will be deprecated",
            category=PendingDeprecationWarning,
        )
        import shap
    return shap


def _booster(model: Any) -> Any:
    """The LightGBM booster of a fitted MonotoneGBM / LGBMModel / Booster, else None."""
    booster = getattr(model, "booster_", None)
    if booster is not None:
        return booster
    if type(model).__name__ == "Booster" and type(model).__module__.startswith("lightgbm"):
        return model
    return None


def _model_names(model: Any) -> list[str] | None:
    names = getattr(model, "feature_names_in_", None)
    if names is not None:
        return [str(c) for c in names]
    return None


def _as_frame(X: Any, names: list[str] | None, k: int) -> pd.DataFrame:
    if isinstance(X, pd.DataFrame):
        if X.shape[1] != k:
            raise ValueError(MSG_FEATURES.format(n=X.shape[1], k=k))
        if names is not None and [str(c) for c in X.columns] != names:
            raise ValueError(MSG_NAMES.format(got=list(map(str, X.columns)), expected=names))
        return X.astype(np.float64)
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] != k:
        raise ValueError(MSG_FEATURES.format(n=arr.shape[1] if arr.ndim == 2 else arr.shape, k=k))
    return pd.DataFrame(arr, columns=names if names is not None else [f"x{j}" for j in range(k)])


def _sample(n: int, max_rows: int | None, seed: int) -> npt.NDArray[np.intp]:
    if max_rows is None or n <= max_rows:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(n, size=max_rows, replace=False))


def shap_importance(
    model: Any,
    X: pd.DataFrame | npt.ArrayLike,
    *,
    max_rows: int | None = 2000,
    seed: int = 0,
    backend: Backend = "lightgbm",
) -> ShapResult:
    """SHAP attributions and global importance of a fitted model on (a sample of) ``X``.

    Parameters
    ----------
    model : MonotoneGBM, PointsLogit or lightgbm.Booster
        A fitted model.
    X : DataFrame or array-like of shape (n_rows, n_features)
        Rows to explain, with the model's feature columns.
    max_rows : int or None, default 2000
        Explain at most this many rows, drawn without replacement (then sorted) with
        ``numpy.random.default_rng(seed)``; ``None`` explains every row.
    seed : int, default 0
        Sampling seed: the same seed and ``X`` give the same rows.
    backend : {"lightgbm", "shap"}, default "lightgbm"
        For tree models: LightGBM's ``pred_contrib`` or ``shap.TreeExplainer`` (identical
        numbers; see the module notes). Ignored for :class:`PointsLogit`.

    Returns
    -------
    ShapResult
        ``values`` and ``data`` of the explained rows, ``expected_value``, ``importance``,
        ``n_rows_used`` / ``n_rows_total`` / ``sampled``.

    Raises
    ------
    TypeError
        The model is not a fitted supported model.
    ValueError
        ``X`` does not have the model's columns, or ``max_rows`` is invalid.
    """
    if max_rows is not None and (
        isinstance(max_rows, bool) or not isinstance(max_rows, int | np.integer) or max_rows < 1
    ):
        raise ValueError(MSG_MAX_ROWS.format(found=max_rows))
    if backend not in ("lightgbm", "shap"):
        raise ValueError(MSG_BACKEND.format(found=backend))
    booster = _booster(model)
    is_linear = booster is None and hasattr(model, "coef_std_") and hasattr(model, "mean_")
    if booster is None and not is_linear:
        raise TypeError(MSG_MODEL.format(found=type(model).__name__))
    names = _model_names(model)
    k = int(booster.num_feature()) if booster is not None else int(model.n_features_in_)
    frame = _as_frame(X, names, k)
    n_total = len(frame)
    rows = _sample(n_total, None if max_rows is None else int(max_rows), seed)
    data = frame.iloc[rows]
    x = data.to_numpy(dtype=np.float64)

    if is_linear:
        values = (x - model.mean_) * model.coef_[0]
        expected = float(model.model_.intercept_[0])
        used = "linear"
    elif backend == "lightgbm":
        contrib = np.asarray(booster.predict(x, pred_contrib=True), dtype=np.float64)
        values = contrib[:, :-1]
        expected = float(contrib[0, -1]) if len(contrib) else float("nan")
        used = "lightgbm"
    else:
        shap = _import_shap()
        explanation = shap.TreeExplainer(booster)(x)
        values = np.asarray(explanation.values, dtype=np.float64)
        expected = float(np.ravel(explanation.base_values)[0]) if len(values) else float("nan")
        used = "shap"
    return ShapResult(
        values=pd.DataFrame(values, index=data.index, columns=data.columns),
        expected_value=expected,
        data=data,
        n_rows_total=n_total,
        seed=seed,
        backend=used,
    )
