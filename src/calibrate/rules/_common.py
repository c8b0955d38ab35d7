"""Plumbing shared by the rule modules: input columns, missing-column errors, result assembly."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.exceptions import DataContractError, Problem
from calibrate.rules._bands import FloatArray, ratio
from calibrate.rules._result import RuleResult

BoolArray = npt.NDArray[np.bool_]

#: Meaning and unit of every column a rule reads (docs/columns.md), quoted in error messages.
COLUMN_MEANING: dict[str, str] = {
    "year": "data year, int",
    "founded_year": "year of registration, int",
    "invention_patents_owned": "valid invention patents owned, class-I IP, count",
    "class2_ip_owned": "class-II IP owned, count",
    "ip_transfer_only": "all IP acquired by transfer, 0/1",
    "standards_drafted": "standards drafted, count",
    "in_supported_field": "main technology in the state-supported high-tech fields, 0/1",
    "st_staff": "S&T staff, count",
    "employees": "employees, count",
    "st_staff_share": "S&T staff share of employees, fraction",
    "rd_expense": "R&D expense of the data year, 万元",
    "rd_intensity": "R&D expense / revenue, fraction",
    "rd_expense_3y": "R&D expense over the data year and the two before, 万元",
    "revenue_3y": "revenue over the same three years, 万元",
    "revenue": "operating revenue, 万元",
    "revenue_lag1": "revenue one year earlier, 万元",
    "revenue_lag2": "revenue two years earlier, 万元",
    "net_assets": "net assets at year end, 万元",
    "net_assets_lag1": "net assets one year earlier, 万元",
    "net_assets_lag2": "net assets two years earlier, 万元",
    "rd_domestic_share": "share of 3-year R&D spent in China, fraction",
    "hitech_product_revenue": "high-tech product revenue, 万元",
    "major_safety_accident": "major safety accident, 0/1",
    "env_violation": "serious environmental violation, 0/1",
    "conversions_3y": "technology conversions over the last 3 years, count",
    "total_assets": "total assets at year end, 万元",
    "total_cost": "total cost and expenses, 万元",
    "dishonest_debtor": "on the dishonest-debtor list, 0/1",
    "research_misconduct": "on the research-misconduct blacklist, 0/1",
    "hte_valid": "holds a valid high-tech enterprise certificate, 0/1",
    "national_st_award": "has a national S&T award, 0/1",
    "platforms_provincial": "provincial+ R&D platforms, count",
    "led_standard": "led a national or industry standard, 0/1",
    "revenue_growth": "revenue growth, fraction",
    "debt_ratio": "liabilities / assets, fraction",
    "main_business_share": "main-business revenue / revenue, fraction",
    "strategic_emerging": "strategic emerging product: 0 no, 1 related, 2 core",
}

MISSING_COLUMN = (
    "missing; rule {rule} ({title}) needs it for {purposes}: add the column `{column}` ({meaning})"
)
MISSING_ALTERNATIVES = "missing; rule {rule} ({title}) needs {options}, for {purposes}: add {add}"
BAD_QUALITY = (
    "expert_quality must be a scalar or one value per row in [0, 1] with no NaN; "
    "got {found} for {n} rows"
)

_TRUE_WORDS = {"true": 1.0, "yes": 1.0, "false": 0.0, "no": 0.0}


@dataclass(frozen=True)
class Need:
    """Columns one purpose needs: all of ``columns``, or else all of ``alternative``."""

    purpose: str
    columns: tuple[str, ...]
    alternative: tuple[str, ...] = ()


def input_columns(needs: Sequence[Need], optional: Sequence[str] = ()) -> tuple[str, ...]:
    """Every column a rule can read — needed, alternative or optional — once, in need order."""
    seen: dict[str, None] = {}
    for need in needs:
        seen.update(dict.fromkeys((*need.columns, *need.alternative)))
    seen.update(dict.fromkeys(optional))
    return tuple(seen)


def check_columns(df: pd.DataFrame, rule: str, title: str, needs: Sequence[Need]) -> None:
    """Raise :class:`DataContractError` listing every missing column (each once, in need order)."""
    have = set(df.columns)
    single: dict[str, list[str]] = {}
    alts: dict[tuple[tuple[str, ...], tuple[str, ...]], list[str]] = {}
    for need in needs:
        if need.alternative:
            if set(need.columns) <= have or set(need.alternative) <= have:
                continue
            alts.setdefault((need.columns, need.alternative), []).append(need.purpose)
        else:
            for col in need.columns:
                if col not in have:
                    single.setdefault(col, []).append(need.purpose)
    problems = [
        Problem(
            f"column {col}",
            MISSING_COLUMN.format(
                rule=rule,
                title=title,
                purposes=_join(purposes),
                column=col,
                meaning=COLUMN_MEANING.get(col, "see docs/columns.md"),
            ),
        )
        for col, purposes in single.items()
    ]
    for (first, second), purposes in alts.items():
        options = f"{_cols(first)}, or else {_cols(second)}"
        missing_first = [c for c in first if c not in have]
        missing_second = [c for c in second if c not in have]
        add = " and ".join(
            f"`{c}` ({COLUMN_MEANING.get(c, 'see docs/columns.md')})" for c in missing_first
        )
        add += " or " + " and ".join(
            f"`{c}` ({COLUMN_MEANING.get(c, 'see docs/columns.md')})" for c in missing_second
        )
        problems.append(
            Problem(
                "column " + " / ".join(missing_first + missing_second),
                MISSING_ALTERNATIVES.format(
                    rule=rule, title=title, options=options, purposes=_join(purposes), add=add
                ),
            )
        )
    if problems:
        raise DataContractError(f"{rule}.evaluate input table", problems)


def _cols(cols: tuple[str, ...]) -> str:
    return " with ".join(f"`{c}`" for c in cols)


def _join(items: Sequence[str]) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + " and " + items[-1]


def col(df: pd.DataFrame, name: str) -> FloatArray:
    """A column as float64 with ``NaN`` for missing or non-numeric cells (never raises).

    Booleans become 0/1; the strings ``true/false/yes/no`` (any case) are accepted for flags.
    """
    s = df[name]
    if pd.api.types.is_bool_dtype(s.dtype):
        return np.asarray(s.to_numpy(dtype=np.float64, na_value=np.nan), dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(s.dtype):
        words = s.astype("string").str.strip().str.lower().map(_TRUE_WORDS)
        num = pd.to_numeric(s, errors="coerce")
        s = num.where(num.notna(), words)
    return pd.to_numeric(s, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def optional_col(df: pd.DataFrame, name: str) -> FloatArray:
    """Like :func:`col`, all ``NaN`` when the column is absent."""
    if name in df.columns:
        return col(df, name)
    return np.full(len(df), np.nan)


def staff_share(df: pd.DataFrame) -> tuple[FloatArray, BoolArray]:
    """S&T staff share: ``st_staff / employees`` where both are known, else ``st_staff_share``.

    Returns the share and a mask of rows where it is missing because an input is missing
    (``employees ≤ 0`` with ``st_staff`` known and no ``st_staff_share`` is undefined, not
    missing: the share is ``NaN`` but the mask is ``False``).
    """
    staff = optional_col(df, "st_staff")
    emp = optional_col(df, "employees")
    given = optional_col(df, "st_staff_share")
    from_counts = ratio(staff, emp)
    share = np.where(np.isnan(from_counts), given, from_counts)
    undefined = ~np.isnan(staff) & ~np.isnan(emp) & (emp <= 0)
    missing = np.isnan(share) & ~undefined
    return share, missing


def rd_sales_ratio(df: pd.DataFrame) -> tuple[FloatArray, BoolArray]:
    """R&D / revenue: ``rd_intensity`` where known, else ``rd_expense / revenue``.

    Returns the ratio and a mask of rows where it is missing because an input is missing
    (revenue ≤ 0 with R&D known is undefined, not missing).
    """
    given = optional_col(df, "rd_intensity")
    rd = optional_col(df, "rd_expense")
    rev = optional_col(df, "revenue")
    value = np.where(np.isnan(given), ratio(rd, rev), given)
    undefined = np.isnan(given) & ~np.isnan(rd) & ~np.isnan(rev) & (rev <= 0)
    missing = np.isnan(value) & ~undefined
    return value, missing


def quality_array(expert_quality: object, index: pd.Index) -> FloatArray:
    """Check and broadcast the latent expert quality (scalar, array or index-aligned Series)."""
    n = len(index)
    if isinstance(expert_quality, pd.Series):
        q = expert_quality.reindex(index).to_numpy(dtype=np.float64, na_value=np.nan)
    else:
        q = np.asarray(expert_quality, dtype=np.float64)
        if q.ndim == 0:
            q = np.full(n, float(q))
    if q.shape != (n,) or np.isnan(q).any() or (q < 0).any() or (q > 1).any():
        found = f"shape {q.shape}" if q.shape != (n,) else "values outside [0, 1] or NaN"
        raise ValueError(BAD_QUALITY.format(found=found, n=n))
    return q


@dataclass(frozen=True)
class Cond:
    """One hard condition evaluated for every row.

    ``ok`` — met; ``missing`` — an input it needs is missing (only reported where not met);
    ``gap`` — threshold minus value (the signed change that meets it), or ``None`` for a yes/no
    condition; ``scale`` — the threshold magnitude that normalises the gap; ``counts`` —
    rows where the condition matters (default all).
    """

    id: str
    ok: BoolArray
    missing: BoolArray
    gap: FloatArray | None = None
    scale: float | FloatArray = 1.0
    counts: BoolArray | None = None


def assemble(
    rule: str,
    index: pd.Index,
    conds: Sequence[Cond],
    score: FloatArray,
    items: Mapping[str, FloatArray],
    groups: Mapping[str, FloatArray] | None = None,
    extra: Mapping[str, npt.ArrayLike] | None = None,
) -> RuleResult:
    """Build the :class:`RuleResult` frame and gaps from evaluated conditions."""
    n = len(index)
    failing = []
    states = np.zeros(n, dtype=np.int64)
    for i, c in enumerate(conds):
        counts = np.ones(n, dtype=bool) if c.counts is None else c.counts
        fail = ~c.ok & counts
        failing.append(fail)
        # base-3 code per row: 0 met / does not count, 1 failed, 2 failed with missing input
        states += (fail.astype(np.int64) + (fail & c.missing)) * 3**i
    passed = ~np.any(np.vstack(failing), axis=0) if conds else np.ones(n, dtype=bool)
    failed = _failed_labels(states, [c.id for c in conds])

    data: dict[str, npt.ArrayLike] = {"passed": passed, "score": score, "failed": failed}
    for key, value in (extra or {}).items():
        if not key.startswith("route__"):
            data[key] = value
    for c in conds:
        data[f"cond__{c.id}"] = c.ok
    for key, value in (extra or {}).items():
        if key.startswith("route__"):
            data[key] = value
    for key, value in (groups or {}).items():
        data[f"group__{key}"] = value
    for key, value in items.items():
        data[f"item__{key}"] = value
    frame = pd.DataFrame(data, index=index)
    for key in ["failed", *(extra or {})]:
        if not pd.api.types.is_numeric_dtype(frame[key].dtype):
            frame[key] = frame[key].astype("str")

    gaps: dict[str, npt.ArrayLike] = {}
    distance = np.zeros(n, dtype=np.float64)
    for c, fail in zip(conds, failing, strict=True):
        if c.gap is None:
            distance += fail
            continue
        g = np.where(fail, np.round(c.gap, 10), np.nan)
        gaps[f"gap__{c.id}"] = g
        rel = np.abs(g) / np.abs(np.asarray(c.scale, dtype=np.float64))
        distance += np.where(fail, np.where(np.isnan(rel), 1.0, rel), 0.0)
    gaps_frame = pd.DataFrame(
        {
            "n_failed": np.sum(np.vstack(failing), axis=0).astype(np.int64)
            if conds
            else np.zeros(n, dtype=np.int64),
            "distance": distance,
            **gaps,
        },
        index=index,
    )
    return RuleResult(rule=rule, frame=frame, gaps=gaps_frame)


def _failed_labels(states: npt.NDArray[np.int64], ids: Sequence[str]) -> npt.NDArray[np.object_]:
    """Turn base-3 failure codes into ``;``-joined id strings (one Python step per distinct code)."""
    codes, inverse = np.unique(states, return_inverse=True)
    labels = []
    for code in codes.tolist():
        parts = []
        for cid in ids:
            code, state = divmod(code, 3)
            if state == 1:
                parts.append(cid)
            elif state == 2:
                parts.append(f"{cid}:missing")
        labels.append(";".join(parts))
    return np.asarray(labels, dtype=object)[inverse.reshape(-1)]
