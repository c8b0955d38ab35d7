"""Load and validate enterprise-year and events tables.

Intake is where administrative data goes wrong, so it is strict and talkative: every problem in a
file is collected (file, spreadsheet row, column, what was found, what to do) and reported at
once. With ``on_error="reject"`` bad rows are set aside in ``rejects`` with their reasons instead
— never dropped silently: ``len(frame) + len(rejects) == rows read``.

Row numbers are spreadsheet rows: the header is row 1, the first data row is row 2 (the same as
the line number in a CSV without multi-line cells, and the row Excel shows).
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

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

MSG_MISSING_COLUMN = "missing; needed as {why}; add a column named {col!r}{hint}"
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
#: The column intake adds: the row of each record in its file, as a spreadsheet shows it.
SOURCE_ROW = "source_row"
#: Key of ``DataFrame.attrs`` holding the name of the file a validated table was read from.
SOURCE_ATTR = "calibrate_source"
MSG_MISSING_ID = "enterprise_id is empty; every row needs an id"
MSG_BAD_YEAR = "year {found!r} is not a whole number; write the data year, e.g. 2023"
MSG_MISSING_YEAR = "year is empty; every row needs its data year, e.g. 2023"
MSG_RESERVED_COLUMN = (
    "is the column calibrate adds (the row of each record in this file), so the file cannot bring "
    "its own; drop it, or rename it (e.g. to original_row) to keep it — a --rejects file has one"
)
MSG_MISSING_VALUE = "missing, and the framework says missing: error for {ind}; supply the value"
MSG_BOOL_AMOUNT = "{found!r} is a yes/no value, not an amount; write the number"
MSG_MISSING_SPELLED = (
    "{found!r} is a way of writing 'missing'; leave the cell empty when a value is missing"
)
MSG_INFINITE = "{found!r} is infinite; write a finite number"
MSG_YEAR_RANGE = (
    "year {found} is implausible; write the four-digit data year ({lo}–{hi}), e.g. 2023"
)
MSG_BAD_USCC_GROUP = (
    "{n} ids are not valid unified social credit codes (18 characters, check character must "
    "match), e.g. {examples}; fix the codes, or pass --no-id-check (id_check='none') if this "
    "file uses other ids"
)
MSG_NEAR_MISS = "; found {near!r} ({why}) — rename it to {col!r}"
#: More bad ids than this are one grouped message (count, examples, the flag to turn it off).
GROUP_AFTER = 3
#: Plausible data years; anything outside is a typo or a unit slip (e.g. 99999, 0, 1e3).
YEAR_RANGE = (1900, 2100)


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
    notes: tuple[str, ...] = ()

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

#: The column that marks the header row (searched for in the first :data:`HEADER_SEARCH` lines).
HEADER_KEY = "enterprise_id"
HEADER_SEARCH = 30
_SEPARATORS = (",", ";", "\t", "|")
_SEP_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "vertical bar"}

MSG_EMPTY_FILE = "is empty (0 bytes); export the table again"
MSG_NO_HEADER = "has no header row (only blank lines); export the table with its column names"
MSG_HEADER_NOT_FOUND = (
    "has no header row naming enterprise_id in its first {n} rows; {unit} {row} reads "
    "{preview!r} — add the header row (enterprise_id, year, …) or rename the id column"
)
MSG_NO_ROWS = "has a header but no data rows; export the table with its rows"
MSG_RAGGED = (
    "has {found} cells but the header (line {header}) has {expected}; "
    "a cell probably contains the separator {sep!r} — quote that cell or remove the extra cells"
)
MSG_DUPLICATE_COLUMN = (
    "column name {col!r} appears {n} times (columns {positions}); give each column its own name"
)
MSG_BOM_OTHER = (
    "starts with a UTF-8 byte-order mark but line {line} is not UTF-8 (probably GBK); "
    "save the whole file as UTF-8"
)
MSG_MIXED_ENCODING = (
    "mixes encodings: line {utf8} is UTF-8 but line {line} is not (probably GBK); nothing was "
    "read — save the whole file in one encoding (UTF-8)"
)
MSG_UNDECODABLE = (
    "line {line} cannot be decoded as {enc}; save the file as UTF-8 or name its encoding "
    "with --encoding"
)
MSG_BINARY_AS_TEXT = "is named {suffix} but is {kind}; rename it accordingly"
_BINARY_KINDS = {
    b"PK\x03\x04": "an Excel workbook (.xlsx)",
    b"\xd0\xcf\x11\xe0": "an old Excel workbook (.xls); save it as .xlsx",
    b"PAR1": "a Parquet file (.parquet)",
}
MSG_UNKNOWN_ENCODING = "--encoding {enc!r} is not an encoding Python knows; use utf-8 or gbk"
MSG_TEXT_AS_XLSX = "is named {suffix} but is a text (CSV) file; rename it to .csv"
MSG_OLD_XLS = "is an old-format Excel file (.xls); open it in Excel and save it as .xlsx"
MSG_BAD_XLSX = (
    "is not a readable .xlsx workbook (damaged or cut short?); open and save it again in Excel, "
    "or export CSV"
)
MSG_BAD_PARQUET = (
    "is not a readable Parquet file ({reason}); write it again (it may be cut short or "
    "another format)"
)
MSG_SHEETS = (
    "has data on {n} sheets ({sheets}); choose one with --sheet NAME (nothing is read from a "
    "sheet you did not choose)"
)
MSG_NO_SHEET = "has no sheet named {sheet!r}; its sheets are {sheets}"
MSG_EMPTY_BOOK = "has no data on any sheet ({sheets})"
MSG_FORMULA = (
    "formula {formula} has no saved value (the file was written by a program, not by Excel); "
    "open and save it in Excel, or paste the values"
)
NOTE_HEADER_BELOW = "{name}: header found on {unit} {row}; the {n} row(s) above it were skipped"
NOTE_SEPARATOR = "{name}: read as {sep}-separated text"
NOTE_SHEET = "{name}: read sheet {sheet!r}, the only sheet with data"


@dataclass(frozen=True)
class _Raw:
    """A table as read: text cells (CSV) or cell values, the row a person sees for each row."""

    frame: pd.DataFrame
    rows: np.ndarray
    encoding: str | None = None
    notes: tuple[str, ...] = ()


def _fail(path: Path | str, message: str, where: str | None = None) -> DataContractError:
    name = Path(path).name
    return DataContractError(name, [Problem(where or name, message)])


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def _first_utf8_line(data: bytes) -> int | None:
    """The first line holding non-ASCII text that is valid UTF-8 (a sign of mixed encodings)."""
    for number, line in enumerate(data.split(b"\n"), start=1):
        if max(line, default=0) < 0x80:
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            continue
        return number
    return None


def _decode(path: Path, data: bytes, encoding: str | None) -> tuple[str, str]:
    """Decode a CSV whole, or stop naming the line: never turn a file into mojibake."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except LookupError:
            raise _fail(path, MSG_UNKNOWN_ENCODING.format(enc=encoding)) from None
        except UnicodeDecodeError as exc:
            line = _line_of(data, exc.start)
            where = f"{path.name}, line {line}"
            raise _fail(path, MSG_UNDECODABLE.format(line=line, enc=encoding), where) from None
    try:
        return data.decode("utf-8-sig"), "utf-8"
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        where = f"{path.name}, line {line}"
        if data.startswith(b"\xef\xbb\xbf"):
            raise _fail(path, MSG_BOM_OTHER.format(line=line), where) from None
        utf8 = _first_utf8_line(data)
        if utf8 is not None:
            raise _fail(path, MSG_MIXED_ENCODING.format(utf8=utf8, line=line), where) from None
    try:
        return data.decode("gb18030"), "gb18030"  # gb18030 ⊃ GBK
    except UnicodeDecodeError as exc:
        line = _line_of(data, exc.start)
        where = f"{path.name}, line {line}"
        raise _fail(path, MSG_UNDECODABLE.format(line=line, enc="UTF-8 or GBK"), where) from None


