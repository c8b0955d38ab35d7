"""The objective weighting methods on one firm × indicator matrix (pure numpy, no framework).

Every function takes ``X`` of shape ``(n_firms, n_indicators)`` — larger is better in every
column, as a rule's fraction is — and returns weights that are non-negative and sum to 1. A column
that is the same for every firm (including all zeros) carries no information: every method gives
it weight 0 *exactly*, without a numpy warning. When no column carries information the weights are
undefined and :class:`DegenerateError` is raised.

The ``_diagnosed`` variants also return the intermediate quantities a review panel asks to see
(entropy and divergence, standard deviation and conflict …), one array per quantity.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_VARIANCE",
    "DegenerateError",
    "critic_weights",
    "cv_weights",
    "entropy_weights",
    "equal_weights",
    "pca_weights",
]

FloatArray = npt.NDArray[np.float64]
Diagnostics = dict[str, FloatArray]

#: Share of variance the kept principal components must explain (the usual 85 % rule).
DEFAULT_VARIANCE = 0.85


class DegenerateError(ValueError):
    """No column carries information for the method: every weight would be 0."""


def _matrix(X: npt.ArrayLike, *, nonnegative: bool, method: str) -> FloatArray:
    arr = np.asarray(X, dtype=np.float64)
    if arr.ndim != 2 or arr.shape[1] == 0:
        raise ValueError(
            f"{method}: expected a 2-D matrix firms × indicators, found shape {arr.shape}"
        )
    if arr.shape[0] < 2:
        raise ValueError(f"{method}: needs at least 2 firms, found {arr.shape[0]}")
    if not np.isfinite(arr).all():
        raise ValueError(
            f"{method}: the matrix has NaN or infinite values; normalise missing values first"
        )
    if nonnegative and (arr < 0).any():
        raise ValueError(
            f"{method}: needs non-negative values (fractions or min-max normalised values)"
        )
    return arr


def _constant(X: FloatArray) -> npt.NDArray[np.bool_]:
    """Columns with the same value for every firm (all-zero columns included)."""
    return np.asarray(X.max(axis=0) == X.min(axis=0))


def _normalise(score: FloatArray, method: str) -> FloatArray:
    total = float(score.sum())
    if not total > 0:
        raise DegenerateError(
            f"{method}: every indicator gets weight 0 (no indicator varies among the firms)"
        )
    return score / total


def _std(X: FloatArray, constant: npt.NDArray[np.bool_]) -> FloatArray:
    # Population standard deviation (ddof=0). The methods only use ratios of σ across indicators,
    # so the n/(n−1) factor of the sample version cancels; constant columns get exactly 0.
    sigma = X.std(axis=0)
    sigma[constant] = 0.0
    return sigma


def _correlation(X: FloatArray, constant: npt.NDArray[np.bool_]) -> FloatArray:
    """Pearson correlation; a constant column is uncorrelated (r = 0) with every other column."""
    k = X.shape[1]
    r = np.zeros((k, k))
    live = np.flatnonzero(~constant)
    if live.size:
        z = X[:, live] - X[:, live].mean(axis=0)
        z /= np.sqrt((z * z).sum(axis=0))
        r[np.ix_(live, live)] = np.clip(z.T @ z, -1.0, 1.0)
    np.fill_diagonal(r, 1.0)
    return r


# --- the methods ------------------------------------------------------------------------------


def equal_weights(k: int) -> FloatArray:
    """Equal weights ``1/k`` for ``k`` indicators (等权法)."""
    if k < 1:
        raise ValueError(f"equal weights need at least one indicator, found {k}")
    return np.full(k, 1.0 / k)


def entropy_diagnosed(X: npt.ArrayLike) -> tuple[FloatArray, Diagnostics]:
    """:func:`entropy_weights` with ``entropy`` (e_j) and ``divergence`` (d_j) per indicator."""
    arr = _matrix(X, nonnegative=True, method="entropy")
    n = arr.shape[0]
    constant = _constant(arr)
    total = arr.sum(axis=0)
    p = np.divide(arr, total, out=np.zeros_like(arr), where=total > 0)
    log_p = np.log(p, out=np.zeros_like(p), where=p > 0)  # 0 · ln 0 = 0
    e = -(p * log_p).sum(axis=0) / np.log(n)
    e[constant] = 1.0  # uniform p (or no p at all: an all-zero column) is maximal entropy
    e = np.clip(e, 0.0, 1.0)
    d = 1.0 - e
    return _normalise(d, "entropy"), {"entropy": e, "divergence": d}


def entropy_weights(X: npt.ArrayLike) -> FloatArray:
    """Entropy weight method (熵权法).

    .. math::

        p_{ij} = x_{ij} / \\sum_i x_{ij}, \\quad
        e_j = -\\frac{1}{\\ln n} \\sum_i p_{ij} \\ln p_{ij}\\ (0 \\ln 0 = 0), \\quad
        d_j = 1 - e_j, \\quad w_j = d_j / \\sum_k d_k .

    Parameters
    ----------
    X : array-like, shape (n_firms, n_indicators)
        Non-negative, larger is better (fractions in [0, 1]); at least 2 firms.

    Returns
    -------
    ndarray, shape (n_indicators,)

    Notes
    -----
    A constant column (all zeros included: ``p`` is undefined there) has ``e_j = 1`` and weight 0.
    A column where a single firm is non-zero has ``e_j = 0`` and the largest weight: the method
    rewards rare indicators, which is why it is shown as a baseline and not as a policy.

    References
    ----------
    Zou Z., Yun Y., Sun J. (2006). Entropy method for determination of weight of evaluating
    indicators in fuzzy synthetic evaluation for water quality assessment. *Journal of
    Environmental Sciences* 18(5), 1020–1023.
    """
    return entropy_diagnosed(X)[0]


def critic_diagnosed(X: npt.ArrayLike) -> tuple[FloatArray, Diagnostics]:
    """:func:`critic_weights` with ``std`` (σ_j), ``conflict`` (Σ_k (1 − r_jk)) and ``information`` (C_j)."""
    arr = _matrix(X, nonnegative=False, method="critic")
    constant = _constant(arr)
    sigma = _std(arr, constant)
    conflict = (1.0 - _correlation(arr, constant)).sum(axis=1)
    conflict[conflict < 1e-12] = 0.0  # r = 1 computed as 0.9999999999999998 is still no conflict
    info = sigma * conflict
    return _normalise(info, "critic"), {"std": sigma, "conflict": conflict, "information": info}


def critic_weights(X: npt.ArrayLike) -> FloatArray:
    """CRITIC (Criteria Importance Through Intercriteria Correlation).

    .. math::

        C_j = \\sigma_j \\sum_k (1 - r_{jk}), \\quad w_j = C_j / \\sum_k C_k

    with σ_j the (population) standard deviation of column j and r_jk Pearson's correlation.

    Parameters
    ----------
    X : array-like, shape (n_firms, n_indicators)
        Larger is better; at least 2 firms.

    Returns
    -------
    ndarray, shape (n_indicators,)

    Notes
    -----
    A constant column has σ = 0 and weight 0. Its correlation with any column is undefined; it is
    taken as 0 (a constant is independent of everything, and its covariance is 0), so each other
    column's conflict term gains 1 from it. The n/(n−1) factor between population and sample σ is
    the same for every column and cancels.

    References
    ----------
    Diakoulaki D., Mavrotas G., Papayannakis L. (1995). Determining objective weights in multiple
    criteria problems: the CRITIC method. *Computers & Operations Research* 22(7), 763–770.
    """
    return critic_diagnosed(X)[0]


def cv_diagnosed(X: npt.ArrayLike) -> tuple[FloatArray, Diagnostics]:
    """:func:`cv_weights` with ``mean`` (μ_j), ``std`` (σ_j) and ``cv`` (σ_j / μ_j)."""
    arr = _matrix(X, nonnegative=True, method="cv")
    constant = _constant(arr)
    mu = arr.mean(axis=0)
    sigma = _std(arr, constant)
    cv = np.divide(sigma, mu, out=np.zeros_like(sigma), where=~constant)  # not constant ⇒ μ > 0
    return _normalise(cv, "cv"), {"mean": mu, "std": sigma, "cv": cv}


def cv_weights(X: npt.ArrayLike) -> FloatArray:
    """Coefficient of variation method (变异系数法): ``w_j ∝ σ_j / μ_j``.

    Parameters
    ----------
    X : array-like, shape (n_firms, n_indicators)
        Non-negative, larger is better; at least 2 firms.

    Returns
    -------
    ndarray, shape (n_indicators,)

    Notes
    -----
    σ is the population standard deviation; the sample version differs by a factor common to all
    columns, which cancels. A constant column (all zeros included, where μ = 0) has weight 0.
    """
    return cv_diagnosed(X)[0]


def pca_diagnosed(
    X: npt.ArrayLike, variance: float = DEFAULT_VARIANCE
) -> tuple[FloatArray, Diagnostics]:
    """:func:`pca_weights` with ``coefficient`` per indicator and ``eigenvalues``/``explained`` per component.

    The component arrays have one entry per non-constant column (largest eigenvalue first);
    ``components`` is a one-element array holding the number of components kept.
    """
    if not 0.0 < variance <= 1.0:
        raise ValueError(f"pca: variance must be in (0, 1], found {variance!r}")
    arr = _matrix(X, nonnegative=False, method="pca")
    constant = _constant(arr)
    live = np.flatnonzero(~constant)
    k = arr.shape[1]
    coefficient = np.zeros(k)
    if live.size == 0:
        raise DegenerateError(
            "pca: every indicator gets weight 0 (no indicator varies among the firms)"
        )
    corr = _correlation(arr, constant)[np.ix_(live, live)]
    eigenvalues, vectors = np.linalg.eigh(corr)
    order = np.argsort(eigenvalues)[::-1]
    eigenvalues = np.clip(eigenvalues[order], 0.0, None)
    vectors = vectors[:, order]
    explained = eigenvalues / eigenvalues.sum()
    kept = int(np.searchsorted(np.cumsum(explained), variance - 1e-12)) + 1
    kept = min(kept, live.size)
    share = explained[:kept]
    coefficient[live] = (np.abs(vectors[:, :kept]) * share).sum(axis=1) / share.sum()
    coefficient[coefficient < 1e-12] = 0.0  # an eigenvector entry of 1e-17 is a zero loading
    diag = {
        "coefficient": coefficient,
        "eigenvalues": eigenvalues,
        "explained": explained,
        "components": np.array([float(kept)]),
    }
    return _normalise(coefficient, "pca"), diag


def pca_weights(X: npt.ArrayLike, variance: float = DEFAULT_VARIANCE) -> FloatArray:
    """Principal component analysis weights (主成分分析法), composite-score-coefficient variant.

    1. Standardise each column (z-scores) and take the correlation matrix R.
    2. Eigen-decompose R: eigenvalues λ_1 ≥ … ≥ λ_k, unit eigenvectors u_m. Keep the first m
       components whose cumulative explained variance Σλ/Σλ reaches ``variance`` (85 %).
    3. The coefficient of indicator j in component m is its loading divided by √λ_m, which is the
       eigenvector entry u_jm. The composite coefficient is
       ``c_j = Σ_m |u_jm| · s_m / Σ_m s_m`` with s_m = λ_m / Σλ the explained share.
    4. ``w_j = c_j / Σ c``.

    Parameters
    ----------
    X : array-like, shape (n_firms, n_indicators)
        At least 2 firms.
    variance : float
        Cumulative share of variance the kept components must explain, in (0, 1].

    Returns
    -------
    ndarray, shape (n_indicators,)

    Notes
    -----
    This is the formulation common in Chinese applied evaluation work: coefficient = loading / √λ,
    composite coefficient weighted by the explained-variance shares of the kept components,
    normalised to sum 1 (e.g. 周洋、侯淑婧、宗科 (2018) 基于主成分分析方法的生态经济效益评价,
    《统计与决策》34(1):66–69). One deliberate change: absolute values of u_jm are used. An
    eigenvector's sign is arbitrary, so signed coefficients would depend on the solver, and a
    negative result is no points allocation. Constant columns are left out of the correlation
    matrix and get weight 0. When eigenvalues tie, the eigenvectors are not unique and neither
    are these weights. Lin H., Du Z. (2013) 主成分分析综合评价应该注意的问题, 《统计研究》30(8):25–31,
    discuss the limits of PCA-based indices.
    """
    return pca_diagnosed(X, variance)[0]
