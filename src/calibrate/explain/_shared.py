"""Helpers shared by the points explanations: locating a firm, exact decimals, re-scoring one indicator.

Private: the public names live in :mod:`calibrate.explain.points`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.framework import Framework, Indicator
from calibrate.scoring import ScoreResult, round_half_up
from calibrate.scoring import indicator_points as scoring_indicator_points

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

MSG_NOT_FOUND = (
    "no firm {enterprise_id!r} in year {year!r} in the scores of {framework}; pass an "
    "enterprise_id and year that the scored table holds"
)
MSG_AMBIGUOUS = (
    "firm {enterprise_id!r} has {n} rows in year {year!r} in the scores of {framework}; the "
    "enterprise-year table must have one row per (enterprise_id, year)"
)
MSG_DATA_ROWS = (
    "data has {n_data} rows but the scores have {n_scores}; pass the enterprise table that was "
    "scored (same rows, same order)"
)
MSG_DATA_FIRM = (
    "row {row} of data is firm {found!r} but the scores say {expected!r}; pass the enterprise "
    "table that was scored (same rows, same order)"
)


def units(values: Any, decimals: int) -> IntArray:
    """Exact decimals as whole numbers of the last published place (e.g. cents for 2 decimals)."""
    return np.rint(np.asarray(values, dtype=np.float64) * 10.0**decimals).astype(np.int64)


def from_units(values: Any, decimals: int) -> FloatArray:
    """Inverse of :func:`units`: the float nearest to each exact decimal."""
    return np.asarray(values, dtype=np.float64) / 10.0**decimals


def locate(result: ScoreResult, enterprise_id: str, year: Any) -> int:
    """Row position of one firm-year in the scores."""
    frame = result.frame
    hit = frame["enterprise_id"].to_numpy() == enterprise_id
    if "year" in frame.columns:
        hit &= frame["year"].to_numpy() == year
    rows = np.flatnonzero(hit)
    if rows.size == 0:
        raise KeyError(
            MSG_NOT_FOUND.format(
                enterprise_id=enterprise_id, year=year, framework=result.framework.id
            )
        )
    if rows.size > 1:
        raise ValueError(
            MSG_AMBIGUOUS.format(
                enterprise_id=enterprise_id, year=year, n=rows.size, framework=result.framework.id
            )
        )
    return int(rows[0])


def check_data(result: ScoreResult, data: pd.DataFrame, row: int) -> None:
    """The enterprise table must be the one that was scored (same rows in the same order)."""
    if len(data) != result.n_firms:
        raise ValueError(MSG_DATA_ROWS.format(n_data=len(data), n_scores=result.n_firms))
    if "enterprise_id" in data.columns:
        found = data["enterprise_id"].iloc[row]
        expected = result.frame["enterprise_id"].iloc[row]
        if found != expected:
            raise ValueError(MSG_DATA_FIRM.format(row=row, found=found, expected=expected))


def numeric(data: pd.DataFrame, column: str, rows: Any = None) -> FloatArray:
    """A data column as float64 (NaN for missing), optionally only some rows."""
    series = data[column]
    if series.dtype == bool:
        values = series.to_numpy(dtype=np.float64)
    elif series.dtype == np.float64:
        values = series.to_numpy()
    else:
        values = pd.to_numeric(series, errors="raise").to_numpy(dtype=np.float64, na_value=np.nan)
    return values if rows is None else values[rows]


def tier_codes(result: ScoreResult) -> IntArray:
    """Tier position per firm (0 = the smallest, best list), -1 on no list."""
    tier = result.frame["tier"]
    return np.asarray(tier.cat.codes.to_numpy(), dtype=np.int64)


def indicator_points(
    framework: Framework, ind: Indicator, x: FloatArray, stage_index: IntArray, codes: IntArray
) -> FloatArray:
    """Points of one indicator for the values ``x`` — the scorer's own kernel."""
    return scoring_indicator_points(
        framework, ind, np.asarray(x, dtype=np.float64), stage_index, codes
    )


class TotalsAfter:
    """New totals of some firms when one indicator's points change, as the scorer sums them.

    Holds the firms' published subtotal of the indicator's group, ``core``, ``bonus`` and
    ``deduction``; :meth:`__call__` takes old and new points of the indicator and returns new totals
    (exact decimals as the scorer's floats: every step is re-rounded half-up).
    """

    def __init__(
        self,
        result: ScoreResult,
        ind: Indicator,
        rows: IntArray,
        columns: dict[str, FloatArray] | None = None,
    ) -> None:
        fw = result.framework
        group = fw.group(ind.group)
        self.decimals = fw.decimals
        self.core_group = group.kind == "core"
        self.cap = np.inf if group.cap is None else float(group.cap)

        def column(name: str) -> FloatArray:
            if columns is not None and name in columns:
                return columns[name]
            return result.frame[name].to_numpy(dtype=np.float64)[rows]

        self.sub = column(f"grp__{group.id}")
        self.core = column("core")
        self.bonus = column("bonus")
        self.deduction = column("deduction")

    def __call__(self, old: FloatArray, new: FloatArray, which: Any = slice(None)) -> FloatArray:
        d = self.decimals
        sub = self.sub[which]
        new_sub = sub - old + new
        new_sub[:] = round_half_up(new_sub, d)
        core = self.core[which]
        bonus = self.bonus[which]
        if self.core_group:
            core = round_half_up(core - sub + new_sub, d)
        else:
            bonus = round_half_up(
                bonus - np.minimum(sub, self.cap) + np.minimum(new_sub, self.cap), d
            )
        return round_half_up(core + bonus - self.deduction[which], d)


def plain(value: Any) -> Any:
    """A plain Python value for ``to_dict`` (numpy scalars unwrapped, NaN / NA → None)."""
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if value is None or value is pd.NA:
        return None
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and np.isnan(value):
        return None
    return value


def frame_to_records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as plain Python values (NaN / NA → None), for ``to_dict``."""
    return [{str(k): plain(v) for k, v in row.items()} for row in frame.to_dict(orient="records")]
