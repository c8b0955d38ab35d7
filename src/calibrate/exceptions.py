"""Error types.

Two kinds of input error are kept apart because they are fixed by different people:
a bad framework file (:class:`FrameworkError`, fixed by whoever wrote the policy YAML) and bad
data (:class:`DataContractError`, fixed by whoever exported the enterprise table). Both carry
*every* problem found, each with its place, so a user fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = [
    "CalibrateError",
    "ConstraintError",
    "DataContractError",
    "ExperimentError",
    "FrameworkError",
    "LeakageError",
    "OutputError",
    "UsageError",
    "Problem",
    "ProblemsError",
]


@dataclass(frozen=True)
class Problem:
    """One problem found in an input.

    Parameters
    ----------
    where : str
        The place: a YAML path such as ``stages[2].revenue_min`` or
        ``file.csv, row 14, column revenue``.
    message : str
        What was found and what to do about it.
    """

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


class CalibrateWarning(UserWarning):
    """Base class of the warnings this package gives on purpose (the CLI prints each as one
    ``warning:`` line, whatever the interpreter's warning filters say)."""


class CalibrateError(Exception):
    """Base class of every error this package raises on purpose."""


class ProblemsError(CalibrateError):
    """An error that lists every problem found, not only the first."""

    kind = "input"

    def __init__(self, source: str, problems: Iterable[Problem]):
        self.source = source
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__(self._render())

    def _render(self) -> str:
        n = len(self.problems)
        head = f"{self.source}: {n} {self.kind} problem{'s' if n != 1 else ''}"
        return head + "".join(f"\n  - {p}" for p in self.problems)


class FrameworkError(ProblemsError):
    """A framework file is invalid; ``problems`` names each YAML path."""

    kind = "framework"


class DataContractError(ProblemsError):
    """An enterprise or events table breaks the data contract; ``problems`` names file, row, column."""

    kind = "data"


class ConstraintError(ProblemsError):
    """Constraints for a suggestion are contradictory or cannot be met."""

    kind = "constraint"


class ExperimentError(ProblemsError):
    """An experiment file (``calibrate run``) is invalid; ``problems`` names each YAML path."""

    kind = "experiment"


class LeakageError(CalibrateError):
    """A feature or label would use information dated after the scoring year."""


class OutputError(ProblemsError):
    """An output path cannot be written safely (it is an input, a folder, read-only, full …)."""

    kind = "output"


class UsageError(ProblemsError):
    """Command-line options that cannot work together or with the data (e.g. ``--horizon 0``)."""

    kind = "option"
