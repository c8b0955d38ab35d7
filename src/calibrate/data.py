"""Load and validate enterprise-year and events tables.

Intake is where administrative data goes wrong, so it is strict and talkative: every problem in a
file is collected (file, spreadsheet row, column, what was found, what to do) and reported at
once. With ``on_error="reject"`` bad rows are set aside in ``rejects`` with their reasons instead
— never dropped silently: ``len(frame) + len(rejects) == rows read``.

Row numbers are spreadsheet rows: the header is row 1, the first data row is row 2 (the same as
the line number in a CSV without multi-line cells, and the row Excel shows).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, cast

import numpy as np
import pandas as pd

from calibrate.exceptions import DataContractError, Problem
from calibrate.framework import Framework, Indicator, Penalty
from calibrate.ids import is_valid_uscc

__all__ = [
    "MONEY_COLUMNS",
    "EnterpriseTable",
    "EventsTable",
    "fingerprint",
    "load_enterprises",
    "load_events",
    "read_table",
]

#: Columns in 万元 besides indicators whose unit is 万元 (see docs/columns.md).
MONEY_COLUMNS = frozenset(
    {
        "revenue",
        "revenue_lag1",
        "revenue_lag2",
        "revenue_3y",
        "rd_expense_3y",
        "total_assets",
        "net_assets",
        "net_assets_lag1",
        "net_assets_lag2",
        "total_cost",
        "tax_paid",
        "net_profit",
        "labour_productivity",
    }
)
_TRUE = {"true", "yes", "y", "是", "t"}
_FALSE = {"false", "no", "n", "否", "f"}
#: How many problems an error message prints; all of them stay on ``error.problems``.
MAX_LISTED = 200

MSG_MISSING_COLUMN = "required by framework {fw} but missing; add a column named {col!r}{hint}"
MSG_NOT_NUMERIC = (
    "{found!r} is not a number; write a plain number (no units or thousands separators)"
)
MSG_NEGATIVE_REVENUE = "revenue {found:g} is negative; operating revenue must be >= 0 (万元)"
MSG_MISSING_REVENUE = "revenue is missing; every firm needs revenue to be placed in a stage"
MSG_NO_STAGE = "revenue {found:g} fits no stage of {fw} (stages cover {lo:g} to {hi}); check the value and unit"
MSG_DUPLICATE = "duplicate (enterprise_id, year) = ({eid}, {year}), also at row(s) {others}; keep one row per firm and year"
MSG_BAD_USCC = (
    "{found!r} is not a valid unified social credit code (18 characters, check character must match); "
    "fix the code, or pass id_check='none' (--no-id-check) if this file uses other ids"
)
MSG_MISSING_ID = "enterprise_id is empty; every row needs an id"
MSG_BAD_YEAR = "year {found!r} is not a whole number; write the data year, e.g. 2023"
MSG_MISSING_VALUE = "missing, and the framework says missing: error for {ind}; supply the value"


@dataclass(frozen=True)
class EnterpriseTable:
    """A validated enterprise-year table.

    Attributes
    ----------
    frame : pandas.DataFrame
        The valid rows in file order; indicator, penalty and money columns as float, ``year`` as
        int; other columns untouched. Column ``source_row`` gives the spreadsheet row.
    rejects : pandas.DataFrame
        Rejected rows as read, with ``source_row`` and ``reason``.
    source : str
        File name used in messages.
    encoding : str or None
        Encoding a CSV was read with.
    """

    frame: pd.DataFrame
    rejects: pd.DataFrame
    source: str
    encoding: str | None = None
    money_unit: str = "wan"
    notes: tuple[str, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        """Content hash of the valid rows (see :func:`fingerprint`)."""
        return fingerprint(self.frame.drop(columns=["source_row"], errors="ignore"))

    @property
    def n_read(self) -> int:
        return len(self.frame) + len(self.rejects)


@dataclass(frozen=True)
class EventsTable:
    """A validated long events table ``enterprise_id, year, event``."""

    frame: pd.DataFrame
    rejects: pd.DataFrame
    source: str

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.frame.drop(columns=["source_row"], errors="ignore"))


def fingerprint(frame: pd.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of a table's content, column names and order.

    Row order matters; the index does not. Same data → same fingerprint on any machine.
    """
    digest = hashlib.sha256()
    digest.update("\x1f".join(map(str, frame.columns)).encode("utf-8"))
    for col in frame.columns:
        series = frame[col]
        if isinstance(series.dtype, pd.CategoricalDtype):
            series = series.astype("string")
        digest.update(pd.util.hash_pandas_object(series, index=False).to_numpy().tobytes())
    return digest.hexdigest()[:16]


# --- reading ---------------------------------------------------------------------------------


