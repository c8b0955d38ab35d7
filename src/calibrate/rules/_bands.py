"""Vectorised band look-ups shared by every certification rule.

A points table such as "≥ 30 % → 20, 25–30 % → 16, …, < 10 % → 0" is written as ascending
``edges`` (the lower bound of every band but the lowest) and one ``points`` value per band,
lowest band first. Each edge says whether the band above it starts *at* the edge (``≥``, the
default) or strictly *above* it (``>``, ``strict=True``).

Floating point
--------------
Shares and growth rates are often computed from counts (``3 / 10``) or from ratios of ratios, so
a value that is on a threshold on paper can land a hair below it in binary. Every comparison
therefore carries an absolute tolerance :data:`TOL` = 1e-9, always in the direction the text
implies: ``x ≥ e`` is tested as ``x ≥ e − TOL``, ``x > e`` as ``x > e + TOL``, ``x ≤ c`` as
``x ≤ c + TOL`` and ``x < c`` as ``x < c − TOL``. All inputs are fractions, counts or 万元, for
which 1e-9 is far below any meaningful difference.

Missing values
--------------
``NaN`` never compares true, so it lands in the lowest band; :func:`band_points` maps it to
``nan_points`` (default: the smallest points value). Callers flag the missing input themselves.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = [
    "TOL",
    "at_least",
    "at_most",
    "band_index",
    "band_points",
    "expert_points",
    "ratio",
]

#: Absolute tolerance on every threshold comparison (see the module docstring).
TOL = 1e-9

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]


def band_index(
    x: npt.ArrayLike,
    edges: Sequence[float],
    strict: Sequence[bool] | None = None,
) -> IntArray:
    """Index of the band each value falls in (0 = below the first edge).

    Parameters
    ----------
    x : array-like of float
        Values; ``NaN`` gives band 0.
    edges : sequence of float
        Strictly ascending lower bounds of bands 1 … k.
    strict : sequence of bool, optional
        Per edge: ``False`` (default) if the band above starts at the edge (``≥``), ``True`` if
        it starts strictly above it (``>``).

    Returns
    -------
    numpy.ndarray of int64
        Values in 0 … k.
    """
    e = np.asarray(edges, dtype=np.float64)
    if e.ndim != 1 or np.any(np.diff(e) <= 0):
        raise ValueError(f"band edges must be strictly ascending, got {list(edges)}")
    s = np.zeros(e.shape[0], dtype=bool) if strict is None else np.asarray(strict, dtype=bool)
    if s.shape != e.shape:
        raise ValueError(f"need one strict flag per edge: {len(e)} edges, {len(s)} flags")
    v = np.asarray(x, dtype=np.float64)[:, None]
    above = np.where(s, v > e + TOL, v >= e - TOL)
    return above.sum(axis=1, dtype=np.int64)


def band_points(
    x: npt.ArrayLike,
    edges: Sequence[float],
    points: Sequence[float],
    strict: Sequence[bool] | None = None,
    nan_points: float | None = None,
) -> FloatArray:
    """Points of the band each value falls in.

    Parameters
    ----------
    x : array-like of float
        Values.
    edges : sequence of float
        Strictly ascending lower bounds of bands 1 … k (see :func:`band_index`).
    points : sequence of float
        ``k + 1`` values, lowest band first (need not be monotone: a debt-ratio table falls).
    strict : sequence of bool, optional
        Per edge, ``True`` for ``>`` and ``False`` (default) for ``≥``.
    nan_points : float, optional
        Points for a missing value; default the smallest of ``points``.

    Returns
    -------
    numpy.ndarray of float64
    """
    pts = np.asarray(points, dtype=np.float64)
    if pts.shape[0] != len(edges) + 1:
        raise ValueError(f"need {len(edges) + 1} points for {len(edges)} edges, got {len(pts)}")
    v = np.asarray(x, dtype=np.float64)
    out = pts[band_index(v, edges, strict)]
    fill = float(pts.min()) if nan_points is None else float(nan_points)
    return np.where(np.isnan(v), fill, out)


def expert_points(quality: FloatArray, lo: npt.ArrayLike, hi: npt.ArrayLike) -> FloatArray:
    """Map a latent quality in [0, 1] to whole points within ``lo … hi``.

    ``lo + floor(q · (hi − lo) + 0.5 + TOL)``: round half up, so ``q = 0`` gives ``lo``,
    ``q = 1`` gives ``hi`` and ``q = 0.5`` on a 1-point-wide band gives ``hi``. The tolerance
    keeps a quality computed upstream, such as ``0.7 − 0.4 = 0.29999999999999993`` (× 5 =
    1.4999999999999996), on the half it is meant to be.

    Parameters
    ----------
    quality : numpy.ndarray of float
        Latent quality per firm, already checked to lie in [0, 1].
    lo, hi : array-like of float
        Band bounds, broadcast against ``quality``.

    Returns
    -------
    numpy.ndarray of float64
    """
    lo_a = np.asarray(lo, dtype=np.float64)
    hi_a = np.asarray(hi, dtype=np.float64)
    return lo_a + np.floor(quality * (hi_a - lo_a) + 0.5 + TOL)


def at_least(x: FloatArray, threshold: float | FloatArray) -> BoolArray:
    """``x ≥ threshold`` with tolerance :data:`TOL`; ``NaN`` gives ``False``."""
    return np.asarray(x >= np.asarray(threshold) - TOL, dtype=bool)


def at_most(x: FloatArray, cap: float | FloatArray) -> BoolArray:
    """``x ≤ cap`` with tolerance :data:`TOL`; ``NaN`` gives ``False``."""
    return np.asarray(x <= np.asarray(cap) + TOL, dtype=bool)


def ratio(num: FloatArray, den: FloatArray) -> FloatArray:
    """``num / den``, ``NaN`` where the denominator is missing or not positive.

    No warning is ever raised: the division runs only where it is defined.
    """
    out = np.full(np.broadcast(num, den).shape, np.nan, dtype=np.float64)
    ok = np.isfinite(den) & (den > 0)
    np.divide(num, den, out=out, where=ok)
    return out