def _norm_name(name: object) -> str:
    """A column name as compared for near misses: NFKC (full-width → ASCII), trimmed, lower."""
    return unicodedata.normalize("NFKC", str(name)).strip().lower()


def _header_index(rows: list[list[str]] | list[tuple[object, ...]]) -> int | None:
    for i, row in enumerate(rows[:HEADER_SEARCH]):
        if any(_norm_name(c) == HEADER_KEY for c in row if c is not None):
            return i
    return None


def _check_columns(name: str, header: list[str], where: str) -> None:
    positions: dict[str, list[int]] = {}
    for i, col in enumerate(header, start=1):
        positions.setdefault(col, []).append(i)
    problems = [
        Problem(
            where,
            MSG_DUPLICATE_COLUMN.format(
                col=col, n=len(at), positions=", ".join(str(i) for i in at)
            ),
        )
        for col, at in positions.items()
        if len(at) > 1
    ]
    if problems:
        raise DataContractError(name, problems)


def _csv_records(text: str, sep: str) -> tuple[list[list[str]], list[int]]:
    """Records (blank lines skipped) and the editor line each record starts on (quoted CSV)."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    records: list[list[str]] = []
    lines: list[int] = []
    end = 0
    for record in reader:
        start, end = end + 1, reader.line_num
        if record and any(cell.strip() for cell in record):
            records.append(record)
            lines.append(start)
    return records, lines


def _header_at(path: Path, records: list[list[str]], lines: list[int], sep: str) -> int:
    found = _header_index(records[:HEADER_SEARCH])
    if found is None:
        preview = sep.join(records[0])[:60]
        message = MSG_HEADER_NOT_FOUND.format(
            n=HEADER_SEARCH, unit="line", row=lines[0], preview=preview
        )
        raise _fail(path, message, f"{path.name}, line {lines[0]}")
    return found


def _ragged(
    path: Path, counts: Iterable[int], lines: Iterable[int], head: tuple[int, int, str]
) -> None:
    header_line, expected, sep = head
    problems = [
        Problem(
            f"{path.name}, line {line}",
            MSG_RAGGED.format(found=n, header=header_line, expected=expected, sep=sep),
        )
        for n, line in zip(counts, lines, strict=True)
        if n != expected
    ]
    if problems:
        raise DataContractError(path.name, problems[:MAX_LISTED])


def _parse_plain(
    path: Path, text: str, sep: str
) -> tuple[list[str], int, int, list[int], pd.DataFrame]:
    """No quotes in the file: a record is a line, split by pandas' C parser (fast)."""
    all_lines = text.splitlines()
    kept = [i for i, line in enumerate(all_lines) if line.replace(sep, "").strip()]
    head = [all_lines[i].split(sep) for i in kept[:HEADER_SEARCH]]
    h = _header_at(path, head, [i + 1 for i in kept], sep)
    header, body = head[h], kept[h + 1 :]
    _check_columns(path.name, header, f"{path.name}, line {kept[h] + 1}")
    if not body:
        raise _fail(path, MSG_NO_ROWS)
    counts = (all_lines[i].count(sep) + 1 for i in body)
    _ragged(path, counts, (i + 1 for i in body), (kept[h] + 1, len(header), sep))
    frame = pd.read_csv(
        io.StringIO("\n".join(all_lines[i] for i in body)),
        sep=sep,
        header=None,
        names=list(range(len(header))),
        dtype="string",
        keep_default_na=False,
        na_values=[""],
        quoting=csv.QUOTE_NONE,
        engine="c",
    )
    frame.columns = pd.Index(header)
    return header, kept[h] + 1, h, [i + 1 for i in body], frame