def _read_csv(path: Path, encoding: str | None) -> tuple[pd.DataFrame, str]:
    tried = [encoding] if encoding else ["utf-8-sig", "gb18030"]  # gb18030 ⊃ GBK
    last: Exception | None = None
    for enc in tried:
        try:
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, na_values=[""], encoding=enc
            )
            return frame, "utf-8" if enc == "utf-8-sig" else enc
        except UnicodeDecodeError as exc:
            last = exc
    raise DataContractError(
        str(path),
        [
            Problem(
                str(path),
                f"could not be decoded as {' or '.join(tried)} ({last}); "
                "save it as UTF-8 or name the encoding with --encoding",
            )
        ],
    )


def read_table(
    path: str | Path, *, encoding: str | None = None, sheet: str | int = 0
) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV (UTF-8, UTF-8 with BOM or GBK), Excel or Parquet file as it is.

    CSV cells are read as text so ids keep leading zeros and bad cells can be reported exactly;
    conversion happens in validation. Returns the frame and the encoding used (CSV only).
    """
    path = Path(path)
    if not path.exists():
        raise DataContractError(str(path), [Problem(str(path), "file not found; check the path")])
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt"}:
        return _read_csv(path, encoding)
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        return pd.read_excel(path, sheet_name=sheet, dtype=object), None
    if suffix in {".parquet", ".pq"}:
        return pd.read_parquet(path), None
    raise DataContractError(
        str(path),
        [Problem(str(path), f"unknown file type {suffix!r}; use .csv, .xlsx or .parquet")],
    )


def _to_number(series: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (float, NaN for missing) and a mask of cells that are present but not numbers."""
    if pd.api.types.is_bool_dtype(series.dtype):
        return series.to_numpy(dtype=np.float64), np.zeros(len(series), dtype=bool)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.zeros(len(series), dtype=bool)
    text = series.astype("string").str.strip()
    lowered = text.str.lower()
    text = text.mask(lowered.isin(_TRUE), "1").mask(lowered.isin(_FALSE), "0")
    present = text.notna() & (text != "")
    numbers = pd.to_numeric(text.where(present), errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = present.to_numpy(dtype=bool) & np.isnan(values)
    return values, bad


def _money_columns(framework: Framework | None, columns: Iterable[str]) -> list[str]:
    money = set(MONEY_COLUMNS)
    if framework is not None:
        money |= {
            i.id
            for i in framework.indicators
            if "万元" in i.unit or i.unit.lower() in {"wan_yuan", "wan"}
        }
    return [c for c in columns if c in money]


class _Problems:
    def __init__(self, source: str, rows: np.ndarray):
        self.source = source
        self.rows = rows  # spreadsheet row per position
        self.file: list[Problem] = []
        self.by_position: dict[int, list[str]] = {}
        self._listed: list[tuple[int, int, Problem]] = []

    @property
    def listed(self) -> list[Problem]:
        """Row problems in file order (stable within a row)."""
        return [p for _, _, p in sorted(self._listed, key=lambda t: (t[0], t[1]))]

    def file_level(self, where: str, message: str) -> None:
        self.file.append(Problem(where, message))

    def row(self, pos: int, column: str, message: str) -> None:
        self.by_position.setdefault(pos, []).append(f"{column}: {message}")
        where = f"{self.source}, row {self.rows[pos]}, column {column}"
        self._listed.append((pos, len(self._listed), Problem(where, message)))

    def many(self, positions: np.ndarray, column: str, messages: Iterable[str]) -> None:
        for pos, msg in zip(positions.tolist(), messages, strict=True):
            self.row(pos, column, msg)


def _finish(
    problems: _Problems, raw: pd.DataFrame, clean: pd.DataFrame, on_error: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    if problems.file:
        raise DataContractError(problems.source, problems.file + problems.listed)
    listed = problems.listed
    if listed and on_error == "raise":
        if len(listed) > MAX_LISTED:
            extra = Problem(
                problems.source,
                f"... and {len(listed) - MAX_LISTED} more problems; "
                "use on_error='reject' (--rejects FILE) to write every bad row with its reason",
            )
            error = DataContractError(problems.source, [*listed[:MAX_LISTED], extra])
            error.problems = tuple(listed)  # keep all for programs that inspect them
            raise error
        raise DataContractError(problems.source, listed)
    bad = np.zeros(len(raw), dtype=bool)
    if problems.by_position:
        bad[list(problems.by_position)] = True
    rejects = raw.loc[bad].copy()
    rejects.insert(0, "source_row", problems.rows[bad])
    rejects["reason"] = ["; ".join(problems.by_position[int(p)]) for p in np.flatnonzero(bad)]
    good = clean.loc[~bad].copy()
    return good, rejects


def load_enterprises(
    data: str | Path | pd.DataFrame,
    framework: Framework | None = None,
    *,
    encoding: str | None = None,
    money_unit: Literal["wan", "yuan"] = "wan",
    id_check: Literal["uscc", "none"] = "uscc",
    on_error: Literal["raise", "reject"] = "raise",
    source: str | None = None,
) -> EnterpriseTable:
    """Read and validate an enterprise-year table against a framework.

    Parameters
    ----------
    data : path or DataFrame
        CSV (UTF-8, UTF-8 with BOM, GBK), Excel, Parquet, or a frame already in memory.
    framework : Framework, optional
        Decides which indicator and penalty columns are required and which stage each revenue
        falls in. Without one, only keys, year and revenue are checked.
    encoding : str, optional
        CSV encoding; detected (UTF-8 with or without BOM, else GBK/GB18030) when not given.
    money_unit : {"wan", "yuan"}
        Unit of money columns in the file; ``"yuan"`` divides them by 10,000 into 万元.
    id_check : {"uscc", "none"}
        Validate ``enterprise_id`` as unified social credit codes (checksum) or accept any id.
    on_error : {"raise", "reject"}
        Raise one error listing every problem, or move bad rows to ``rejects`` with reasons.

    Raises
    ------
    DataContractError
        Missing columns (always), or bad rows when ``on_error="raise"``.
    """
    if isinstance(data, pd.DataFrame):
        raw, used_encoding, name = data.reset_index(drop=True), None, source or "<data>"
    else:
        raw, used_encoding = read_table(data, encoding=encoding)
        name = source or Path(data).name
    rows = np.arange(len(raw), dtype=np.int64) + 2
    problems = _Problems(name, rows)

    required = ["enterprise_id", "year", "revenue"]
    if framework is not None:
        required += [c for c in framework.ranking_group if c != "stage"]
        required += [i.id for i in framework.indicators] + [p.id for p in framework.penalties]
    aliases: dict[str, str] = {}
    if framework is not None:
        items: list[Indicator | Penalty] = [*framework.indicators, *framework.penalties]
        for item in items:
            for alias in item.aliases:
                aliases[alias] = item.id
    renames = {a: i for a, i in aliases.items() if a in raw.columns and i not in raw.columns}
    raw = raw.rename(columns=renames)
    for col in dict.fromkeys(required):
        if col not in raw.columns:
            hint = ""
            if framework is not None and col in framework.penalty_ids:
                hint = " (0/1 flag; 0 where there is no record)"
            problems.file_level(
                f"{name}, column {col}",
                MSG_MISSING_COLUMN.format(
                    fw=framework.id if framework else "calibrate", col=col, hint=hint
                ),
            )
    if problems.file:
        _finish(problems, raw, raw, on_error)

    clean = raw.copy()
    numeric_cols = ["revenue"]
    if framework is not None:
        numeric_cols += [i.id for i in framework.indicators if i.id != "revenue"]
        numeric_cols += [p.id for p in framework.penalties]
    numeric_cols += [c for c in _money_columns(framework, raw.columns) if c not in numeric_cols]
    not_numeric: dict[str, np.ndarray] = {}
    for col in dict.fromkeys(numeric_cols):
        values, bad = _to_number(raw[col])
        not_numeric[col] = bad
        if bad.any():
            positions = np.flatnonzero(bad)
            problems.many(
                positions,
                col,
                (MSG_NOT_NUMERIC.format(found=v) for v in raw[col].to_numpy()[positions]),
            )
        clean[col] = values

    notes: list[str] = []
    if money_unit == "yuan":
        converted = _money_columns(framework, clean.columns)
        for col in converted:
            clean[col] = clean[col] / 10_000.0
        notes.append(
            f"converted {len(converted)} money columns from 元 to 万元: {', '.join(converted)}"
        )

    # keys
    ids = raw["enterprise_id"].astype("string").str.strip()
    missing_id = ids.isna() | (ids == "")
    for pos in np.flatnonzero(missing_id.to_numpy(dtype=bool)):
        problems.row(int(pos), "enterprise_id", MSG_MISSING_ID)
    clean["enterprise_id"] = ids.astype("str")
    if id_check == "uscc":
        valid = is_valid_uscc(ids.fillna("").to_numpy(dtype=object))
        bad_ids = ~valid & ~missing_id.to_numpy(dtype=bool)
        for pos in np.flatnonzero(bad_ids):
            problems.row(int(pos), "enterprise_id", MSG_BAD_USCC.format(found=ids.iloc[pos]))
    year_values, year_bad = _to_number(raw["year"])
    year_bad |= ~np.isnan(year_values) & (year_values != np.round(year_values))
    year_bad |= np.isnan(year_values)
    for pos in np.flatnonzero(year_bad):
        problems.row(int(pos), "year", MSG_BAD_YEAR.format(found=raw["year"].iloc[pos]))
    clean["year"] = np.where(year_bad, 0, np.nan_to_num(year_values)).astype(np.int64)

    # revenue and stage
    revenue = clean["revenue"].to_numpy(dtype=np.float64)
    for pos in np.flatnonzero(np.isnan(revenue) & ~not_numeric["revenue"]):
        problems.row(int(pos), "revenue", MSG_MISSING_REVENUE)
    negative = revenue < 0
    for pos in np.flatnonzero(negative):
        problems.row(int(pos), "revenue", MSG_NEGATIVE_REVENUE.format(found=revenue[pos]))
    if framework is not None:
        lo = framework.stages[0].revenue_min
        hi = framework.stages[-1].revenue_max
        out = ~np.isnan(revenue) & ~negative & ((revenue < lo) | (hi is not None and revenue >= hi))
        for pos in np.flatnonzero(out):
            problems.row(
                int(pos),
                "revenue",
                MSG_NO_STAGE.format(
                    found=revenue[pos], fw=framework.id, lo=lo, hi="∞" if hi is None else f"{hi:g}"
                ),
            )
        for ind in framework.indicators:
            if ind.missing == "error":
                for pos in np.flatnonzero(np.isnan(clean[ind.id].to_numpy(dtype=np.float64))):
                    problems.row(int(pos), ind.id, MSG_MISSING_VALUE.format(ind=ind.id))

    # duplicates: every occurrence is a problem, since we cannot know which row is right
    key = pd.DataFrame({"id": ids, "year": clean["year"]})
    dup = (
        key.duplicated(keep=False).to_numpy(dtype=bool)
        & ~missing_id.to_numpy(dtype=bool)
        & ~year_bad
    )
    if dup.any():
        positions = np.flatnonzero(dup)
        groups = key.iloc[positions].groupby(["id", "year"], sort=False).indices
        for group_key, members in groups.items():
            eid, year = cast(tuple[str, int], group_key)
            spreadsheet_rows = rows[positions[members]]
            for pos, own in zip(positions[members], spreadsheet_rows, strict=True):
                others = ", ".join(str(r) for r in spreadsheet_rows if r != own)
                problems.row(
                    int(pos),
                    "enterprise_id",
                    MSG_DUPLICATE.format(eid=eid, year=year, others=others),
                )

    good, rejects = _finish(problems, raw, clean, on_error)
    good.insert(len(good.columns), "source_row", rows[good.index.to_numpy()])
    good = good.reset_index(drop=True)
    return EnterpriseTable(
        good, rejects.reset_index(drop=True), name, used_encoding, money_unit, tuple(notes)
    )


def load_events(
    data: str | Path | pd.DataFrame,
    *,
    encoding: str | None = None,
    on_error: Literal["raise", "reject"] = "raise",
    source: str | None = None,
) -> EventsTable:
    """Read and validate a long events table with columns ``enterprise_id, year, event``.

    Any event name is accepted (the target of a fit is named on the command line).
    """
    if isinstance(data, pd.DataFrame):
        raw, name = data.reset_index(drop=True), source or "<events>"
    else:
        raw, _ = read_table(data, encoding=encoding)
        name = source or Path(data).name
    rows = np.arange(len(raw), dtype=np.int64) + 2
    problems = _Problems(name, rows)
    for col in ("enterprise_id", "year", "event"):
        if col not in raw.columns:
            problems.file_level(
                f"{name}, column {col}", "missing; an events table needs enterprise_id, year, event"
            )
    if problems.file:
        _finish(problems, raw, raw, on_error)
    clean = raw.copy()
    ids = raw["enterprise_id"].astype("string").str.strip()
    for pos in np.flatnonzero((ids.isna() | (ids == "")).to_numpy(dtype=bool)):
        problems.row(int(pos), "enterprise_id", MSG_MISSING_ID)
    clean["enterprise_id"] = ids.astype("str")
    years, bad = _to_number(raw["year"])
    bad |= np.isnan(years) | (~np.isnan(years) & (years != np.round(years)))
    for pos in np.flatnonzero(bad):
        problems.row(int(pos), "year", MSG_BAD_YEAR.format(found=raw["year"].iloc[pos]))
    clean["year"] = np.where(bad, 0, np.nan_to_num(years)).astype(np.int64)
    event = raw["event"].astype("string").str.strip()
    for pos in np.flatnonzero((event.isna() | (event == "")).to_numpy(dtype=bool)):
        problems.row(int(pos), "event", "event name is empty; name the event, e.g. hte_certified")
    clean["event"] = event.astype("str")
    good, rejects = _finish(problems, raw, clean, on_error)
    good.insert(len(good.columns), "source_row", rows[good.index.to_numpy()])
    return EventsTable(good.reset_index(drop=True), rejects.reset_index(drop=True), name)
