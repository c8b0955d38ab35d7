"""Progress of long work: a bar on a terminal, plain lines in a log file.

Every loop that reports progress goes through :func:`progress`. On an interactive terminal it
draws a tqdm bar (tqdm is imported only then); when stderr is a file or a pipe (a batch job,
CI, ``calibrate run … 2> run.log``) it writes a few plain lines instead — one at each tenth of
the work — so a log holds readable lines, not thousands of carriage-return redraws.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Iterable, Iterator
from typing import IO, Any, Generic, TypeVar

__all__ = ["Progress", "progress"]

T = TypeVar("T")

STEPS = 10  # plain lines per loop (one per tenth), plus the last one


class Progress(Generic[T]):
    """Progress of one loop (see :func:`progress`); iterate it, or call :meth:`update`."""

    def __init__(
        self,
        iterable: Iterable[T] | None,
        *,
        total: int | None,
        desc: str,
        unit: str,
        enabled: bool,
        stream: IO[str] | None,
    ) -> None:
        self.iterable = iterable
        self.total = total if total is not None else _length(iterable)
        self.desc, self.unit = desc, unit
        self.stream = stream if stream is not None else sys.stderr
        self.n = 0
        self._start = time.perf_counter()
        self._next_line = 1
        self._bar: Any = None
        self.enabled = enabled and self.total != 0
        if self.enabled and _is_terminal(self.stream):
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=desc, unit=unit, file=self.stream, leave=False)

    def __iter__(self) -> Iterator[T]:
        if self.iterable is None:
            raise TypeError("progress() was given no iterable; call update() instead")
        try:
            for item in self.iterable:
                yield item
                self.update()
        finally:
            self.close()

    def __enter__(self) -> Progress[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: int = 1) -> None:
        """Count ``n`` more units done."""
        self.n += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.update(n)
        elif self.total and self.n * STEPS >= self._next_line * self.total:
            self._line()
            self._next_line = self.n * STEPS // self.total + 1

    def close(self) -> None:
        """End the bar (the plain lines end with the last tenth)."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def _line(self) -> None:
        seconds = time.perf_counter() - self._start
        share = f" ({self.n / self.total:.0%})" if self.total else ""
        self.stream.write(
            f"{self.desc}: {self.n}/{self.total} {self.unit}{share}, {seconds:.1f} s\n"
        )
        self.stream.flush()


def progress(
    iterable: Iterable[T] | None = None,
    *,
    total: int | None = None,
    desc: str = "",
    unit: str = "it",
    enabled: bool = True,
    stream: IO[str] | None = None,
) -> Progress[T]:
    """Report the progress of a loop: a bar on a terminal, ten plain lines otherwise.

    Parameters
    ----------
    iterable : iterable, optional
        Iterate the returned object in place of it; or give ``total`` and call ``update()``.
    total : int, optional
        Number of units (default ``len(iterable)``).
    desc, unit : str
        ``"bootstrap"``, ``"sample"`` → ``bootstrap: 20/200 sample (10%), 3.1 s``.
    enabled : bool
        ``False``: report nothing (``--no-progress``).
    stream : file, optional
        Where to report; default ``sys.stderr``.
    """
    return Progress(iterable, total=total, desc=desc, unit=unit, enabled=enabled, stream=stream)


def _length(iterable: Iterable[Any] | None) -> int | None:
    try:
        return len(iterable)  # type: ignore[arg-type]
    except TypeError:
        return None


def _is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # closed or not a real file
        return False