def _parse_quoted(
    path: Path, text: str, sep: str
) -> tuple[list[str], int, int, list[int], pd.DataFrame]:
    """Quoted cells may hold separators and line breaks: the csv module finds the records."""
    records, lines = _csv_records(text, sep)
    h = _header_at(path, records, lines, sep)
    header, data_rows = records[h], records[h + 1 :]
    _check_columns(path.name, header, f"{path.name}, line {lines[h]}")
    if not data_rows:
        raise _fail(path, MSG_NO_ROWS)
    _ragged(path, map(len, data_rows), lines[h + 1 :], (lines[h], len(header), sep))
    columns = zip(*data_rows, strict=True)
    frame = pd.DataFrame(
        {i: pd.array(col, dtype="string") for i, col in enumerate(columns)}, copy=False
    )
    frame.columns = pd.Index(header)
    return header, lines[h], h, lines[h + 1 :], frame.mask(frame == "")


def _read_csv(path: Path, encoding: str | None) -> _Raw:
    data = path.read_bytes()
    if not data:
        raise _fail(path, MSG_EMPTY_FILE)
    for magic, kind in _BINARY_KINDS.items():
        if data.startswith(magic):
            raise _fail(path, MSG_BINARY_AS_TEXT.format(suffix=path.suffix, kind=kind))
    text, used = _decode(path, data, encoding)
    head = [line for line in text.splitlines()[:HEADER_SEARCH] if line.strip()]
    if not head:
        raise _fail(path, MSG_NO_HEADER)
    key_line = next((ln for ln in head if HEADER_KEY in _norm_name(ln)), head[0])
    sep = max(_SEPARATORS, key=lambda c: (key_line.count(c), c == ","))
    parse = _parse_quoted if '"' in text else _parse_plain
    _, header_line, skipped, rows, frame = parse(path, text, sep)
    notes = []
    if skipped:
        notes.append(
            NOTE_HEADER_BELOW.format(name=path.name, unit="line", row=header_line, n=skipped)
        )
    if sep != ",":
        notes.append(NOTE_SEPARATOR.format(name=path.name, sep=_SEP_NAMES[sep]))
    return _Raw(frame, np.asarray(rows, dtype=np.int64), used, tuple(notes))


