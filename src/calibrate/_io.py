"""Safe outputs: nothing truncated, nothing half-replaced, no input overwritten.

Every file the package writes for a user goes through here:

* :func:`atomic_file` / :func:`write_table` / :func:`write_text` write into a temporary file in
  the target's own folder, ``fsync`` it and ``os.replace`` it over the target, so a full disk,
  a kill or Ctrl-C leaves either the old file or the new one, never a truncated one.
* :func:`output_files` replaces several sibling files as a set: all are written to temporary
  files first and renamed only when every one is complete (Ctrl-C is held back during the
  renames).
* :func:`output_folder` writes a folder of outputs into a temporary sibling folder and swaps it
  into place with two renames, so old and new files are never mixed.
* :func:`check_outputs` refuses, before any work, outputs that equal an input, two outputs that
  are one file, a file output that is a folder (or a folder output that is a file), an output
  below a file, and folders that cannot be written.

An ``.xlsx`` name gets a real workbook (:func:`write_workbook`); CSV is UTF-8 with a BOM so
Excel shows Chinese text correctly. Failures are :class:`~calibrate.exceptions.OutputError` (exit code 2).
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import signal
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from calibrate.exceptions import OutputError, Problem

__all__ = [
    "TABLE_SUFFIXES",
    "atomic_file",
    "check_outputs",
    "output_files",
    "output_folder",
    "output_staging",
    "write_table",
    "write_text",
    "write_workbook",
    "write_workbook_to",
]

#: In every output folder: the files the command wrote, so a re-run may replace them all.
MANIFEST = ".calibrate-outputs"
#: Output table formats by file suffix.
TABLE_SUFFIXES = {".csv": "csv", ".parquet": "parquet", ".pq": "parquet", ".xlsx": "xlsx"}

MSG_IS_INPUT = (
    "is (or holds) the input file {other}; choose another output name so the input is kept"
)
MSG_SAME_OUTPUT = "is given for two outputs ({what}); give each output its own name"
MSG_IS_FOLDER = "is an existing folder but a file is expected here; name a file, e.g. {example}"
MSG_IS_FILE = "is an existing file but a folder is expected here; name a new or existing folder"
MSG_BELOW_FILE = "lies below {parent}, which is a file, not a folder; choose another path"
MSG_READ_ONLY = "folder {folder} cannot be written (read-only or no permission); choose another"
MSG_TABLE_SUFFIX = "unknown output type {suffix!r}; name the file .csv, .xlsx or .parquet"
MSG_WRITE_FAILED = "could not be written ({reason}); the previous file, if any, is unchanged"
MSG_FOREIGN = (
    "already holds files this command does not write ({examples}); nothing there was changed and "
    "the new outputs are in {new} — move them, or give an empty or new folder"
)


def _problem(path: Path, message: str) -> OutputError:
    return OutputError(str(path), [Problem(str(path), message)])


def _reason(exc: OSError) -> str:
    if exc.errno == errno.ENOSPC:
        return "the disk is full; free some space and run again"
    if isinstance(exc, PermissionError):
        return "no permission; choose a folder you can write to"
    return exc.strerror or str(exc)


def _same(a: Path, b: Path) -> bool:
    if a.exists() and b.exists():
        return os.path.samefile(a, b)
    return a.resolve() == b.resolve()


def _writable_parent(path: Path) -> list[Problem]:
    """Problems with the nearest existing ancestor of ``path`` (a file, or not writable)."""
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        return [Problem(str(path), MSG_BELOW_FILE.format(parent=parent))]
    if not os.access(parent, os.W_OK | os.X_OK):
        return [Problem(str(path), MSG_READ_ONLY.format(folder=parent))]
    return []


def check_outputs(
    inputs: Iterable[str | Path],
    files: Sequence[tuple[str, str | Path]] = (),
    folders: Sequence[tuple[str, str | Path]] = (),
    shared_folders: Sequence[tuple[str, str | Path]] = (),
) -> None:
    """Refuse unsafe outputs before any work is done.

    Parameters
    ----------
    inputs : paths of the command's input files (missing ones are ignored)
    files : (option name, path) of the outputs that are files
    folders : (option name, path) of output folders replaced as a whole (:func:`output_folder`):
        they may not hold an input file
    shared_folders : (option name, path) of folders files are added to (inputs may live there)
    """
    ins = [Path(p) for p in inputs if p and Path(p).is_file()]
    problems: list[Problem] = []
    outputs = [(what, Path(p), "file") for what, p in files if p is not None]
    outputs += [(what, Path(p), "folder") for what, p in folders if p is not None]
    outputs += [(what, Path(p), "shared") for what, p in shared_folders if p is not None]
    for i, (what, path, kind) in enumerate(outputs):
        where = f"{what} {path}"
        for other in ins:
            inside = kind == "folder" and path.resolve() in other.resolve().parents
            if _same(path, other) or inside:
                problems.append(Problem(where, MSG_IS_INPUT.format(other=other)))
        for what2, path2, _ in outputs[:i]:
            if _same(path, path2):
                problems.append(Problem(where, MSG_SAME_OUTPUT.format(what=f"{what2}, {what}")))
        if kind == "file" and path.is_dir():
            example = path / "out.csv"
            problems.append(Problem(where, MSG_IS_FOLDER.format(example=example)))
        elif kind != "file" and path.exists() and not path.is_dir():
            problems.append(Problem(where, MSG_IS_FILE))
        else:
            problems += [Problem(where, p.message) for p in _writable_parent(path)]
    if problems:
        raise OutputError("output paths", problems)


def _fsync(path: Path) -> None:
    with open(path, "rb") as handle:
        os.fsync(handle.fileno())


@contextlib.contextmanager
def _sigint_held() -> Iterator[None]:
    """Hold Ctrl-C back for the few renames that commit a set of outputs."""
    try:
        old = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: signals cannot be touched, and none arrive here
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _temp_name(path: Path) -> Path:
    """An empty temporary file beside ``path`` with the permissions a new file would get."""
    fd, name = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    mode = path.stat().st_mode & 0o777 if path.is_file() else 0o666 & ~_umask()
    os.chmod(name, mode)
    return Path(name)


@contextlib.contextmanager
def output_files(paths: Sequence[str | Path]) -> Iterator[list[Path]]:
    """Temporary paths to write ``paths`` into; all replace their targets only if all succeed."""
    targets = [Path(p) for p in paths]
    temps: list[Path] = []
    try:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            temps.append(_temp_name(target))
        yield temps
        for temp in temps:
            _fsync(temp)
        with _sigint_held():
            for temp, target in zip(temps, targets, strict=True):
                os.replace(temp, target)
    except OSError as exc:
        raise _problem(targets[0], MSG_WRITE_FAILED.format(reason=_reason(exc))) from None
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


@contextlib.contextmanager
def atomic_file(path: str | Path) -> Iterator[Path]:
    """A temporary path beside ``path``; it replaces ``path`` only when the block completes."""
    with output_files([path]) as (temp,):
        yield temp


def write_text(path: str | Path, text: str, *, bom: bool = False) -> Path:
    """Write UTF-8 text atomically (with a BOM for files meant for Excel)."""
    with atomic_file(path) as temp:
        temp.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    return Path(path)


def table_format(path: str | Path, what: str = "") -> str:
    """``csv``, ``parquet`` or ``xlsx`` from a file name; anything else is an OutputError."""
    suffix = Path(path).suffix.lower()
    if suffix not in TABLE_SUFFIXES:
        where = f"{what} {path}".strip()
        message = MSG_TABLE_SUFFIX.format(suffix=suffix)
        raise OutputError("output paths", [Problem(where, message)])
    return TABLE_SUFFIXES[suffix]


#: What one worksheet holds (Excel's limits): data rows below the header, columns, text.
XLSX_MAX_ROWS = 1_048_575
XLSX_MAX_COLUMNS = 16_384
XLSX_MAX_TEXT = 32_767
MSG_XLSX_SHAPE = (
    "sheet {sheet} would hold {found}, more than an Excel worksheet takes (1,048,575 rows below "
    "the header, 16,384 columns); name the output .csv or .parquet"
)
MSG_XLSX_TEXT = (
    "a text of {n:,} characters; an Excel cell holds at most 32,767; name the output .csv or "
    ".parquet"
)
MSG_XLSX_TOO_BIG = "is too large for an .xlsx workbook ({reason}); name the output .csv or .parquet"
#: Creation date stamped in every workbook (same tables → same bytes).
WORKBOOK_DATE = (2000, 1, 1)
#: Widest column, in characters, when sizing columns to their headers.
MAX_COLUMN_WIDTH = 40


def write_workbook_to(
    sheets: Mapping[str, Any], path: str | Path, *, shown: str | Path | None = None
) -> None:
    """Tables to one ``.xlsx`` at ``path`` directly (a temporary file of a set), a sheet each.

    Each sheet has its header frozen and its columns sized to the headers; numbers, text and
    booleans are stored as such, missing and infinite values as empty cells. Text is never read
    as a formula or a link (a cell ``=1+1`` stays text). Rows are streamed (xlsxwriter's
    constant-memory mode), and the same tables give the same bytes. A table Excel cannot hold
    (too many rows or columns, a text longer than a cell takes) is an :class:`OutputError`
    naming ``shown`` (the file the user asked for; ``path`` by default), never a cut table.
    """
    from datetime import datetime

    import xlsxwriter

    target = Path(shown if shown is not None else path)
    for name, frame in sheets.items():
        _check_fits(target, str(name), frame)
    options = {
        "constant_memory": True,
        "strings_to_formulas": False,
        "strings_to_urls": False,
        "strings_to_numbers": False,
    }
    book = xlsxwriter.Workbook(str(path), options)
    book.set_properties({"created": datetime(*WORKBOOK_DATE), "author": "calibrate"})
    try:
        for name, frame in sheets.items():
            _write_sheet(book.add_worksheet(str(name)[:31]), frame, target)
    finally:
        try:
            book.close()
        except xlsxwriter.exceptions.XlsxWriterException as exc:  # e.g. over 4 GB unzipped
            reason = f"{type(exc).__name__}: {exc}"
            raise _problem(target, MSG_XLSX_TOO_BIG.format(reason=reason)) from None


def _check_fits(target: Path, name: str, frame: Any) -> None:
    rows, cols = frame.shape
    if rows > XLSX_MAX_ROWS or cols > XLSX_MAX_COLUMNS:
        found = f"{rows:,} rows × {cols:,} columns"
        raise _problem(target, MSG_XLSX_SHAPE.format(sheet=name, found=found))


def _write_sheet(sheet: Any, frame: Any, target: Path) -> None:
    header = [str(c) for c in frame.columns]
    for j, text in enumerate(header):
        sheet.set_column(j, j, min(MAX_COLUMN_WIDTH, max(10, 2 * len(text))))
    sheet.freeze_panes(1, 0)
    sheet.write_row(0, 0, header)
    columns = [_cells(frame.iloc[:, j]) for j in range(frame.shape[1])]
    for i, row in enumerate(zip(*columns, strict=True), start=1):
        if sheet.write_row(i, 0, row):  # xlsxwriter cuts a long text and drops the rest of the row
            j = next(k for k, v in enumerate(row) if isinstance(v, str) and len(v) > XLSX_MAX_TEXT)
            where = f"{target}, sheet {sheet.name}, row {i + 1}, column {header[j]}"
            message = MSG_XLSX_TEXT.format(n=len(row[j]))
            raise OutputError(str(target), [Problem(where, message)])


def _cells(column: Any) -> list[Any]:
    """A column as Python values Excel stores: float, int, bool, str; ``None`` for empty."""
    import numpy as np
    import pandas as pd

    dtype = column.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in "biu":
        return list(column.tolist())
    if isinstance(dtype, np.dtype) and dtype.kind == "f":
        values = column.to_numpy(dtype=np.float64)
        out = values.astype(object)
        out[~np.isfinite(values)] = None
        return list(out.tolist())
    missing = pd.isna(column).to_numpy(dtype=bool)
    return [None if m else _plain(v) for v, m in zip(column.tolist(), missing, strict=True)]


def _plain(value: Any) -> Any:
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return None
    return value if isinstance(value, bool | int | float | str) else str(value)


def write_workbook(sheets: Mapping[str, Any], path: str | Path) -> Path:
    """Tables to one ``.xlsx`` atomically (see :func:`write_workbook_to`)."""
    with atomic_file(path) as temp:
        write_workbook_to(sheets, temp, shown=path)
    return Path(path)


def write_table_to(frame: Any, path: Path, fmt: str, shown: str | Path | None = None) -> None:
    """Write a table in ``fmt`` to ``path`` directly (a temporary file of a set); messages name
    ``shown`` (the file asked for)."""
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    elif fmt == "xlsx":
        write_workbook_to({"data": frame}, path, shown=shown)
    else:
        frame.to_csv(path, index=False, encoding="utf-8-sig", lineterminator="\n")


def write_table(frame: Any, path: str | Path) -> Path:
    """Write a pandas table atomically as CSV (UTF-8 with BOM), Parquet or xlsx by its suffix."""
    fmt = table_format(path)
    with atomic_file(path) as temp:
        write_table_to(frame, temp, fmt, shown=path)
    return Path(path)


def _files(folder: Path) -> set[str]:
    if not folder.is_dir():
        return set()
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


def _listed(folder: Path) -> set[str]:
    """The files a previous command listed in the folder's manifest (none without one)."""
    try:
        return set((folder / MANIFEST).read_text(encoding="utf-8").splitlines())
    except (OSError, UnicodeDecodeError):
        return set()


