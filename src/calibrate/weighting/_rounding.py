"""Whole or half points that still add up to the budget: the largest-remainder method."""

from __future__ import annotations

import math
from typing import Literal, TypeAlias

import numpy as np
import numpy.typing as npt

__all__ = ["ROUNDING_UNITS", "Rounding", "largest_remainder"]

Rounding: TypeAlias = Literal["whole", "half"] | None

#: Points per rounding step.
ROUNDING_UNITS: dict[str, float] = {"whole": 1.0, "half": 0.5}

MSG_ROUNDING = "rounding must be 'whole', 'half' or None, found {found!r}"
MSG_BUDGET_UNIT = (
    "the core budget {budget:g} is not a whole number of {unit} points, so rounding to {unit} points "
    "cannot keep it; use rounding={other} or None"
)


def unit_of(rounding: Rounding) -> float | None:
    """Points per step for a ``rounding`` option (``None``: no rounding)."""
    if rounding is None:
        return None
    if rounding not in ROUNDING_UNITS:
        raise ValueError(MSG_ROUNDING.format(found=rounding))
    return ROUNDING_UNITS[rounding]


def largest_remainder(
    values: npt.ArrayLike, total: float, unit: float = 1.0
) -> npt.NDArray[np.float64]:
    """Round non-negative ``values`` to multiples of ``unit`` so that they add up to ``total`` exactly.

    Hamilton's largest-remainder method: every value is rounded down to a multiple of ``unit``;
    the units still missing from ``total`` go one each to the values with the largest remainders
    (ties to the earlier position, so the result is deterministic).

    Parameters
    ----------
    values : array-like of float, shape (k,)
        Non-negative values whose sum is ``total`` (up to floating-point error).
    total : float
        The sum to keep, a whole multiple of ``unit``.
    unit : float
        1.0 for whole points, 0.5 for half points.

    Returns
    -------
    ndarray of float
        Multiples of ``unit``; their sum equals ``total`` exactly.

    Examples
    --------
    >>> largest_remainder([100 / 3, 100 / 3, 100 / 3], 100).tolist()
    [34.0, 33.0, 33.0]
    """
    v = np.asarray(values, dtype=np.float64)
    if v.ndim != 1 or (v < 0).any() or not np.isfinite(v).all():
        raise ValueError("largest_remainder needs a 1-D array of finite, non-negative values")
    steps_total = total / unit
    if abs(steps_total - round(steps_total)) > 1e-9:
        other = "'half'" if unit == 1.0 else "'whole' with a whole budget"
        raise ValueError(
            MSG_BUDGET_UNIT.format(
                budget=total, unit="whole" if unit == 1.0 else "half", other=other
            )
        )
    steps_total = round(steps_total)
    if not math.isclose(float(v.sum()), total, rel_tol=1e-9, abs_tol=1e-9):
        raise ValueError(
            f"largest_remainder: the values add up to {v.sum()!r}, not the total {total!r}"
        )
    # 9 decimals absorb representation error (20 stored as 19.999999999999996 is 20 steps).
    q = np.round(v / unit, 9)
    base = np.floor(q)
    remainder = q - base
    # Σ floor(q) is a whole number ≤ Σ q = steps_total, and it falls short by Σ remainders < k.
    missing = steps_total - int(base.sum())
    order = np.lexsort((np.arange(v.size), -remainder))  # largest remainder first, then position
    base[order[:missing]] += 1.0
    return base * unit
