"""Outcome labels with a horizon, censoring, population rules and a leakage guard.

A label answers one question for one firm-year: *given the enterprise row of data year t, does the
event happen in years t+1 … t+h?* Everything here follows from that sentence:

* **Window.** Only events dated ``t+1 … t+h`` count. An event dated ``t`` itself is never in
  the label of year ``t`` (it is in the label of years ``t-h … t-1``).
* **Censoring.** When ``t + h > last_year`` part of the window is unobserved, so the firm-year is
  ``censored`` — reported, never labelled 0 (and not labelled 1 either, even when an event was
  already seen in the observed part: keeping only early positives would bias the event rate).
  ``last_year`` defaults to the latest year in the *events* table, the last year anyone looked
  for events; the enterprise table's years say nothing about that. Pass it to override.
* **Population.** Some targets are defined only on part of the firms; the rest are excluded
  with a reason. The rules are the table :data:`TARGET_RULES`, not scattered conditions:

  ==========================  ==========================================================  ==============================
  target                      population at t (the others are excluded)                   status of the excluded
  ==========================  ==========================================================  ==============================
  ``hte_certified``           firms *not* holding a valid certificate at t: ``hte_valid``  ``excluded_already_certified``
                              is not 1 in the row of year t **and** no ``hte_certified``
                              event in t−2 … t (a certificate lasts 3 years)
  ``loan_default``            firms with a ``loan_granted`` event in year t (the loan      ``excluded_no_loan``
                              cohort of year t)
  ``tech_sme_registered``     every firm: registration is renewed every year, so being
                              registered in t does not remove a firm from the question
  any other event             every firm (label = the event occurs in t+1 … t+h)
  ==========================  ==========================================================  ==============================

  Exclusion is decided before censoring (membership is a fact of year t; censoring is about the
  future), so a firm-year is ``excluded_*`` whatever its horizon.

Firms are not required to have enterprise rows in t+1 … t+h: events come from national
registries (certification, SME database, bank records) that are observed whether or not the
firm is still scored by the park, so a firm that leaves the panel and has no event is a 0.

The **leakage guard** (:class:`LeakageGuard`, :func:`check_no_leakage`) refuses feature columns
dated after the scoring year: columns whose *name* says they come from a later year
(:data:`FUTURE_NAME_PATTERN`: a word ``lead``, ``lead2``, ``next``, ``future``, ``fwd`` or
``forward`` between underscores, e.g. ``revenue_lead1``, ``next_year_rd``),
and columns an explicit *feature-date mapping* dates after t — either a fixed offset in years
(``{"revenue_lag1": -1, "orders_lead": 1}``) or the name of a column that holds each value's year
(``{"patents": "patents_year"}``). A column declared in the mapping is judged by its
declaration, not its name.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.data import SOURCE_ATTR
from calibrate.exceptions import ConstraintError, DataContractError, LeakageError, Problem

__all__ = [
    "FUTURE_NAME_PATTERN",
    "FUTURE_NAME_TEXT",
    "STATUS_CENSORED",
    "STATUS_LABELLED",
    "DIRECTIONS",
    "TARGET_RULES",
    "Direction",
    "Labels",
    "LeakageGuard",
    "Population",
    "Target",
    "TargetRule",
    "check_no_leakage",
    "event_coverage",
    "make_labels",
    "resolve_target",
    "target_rule",
    "validate_events",
]

STATUS_LABELLED = "labelled"
STATUS_CENSORED = "censored"

ENTERPRISE_KEYS = ("enterprise_id", "year")
#: Problems listed per column before the rest are summarised (a bad export repeats its mistake).
_MAX_ROWS_SHOWN = 20

# --- messages (constants so tests compare them exactly) -------------------------------------

MSG_MISSING_COLUMN = "required column is missing; {hint}"
MSG_ENTERPRISES_HINT = "the enterprise-year table needs enterprise_id and year"
MSG_BAD_YEAR = (
    "year {found!r} is not a whole calendar year; write the year as a number such as 2021"
)
MSG_MISSING_VALUE = "missing {column}; every row needs one (drop the row or fill it in)"
MSG_MORE_ROWS = "... and {n} more rows with the same problem in column {column}"
MSG_DUPLICATE_ROW = (
    "enterprise {eid!r}, year {year} appears {n} times; keep one row per enterprise-year"
)
MSG_UNKNOWN_TARGET = (
    "event {target!r} never occurs in the events table{hint}; events present: {known}. "
    "Check the spelling of the target"
)
MSG_BAD_HORIZON = "horizon must be a whole number of years >= 1; got {found!r}"
MSG_LAST_YEAR = (
    "last_year {last} is before the first enterprise year {first}; every firm-year would be "
    "censored. Pass the last year in which events were recorded"
)

MSG_LEAK_HEAD = (
    "{n} feature column(s) carry information dated after the scoring year t; a model fitted on "
    "them would see the future it is asked to predict:"
)
MSG_LEAK_NAME = (
    "column {col!r}: its name says it is from a later year ({pattern}); drop it, or, "
    "if it is really dated at or before t, declare it in feature_years, e.g. {{{col!r}: 0}}"
)
MSG_LEAK_OFFSET = (
    "column {col!r}: feature_years dates it {offset:+d} year(s) from t; only offsets <= 0 "
    "(same year or earlier) may be used as features"
)
MSG_LEAK_DATED = (
    "column {col!r}: dated by column {date_col!r} after the row's {year_col!r} in {n} row(s) "
    "(first: index {index!r}, {year_col} {year}, dated {dated}); use only values dated at or "
    "before the row's year"
)
MSG_GUARD_NO_COLUMN = (
    "feature_years dates column {col!r} by column {date_col!r}, which is not in the features; "
    "pass the date column along with the features"
)
MSG_GUARD_NO_YEAR = (
    "feature_years dates column {col!r} per row, which needs the year column {year_col!r} in "
    "the features"
)
MSG_GUARD_BAD_SPEC = (
    "feature_years[{col!r}] must be an int offset in years (0 = year t, -1 = t-1) or the name "
    "of a date column; got {found!r}"
)

#: Column names that say "this value is from a later year".
FUTURE_NAME_PATTERN = re.compile(
    r"(?:^|_)(?:lead|next|future|fwd|forward)(?:\d+|_|$)", re.IGNORECASE
)
#: How :data:`FUTURE_NAME_PATTERN` reads in messages.
FUTURE_NAME_TEXT = "a word lead/next/future/fwd/forward, e.g. revenue_lead1, next_year_rd"


# --- the rule table -------------------------------------------------------------------------


@dataclass(frozen=True)
class Population:
    """Who is asked the question at scoring year t, defined by an event in a window around t.

    Parameters
    ----------
    event : str
        The event that decides membership.
    window : tuple of int
        Years relative to t, inclusive: ``(-2, 0)`` = t−2 … t. Never after t.
    member_if_event : bool
        ``True``: only firm-years *with* the event in the window are in the population (the loan
        cohort); ``False``: firm-years with it are excluded (already certified).
    status : str
        Status given to the firm-years outside the population, e.g. ``excluded_no_loan``.
    flag_column : str, optional
        An enterprise-table flag of year t (0/1 or true/false) that counts as having the event
        (``hte_valid``). Missing values in it count as 0; if the column is absent only the events are used
        (and :attr:`Labels.notes` says so).
    """

    event: str
    window: tuple[int, int]
    member_if_event: bool
    status: str
    flag_column: str | None = None

    def __post_init__(self) -> None:
        lo, hi = self.window
        if lo > hi or hi > 0:
            raise ValueError(
                f"population window {self.window!r} must be (lo, hi) with lo <= hi <= 0: "
                "membership at t may only use what is known by t"
            )
        if not self.status.startswith("excluded_"):
            raise ValueError(f"population status {self.status!r} must start with 'excluded_'")


Direction = Literal["higher", "lower"]
DIRECTIONS: tuple[str, ...] = ("higher", "lower")
MSG_UNKNOWN_DIRECTION = (
    "target {target!r} has no known direction: say whether firms with a high score should be "
    "more likely to have it (--direction higher, e.g. a certification) or less likely "
    "(--direction lower, e.g. a default); known targets are {known}"
)
MSG_BAD_DIRECTION = "direction {value!r} is not higher or lower"


@dataclass(frozen=True)
class TargetRule:
    """A target: the event counted in t+1 … t+h, whether it is good or bad, and who is asked.

    This one object is the owner of a target's meaning; every command reads it through
    :func:`resolve_target` (never a list of "bad events" of its own).

    Parameters
    ----------
    target : str
        Event name counted in the label window.
    populations : tuple of Population
        Applied in order; the first that excludes a firm-year gives its status.
    description : str
        One sentence for reports.
    direction : {"higher", "lower"}, optional
        ``higher``: a good event (certification) that high scorers should have more often;
        ``lower``: a bad event (default) that high scorers should have less often. ``None`` means
        unknown — :func:`resolve_target` then requires the caller to say.
    """

    target: str
    populations: tuple[Population, ...] = ()
    description: str = ""
    direction: Direction | None = None

    @property
    def statuses(self) -> tuple[str, ...]:
        """Every status this rule can give, in report order."""
        return (STATUS_LABELLED, STATUS_CENSORED, *(p.status for p in self.populations))

    @property
    def good_is_event(self) -> bool:
        """True when the event is the good outcome (``direction == "higher"``)."""
        return self.direction != "lower"

    def oriented(self, y: npt.ArrayLike) -> npt.NDArray[np.float64]:
        """0/1 labels turned so that 1 is the *good* outcome (the event, or its absence).

        Every metric and objective is computed on oriented labels, so "higher is better" holds
        throughout: a score that ranks likely defaulters low has a high AUC.
        """
        if self.direction is None:
            raise ValueError(f"target {self.target!r} has no direction; use resolve_target")
        values = np.asarray(y, dtype=np.float64)
        return values if self.direction == "higher" else 1.0 - values

    @property
    def outcome_scored(self) -> str:
        """The outcome metrics are about, in words: the event or its absence."""
        return self.target if self.direction == "higher" else f"no {self.target}"


#: The name other modules use for the object (``TargetRule`` is kept for existing callers).
Target = TargetRule


#: Targets with special populations. Any other event name gets :func:`target_rule`'s generic rule.
TARGET_RULES: Mapping[str, TargetRule] = MappingProxyType(
    {
        "hte_certified": TargetRule(
            "hte_certified",
            (
                Population(
                    event="hte_certified",
                    window=(-2, 0),
                    member_if_event=False,
                    status="excluded_already_certified",
                    flag_column="hte_valid",
                ),
            ),
            "newly certified national high-tech enterprise in t+1..t+h, among firms without a "
            "valid certificate at t (hte_valid != 1 and not certified in t-2..t; a certificate "
            "lasts 3 years)",
            "higher",
        ),
        "tech_sme_registered": TargetRule(
            "tech_sme_registered",
            (),
            "registered as a tech-based SME in t+1..t+h; registration is renewed every year, so "
            "every firm is asked, including those registered at t",
            "higher",
        ),
        "loan_default": TargetRule(
            "loan_default",
            (
                Population(
                    event="loan_granted",
                    window=(0, 0),
                    member_if_event=True,
                    status="excluded_no_loan",
                ),
            ),
            "default in t+1..t+h among firms granted a loan in year t (the loan cohort of t); "
            "a default dated t itself is not counted",
            "lower",
        ),
    }
)


def target_rule(target: str) -> TargetRule:
    """The rule for ``target``: its entry in :data:`TARGET_RULES` or the generic rule.

    The generic rule has no direction; :func:`resolve_target` adds one.

    Parameters
    ----------
    target : str
        Any event name.

    Returns
    -------
    TargetRule
    """
    if target in TARGET_RULES:
        return TARGET_RULES[target]
    return TargetRule(target, (), f"event {target!r} occurs in t+1..t+h; every firm is asked")


def resolve_target(target: str | TargetRule, direction: str | None = None) -> TargetRule:
    """The target every command uses: its rule with a direction that is known, never guessed.

    Parameters
    ----------
    target : str or TargetRule
        Event name (or an already resolved target).
    direction : {"higher", "lower"}, optional
        Required for an event whose direction is not known (anything but the targets in
        :data:`TARGET_RULES`); for a known one it may override (e.g. scoring *absence* of
        registration) and is then recorded as given.

    Raises
    ------
    ConstraintError
        An unknown target without a direction, or a direction that is not higher/lower.
    """
    rule = target if isinstance(target, TargetRule) else target_rule(target)
    if direction is not None and direction not in DIRECTIONS:
        raise ConstraintError(
            "direction", [Problem("--direction", MSG_BAD_DIRECTION.format(value=direction))]
        )
    chosen = direction or rule.direction
    if chosen is None:
        raise ConstraintError(
            "target",
            [
                Problem(
                    "--target",
                    MSG_UNKNOWN_DIRECTION.format(
                        target=rule.target,
                        known=", ".join(f"{k} ({v.direction})" for k, v in TARGET_RULES.items()),
                    ),
                )
            ],
        )
    return dataclasses.replace(rule, direction=chosen)  # type: ignore[arg-type]


# --- validation -----------------------------------------------------------------------------


def _years(
    values: pd.Series, source: str, column: str, problems: list[Problem]
) -> npt.NDArray[np.int64]:
    """Parse a year column into int64, appending a problem for every bad row (first few shown)."""
    raw = values.astype(object).to_numpy()
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    bad = ~np.isfinite(num) | (num != np.round(num))
    positions = np.flatnonzero(bad)
    for pos in positions[:_MAX_ROWS_SHOWN]:
        found = raw[pos]
        if found is None or (isinstance(found, float) and np.isnan(found)):
            msg = MSG_MISSING_VALUE.format(column=column)
        else:
            msg = MSG_BAD_YEAR.format(found=found)
        problems.append(Problem(f"{source}, row {pos + 1}, column {column}", msg))
    if positions.size > _MAX_ROWS_SHOWN:
        problems.append(
            Problem(source, MSG_MORE_ROWS.format(n=positions.size - _MAX_ROWS_SHOWN, column=column))
        )
    return np.where(bad, 0, num).astype(np.int64)


def _not_missing(values: pd.Series, source: str, column: str, problems: list[Problem]) -> None:
    positions = np.flatnonzero(values.isna().to_numpy())
    for pos in positions[:_MAX_ROWS_SHOWN]:
        problems.append(
            Problem(
                f"{source}, row {pos + 1}, column {column}", MSG_MISSING_VALUE.format(column=column)
            )
        )
    if positions.size > _MAX_ROWS_SHOWN:
        problems.append(
            Problem(source, MSG_MORE_ROWS.format(n=positions.size - _MAX_ROWS_SHOWN, column=column))
        )


def _missing_columns(
    frame: pd.DataFrame, columns: tuple[str, ...], source: str, hint: str
) -> list[Problem]:
    return [
        Problem(f"{source}, column {c}", MSG_MISSING_COLUMN.format(hint=hint))
        for c in columns
        if c not in frame.columns
    ]


def validate_events(events: pd.DataFrame, *, source: str = "<events>") -> pd.DataFrame:
    """Check an events table and return it with ``year`` as int64 and ids/events as strings.

    The checks are :func:`calibrate.data.load_events`' (the one events validator), so a frame
    passed here is held to what an events file is held to.

    Parameters
    ----------
    events : pandas.DataFrame
        Long table with columns ``enterprise_id``, ``year``, ``event`` (extra columns are kept).
    source : str
        Name used in error messages (the file name).

    Returns
    -------
    pandas.DataFrame
        A copy with clean dtypes, same rows in the same order; event names trimmed and
        lower-cased.

    Raises
    ------
    DataContractError
        Missing columns, missing ids or events, years that are not whole numbers — every
        problem with its row (as a spreadsheet shows it, the header being row 1) and column.
    """
    from calibrate.data import load_events

    # an events table already read by load_events carries its file rows; they are set anew
    table = load_events(events.drop(columns="source_row", errors="ignore"), source=source)
    out = table.frame.drop(columns="source_row")
    out["enterprise_id"] = out["enterprise_id"].astype("string")
    out["event"] = out["event"].astype("string")
    return out


def _validate_enterprises(
    enterprises: pd.DataFrame, source: str
) -> tuple[pd.Series, npt.NDArray[np.int64], npt.NDArray[np.intp], pd.Index]:
    """Check the keys; return ids (string), years, firm code per row and the firm index."""
    problems = _missing_columns(enterprises, ENTERPRISE_KEYS, source, MSG_ENTERPRISES_HINT)
    if problems:
        raise DataContractError(source, problems)
    _not_missing(enterprises["enterprise_id"], source, "enterprise_id", problems)
    years = _years(enterprises["year"], source, "year", problems)
    if problems:
        raise DataContractError(source, problems)
    ids = enterprises["enterprise_id"].astype("string")
    codes, firms = pd.factorize(ids)
    codes = codes.astype(np.intp)
    span = int(years.max() - years.min()) + 1 if len(years) else 1
    key = codes.astype(np.int64) * span + (years - (years.min() if len(years) else 0))
    dup = pd.Series(key).duplicated(keep=False).to_numpy()
    if dup.any():
        dup_keys, first_pos, n_rows = np.unique(key[dup], return_index=True, return_counts=True)
        positions = np.flatnonzero(dup)[first_pos]
        order = np.argsort(positions, kind="stable")
        for pos, n in zip(positions[order][:_MAX_ROWS_SHOWN], n_rows[order], strict=False):
            problems.append(
                Problem(
                    f"{source}, row {pos + 1}, column enterprise_id",
                    MSG_DUPLICATE_ROW.format(eid=ids.iloc[pos], year=int(years[pos]), n=int(n)),
                )
            )
        if dup_keys.shape[0] > _MAX_ROWS_SHOWN:
            problems.append(
                Problem(
                    source,
                    MSG_MORE_ROWS.format(
                        n=dup_keys.shape[0] - _MAX_ROWS_SHOWN, column="enterprise_id"
                    ),
                )
            )
        raise DataContractError(source, problems)
    return ids, years, codes, pd.Index(firms)


# --- result ---------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Labels:
    """Labels of one target and horizon for every row of an enterprise-year table.

    Attributes
    ----------
    target : str
    horizon : int
    last_year : int
        Last year with observed events; firm-years with ``year + horizon > last_year`` are
        censored.
    rule : TargetRule
        The population rules applied.
    frame : pandas.DataFrame
        Indexed like the enterprise table, in its order: ``enterprise_id``, ``year``, ``label``
        (nullable ``Int8``: 1, 0, or NA when not labelled) and ``status`` (categorical, one of
        :attr:`TargetRule.statuses`).
    notes : tuple of str
        Caveats for reports (e.g. a flag column that was absent).
    """

    target: str
    horizon: int
    last_year: int
    rule: TargetRule
    frame: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def labelled_mask(self) -> npt.NDArray[np.bool_]:
        """Boolean array, one per row: ``True`` where the row has a 0/1 label."""
        return (self.frame["status"] == STATUS_LABELLED).to_numpy(dtype=bool)

    @property
    def y(self) -> pd.Series:
        """The 0/1 labels (``int8``) of the labelled rows, indexed like those rows."""
        return self.frame.loc[self.labelled_mask, "label"].astype(np.int8)

    @property
    def n_labelled(self) -> int:
        """Rows with a 0/1 label."""
        return int(self.labelled_mask.sum())

    @property
    def n_positive(self) -> int:
        """Labelled rows with label 1."""
        return int((self.frame["label"] == 1).sum())

    @property
    def event_rate(self) -> float:
        """Share of labelled rows with label 1 (NaN if none is labelled)."""
        n = self.n_labelled
        return self.n_positive / n if n else float("nan")

    def counts(self) -> pd.Series:
        """Rows per status, every status of the rule listed (zeros included).

        Returns
        -------
        pandas.Series
            Index ``status`` in :attr:`TargetRule.statuses` order, values int64, name ``n``.
        """
        out = self.frame["status"].value_counts(sort=False).reindex(list(self.rule.statuses))
        out = out.fillna(0).astype(np.int64)
        out.index.name = "status"
        out.name = "n"
        return out

    def to_frame(self) -> pd.DataFrame:
        """The label table (``enterprise_id``, ``year``, ``label``, ``status``)."""
        return self.frame

    def to_dict(self) -> dict[str, Any]:
        """A JSON-friendly summary: target, horizon, last year, counts, positives, notes."""
        return {
            "target": self.target,
            "horizon": self.horizon,
            "last_year": self.last_year,
            "rule": self.rule.description,
            "counts": {str(k): int(v) for k, v in self.counts().items()},
            "n_positive": self.n_positive,
            "event_rate": None if self.n_labelled == 0 else self.event_rate,
            "notes": list(self.notes),
        }


# --- labelling ------------------------------------------------------------------------------


class _EventGrid:
    """Dense firm × year table of one event, for vectorised window look-ups."""

    def __init__(
        self,
        firm_codes: npt.NDArray[np.intp],
        years: npt.NDArray[np.int64],
        n_firms: int,
        first_year: int,
        last_year: int,
    ) -> None:
        self.first_year = first_year
        self.grid = np.zeros((n_firms, last_year - first_year + 1), dtype=bool)
        keep = (firm_codes >= 0) & (years >= first_year) & (years <= last_year)
        self.grid[firm_codes[keep], years[keep] - first_year] = True

    def any_in(
        self, codes: npt.NDArray[np.intp], years: npt.NDArray[np.int64], lo: int, hi: int
    ) -> npt.NDArray[np.bool_]:
        """Per row: did the event happen in year + lo … year + hi (clipped to the grid)?"""
        out = np.zeros(codes.shape[0], dtype=bool)
        width = self.grid.shape[1]
        for k in range(lo, hi + 1):
            col = years + k - self.first_year
            ok = (col >= 0) & (col < width)
            out[ok] |= self.grid[codes[ok], col[ok]]
        return out


def _check_target(events: pd.DataFrame, target: str, source: str) -> None:
    present = sorted(pd.unique(events["event"].dropna()).tolist())
    if target in present:
        return
    close = difflib.get_close_matches(target, present, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    known = ", ".join(present) if present else "none (the table is empty)"
    raise DataContractError(
        source,
        [
            Problem(
                f"{source}, column event",
                MSG_UNKNOWN_TARGET.format(target=target, hint=hint, known=known),
            )
        ],
    )


MSG_EVENTS_UNKNOWN_FIRMS = (
    "{n} event(s) of {k} firm(s) not in the enterprise table (e.g. {examples}) are not used; "
    "check the ids match"
)
MSG_EVENTS_BEFORE = (
    "{n} event(s) are dated before {year}, earlier than any label or population window looks "
    "(the first data year is {first}); they are not used"
)
MSG_EVENTS_ALL_BEFORE = (
    "all {n} event(s) are dated before {year}, earlier than any label window looks (data years "
    "start in {first}); no label can use them — check the years of both files"
)
MSG_EVENTS_AFTER = (
    "{n} event(s) are dated after {year} (last data year {last} + horizon {h}), up to {until}; "
    "no label counts them, but they say events were recorded until {until}, so the last data "
    "years are labelled (observed), not censored — check that the events file really covers "
    "those years"
)


def event_coverage(
    enterprises: pd.DataFrame, events: pd.DataFrame, target: str | None = None, horizon: int = 1
) -> list[str]:
    """Warnings for events no label will use — counted, never silently ignored.

    Events of firms outside the enterprise table, dated before every window (a label for year t
    looks at t+1 …, a population rule such as "already certified" may look back), or after the
    last data year + ``horizon``.
    """
    if not len(enterprises) or not len(events):
        return []
    rule = target_rule(target) if target is not None else None
    windows = [p.window[0] for p in rule.populations] if rule is not None else []
    start_offset = min(windows) if windows else 1  # the label window starts at t+1
    years = pd.to_numeric(enterprises["year"], errors="coerce")
    first, last_data = int(years.min()), int(years.max())
    start = first + start_offset
    ev_years = pd.to_numeric(events["year"], errors="coerce").to_numpy(dtype=np.float64)
    # plain object arrays: hashing pandas' string dtype is ~20x slower at 250k firm-years
    ids = events["enterprise_id"].astype(str).to_numpy(dtype=object)
    firms = pd.Index(pd.unique(enterprises["enterprise_id"].astype(str).to_numpy(dtype=object)))
    known = firms.get_indexer(ids) >= 0
    out: list[str] = []
    if (~known).any():
        unknown = pd.unique(ids[~known])
        examples = ", ".join(repr(str(x)) for x in unknown[:3])
        k = len(unknown)
        out.append(MSG_EVENTS_UNKNOWN_FIRMS.format(n=int((~known).sum()), k=k, examples=examples))
    before = ev_years < start
    if before.all():
        return [*out, MSG_EVENTS_ALL_BEFORE.format(n=len(ev_years), year=start, first=first)]
    if before.any():
        out.append(MSG_EVENTS_BEFORE.format(n=int(before.sum()), year=start, first=first))
    after = ev_years > last_data + horizon
    if after.any():
        until = int(np.nanmax(ev_years))
        out.append(
            MSG_EVENTS_AFTER.format(
                n=int(after.sum()), year=last_data + horizon, last=last_data, h=horizon, until=until
            )
        )
    return out


_TRUE_TEXT = {"1": 1.0, "true": 1.0, "yes": 1.0, "0": 0.0, "false": 0.0, "no": 0.0}


def _flag_true(values: pd.Series) -> npt.NDArray[np.bool_]:
    """A 0/1 (or true/false) flag column as booleans; missing or unreadable values are False."""
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.fillna(False).to_numpy(dtype=bool)
    if pd.api.types.is_numeric_dtype(values.dtype):
        return values.to_numpy(dtype=np.float64, na_value=0.0) == 1
    number = pd.to_numeric(values, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    text = values.astype("string").str.strip().str.lower().map(_TRUE_TEXT)
    number = np.where(np.isnan(number), text.to_numpy(dtype=np.float64, na_value=0.0), number)
    return number == 1


def _rel(offset: int) -> str:
    return "t" if offset == 0 else f"t{offset:+d}"


def make_labels(
    enterprises: pd.DataFrame,
    events: pd.DataFrame,
    target: str,
    horizon: int = 1,
    *,
    last_year: int | None = None,
    rule: TargetRule | None = None,
    source: str | None = None,
    events_source: str | None = None,
) -> Labels:
    """Label every firm-year with whether ``target`` happens in the next ``horizon`` years.

    Parameters
    ----------
    enterprises : pandas.DataFrame
        Enterprise-year table with ``enterprise_id`` and ``year`` (one row per pair); for
        ``hte_certified`` also ``hte_valid`` if available.
    events : pandas.DataFrame
        Long events table ``enterprise_id, year, event``.
    target : str
        Event name to predict. ``hte_certified``, ``tech_sme_registered`` and ``loan_default``
        have the populations of :data:`TARGET_RULES`; any other event is generic.
    horizon : int, default 1
        Label window t+1 … t+horizon.
    last_year : int, optional
        Last year in which events were observed; default the latest year in ``events``.
    rule : TargetRule, optional
        Use this rule instead of :func:`target_rule` ``(target)`` (its ``target`` is ignored).
    source, events_source : str, optional
        Names of the two tables in error messages; by default the file each table was read from
        (:data:`calibrate.data.SOURCE_ATTR`), else ``<enterprises>`` / ``<events>``.

    Returns
    -------
    Labels
        One row per enterprise row, in the same order and index.

    Raises
    ------
    DataContractError
        Missing columns, bad years, duplicate firm-years, or a target that never occurs in the
        events table (almost always a misspelling).
    ValueError
        A horizon below 1 or a ``last_year`` before the first enterprise year.

    Examples
    --------
    >>> ent = pd.DataFrame({"enterprise_id": ["a", "a", "a"], "year": [2020, 2021, 2022]})
    >>> ev = pd.DataFrame({"enterprise_id": ["a"], "year": [2022], "event": ["x"]})
    >>> make_labels(ent, ev, "x").frame["label"].tolist()
    [0, 1, <NA>]
    """
    if isinstance(horizon, bool) or not isinstance(horizon, int | np.integer) or horizon < 1:
        raise ValueError(MSG_BAD_HORIZON.format(found=horizon))
    horizon = int(horizon)
    source = source or enterprises.attrs.get(SOURCE_ATTR, "<enterprises>")
    events_source = events_source or events.attrs.get(SOURCE_ATTR, "<events>")
    ids, years, codes, firms = _validate_enterprises(enterprises, source)
    ev = validate_events(events, source=events_source)
    _check_target(ev, target, events_source)
    chosen = (
        target_rule(target)
        if rule is None
        else TargetRule(target, rule.populations, rule.description)
    )

    last = int(ev["year"].max()) if last_year is None else int(last_year)
    n = len(enterprises)
    if n and last < int(years.min()):
        if last_year is None:  # the events file itself ends before the data starts: bad input
            where = Problem(f"{events_source}, column year", event_coverage(enterprises, ev)[-1])
            raise DataContractError(events_source, [where])
        raise ValueError(MSG_LAST_YEAR.format(last=last, first=int(years.min())))

    # Events of firms outside the enterprise table get code -1 and are ignored.
    ev_codes = firms.get_indexer(ev["enterprise_id"].array).astype(np.intp)
    ev_years = ev["year"].to_numpy(dtype=np.int64)
    ev_names = ev["event"]
    lookback = min([p.window[0] for p in chosen.populations] + [0])
    first_year = (int(years.min()) + lookback) if n else 0
    grid_last = (int(years.max()) + horizon) if n else 0

    def grid(event: str) -> _EventGrid:
        mask = (ev_names == event).to_numpy(dtype=bool)
        return _EventGrid(ev_codes[mask], ev_years[mask], len(firms), first_year, grid_last)

    statuses = list(chosen.statuses)
    status = np.zeros(n, dtype=np.int8)  # position in statuses; 0 = labelled
    decided = np.zeros(n, dtype=bool)
    notes: list[str] = []
    for pop in chosen.populations:
        has = grid(pop.event).any_in(codes, years, *pop.window)
        if pop.flag_column is not None:
            if pop.flag_column in enterprises.columns:
                has |= _flag_true(enterprises[pop.flag_column])
            else:
                notes.append(
                    f"column {pop.flag_column} is not in the enterprise table; {pop.status} was "
                    f"decided from {pop.event} events in "
                    f"{_rel(pop.window[0])}..{_rel(pop.window[1])} only"
                )
        out = ~has if pop.member_if_event else has
        out &= ~decided
        status[out] = statuses.index(pop.status)
        decided |= out

    censored = ~decided & (years + horizon > last)
    status[censored] = statuses.index(STATUS_CENSORED)
    labelled = ~decided & ~censored
    hit = grid(target).any_in(codes, years, 1, horizon)
    label = pd.arrays.IntegerArray(hit.astype(np.int8), mask=~labelled)

    frame = pd.DataFrame(
        {
            "enterprise_id": ids.array,
            "year": years,
            "label": label,
            "status": pd.Categorical.from_codes(status, categories=pd.Index(statuses)),
        },
        index=enterprises.index,
    )
    notes += event_coverage(enterprises, ev, target if rule is None else None, horizon)
    return Labels(target, horizon, last, chosen, frame, tuple(notes))


# --- leakage guard --------------------------------------------------------------------------


class LeakageGuard:
    """Refuses feature columns dated after the scoring year t.

    Two mechanisms, both applied by :meth:`check`:

    1. **Names.** A column whose name matches ``name_pattern`` (default
       :data:`FUTURE_NAME_PATTERN`: a word ``lead``/``lead2``/``next``/``future``/``fwd``/
       ``forward`` between underscores) is refused unless ``feature_years`` declares it.
    2. **Declared dates.** ``feature_years`` maps a column to an int offset in years from t
       (``0`` = t, ``-1`` = t−1; > 0 is refused) or to the name of a column in the features
       holding each value's year (refused where that year is after the row's ``year_col``).

    Parameters
    ----------
    feature_years : mapping of str to int or str, optional
        The feature-date mapping. Columns not in the features are ignored.
    year_col : str, default "year"
        Column of the scoring year t (needed only for per-row date columns).
    name_pattern : re.Pattern or str, optional
        Override the name rule; ``None`` uses :data:`FUTURE_NAME_PATTERN`.

    Examples
    --------
    >>> X = pd.DataFrame({"year": [2021], "rd_expense": [1.0], "revenue_lead1": [2.0]})
    >>> LeakageGuard().check(X)
    Traceback (most recent call last):
    ...
    calibrate.exceptions.LeakageError: 1 feature column(s) carry ...
    """

    def __init__(
        self,
        feature_years: Mapping[str, int | str] | None = None,
        *,
        year_col: str = "year",
        name_pattern: re.Pattern[str] | str | None = None,
    ) -> None:
        self.feature_years = dict(feature_years or {})
        self.year_col = year_col
        pattern = FUTURE_NAME_PATTERN if name_pattern is None else name_pattern
        self.name_pattern = re.compile(pattern) if isinstance(pattern, str) else pattern

    def problems(self, features: pd.DataFrame) -> list[str]:
        """Every leak found, one message each (empty when the features are clean)."""
        found: list[str] = []
        for col in features.columns:
            name = str(col)
            if name == self.year_col:
                continue
            if name in self.feature_years:
                found.extend(self._declared(features, name, self.feature_years[name]))
            elif self.name_pattern.search(name):
                text = (
                    FUTURE_NAME_TEXT
                    if self.name_pattern is FUTURE_NAME_PATTERN
                    else f"matches {self.name_pattern.pattern!r}"
                )
                found.append(MSG_LEAK_NAME.format(col=name, pattern=text))
        return found

    def _declared(self, features: pd.DataFrame, col: str, spec: int | str) -> list[str]:
        if isinstance(spec, bool) or not isinstance(spec, int | np.integer | str):
            raise ValueError(MSG_GUARD_BAD_SPEC.format(col=col, found=spec))
        if not isinstance(spec, str):
            return [MSG_LEAK_OFFSET.format(col=col, offset=int(spec))] if spec > 0 else []
        if spec not in features.columns:
            raise ValueError(MSG_GUARD_NO_COLUMN.format(col=col, date_col=spec))
        if self.year_col not in features.columns:
            raise ValueError(MSG_GUARD_NO_YEAR.format(col=col, year_col=self.year_col))
        dated = pd.to_numeric(features[spec], errors="coerce").to_numpy(np.float64, na_value=np.nan)
        year = pd.to_numeric(features[self.year_col], errors="coerce").to_numpy(
            np.float64, na_value=np.nan
        )
        late = dated > year  # NaN dates compare False: a value with no date is not a leak
        if not late.any():
            return []
        first = int(np.flatnonzero(late)[0])
        return [
            MSG_LEAK_DATED.format(
                col=col,
                date_col=spec,
                year_col=self.year_col,
                n=int(late.sum()),
                index=features.index[first],
                year=int(year[first]),
                dated=int(dated[first]),
            )
        ]

    def check(self, features: pd.DataFrame) -> pd.DataFrame:
        """Raise :class:`LeakageError` listing every leaking column; return ``features`` if clean.

        Parameters
        ----------
        features : pandas.DataFrame
            Candidate feature table (one row per firm-year of scoring year ``year_col``).

        Returns
        -------
        pandas.DataFrame
            ``features`` itself, so the guard can sit inline.

        Raises
        ------
        LeakageError
            One line per leaking column, with what to do.
        ValueError
            A malformed ``feature_years`` entry.
        """
        found = self.problems(features)
        if found:
            head = MSG_LEAK_HEAD.format(n=len(found))
            raise LeakageError(head + "".join(f"\n  - {m}" for m in found))
        return features

    __call__ = check

    def __repr__(self) -> str:
        return (
            f"LeakageGuard(feature_years={self.feature_years!r}, year_col={self.year_col!r}, "
            f"name_pattern={self.name_pattern.pattern!r})"
        )


def check_no_leakage(
    features: pd.DataFrame,
    year_col: str = "year",
    feature_years: Mapping[str, int | str] | None = None,
    *,
    name_pattern: re.Pattern[str] | str | None = None,
) -> None:
    """Raise :class:`LeakageError` if any feature column is dated after the scoring year.

    Shorthand for ``LeakageGuard(feature_years, year_col=..., name_pattern=...).check(features)``;
    see :class:`LeakageGuard` for the two mechanisms.

    Parameters
    ----------
    features : pandas.DataFrame
        Candidate features.
    year_col : str, default "year"
        Scoring-year column (used for per-row date columns).
    feature_years : mapping, optional
        Column → offset in years from t (int) or → name of a per-row date column (str).
    name_pattern : re.Pattern or str, optional
        Override :data:`FUTURE_NAME_PATTERN`.

    Raises
    ------
    LeakageError
    """
    LeakageGuard(feature_years, year_col=year_col, name_pattern=name_pattern).check(features)