def _commit_folder(temp: Path, target: Path) -> None:
    new_files = _files(temp)
    (temp / MANIFEST).write_text("".join(f"{n}\n" for n in sorted(new_files)), encoding="utf-8")
    ours = _listed(target) | new_files | {MANIFEST}
    foreign = sorted(_files(target) - ours)
    if foreign:
        new = target.with_name(target.name + ".new")
        if new.exists():
            shutil.rmtree(new) if new.is_dir() else new.unlink()
        os.replace(temp, new)
        raise _problem(target, MSG_FOREIGN.format(examples=", ".join(foreign[:3]), new=new))
    with _sigint_held():
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.old.", dir=target.parent))
            os.replace(target, old / "x")
            os.replace(temp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temp, target)


@contextlib.contextmanager
def output_folder(path: str | Path) -> Iterator[Path]:
    """A temporary sibling folder to write a set of outputs into; swapped in when complete.

    The existing folder is replaced as a whole, so old and new files are never mixed. Its
    :data:`MANIFEST` lists what was written, so a later run may replace those files even when it
    writes others (another format, fewer tables). A folder holding files no command listed is
    left untouched and the new outputs go to ``<folder>.new`` (an :class:`OutputError` says so).
    """
    target = Path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp.", dir=target.parent))
        os.chmod(temp, 0o777 & ~_umask())
    except OSError as exc:
        raise _problem(target, MSG_WRITE_FAILED.format(reason=_reason(exc))) from None
    try:
        yield temp
        for file in temp.rglob("*"):
            if file.is_file():
                _fsync(file)
        _commit_folder(temp, target)
    except OSError as exc:
        raise _problem(target, MSG_WRITE_FAILED.format(reason=_reason(exc))) from None
    finally:
        if temp.exists():
            shutil.rmtree(temp, ignore_errors=True)


@contextlib.contextmanager
def output_staging(folder: str | Path) -> Iterator[Path]:
    """A temporary folder inside ``folder`` for a writer whose file names are its own business.

    When the block completes, every file written there is moved into ``folder`` (same relative
    path) with renames while Ctrl-C is held back; on any failure nothing in ``folder`` changes.
    """
    target = Path(folder)
    try:
        target.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=".calibrate.tmp.", dir=target))
        os.chmod(temp, 0o777 & ~_umask())
    except OSError as exc:
        raise _problem(target, MSG_WRITE_FAILED.format(reason=_reason(exc))) from None
    try:
        yield temp
        files = sorted(p for p in temp.rglob("*") if p.is_file())
        for file in files:
            _fsync(file)
        with _sigint_held():
            for file in files:
                final = target / file.relative_to(temp)
                final.parent.mkdir(parents=True, exist_ok=True)
                os.replace(file, final)
    except OSError as exc:
        raise _problem(target, MSG_WRITE_FAILED.format(reason=_reason(exc))) from None
    finally:
        shutil.rmtree(temp, ignore_errors=True)
