"""Fitted models of outcomes from points, and honest out-of-time validation.

Two scikit-learn classifiers (binary: event / no event):

* :class:`PointsLogit` — logistic regression on the framework's points (or normalised
  indicators): standardise, fit :class:`sklearn.linear_model.LogisticRegression`, read the
  coefficients back per indicator (:meth:`PointsLogit.coef_table`).
* :class:`MonotoneGBM` — LightGBM with a monotone constraint per indicator in its policy
  direction, deterministic for a fixed seed and thread count.

Feature matrices named by indicator id: :func:`features_from_scores` (points or fractions of a
:class:`~calibrate.scoring.ScoreResult`) and :func:`features_from_indicators` (raw values
normalised within stage and year); :func:`policy_directions` gives the constraint for each.

Validation is temporal: :func:`temporal_splits` trains on years ≤ T and tests on a later year,
leaving ``horizon - 1`` years between them so that no training label window overlaps a test
label window; :func:`fit_temporal` fits a fresh clone per split and scores every held-out year
with :mod:`calibrate.metrics` (AUC, PR-AUC, Brier, precision and lift of the top lists within
each ranking group).

LightGBM is imported inside this module only (and only when a :class:`MonotoneGBM` is fitted).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from calibrate import metrics
from calibrate.exceptions import DataContractError, Problem
from calibrate.scoring import ScoreResult, stage_index_of

if TYPE_CHECKING:
    from calibrate.framework import Framework

__all__ = [
    "FitResult",
    "MonotoneGBM",
    "PointsLogit",
    "TemporalSplit",
    "feature_matrix",
    "features_from_indicators",
    "features_from_scores",
    "fit_temporal",
    "policy_directions",
    "temporal_splits",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.intp]

DEFAULT_FRACTIONS = (0.05, 0.1, 0.2)

# --- messages (constants so tests compare them exactly) -------------------------------------

MSG_NOT_BINARY = (
    "Only binary classification is supported. {model} models a binary outcome (event / no event) but y has {n} classes {classes}; "
    "encode the outcome as 0/1"
)
MSG_ONE_CLASS = (
    "{model} can't train when only one class is present in y ({value!r}); the training years "
    "need both events and non-events"
)
MSG_MONOTONE_LENGTH = (
    "monotone has {got} entries but X has {n} features; give one of -1, 0, +1 per column "
    "or a mapping {{column: direction}}"
)
MSG_MONOTONE_VALUE = "monotone entries must be -1, 0 or +1; found {found!r}"
MSG_MONOTONE_NAMES = (
    "monotone is a mapping by column name but X has no column names; pass X as a DataFrame "
    "whose columns are indicator ids"
)
MSG_Y_MISSING = (
    "y has {n} missing label(s) (censored or excluded rows); pass only labelled rows, e.g. "
    "X[labels.labelled_mask], labels.y"
)
MSG_WEIGHTS = (
    "sample_weight must be finite and non-negative, one per row, with a positive total; {found}"
)
MSG_LENGTHS = "X has {n_x} rows but {name} has {n}; pass one value per row of X"
MSG_NO_SPLITS = (
    "no temporal split is possible: years {years} with min_train_years={min_train}, gap={gap} "
    "leave no test year with enough training years before it; add years or lower "
    "min_train_years"
)


# --- feature matrices -----------------------------------------------------------------------


def features_from_scores(
    result: ScoreResult, *, kind: Literal["points", "fractions"] = "points"
) -> pd.DataFrame:
    """Feature matrix of a scoring result: one column per indicator, named by its id.

    Parameters
    ----------
    result : ScoreResult
        Output of :func:`calibrate.scoring.score`.
    kind : {"points", "fractions"}, default "points"
        ``points``: the points each firm earns per indicator (the ``pts__<id>`` columns, the
        policy's own scale); ``fractions``: the share of each indicator's points earned, in
        [0, 1] (comparable across stages whose points differ).

    Returns
    -------
    pandas.DataFrame
        Indexed like ``result.frame``; float64 columns in framework order.
    """
    ids = list(result.framework.indicator_ids)
    if kind == "points":
        out = result.frame[[f"pts__{i}" for i in ids]].astype(np.float64)
        out.columns = ids
        return out
    if kind == "fractions":
        return pd.DataFrame(
            np.asarray(result.fractions, dtype=np.float64), columns=ids, index=result.frame.index
        )
    raise ValueError(f"kind must be 'points' or 'fractions'; got {kind!r}")


def features_from_indicators(
    data: pd.DataFrame,
    framework: Framework,
    *,
    by: Sequence[str] = ("stage", "year"),
    method: Literal["rank", "zscore"] = "rank",
    source: str = "<data>",
) -> pd.DataFrame:
    """Raw indicator values normalised within stage (and year): one column per indicator id.

    Normalising within ``stage × year`` keeps every value a statement about the firm's own
    year: no later year's distribution enters a feature (normalising over all years would
    leak the future's scale into the past).

    Parameters
    ----------
    data : pandas.DataFrame
        Enterprise-year table with ``revenue`` (for the stage) and one column per indicator.
    framework : Framework
        Gives the indicators and the stage cut-offs.
    by : sequence of str, default ("stage", "year")
        Grouping columns; ``"stage"`` is the framework stage from revenue (firms that fit no
        stage form their own group), any other name is a column of ``data``.
    method : {"rank", "zscore"}, default "rank"
        ``rank``: percentile rank in (0, 1] (average rank for ties), robust to the heavy tails
        of money indicators; ``zscore``: (x − mean) / std within the group (0 where std is 0).
    source : str
        Name used in error messages.

    Returns
    -------
    pandas.DataFrame
        Indexed like ``data``. Missing raw values stay NaN (LightGBM handles them; impute before
        :class:`PointsLogit`). The direction of each indicator is kept (see
        :func:`policy_directions` with ``kind="raw"``).

    Raises
    ------
    DataContractError
        A required column is missing.
    """
    ids = list(framework.indicator_ids)
    by_stage = "stage" in by and framework.needs_revenue
    needed = [*ids, *(["revenue"] if by_stage else []), *[c for c in by if c != "stage"]]
    problems = [
        Problem(
            f"{source}, column {c}",
            f"required to build features for {framework.id} but missing; add the column",
        )
        for c in dict.fromkeys(needed)
        if c not in data.columns
    ]
    if problems:
        raise DataContractError(source, problems)
    values = pd.DataFrame(
        {
            i: pd.to_numeric(data[i], errors="raise").to_numpy(np.float64, na_value=np.nan)
            for i in ids
        }
    )
    keys: list[npt.ArrayLike] = []
    for col in by:
        if col == "stage":
            keys.append(stage_index_of(data, framework))
        else:
            keys.append(data[col].to_numpy())
    if not keys:
        keys = [np.zeros(len(values), dtype=np.int64)]
    grouped = values.groupby(keys, sort=False, dropna=False)
    if method == "rank":
        out = grouped.rank(pct=True, method="average")
    elif method == "zscore":
        mean = grouped.transform("mean")
        std = grouped.transform("std", ddof=0)
        spread = std > 0
        out = ((values - mean) / std.where(spread)).where(values.isna() | spread, 0.0)
    else:
        raise ValueError(f"method must be 'rank' or 'zscore'; got {method!r}")
    out.index = data.index
    return out[ids].astype(np.float64)


def feature_matrix(
    source: ScoreResult | pd.DataFrame,
    framework: Framework | None = None,
    **kwargs: Any,
) -> pd.DataFrame:
    """Dispatch to :func:`features_from_scores` or :func:`features_from_indicators`.

    Parameters
    ----------
    source : ScoreResult or pandas.DataFrame
        A scoring result (points per indicator) or a raw enterprise table.
    framework : Framework, optional
        Required with a raw table.
    **kwargs
        Passed on (``kind`` for scores; ``by``, ``method`` for raw indicators).

    Returns
    -------
    pandas.DataFrame
    """
    if isinstance(source, ScoreResult):
        return features_from_scores(source, **kwargs)
    if framework is None:
        raise ValueError("a raw enterprise table needs the framework (its indicators and stages)")
    return features_from_indicators(source, framework, **kwargs)


def policy_directions(
    framework: Framework,
    *,
    kind: Literal["points", "fractions", "raw"] = "points",
    outcome: Literal["higher", "lower"] = "higher",
) -> dict[str, int]:
    """Monotone direction of each indicator feature, as the policy intends it.

    Parameters
    ----------
    framework : Framework
    kind : {"points", "fractions", "raw"}, default "points"
        The features the directions are for. Points and fractions already point the policy's
        way (more points = better by construction), so every direction is +1; raw values use
        :attr:`calibrate.framework.Indicator.direction` (−1 for "less is better").
    outcome : {"higher", "lower"}, default "higher"
        The target's direction (:attr:`calibrate.outcomes.TargetRule.direction`): a model of a
        *bad* event (``loan_default``) predicts it less often for firms the policy rewards, so
        every sign flips.

    Returns
    -------
    dict of str to int
        ``{indicator_id: +1 or -1}`` — pass as ``MonotoneGBM(monotone=...)``.
    """
    if outcome not in ("higher", "lower"):
        raise ValueError(f"outcome must be 'higher' or 'lower'; got {outcome!r}")
    sign = 1 if outcome == "higher" else -1
    if kind in ("points", "fractions"):
        return {i: sign for i in framework.indicator_ids}
    if kind == "raw":
        return {ind.id: sign * int(ind.direction) for ind in framework.indicators}
    raise ValueError(f"kind must be 'points', 'fractions' or 'raw'; got {kind!r}")


# --- estimators -----------------------------------------------------------------------------


def _binary_targets(model: str, y: npt.ArrayLike) -> tuple[np.ndarray, npt.NDArray[np.int8]]:
    """Classes and the 0/1 encoding (1 = the larger class label, as sklearn does)."""
    check_classification_targets(y)
    classes, encoded = np.unique(y, return_inverse=True)
    if classes.shape[0] == 1:
        raise ValueError(MSG_ONE_CLASS.format(model=model, value=classes[0]))
    if classes.shape[0] > 2:
        raise ValueError(
            MSG_NOT_BINARY.format(model=model, n=classes.shape[0], classes=classes.tolist())
        )
    return classes, encoded.astype(np.int8)


def _weights(sample_weight: npt.ArrayLike | None, n: int) -> FloatArray | None:
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight, dtype=np.float64)
    if w.ndim != 1 or w.shape[0] != n:
        raise ValueError(MSG_WEIGHTS.format(found=f"got shape {w.shape} for {n} rows"))
    if not np.isfinite(w).all() or (w < 0).any():
        raise ValueError(MSG_WEIGHTS.format(found="found NaN, infinite or negative weights"))
    if not w.sum() > 0:
        raise ValueError(MSG_WEIGHTS.format(found="the weights sum to zero"))
    return w


def _feature_names(est: BaseEstimator, n: int) -> list[str]:
    names = getattr(est, "feature_names_in_", None)
    if names is not None:
        return [str(c) for c in names]
    return [f"x{j}" for j in range(n)]


def _binary_tags(tags: Any) -> Any:
    # Both models answer one question (event or not); multi-class is refused with a message.
    tags.classifier_tags.multi_class = False
    return tags


class PointsLogit(ClassifierMixin, BaseEstimator):
    """Logistic regression of an outcome on the points of each indicator.

    A thin wrapper: each column is standardised (weighted mean 0, standard deviation 1; constant
    columns are only centred), a :class:`~sklearn.linear_model.LogisticRegression` with an L2
    penalty is fitted on the result, and the coefficients are mapped back to the scale of ``X``
    so that ``decision_function(X) = X @ coef_.T + intercept_`` — ``coef_[0, j]`` is the change
    in log-odds per extra point on indicator ``j``.

    Parameters
    ----------
    C : float, default 1.0
        Inverse L2 penalty strength on the *standardised* coefficients (the same shrinkage for
        every indicator whatever its points range); ``np.inf`` fits without penalty.
    class_weight : dict or "balanced", optional
        As in :class:`~sklearn.linear_model.LogisticRegression`.
    max_iter : int, default 1000
        L-BFGS iterations.
    tol : float, default 1e-6
        Convergence tolerance.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    coef_ : ndarray of shape (1, n_features)
        Log-odds per unit of each column of ``X`` (per point).
    intercept_ : ndarray of shape (1,)
    coef_std_ : ndarray of shape (n_features,)
        Log-odds per standard deviation of each column (comparable across indicators).
    mean_, scale_ : ndarray of shape (n_features,)
        The standardisation used.
    model_ : LogisticRegression
        The fitted regression on standardised columns.
    n_iter_ : ndarray of shape (1,)
        L-BFGS iterations used.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` had column names.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X = pd.DataFrame({"rd_expense": rng.uniform(0, 10, 500), "roe": rng.uniform(0, 5, 500)})
    >>> y = (X["rd_expense"] + rng.normal(0, 2, 500) > 5).astype(int)
    >>> PointsLogit().fit(X, y).coef_table().loc["rd_expense", "coef"] > 0
    np.True_
    """

    def __init__(
        self,
        C: float = 1.0,
        *,
        class_weight: Mapping[Any, float] | str | None = None,
        max_iter: int = 1000,
        tol: float = 1e-6,
    ) -> None:
        self.C = C
        self.class_weight = class_weight
        self.max_iter = max_iter
        self.tol = tol

    def __sklearn_tags__(self) -> Any:
        return _binary_tags(super().__sklearn_tags__())

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> PointsLogit:
        """Fit on points ``X`` (n_firms × n_indicators) and 0/1 outcome ``y``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite values.
        y : array-like of shape (n_samples,)
            Two classes; the larger label is the event.
        sample_weight : array-like of shape (n_samples,), optional
            Weights (used in the standardisation too, so a weight of 2 is a duplicated row).

        Returns
        -------
        self
        """
        Xa: FloatArray
        Xa, ya = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        self.classes_, y01 = _binary_targets(type(self).__name__, ya)
        w = _weights(sample_weight, Xa.shape[0])
        self.mean_ = np.average(Xa, axis=0, weights=w)
        var = np.average((Xa - self.mean_) ** 2, axis=0, weights=w)
        std = np.sqrt(var)
        # Constant (or numerically constant) columns are centred only: dividing by ~0 would
        # blow up the coefficient instead of leaving it at 0.
        self.scale_ = np.where(std > 1e-12 * np.maximum(1.0, np.abs(self.mean_)), std, 1.0)
        Z = (Xa - self.mean_) / self.scale_
        self.model_ = LogisticRegression(
            C=self.C,
            class_weight=self.class_weight,
            max_iter=self.max_iter,
            tol=self.tol,
            solver="lbfgs",
        ).fit(Z, y01, sample_weight=w)
        self.n_iter_ = self.model_.n_iter_
        self.coef_std_ = self.model_.coef_[0].copy()
        self.coef_ = (self.coef_std_ / self.scale_)[None, :]
        self.intercept_ = self.model_.intercept_ - np.array([self.coef_[0] @ self.mean_])
        return self

    def decision_function(self, X: npt.ArrayLike) -> FloatArray:
        """Log-odds of the event per row."""
        check_is_fitted(self)
        Xa: FloatArray = validate_data(self, X, dtype=np.float64, reset=False)
        Z = (Xa - self.mean_) / self.scale_
        return Z @ self.coef_std_ + self.model_.intercept_[0]

    def predict_proba(self, X: npt.ArrayLike) -> FloatArray:
        """Probabilities ``[P(no event), P(event)]`` per row, shape (n_samples, 2)."""
        p = 1.0 / (1.0 + np.exp(-self.decision_function(X)))
        return np.column_stack([1.0 - p, p])

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """The more likely class per row."""
        margin = self.decision_function(X)  # checks fitted first
        return self.classes_[(margin > 0).astype(np.intp)]

    def coef_table(self) -> pd.DataFrame:
        """Coefficients per indicator.

        Returns
        -------
        pandas.DataFrame
            Indexed by feature name (the indicator ids when ``X`` was a DataFrame): ``coef``
            (log-odds per point), ``coef_std`` (per standard deviation), ``odds_ratio_std``
            (``exp(coef_std)``), ``mean`` and ``scale`` of the standardisation.
        """
        check_is_fitted(self)
        names = _feature_names(self, self.n_features_in_)
        return pd.DataFrame(
            {
                "coef": self.coef_[0],
                "coef_std": self.coef_std_,
                "odds_ratio_std": np.exp(self.coef_std_),
                "mean": self.mean_,
                "scale": self.scale_,
            },
            index=pd.Index(names, name="feature"),
        )


class MonotoneGBM(ClassifierMixin, BaseEstimator):
    """LightGBM classifier with a monotone constraint per indicator.

    The constraint makes the fitted probability never decrease (direction +1) or never
    increase (−1) when one feature rises and the others stay put — the shape a policy office
    can defend ("more R&D never costs points"). Training is deterministic: LightGBM's
    ``deterministic=True`` with row-wise histograms and a fixed ``random_state`` give the same
    trees for the same data, parameters, thread count and build.

    Parameters
    ----------
    monotone : sequence of {-1, 0, 1} or mapping of str to {-1, 0, 1}, optional
        One direction per column, or ``{column: direction}`` matched by name (columns not in
        the mapping are unconstrained; names in it but not in ``X`` are ignored). ``None``: no
        constraint. :func:`policy_directions` / :meth:`from_framework` build it from a
        framework.
    n_estimators : int, default 300
        Boosting rounds.
    learning_rate : float, default 0.05
    num_leaves : int, default 15
    max_depth : int, default -1
        No limit when ≤ 0.
    min_child_samples : int, default 20
    subsample : float, default 1.0
        Row share per round (bagging every round when < 1).
    colsample_bytree : float, default 1.0
    reg_lambda : float, default 0.0
        L2 penalty on leaf values.
    monotone_method : {"basic", "intermediate", "advanced"}, default "intermediate"
        LightGBM's ``monotone_constraints_method``; all three guarantee monotonicity.
    random_state : int, default 0
        Seed of every LightGBM random choice.
    n_jobs : int, optional
        Threads, as in scikit-learn: ``None`` = 1, ``-1`` (any value ≤ 0) = all cores. One
        thread is the default because OpenMP threads slow down sharply on a machine whose cores
        are already busy (e.g. several fits or test workers at once); ask for more explicitly.
    deterministic : bool, default True
        LightGBM ``deterministic`` (and ``force_row_wise``) for reproducible trees.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
    booster_ : lightgbm.Booster
    monotone_ : list of int
        The constraint used per column.
    feature_importances_ : ndarray
        Total gain per column.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        When ``X`` had column names.
    """

    def __init__(  # noqa: PLR0913 - scikit-learn estimator: one constructor argument per hyper-parameter
        self,
        monotone: Sequence[int] | Mapping[str, int] | None = None,
        *,
        n_estimators: int = 300,
        learning_rate: float = 0.05,
        num_leaves: int = 15,
        max_depth: int = -1,
        min_child_samples: int = 20,
        subsample: float = 1.0,
        colsample_bytree: float = 1.0,
        reg_lambda: float = 0.0,
        monotone_method: Literal["basic", "intermediate", "advanced"] = "intermediate",
        random_state: int = 0,
        n_jobs: int | None = None,
        deterministic: bool = True,
    ) -> None:
        self.monotone = monotone
        self.n_estimators = n_estimators
        self.learning_rate = learning_rate
        self.num_leaves = num_leaves
        self.max_depth = max_depth
        self.min_child_samples = min_child_samples
        self.subsample = subsample
        self.colsample_bytree = colsample_bytree
        self.reg_lambda = reg_lambda
        self.monotone_method = monotone_method
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.deterministic = deterministic

    @classmethod
    def from_framework(
        cls,
        framework: Framework,
        *,
        kind: Literal["points", "fractions", "raw"] = "points",
        outcome: Literal["higher", "lower"] = "higher",
        **params: Any,
    ) -> MonotoneGBM:
        """A model constrained in each indicator's policy direction (see :func:`policy_directions`).

        Parameters
        ----------
        framework : Framework
        kind : {"points", "fractions", "raw"}, default "points"
            What the feature columns hold.
        outcome : {"higher", "lower"}, default "higher"
            The target's direction; ``lower`` (a bad event) flips every constraint.
        **params
            Other constructor arguments.
        """
        return cls(monotone=policy_directions(framework, kind=kind, outcome=outcome), **params)

    def __sklearn_tags__(self) -> Any:
        tags = _binary_tags(super().__sklearn_tags__())
        tags.input_tags.allow_nan = True  # LightGBM learns where missing values go
        return tags

    def _resolve_monotone(self, n_features: int) -> list[int]:
        spec = self.monotone
        if spec is None:
            return [0] * n_features
        if isinstance(spec, Mapping):
            names = getattr(self, "feature_names_in_", None)
            if names is None:
                raise ValueError(MSG_MONOTONE_NAMES)
            out = [spec.get(str(c), 0) for c in names]
        else:
            out = list(spec)
            if len(out) != n_features:
                raise ValueError(MSG_MONOTONE_LENGTH.format(got=len(out), n=n_features))
        for v in out:
            if isinstance(v, bool) or v not in (-1, 0, 1):
                raise ValueError(MSG_MONOTONE_VALUE.format(found=v))
        return [int(v) for v in out]

    def _params(self) -> dict[str, Any]:
        # scikit-learn's meaning: None = 1 thread, -1 (any value <= 0) = all cores (LightGBM 0)
        threads = 1 if self.n_jobs is None else max(int(self.n_jobs), 0)
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "max_depth": self.max_depth,
            "min_data_in_leaf": self.min_child_samples,
            "bagging_fraction": self.subsample,
            "bagging_freq": 1 if self.subsample < 1.0 else 0,
            "feature_fraction": self.colsample_bytree,
            "lambda_l2": self.reg_lambda,
            "monotone_constraints": self.monotone_,
            "monotone_constraints_method": self.monotone_method,
            "seed": self.random_state,
            "num_threads": threads,
            "deterministic": self.deterministic,
            "force_row_wise": True,
            "verbose": -1,
        }

    def fit(
        self, X: npt.ArrayLike, y: npt.ArrayLike, sample_weight: npt.ArrayLike | None = None
    ) -> MonotoneGBM:
        """Fit the boosted trees.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            NaN allowed (LightGBM routes missing values), infinity not.
        y : array-like of shape (n_samples,)
            Two classes; the larger label is the event.
        sample_weight : array-like of shape (n_samples,), optional

        Returns
        -------
        self
        """
        import lightgbm as lgb

        Xa: FloatArray
        Xa, ya = validate_data(self, X, y, dtype=np.float64, ensure_all_finite="allow-nan")
        self.classes_, y01 = _binary_targets(type(self).__name__, ya)
        self.monotone_ = self._resolve_monotone(Xa.shape[1])
        params = self._params()
        w = _weights(sample_weight, Xa.shape[0])
        data = lgb.Dataset(Xa, label=y01, weight=w, params={"verbose": -1}, free_raw_data=True)
        self.booster_ = lgb.train(params, data, num_boost_round=self.n_estimators)
        return self

    def _check_X(self, X: npt.ArrayLike) -> FloatArray:
        check_is_fitted(self)
        return validate_data(self, X, dtype=np.float64, ensure_all_finite="allow-nan", reset=False)

    def decision_function(self, X: npt.ArrayLike) -> FloatArray:
        """Raw margin (log-odds) per row — what SHAP values add up to."""
        X = self._check_X(X)
        return np.asarray(self.booster_.predict(X, raw_score=True), dtype=np.float64)

    def predict_proba(self, X: npt.ArrayLike) -> FloatArray:
        """Probabilities ``[P(no event), P(event)]`` per row, shape (n_samples, 2)."""
        X = self._check_X(X)
        p = np.asarray(self.booster_.predict(X), dtype=np.float64)
        return np.column_stack([1.0 - p, p])

    def predict(self, X: npt.ArrayLike) -> np.ndarray:
        """The more likely class per row."""
        margin = self.decision_function(X)  # checks fitted first
        return self.classes_[(margin > 0).astype(np.intp)]

    @property
    def feature_importances_(self) -> FloatArray:
        """Total split gain per column."""
        check_is_fitted(self)
        return np.asarray(
            self.booster_.feature_importance(importance_type="gain"), dtype=np.float64
        )


# --- temporal validation --------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TemporalSplit:
    """One out-of-time split; unpacks as ``train, test`` (row positions) like a CV split.

    Attributes
    ----------
    train_years : tuple of int
    test_year : int
    train, test : ndarray of int
        Row positions.
    """

    train_years: tuple[int, ...]
    test_year: int
    train: IntArray = field(repr=False)
    test: IntArray = field(repr=False)

    def __iter__(self) -> Iterator[IntArray]:
        yield self.train
        yield self.test


def _as_years(years: npt.ArrayLike) -> npt.NDArray[np.int64]:
    arr = np.asarray(years)
    if arr.ndim != 1:
        raise ValueError(f"years must be one-dimensional (one per row); got shape {arr.shape}")
    num = pd.to_numeric(pd.Series(arr), errors="coerce").to_numpy(np.float64, na_value=np.nan)
    if not np.isfinite(num).all() or (num != np.round(num)).any():
        raise ValueError("years must be whole numbers with no missing values")
    return num.astype(np.int64)


def temporal_splits(
    years: npt.ArrayLike,
    *,
    min_train_years: int = 2,
    horizon: int = 1,
    gap: int | None = None,
    max_train_years: int | None = None,
    test_years: Sequence[int] | None = None,
) -> list[TemporalSplit]:
    """Rolling-origin splits: train on years ≤ T, test on year T + 1 + gap.

    A label of year t looks at events in t+1 … t+horizon. The default ``gap = horizon - 1``
    makes the last training label window (T+1 … T+horizon) end before the test label window
    (T+horizon+1 …) begins, so no event is both learned from and predicted; with horizon 1
    the test year is simply T + 1.

    Parameters
    ----------
    years : array-like of int, shape (n_rows,)
        Scoring year of each row.
    min_train_years : int, default 2
        Fewest distinct training years a split needs.
    horizon : int, default 1
        Label horizon of the rows.
    gap : int, optional
        Years left out between the last training year and the test year; default
        ``horizon - 1``.
    max_train_years : int, optional
        Train on at most this many most recent years (a sliding window); default all earlier
        years (an expanding window).
    test_years : sequence of int, optional
        Restrict to these test years.

    Returns
    -------
    list of TemporalSplit
        In test-year order; each ``train`` holds only rows of years ≤ test_year − 1 − gap.

    Raises
    ------
    ValueError
        If no split is possible.
    """
    yr = _as_years(years)
    gap = horizon - 1 if gap is None else int(gap)
    if gap < 0:
        raise ValueError(f"gap must be >= 0; got {gap}")
    if min_train_years < 1:
        raise ValueError(f"min_train_years must be >= 1; got {min_train_years}")
    unique = np.unique(yr)
    wanted = set(int(t) for t in test_years) if test_years is not None else None
    out: list[TemporalSplit] = []
    for t in unique.tolist():
        if wanted is not None and t not in wanted:
            continue
        last_train = t - 1 - gap
        train_years = unique[unique <= last_train]
        if max_train_years is not None:
            train_years = train_years[train_years > last_train - max_train_years]
        if train_years.shape[0] < min_train_years:
            continue
        out.append(
            TemporalSplit(
                tuple(int(v) for v in train_years),
                int(t),
                np.flatnonzero(np.isin(yr, train_years)),
                np.flatnonzero(yr == t),
            )
        )
    if not out:
        raise ValueError(
            MSG_NO_SPLITS.format(years=unique.tolist(), min_train=min_train_years, gap=gap)
        )
    return out


def _label(fraction: float) -> str:
    return f"top{fraction * 100:g}"


def _metric_columns(fractions: Sequence[float]) -> list[str]:
    cols = ["n", "events", "base_rate", metrics.AUC_POOLED, metrics.AUC_WITHIN_GROUP]
    cols += ["pr_auc", "brier"]
    cols += [f"prec_{_label(f)}" for f in fractions]
    cols += [f"lift_{_label(f)}" for f in fractions]
    return cols


def _evaluate(
    y: npt.NDArray[np.int8],
    prob: FloatArray,
    group: np.ndarray | None,
    fractions: Sequence[float],
) -> dict[str, float]:
    """Held-out metrics of one set of predictions, all from :mod:`calibrate.metrics`."""
    n_events = int(y.sum())
    row: dict[str, float] = {
        "n": float(y.shape[0]),
        "events": float(n_events),
        "base_rate": n_events / y.shape[0],
    }
    try:
        row[metrics.AUC_POOLED] = metrics.roc_auc(y, prob)
    except metrics.SingleClassError:
        row[metrics.AUC_POOLED] = math.nan
    row[metrics.AUC_WITHIN_GROUP] = (
        metrics.grouped_auc(y, prob, group) if 0 < n_events < y.shape[0] else math.nan
    )
    try:
        row["pr_auc"] = metrics.pr_auc(y, prob)
    except metrics.SingleClassError:
        row["pr_auc"] = math.nan
    row["brier"] = metrics.brier(y, prob)
    for f in fractions:
        row[f"prec_{_label(f)}"] = metrics.precision_at_top(y, prob, group, f)
    for f in fractions:
        row[f"lift_{_label(f)}"] = metrics.lift_at_top(y, prob, group, f)
    return row


def _take(X: Any, idx: IntArray) -> Any:
    if isinstance(X, pd.DataFrame | pd.Series):
        return X.iloc[idx]
    return np.asarray(X)[idx]


def _clean_y(y: Any, n_rows: int) -> npt.NDArray[np.int8]:
    s = y if isinstance(y, pd.Series) else pd.Series(np.asarray(y, dtype=object))
    if len(s) != n_rows:
        raise ValueError(MSG_LENGTHS.format(n_x=n_rows, name="y", n=len(s)))
    missing = int(s.isna().sum())
    if missing:
        raise ValueError(MSG_Y_MISSING.format(n=missing))
    values = pd.to_numeric(s.astype(object), errors="coerce").to_numpy(np.float64, na_value=np.nan)
    if not np.isin(values, (0.0, 1.0)).all():
        raise ValueError("y must hold only 0/1 labels (1 = the event happened)")
    return values.astype(np.int8)


@dataclass(frozen=True, eq=False)
class FitResult:
    """Out-of-time performance of one model specification.

    Attributes
    ----------
    estimator : estimator
        The (unfitted) specification that was cloned for every split.
    splits : tuple of TemporalSplit
    by_year : pandas.DataFrame
        One row per held-out year (index ``test_year``): ``n_train``, ``train_years``, the
        metrics (``n``, ``events``, ``base_rate``, ``auc_pooled``, ``auc_within_group``,
        ``pr_auc``, ``brier``,
        ``prec_top5`` …, ``lift_top5`` …) and ``note`` (why a year has no metrics).
    overall : pandas.DataFrame
        Rows ``pooled`` (all held-out predictions together; top lists still within each
        ranking group *and* year) and ``mean`` (unweighted mean over held-out years).
    predictions : pandas.DataFrame
        Every held-out prediction: ``row`` (position in ``X``), ``test_year``, ``y``, ``prob``,
        ``group``.
    estimators : mapping of int to estimator
        The model fitted for each held-out year.
    fractions : tuple of float
        Top-list sizes.
    """

    estimator: Any
    splits: tuple[TemporalSplit, ...]
    by_year: pd.DataFrame
    overall: pd.DataFrame
    predictions: pd.DataFrame = field(repr=False)
    estimators: Mapping[int, Any] = field(repr=False)
    fractions: tuple[float, ...] = DEFAULT_FRACTIONS

    @property
    def test_years(self) -> list[int]:
        """Held-out years, in order."""
        return [s.test_year for s in self.splits]

    @property
    def auc(self) -> float:
        """Pooled out-of-time AUC."""
        return float(self.overall.loc[["pooled"], metrics.AUC_POOLED].to_numpy(np.float64)[0])

    def metric(self, name: str) -> pd.Series:
        """One metric per held-out year."""
        return self.by_year[name]

    def to_frame(self) -> pd.DataFrame:
        """Held-out years then ``pooled`` and ``mean`` in one table (index ``held_out``)."""
        years = self.by_year.drop(columns=["train_years", "note"])
        years.index = years.index.astype(str)
        out = pd.concat([years, self.overall])
        out.index.name = "held_out"
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly: metrics per year and overall (NaN as ``None``), splits, estimator."""

        def clean(v: Any) -> Any:
            if isinstance(v, float | np.floating):
                return None if math.isnan(v) else float(v)
            if isinstance(v, np.integer):
                return int(v)
            return v

        return {
            "estimator": repr(self.estimator),
            "fractions": list(self.fractions),
            "splits": [
                {"train_years": list(s.train_years), "test_year": s.test_year} for s in self.splits
            ],
            "by_year": {
                int(t): {str(k): clean(v) for k, v in row.items()}
                for t, row in zip(
                    self.by_year.index.tolist(),
                    self.by_year.drop(columns=["train_years"]).to_dict("records"),
                    strict=True,
                )
            },
            "overall": {
                str(k): {c: clean(v) for c, v in row.items()} for k, row in self.overall.iterrows()
            },
        }


def fit_temporal(  # noqa: PLR0913 - scikit-learn estimator: one constructor argument per hyper-parameter
    estimator: Any,
    X: pd.DataFrame | npt.ArrayLike,
    y: npt.ArrayLike,
    years: npt.ArrayLike,
    groups: npt.ArrayLike | None = None,
    *,
    splits: Sequence[TemporalSplit] | None = None,
    min_train_years: int = 2,
    horizon: int = 1,
    gap: int | None = None,
    max_train_years: int | None = None,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    sample_weight: npt.ArrayLike | None = None,
    guard: Callable[[Any], Any] | None = None,
) -> FitResult:
    """Fit a fresh clone of ``estimator`` per temporal split and score each held-out year.

    Parameters
    ----------
    estimator : classifier
        Anything with ``fit`` and ``predict_proba`` (cloned; the argument is not fitted).
    X : DataFrame or array-like of shape (n_rows, n_features)
        Features of labelled rows only.
    y : array-like of shape (n_rows,)
        0/1 labels (e.g. ``labels.y``); missing labels are refused.
    years : array-like of shape (n_rows,)
        Scoring year of each row.
    groups : array-like of shape (n_rows,), optional
        Ranking group of each row (e.g. ``ScoreResult.group_code``); top lists are formed
        within each group. ``None``: one list per year.
    splits : sequence of TemporalSplit, optional
        Use these splits instead of :func:`temporal_splits`.
    min_train_years, horizon, gap, max_train_years
        Passed to :func:`temporal_splits`.
    fractions : sequence of float, default (0.05, 0.1, 0.2)
        Top-list sizes for precision and lift.
    sample_weight : array-like, optional
        Training weights (passed to ``fit``); metrics are unweighted.
    guard : callable, optional
        Called with ``X`` before anything is fitted, e.g.
        ``calibrate.outcomes.LeakageGuard(feature_years)``, which raises
        :class:`~calibrate.exceptions.LeakageError` for features dated after the scoring year.

    Returns
    -------
    FitResult

    Notes
    -----
    A split whose training rows hold one class is not fitted; its row in ``by_year`` has NaN
    metrics and a ``note``. A held-out year with one class has NaN AUC (and NaN PR-AUC when it
    has no events) but the other metrics.
    """
    if guard is not None:
        guard(X)
    n = len(X)  # type: ignore[arg-type]
    yy = _clean_y(y, n)
    yr = _as_years(years)
    if yr.shape[0] != n:
        raise ValueError(MSG_LENGTHS.format(n_x=n, name="years", n=yr.shape[0]))
    grp = None if groups is None else np.asarray(groups)
    if grp is not None and grp.shape[0] != n:
        raise ValueError(MSG_LENGTHS.format(n_x=n, name="groups", n=grp.shape[0]))
    w = None if sample_weight is None else np.asarray(sample_weight, dtype=np.float64)
    if splits is None:
        splits = temporal_splits(
            yr,
            min_train_years=min_train_years,
            horizon=horizon,
            gap=gap,
            max_train_years=max_train_years,
        )
    fractions = tuple(float(f) for f in fractions)
    columns = _metric_columns(fractions)

    rows: list[dict[str, Any]] = []
    preds: list[pd.DataFrame] = []
    fitted: dict[int, Any] = {}
    for split in splits:
        if np.intersect1d(yr[split.train], yr[split.test]).size:
            raise ValueError(f"split for {split.test_year} trains on a test year")
        base = {
            "test_year": split.test_year,
            "n_train": int(split.train.shape[0]),
            "train_years": ",".join(str(t) for t in split.train_years),
            "note": "",
        }
        y_train = yy[split.train]
        if y_train.min() == y_train.max():
            rows.append(
                {
                    **base,
                    **dict.fromkeys(columns, math.nan),
                    "n": float(split.test.shape[0]),
                    "note": "not fitted: the training years hold one class",
                }
            )
            continue
        model = clone(estimator)
        fit_kw = {} if w is None else {"sample_weight": w[split.train]}
        model.fit(_take(X, split.train), y_train, **fit_kw)
        prob = np.asarray(model.predict_proba(_take(X, split.test)))[:, 1]
        g_test = None if grp is None else grp[split.test]
        rows.append({**base, **_evaluate(yy[split.test], prob, g_test, fractions)})
        fitted[split.test_year] = model
        preds.append(
            pd.DataFrame(
                {
                    "row": split.test,
                    "test_year": split.test_year,
                    "y": yy[split.test],
                    "prob": prob,
                    "group": g_test if g_test is not None else 0,
                }
            )
        )
    by_year = pd.DataFrame(rows).set_index("test_year")
    by_year = by_year[["n_train", "train_years", *columns, "note"]]
    by_year["note"] = by_year["note"].astype("string")

    overall = pd.DataFrame(
        index=pd.Index(["pooled", "mean"], name="held_out"), columns=columns, dtype=np.float64
    )
    if preds:
        pooled = pd.concat(preds, ignore_index=True)
        # A ranking group is one list in one year: pool lists, never merge them across years.
        pooled_group = pd.factorize(
            pd.MultiIndex.from_arrays([pooled["test_year"].to_numpy(), pooled["group"].to_numpy()])
        )[0]
        overall.loc["pooled"] = pd.Series(
            _evaluate(
                pooled["y"].to_numpy(np.int8),
                pooled["prob"].to_numpy(np.float64),
                pooled_group,
                fractions,
            )
        )
    else:
        pooled = pd.DataFrame(columns=["row", "test_year", "y", "prob", "group"])
    overall.loc["mean"] = by_year[columns].mean(axis=0, skipna=True)
    return FitResult(estimator, tuple(splits), by_year, overall, pooled, fitted, fractions)