def _xlsx_kind(path: Path) -> None:
    """Stop on a file named .xlsx that is not a zip workbook (text, old .xls, empty)."""
    with open(path, "rb") as handle:
        magic = handle.read(8)
    if not magic:
        raise _fail(path, MSG_EMPTY_FILE)
    if magic.startswith(b"\xd0\xcf\x11\xe0"):
        raise _fail(path, MSG_OLD_XLS)
    if not magic.startswith(b"PK"):
        if b"\x00" not in magic:
            raise _fail(path, MSG_TEXT_AS_XLSX.format(suffix=path.suffix))
        raise _fail(path, MSG_BAD_XLSX)


def _pick_sheet(path: Path, book: Any, sheet: str | None) -> tuple[str, list[str]]:
    names = list(book.sheetnames)
    shown = ", ".join(repr(n) for n in names)
    if sheet is not None:
        if sheet not in names:
            raise _fail(path, MSG_NO_SHEET.format(sheet=sheet, sheets=shown))
        return sheet, []
    filled = {}
    for n in names:
        count = sum(
            1 for row in book[n].iter_rows(values_only=True) if any(v is not None for v in row)
        )
        if count:
            filled[n] = count
    if not filled:
        raise _fail(path, MSG_EMPTY_BOOK.format(sheets=shown))
    if len(filled) > 1:
        listing = ", ".join(f"{n!r}: {c} rows" for n, c in filled.items())
        raise _fail(path, MSG_SHEETS.format(n=len(filled), sheets=listing))
    chosen = next(iter(filled))
    notes = [] if chosen == names[0] else [NOTE_SHEET.format(name=path.name, sheet=chosen)]
    return chosen, notes


def _formulas_without_values(path: Path, sheet: str, values: list[tuple[object, ...]]) -> None:
    from openpyxl import load_workbook

    book = load_workbook(path, read_only=True, data_only=False)
    problems = []
    for r, row in enumerate(book[sheet].iter_rows(values_only=True)):
        for c, cell in enumerate(row):
            if isinstance(cell, str) and cell.startswith("=") and values[r][c] is None:
                where = f"{path.name}, sheet {sheet}, row {r + 1}, column {c + 1}"
                problems.append(Problem(where, MSG_FORMULA.format(formula=cell[:40])))
    book.close()
    if problems:
        raise DataContractError(path.name, problems[:MAX_LISTED])


def _read_xlsx(path: Path, sheet: str | None) -> _Raw:
    from openpyxl import load_workbook

    _xlsx_kind(path)
    try:
        book = load_workbook(path, read_only=True, data_only=True)
        chosen, notes = _pick_sheet(path, book, sheet)
        values = list(book[chosen].iter_rows(values_only=True))
        book.close()
        _formulas_without_values(path, chosen, values)
    except DataContractError:
        raise
    except Exception:  # zipfile, XML and openpyxl errors of a damaged workbook
        raise _fail(path, MSG_BAD_XLSX) from None
    kept = [i for i, row in enumerate(values) if any(v is not None for v in row)]
    if not kept:
        raise _fail(path, MSG_NO_HEADER)
    found = _header_index([values[i] for i in kept])
    if found is None:
        preview = ", ".join("" if v is None else str(v) for v in values[kept[0]])[:60]
        where = f"{path.name}, sheet {chosen}, row {kept[0] + 1}"
        message = MSG_HEADER_NOT_FOUND.format(
            n=HEADER_SEARCH, unit="row", row=kept[0] + 1, preview=preview
        )
        raise _fail(path, message, where)
    h = found
    header = ["" if v is None else str(v) for v in values[kept[h]]]
    if found:
        notes.append(NOTE_HEADER_BELOW.format(name=path.name, unit="row", row=kept[h] + 1, n=h))
    _check_columns(path.name, header, f"{path.name}, sheet {chosen}, row {kept[h] + 1}")
    body = kept[h + 1 :]
    if not body:
        raise _fail(path, MSG_NO_ROWS)
    frame = pd.DataFrame([values[i] for i in body], columns=header, dtype=object)
    return _Raw(frame, np.asarray(body, dtype=np.int64) + 1, None, tuple(notes))


def _read_parquet(path: Path) -> _Raw:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        _check_columns(path.name, list(pq.read_schema(path).names), path.name)
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        reason = str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__
        raise _fail(path, MSG_BAD_PARQUET.format(reason=reason)) from None
    # a block per column, each converted once and its Arrow buffers freed as it goes: no
    # consolidating copy of the whole table (a third of the read time at a million rows)
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    if not len(frame):
        raise _fail(path, MSG_NO_ROWS)
    return _Raw(frame, np.arange(len(frame), dtype=np.int64) + 2)


def _read(path: str | Path, encoding: str | None, sheet: str | None) -> _Raw:
    path = Path(path)
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "file not found; check the path"
        raise DataContractError(str(path), [Problem(str(path), what)])
    suffix = path.suffix.lower()
    if suffix in {".csv", ".txt", ".tsv"}:
        return _read_csv(path, encoding)
    if suffix in {".xlsx", ".xlsm", ".xls"}:
        return _read_xlsx(path, sheet)
    if suffix in {".parquet", ".pq"}:
        return _read_parquet(path)
    raise DataContractError(
        str(path),
        [Problem(str(path), f"unknown file type {suffix!r}; use .csv, .xlsx or .parquet")],
    )


def read_table(
    path: str | Path, *, encoding: str | None = None, sheet: str | None = None
) -> tuple[pd.DataFrame, str | None]:
    """Read a CSV (UTF-8, UTF-8 with BOM or GBK), Excel or Parquet file as it is.

    CSV cells are read as text so ids keep leading zeros and bad cells can be reported exactly;
    conversion happens in validation. Blank lines are skipped, a header below title rows is
    found, ``;``/tab separators are detected. Returns the frame and the encoding used (CSV only).

    Raises
    ------
    DataContractError
        A file that is not what its name says, empty, ragged, of mixed encodings, with duplicate
        column names, a workbook with data on several sheets (choose one with ``sheet``) or
        formulas without saved values.
    """
    raw = _read(path, encoding, sheet)
    return raw.frame, raw.encoding


_MISSING_SPELLINGS = frozenset(
    {"nan", "na", "n/a", "#n/a", "null", "none", "nil", "-", "--", "—", "#div/0!", "#value!"}
)


def _to_number(series: pd.Series, *, flags: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Numbers (float, NaN for missing) and a mask of cells that are present but not numbers.

    Infinite values are never numbers; yes/no values (true/false, 是/否, Excel TRUE) are 1/0
    only in flag columns (``flags=True``), never in amounts.
    """
    if pd.api.types.is_bool_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.full(len(series), not flags) & ~np.isnan(values)
    if pd.api.types.is_numeric_dtype(series.dtype):
        values = series.to_numpy(dtype=np.float64, na_value=np.nan)
        return values, np.isinf(values)
    is_bool = np.zeros(len(series), dtype=bool)
    if pd.api.types.is_object_dtype(series.dtype):  # cells as Excel holds them: TRUE is a bool
        is_bool = np.fromiter((isinstance(v, bool | np.bool_) for v in series), bool, len(series))
    text = series.astype("string").str.strip()
    if flags:
        lowered = text.str.lower()
        text = text.mask(lowered.isin(_TRUE), "1").mask(lowered.isin(_FALSE), "0")
    present = text.notna() & (text != "")
    numbers = pd.to_numeric(text.where(present & ~is_bool), errors="coerce")
    values = numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    bad = present.to_numpy(dtype=bool) & ~np.isfinite(values)
    if flags and is_bool.any():
        truth = np.array([v is True or v is np.True_ for v in series], dtype=np.float64)
        values = np.where(is_bool, truth, values)
        bad &= ~is_bool
    return values.astype(np.float64), bad


def _why_not_number(value: object) -> str:
    """The message for a cell :func:`_to_number` refused."""
    text = str(value).strip()
    if isinstance(value, bool | np.bool_) or text.lower() in _TRUE | _FALSE:
        return MSG_BOOL_AMOUNT.format(found=value)
    if text.lower() in _MISSING_SPELLINGS:
        return MSG_MISSING_SPELLED.format(found=value)
    try:
        if np.isinf(float(text)):
            return MSG_INFINITE.format(found=value)
    except ValueError:
        pass
    return MSG_NOT_NUMERIC.format(found=value)


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

    def grouped(self, positions: np.ndarray, column: str, summary: str, per_row: list[str]) -> None:
        """One listed problem for many rows (each row still gets its own reason in rejects)."""
        for pos, msg in zip(positions.tolist(), per_row, strict=True):
            self.by_position.setdefault(pos, []).append(f"{column}: {msg}")
        shown = ", ".join(str(r) for r in self.rows[positions[:5]])
        more = " …" if len(positions) > 5 else ""
        where = f"{self.source}, rows {shown}{more}, column {column}"
        self._listed.append((int(positions[0]), len(self._listed), Problem(where, summary)))

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
    rejects.insert(0, SOURCE_ROW, problems.rows[bad])
    rejects["reason"] = ["; ".join(problems.by_position[int(p)]) for p in np.flatnonzero(bad)]
    # no bad row: the clean frame as it is (copying a million rows costs more than scoring them)
    good = clean.loc[~bad].copy() if bad.any() else clean
    return good, rejects


def _intake(
    data: str | Path | pd.DataFrame,
    default: str,
    source: str | None,
    encoding: str | None,
    sheet: str | None,
) -> tuple[_Raw, str]:
    if isinstance(data, pd.DataFrame):
        frame = data.reset_index(drop=True)
        return _Raw(frame, np.arange(len(frame), dtype=np.int64) + 2), source or default
    return _read(data, encoding, sheet), source or Path(data).name


def _required_columns(framework: Framework | None) -> dict[str, str]:
    """Required column → the rule that needs it (said in the missing-column message)."""
    fw = framework.id if framework is not None else "calibrate"
    required = {
        "enterprise_id": "the key of every row",
        "year": "the data year of every row",
    }
    if framework is None or framework.needs_revenue:
        required["revenue"] = f"the revenue that decides the growth stage in {fw}"
    if framework is None:
        return required
    group = ", ".join(framework.ranking_group)
    for col in framework.ranking_group:
        if col != "stage":
            required.setdefault(col, f"a ranking-group column ({fw} ranks firms within ({group}))")
    for ind in framework.indicators:
        required.setdefault(ind.id, f"indicator {ind.id} ({ind.name.zh}) of {fw}")
    for pen in framework.penalties:
        required.setdefault(
            pen.id, f"penalty item {pen.id} of {fw} (a 0/1 flag, 0 where there is no record)"
        )
    return required


def _why_differs(name: str) -> str:
    stripped = name.strip()
    if unicodedata.normalize("NFKC", stripped) != stripped:
        return "full-width characters"
    return "stray spaces" if name != stripped else "different case"


def _near_miss(col: str, columns: Iterable[object]) -> str:
    """`` ; found 'ｒｅｖｅｎｕｅ' (full-width characters) — rename it …`` or ``""``."""
    names = [str(c) for c in columns]
    for name in names:
        if _norm_name(name) == col:
            return MSG_NEAR_MISS.format(near=name, why=_why_differs(name), col=col)
    close = difflib.get_close_matches(col, names, n=1, cutoff=0.85)
    return MSG_NEAR_MISS.format(near=close[0], why="a near miss", col=col) if close else ""


def _check_reserved(problems: _Problems, raw: pd.DataFrame) -> None:
    if SOURCE_ROW in raw.columns:
        problems.file_level(f"{problems.source}, column {SOURCE_ROW}", MSG_RESERVED_COLUMN)


def _check_required(
    problems: _Problems, raw: pd.DataFrame, framework: Framework | None
) -> pd.DataFrame:
    aliases: dict[str, str] = {}
    if framework is not None:
        items: list[Indicator | Penalty] = [*framework.indicators, *framework.penalties]
        aliases = {alias: item.id for item in items for alias in item.aliases}
    renames = {a: i for a, i in aliases.items() if a in raw.columns and i not in raw.columns}
    raw = raw.rename(columns=renames)
    for col, why in _required_columns(framework).items():
        if col not in raw.columns:
            problems.file_level(
                f"{problems.source}, column {col}",
                MSG_MISSING_COLUMN.format(why=why, col=col, hint=_near_miss(col, raw.columns)),
            )
    return raw


def _numeric_columns(framework: Framework | None, columns: Iterable[str]) -> dict[str, bool]:
    """Numeric column → whether it is a 0/1 flag (yes/no values allowed)."""
    numeric = {"revenue": False} if "revenue" in columns else {}
    if framework is not None:
        for ind in framework.indicators:
            numeric.setdefault(ind.id, ind.rule.kind == "binary")
        for pen in framework.penalties:
            numeric.setdefault(pen.id, True)
    for col in _money_columns(framework, columns):
        numeric.setdefault(col, False)
    return numeric


def _check_numbers(
    problems: _Problems, raw: pd.DataFrame, clean: pd.DataFrame, framework: Framework | None
) -> dict[str, np.ndarray]:
    not_numeric: dict[str, np.ndarray] = {}
    for col, flags in _numeric_columns(framework, raw.columns).items():
        values, bad = _to_number(raw[col], flags=flags)
        not_numeric[col] = bad
        if bad.any():
            positions = np.flatnonzero(bad)
            found = raw[col].to_numpy(dtype=object)[positions]
            problems.many(positions, col, (_why_not_number(v) for v in found))
        if raw[col].dtype != np.float64:  # float columns are kept as read (inf rows are rejected)
            clean[col] = values
    return not_numeric


def _check_ids(
    problems: _Problems, raw: pd.DataFrame, clean: pd.DataFrame, id_check: str
) -> tuple[pd.Series, np.ndarray]:
    ids = raw["enterprise_id"].astype("string").str.strip()
    missing = (ids.isna() | (ids == "")).to_numpy(dtype=bool)
    for pos in np.flatnonzero(missing):
        problems.row(int(pos), "enterprise_id", MSG_MISSING_ID)
    clean["enterprise_id"] = ids.astype("str")
    if id_check == "uscc":
        valid = is_valid_uscc(ids.fillna("").to_numpy(dtype=object))
        bad = np.flatnonzero(~valid & ~missing)
        if 0 < len(bad) <= GROUP_AFTER:
            for pos in bad:
                problems.row(int(pos), "enterprise_id", MSG_BAD_USCC.format(found=ids.iloc[pos]))
        elif len(bad):
            examples = ", ".join(repr(str(ids.iloc[p])) for p in bad[:3])
            problems.grouped(
                bad,
                "enterprise_id",
                MSG_BAD_USCC_GROUP.format(n=len(bad), examples=examples),
                [MSG_BAD_USCC.format(found=ids.iloc[p]) for p in bad],
            )
    return ids, missing


def _check_years(problems: _Problems, raw: pd.DataFrame, clean: pd.DataFrame) -> np.ndarray:
    values, bad = _to_number(raw["year"])
    absent = np.isnan(values) & ~bad
    bad |= np.isnan(values) | (~np.isnan(values) & (values != np.round(values)))
    for pos in np.flatnonzero(bad):
        found = raw["year"].iloc[pos]
        message = MSG_MISSING_YEAR if absent[pos] else MSG_BAD_YEAR.format(found=found)
        problems.row(int(pos), "year", message)
    lo, hi = YEAR_RANGE
    odd = ~bad & ((values < lo) | (values > hi))
    for pos in np.flatnonzero(odd):
        problems.row(
            int(pos), "year", MSG_YEAR_RANGE.format(found=raw["year"].iloc[pos], lo=lo, hi=hi)
        )
    bad |= odd
    clean["year"] = np.where(bad, 0, np.nan_to_num(values)).astype(np.int64)
    return bad


def _check_revenue(
    problems: _Problems,
    clean: pd.DataFrame,
    framework: Framework | None,
    not_numeric: np.ndarray,
) -> None:
    revenue = clean["revenue"].to_numpy(dtype=np.float64)
    for pos in np.flatnonzero(np.isnan(revenue) & ~not_numeric):
        problems.row(int(pos), "revenue", MSG_MISSING_REVENUE)
    negative = revenue < 0
    for pos in np.flatnonzero(negative):
        problems.row(int(pos), "revenue", MSG_NEGATIVE_REVENUE.format(found=revenue[pos]))
    if framework is None:
        return
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


def _check_duplicates(
    problems: _Problems, ids: pd.Series, years: pd.Series, skip: np.ndarray
) -> None:
    """Every occurrence of a duplicate key is a problem: we cannot know which row is right."""
    # one int64 key per (id, year): hashing it is cheaper than a two-column duplicated()
    id_code = pd.factorize(ids)[0].astype(np.int64)
    y = years.to_numpy(dtype=np.int64)
    low = int(y.min()) if len(y) else 0
    span = int(y.max()) - low + 1 if len(y) else 1
    flat = pd.Series(id_code * span + (y - low))
    dup = flat.duplicated(keep=False).to_numpy(dtype=bool) & ~skip
    if not dup.any():
        return
    key = pd.DataFrame({"id": ids, "year": years})
    positions = np.flatnonzero(dup)
    groups = key.iloc[positions].groupby(["id", "year"], sort=False).indices
    for group_key, members in groups.items():
        eid, year = cast(tuple[str, int], group_key)
        seen_rows = problems.rows[positions[members]]
        for pos, own in zip(positions[members], seen_rows, strict=True):
            others = ", ".join(str(r) for r in seen_rows if r != own)
            problems.row(
                int(pos), "enterprise_id", MSG_DUPLICATE.format(eid=eid, year=year, others=others)
            )


def load_enterprises(
    data: str | Path | pd.DataFrame,
    framework: Framework | None = None,
    *,
    encoding: str | None = None,
    money_unit: Literal["wan", "yuan"] = "wan",
    id_check: Literal["uscc", "none"] = "uscc",
    on_error: Literal["raise", "reject"] = "raise",
    source: str | None = None,
    sheet: str | None = None,
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
    sheet : str, optional
        Workbook sheet to read; needed when several sheets hold data.

    Raises
    ------
    DataContractError
        Missing columns (always), or bad rows when ``on_error="raise"``.
    """
    read, name = _intake(data, "<data>", source, encoding, sheet)
    problems = _Problems(name, read.rows)
    raw = _check_required(problems, read.frame, framework)
    _check_reserved(problems, raw)
    if problems.file:
        _finish(problems, raw, raw, on_error)

    clean = raw.copy(deep=False)  # columns are replaced, never written to
    not_numeric = _check_numbers(problems, raw, clean, framework)
    notes = list(read.notes)
    if money_unit == "yuan":
        converted = _money_columns(framework, clean.columns)
        for col in converted:
            clean[col] = clean[col] / 10_000.0
        notes.append(
            f"converted {len(converted)} money columns from 元 to 万元: {', '.join(converted)}"
        )
    ids, missing_id = _check_ids(problems, raw, clean, id_check)
    year_bad = _check_years(problems, raw, clean)
    if "revenue" in clean.columns:
        _check_revenue(problems, clean, framework, not_numeric["revenue"])
    _check_duplicates(problems, ids, clean["year"], missing_id | year_bad)

    good, rejects = _finish(problems, raw, clean, on_error)
    good.insert(len(good.columns), SOURCE_ROW, read.rows[good.index.to_numpy()])
    good = good.reset_index(drop=True)
    good.attrs[SOURCE_ATTR] = name  # messages of later steps name the file
    return EnterpriseTable(
        good, rejects.reset_index(drop=True), name, read.encoding, money_unit, tuple(notes)
    )


def _event_names(event: pd.Series) -> tuple[pd.Series, list[str]]:
    """Event names matched as written, trimmed and NFKC/lower-cased; each change is a note."""
    names = {v: _norm_name(v) for v in event.dropna().unique()}  # a few names, many rows
    tidy = event.map(names).astype("string")
    changed = (tidy != event).fillna(False).to_numpy(dtype=bool)
    notes = []
    if changed.any():
        pairs = pd.DataFrame({"was": event[changed], "now": tidy[changed]}).value_counts()
        shown = ", ".join(
            f"{w!r} → {n!r} ({c} rows)"
            for (w, n), c in cast(dict[tuple[str, str], int], pairs.head(5).to_dict()).items()
        )
        notes.append(f"event names read case- and space-insensitively: {shown}")
    return tidy, notes


def load_events(
    data: str | Path | pd.DataFrame,
    *,
    encoding: str | None = None,
    on_error: Literal["raise", "reject"] = "raise",
    source: str | None = None,
    sheet: str | None = None,
) -> EventsTable:
    """Read and validate a long events table with columns ``enterprise_id, year, event``.

    Any event name is accepted (the target of a fit is named on the command line). Names are
    trimmed and lower-cased (``' HTE_Certified'`` is ``hte_certified``); ``notes`` says so.
    An events file with a header but no rows is an error (nothing to label with).
    """
    read, name = _intake(data, "<events>", source, encoding, sheet)
    raw = read.frame
    problems = _Problems(name, read.rows)
    for col in ("enterprise_id", "year", "event"):
        if col not in raw.columns:
            problems.file_level(
                f"{name}, column {col}",
                "missing; an events table needs enterprise_id, year, event"
                + _near_miss(col, raw.columns),
            )
    _check_reserved(problems, raw)
    if problems.file:
        _finish(problems, raw, raw, on_error)
    clean = raw.copy()
    ids = raw["enterprise_id"].astype("string").str.strip()
    for pos in np.flatnonzero((ids.isna() | (ids == "")).to_numpy(dtype=bool)):
        problems.row(int(pos), "enterprise_id", MSG_MISSING_ID)
    clean["enterprise_id"] = ids.astype("str")
    _check_years(problems, raw, clean)
    event, notes = _event_names(raw["event"].astype("string"))
    for pos in np.flatnonzero((event.isna() | (event == "")).to_numpy(dtype=bool)):
        problems.row(int(pos), "event", "event name is empty; name the event, e.g. hte_certified")
    clean["event"] = event.astype("str")
    good, rejects = _finish(problems, raw, clean, on_error)
    good.insert(len(good.columns), SOURCE_ROW, read.rows[good.index.to_numpy()])
    good = good.reset_index(drop=True)
    good.attrs[SOURCE_ATTR] = name  # messages of later steps name the file
    return EventsTable(good, rejects.reset_index(drop=True), name, tuple(notes))
