"""Why each firm scored what it did: exact explanations of a points framework.

A framework is an additive model, so its explanation is exact — no attribution method needed:

* :func:`decompose` — every firm's total as a sum of *lines*: the points of each indicator, one
  ``bonus above cap`` line per capped bonus group (negative when the cap binds) and the
  deductions (negative). The lines add up to the published ``total`` exactly (as decimals: in
  whole units of the last published place), vetoed firms included (a vetoed firm keeps its points
  on record, see :mod:`calibrate.scoring`).
* :func:`portrait` — one firm against its peers: per indicator its raw value and points, the
  median and the firm's percentile in its ranking group and among all firms of its stage in the
  same year, names in Chinese and English.
* :func:`points_change` — old vs new framework on the same firms: the points gained or lost per
  indicator (over the union of both frameworks' indicator ids), the change of the bonus-cap effect
  and of deductions, total, rank and list before and after.
* :func:`nearest_path` — per indicator, the smallest change of the raw value that lifts a firm
  onto the next list (see :mod:`calibrate.explain._nearest` for the exact rules).
* :func:`gaming_table`, :func:`compare_gaming` — marginal points per unit of every indicator and
  stage, and which indicators a new weighting makes cheaper to inflate; :data:`MANIPULABLE`.

Line ids
--------
An indicator's line has the indicator id; the bonus-cap line of bonus group ``g`` is
``cap__g``; the deductions line is ``deduction``.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from calibrate.explain._gaming import (
    MANIPULABLE,
    STEPS,
    GamingComparison,
    GamingTable,
    ManipulableRule,
    compare_gaming,
    gaming_table,
    manipulability,
)
from calibrate.explain._nearest import REASONS, NearestPath, nearest_path
from calibrate.explain._shared import (
    FloatArray,
    IntArray,
    check_data,
    frame_to_records,
    from_units,
    locate,
    numeric,
    plain,
    tier_codes,
    units,
)
from calibrate.framework import Framework
from calibrate.scoring import ScoreResult

__all__ = [
    "MANIPULABLE",
    "REASONS",
    "STEPS",
    "Decomposition",
    "GamingComparison",
    "GamingTable",
    "ManipulableRule",
    "NearestPath",
    "PointsChange",
    "Portrait",
    "compare_gaming",
    "decompose",
    "gaming_table",
    "manipulability",
    "nearest_path",
    "points_change",
    "portrait",
]

MSG_NOT_SAME_FIRMS = (
    "the two score results do not hold the same firms in the same order ({what}); score the same "
    "enterprise table under both frameworks"
)

CAP_PREFIX = "cap__"
DEDUCTION = "deduction"
#: Columns of :attr:`Decomposition.lines` / :attr:`PointsChange.lines`.
LINE_COLUMNS = ("kind", "group", "group_kind", "unit", "name_zh", "name_en")


def _line_table(framework: Framework) -> pd.DataFrame:
    """Line metadata: one row per line id (indicators, capped bonus groups, deductions)."""
    kinds = {g.id: g.kind for g in framework.groups}
    rows: list[dict[str, Any]] = []
    for ind in framework.indicators:
        rows.append(
            {
                "line": ind.id,
                "kind": "indicator",
                "group": ind.group,
                "group_kind": kinds[ind.group],
                "unit": ind.unit,
                "name_zh": ind.name.zh,
                "name_en": ind.name.en,
            }
        )
    for g in framework.groups:
        if g.kind == "bonus" and g.cap is not None:
            rows.append(
                {
                    "line": CAP_PREFIX + g.id,
                    "kind": "bonus_cap",
                    "group": g.id,
                    "group_kind": "bonus",
                    "unit": "points",
                    "name_zh": f"超出加分上限（{g.name.zh}）",
                    "name_en": f"bonus above cap ({g.name.en})",
                }
            )
    rows.append(
        {
            "line": DEDUCTION,
            "kind": "deduction",
            "group": None,
            "group_kind": None,
            "unit": "points",
            "name_zh": "扣分",
            "name_en": "deductions",
        }
    )
    return pd.DataFrame(rows).set_index("line")


def _line_units(result: ScoreResult, rows: IntArray) -> IntArray:
    """Lines of the selected firms in whole units of the last decimal (exact integers)."""
    fw = result.framework
    d = fw.decimals
    frame = result.frame
    pts = units(frame[[f"pts__{i}" for i in fw.indicator_ids]].to_numpy(dtype=np.float64)[rows], d)
    group_of = np.array([ind.group for ind in fw.indicators])
    blocks = [pts]
    bonus_groups = [g for g in fw.groups if g.kind == "bonus"]
    bonus_pts = np.zeros(len(rows), dtype=np.int64)
    cap_lines: list[IntArray] = []
    for g in bonus_groups:
        sub = pts[:, group_of == g.id].sum(axis=1)
        bonus_pts += sub
        if g.cap is not None:
            capped = units(np.minimum(from_units(sub, d), float(g.cap)), d)
            cap_lines.append(capped - sub)
    if cap_lines:
        # the published bonus is re-rounded after capping; a cap with more decimals than the
        # framework publishes would leave a remainder here — it belongs to the cap effect
        bonus = units(frame["bonus"].to_numpy(dtype=np.float64)[rows], d)
        cap_lines[-1] = cap_lines[-1] + bonus - bonus_pts - sum(cap_lines)
        blocks.append(np.column_stack(cap_lines))
    blocks.append(-units(frame["deduction"].to_numpy(dtype=np.float64)[rows], d)[:, None])
    return np.hstack(blocks)


def _keys(result: ScoreResult, rows: IntArray) -> pd.DataFrame:
    frame = result.frame
    cols = [c for c in ("enterprise_id", "year", "park") if c in frame.columns]
    out = frame[cols].iloc[rows].reset_index(drop=True)
    out["stage"] = frame["stage"].to_numpy()[rows]
    out["vetoed"] = frame["vetoed"].to_numpy(dtype=bool)[rows]
    return out


def _state(result: ScoreResult) -> np.ndarray:
    """Tier id, ``none`` (ranked, on no list), ``vetoed`` or ``ineligible`` per firm."""
    ids = np.array([t.id for t in result.framework.tiers] + ["none"], dtype=object)
    state = ids[tier_codes(result)]  # -1 picks "none"
    vetoed = result.frame["vetoed"].to_numpy(dtype=bool)
    state[~result.ranked & ~vetoed] = "ineligible"
    state[vetoed] = "vetoed"
    return state


def _select(result: ScoreResult, firms: Iterable[str] | None, year: Any) -> IntArray:
    frame = result.frame
    keep = np.ones(len(frame), dtype=bool)
    if firms is not None:
        wanted = pd.Index(list(firms))
        keep &= frame["enterprise_id"].isin(wanted).to_numpy()
    if year is not None:
        keep &= frame["year"].to_numpy() == year
    return np.flatnonzero(keep)


def _fmt_points(value: float, decimals: int) -> str:
    sign = "−" if value < 0 else "+"
    return f"{sign}{abs(value):.{decimals}f}"


# --- decomposition ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Decomposition:
    """Each firm's total as exact additive lines.

    Attributes
    ----------
    framework : Framework
    keys : pandas.DataFrame
        One row per firm: ``enterprise_id``, ``year``, ``park`` (when scored), ``stage``,
        ``vetoed``, ``total``, ``rank``, ``tier``.
    values : pandas.DataFrame
        One column per line (indicator ids, ``cap__<group>``, ``deduction``), same rows as
        ``keys``; every number an exact decimal of the framework's ``decimals``.
    lines : pandas.DataFrame
        Line metadata indexed by line id: ``kind`` (``indicator`` / ``bonus_cap`` /
        ``deduction``), ``group``, ``group_kind``, ``unit``, ``name_zh``, ``name_en``.
    """

    framework: Framework
    keys: pd.DataFrame
    values: pd.DataFrame
    lines: pd.DataFrame
    _units: IntArray = field(repr=False)

    @property
    def n_firms(self) -> int:
        return len(self.keys)

    def sum(self) -> pd.Series:
        """Sum of the lines per firm, computed exactly (in whole units of the last decimal).

        Equals ``keys["total"]`` for every firm (the floats are the same nearest-to-decimal
        numbers the scorer publishes).
        """
        return pd.Series(
            from_units(self._units.sum(axis=1), self.framework.decimals),
            index=self.keys.index,
            name="sum",
        )

    def _row(self, enterprise_id: str, year: Any) -> int:
        hit = self.keys["enterprise_id"].to_numpy() == enterprise_id
        if "year" in self.keys.columns:
            hit &= self.keys["year"].to_numpy() == year
        rows = np.flatnonzero(hit)
        if rows.size != 1:
            raise KeyError(
                f"no single row for firm {enterprise_id!r} in year {year!r} in this "
                "decomposition; decompose the firm first (firms=..., year=...)"
            )
        return int(rows[0])

    def firm(self, enterprise_id: str, year: Any = None) -> pd.DataFrame:
        """One firm's lines with names in both languages.

        Returns
        -------
        pandas.DataFrame
            Indexed by line id: ``kind``, ``group``, ``unit``, ``name_zh``, ``name_en``,
            ``points`` (the line's value) and ``share`` (of the total; NaN when the total is 0).
        """
        pos = self._row(enterprise_id, year)
        out = self.lines.copy()
        out["points"] = self.values.iloc[pos].to_numpy(dtype=np.float64)
        total = float(self.keys["total"].iloc[pos])
        out["share"] = out["points"] / total if total != 0 else np.nan
        return out

    def text(
        self, enterprise_id: str, year: Any = None, *, lang: str = "en", nonzero: bool = True
    ) -> str:
        """The firm's decomposition as plain text lines, e.g. ``bonus above cap (…) −7.00``.

        Parameters
        ----------
        lang : {"en", "zh"}
            Language of the names.
        nonzero : bool
            Leave out lines worth 0 points.
        """
        table = self.firm(enterprise_id, year)
        d = self.framework.decimals
        name_col = "name_zh" if lang == "zh" else "name_en"
        rows = [
            (str(r[name_col]), float(r["points"]))
            for _, r in table.iterrows()
            if not nonzero or r["points"] != 0
        ]
        width = max([len(n) for n, _ in rows] + [5])
        lines = [f"{n:<{width}}  {_fmt_points(v, d)}" for n, v in rows]
        total = float(self.keys["total"].iloc[self._row(enterprise_id, year)])
        lines.append(f"{'总分' if lang == 'zh' else 'total':<{width}}  {total:.{d}f}")
        return "\n".join(lines)

    def long(self) -> pd.DataFrame:
        """Long form: one row per firm and line, with the line's names."""
        wide = self.to_frame()
        key_cols = [c for c in ("enterprise_id", "year", "park", "stage") if c in wide.columns]
        out = wide.melt(
            id_vars=key_cols,
            value_vars=list(self.values.columns),
            var_name="line",
            value_name="points",
        )
        return out.merge(
            self.lines[["kind", "name_zh", "name_en"]], left_on="line", right_index=True, how="left"
        )

    def to_frame(self) -> pd.DataFrame:
        """Wide table: keys, then one column per line (the lines add up to ``total``)."""
        return pd.concat([self.keys, self.values], axis=1)

    def to_dict(self) -> dict[str, Any]:
        """Plain data: framework id, line metadata and one record per firm."""
        lines = self.lines.reset_index()
        return {
            "framework": self.framework.id,
            "fingerprint": self.framework.fingerprint,
            "decimals": self.framework.decimals,
            "lines": frame_to_records(lines),
            "firms": frame_to_records(self.to_frame()),
        }


def decompose(
    result: ScoreResult, firms: Iterable[str] | None = None, *, year: Any = None
) -> Decomposition:
    """Decompose every firm's total into exact per-indicator lines.

    ``total = Σ indicator points + Σ bonus-above-cap lines − deductions``, exactly as the scorer
    computes it: indicator lines are the published ``pts__*`` columns, the ``cap__<group>`` line is
    ``min(subtotal, cap) − subtotal`` (≤ 0) for each capped bonus group, the ``deduction`` line is
    minus the published deductions. Vetoed firms are decomposed too (their points stay on record).

    Parameters
    ----------
    result : ScoreResult
        Scores of one framework.
    firms : iterable of str, optional
        Enterprise ids to keep (all years unless ``year`` is given); all firms by default.
    year : optional
        Keep only this data year.

    Returns
    -------
    Decomposition

    Examples
    --------
    >>> dec = decompose(score(framework, data))        # doctest: +SKIP
    >>> (dec.sum() == dec.keys["total"]).all()          # doctest: +SKIP
    True
    """
    rows = _select(result, firms, year)
    fw = result.framework
    lines = _line_table(fw)
    unit_values = _line_units(result, rows)
    keys = _keys(result, rows)
    frame = result.frame
    keys["total"] = frame["total"].to_numpy(dtype=np.float64)[rows]
    keys["rank"] = frame["rank"].iloc[rows].reset_index(drop=True)
    keys["tier"] = frame["tier"].iloc[rows].reset_index(drop=True)
    values = pd.DataFrame(
        from_units(unit_values, fw.decimals), columns=list(lines.index), index=keys.index
    )
    return Decomposition(fw, keys, values, lines, unit_values)


# --- portrait ----------------------------------------------------------------------------------


def _median(values: FloatArray) -> float:
    present = values[~np.isnan(values)]
    return float(np.median(present)) if present.size else float("nan")


def _share_not_better(ref: FloatArray, value: float, direction: int) -> float:
    ref = ref[~np.isnan(ref)]
    if np.isnan(value) or ref.size == 0:
        return float("nan")
    hit = ref <= value if direction > 0 else ref >= value
    return float(hit.mean())


@dataclass(frozen=True, eq=False)
class Portrait:
    """One firm-year against its peers.

    Attributes
    ----------
    framework : Framework
    summary : dict
        ``enterprise_id``, ``year``, ``park``, ``stage`` (+ names), ``total``, ``core``,
        ``bonus``, ``bonus_uncapped``, ``bonus_cap_effect``, ``deduction``, ``vetoed``,
        ``penalties`` (ids of the penalty flags set), ``rank``, ``n_ranked`` (ranked firms in the
        ranking group), ``percentile``, ``tier`` (+ names), ``group_median_total`` and
        ``stage_median_total`` (medians over ranked firms), ``n_group``, ``n_stage``.
    frame : pandas.DataFrame
        One row per indicator (indexed by id): ``name_zh``, ``name_en``, ``group``, ``unit``,
        ``kind``, ``value`` (raw, NaN when missing), ``points``, ``max_points`` (in the firm's
        stage), ``group_median`` / ``group_median_points`` / ``group_percentile`` and the same
        three for ``stage_``.

    Notes
    -----
    *Peers.* The ranking group is the firm's group as scored (e.g. park × stage × year); the stage
    peers are all firms of the same stage in the same data year (every park). Vetoed firms are
    peers too: their raw values and points are on record.

    *Percentile of a raw value* = share of the peers with a value (the firm included) whose value
    is not better than the firm's — ``<=`` for indicators where more is better, ``>=`` where less
    is better — so 1.0 is the best in the group, like the total's ``percentile``. Peers with a
    missing value are left out of the reference (as in the percentile rule); a firm with a missing
    value has no percentile. Medians skip missing values; medians of points count every peer.
    """

    framework: Framework
    summary: dict[str, Any]
    frame: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The per-indicator table."""
        return self.frame

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the summary and one record per indicator."""
        return {
            "framework": self.framework.id,
            "summary": plain(self.summary),
            "indicators": frame_to_records(self.frame.reset_index()),
        }


def portrait(result: ScoreResult, data: pd.DataFrame, enterprise_id: str, year: Any) -> Portrait:
    """A firm's points, raw values and standing against its ranking group and its stage.

    Parameters
    ----------
    result : ScoreResult
        Scores of ``data`` under one framework.
    data : pandas.DataFrame
        The enterprise table that was scored (same rows, same order): the raw values.
    enterprise_id : str
    year
        The data year.

    Returns
    -------
    Portrait
    """
    fw = result.framework
    i = locate(result, enterprise_id, year)
    check_data(result, data, i)
    frame = result.frame
    codes = result.group_code
    group = np.flatnonzero(codes == codes[i])
    same_stage = result.stage_index == result.stage_index[i]
    if "year" in frame.columns:
        same_stage &= frame["year"].to_numpy() == frame["year"].iloc[i]
    stage_rows = np.flatnonzero(same_stage)
    stage = fw.stages[int(result.stage_index[i])]

    rows: list[dict[str, Any]] = []
    for ind in fw.indicators:
        x = numeric(data, ind.id)
        pts = frame[f"pts__{ind.id}"].to_numpy(dtype=np.float64)
        value = float(x[i])
        rows.append(
            {
                "indicator": ind.id,
                "name_zh": ind.name.zh,
                "name_en": ind.name.en,
                "group": ind.group,
                "unit": ind.unit,
                "kind": ind.rule.kind,
                "value": value,
                "points": float(pts[i]),
                "max_points": float(ind.points[stage.id]),
                "group_median": _median(x[group]),
                "group_median_points": float(np.median(pts[group])),
                "group_percentile": _share_not_better(x[group], value, ind.direction),
                "stage_median": _median(x[stage_rows]),
                "stage_median_points": float(np.median(pts[stage_rows])),
                "stage_percentile": _share_not_better(x[stage_rows], value, ind.direction),
            }
        )
    table = pd.DataFrame(rows).set_index("indicator")

    total = frame["total"].to_numpy(dtype=np.float64)
    ranked = result.ranked  # eligible and not vetoed
    bonus_ids = [f"pts__{b}" for b in fw.bonus_indicator_ids]
    bonus_uncapped = (
        float(units(frame[bonus_ids].iloc[i].to_numpy(dtype=np.float64), fw.decimals).sum())
        / 10.0**fw.decimals
    )
    bonus = float(frame["bonus"].iloc[i])
    tier_pos = int(tier_codes(result)[i])
    tier = fw.tiers[tier_pos] if tier_pos >= 0 else None
    rank = frame["rank"].iloc[i]
    penalties = [
        p.id for p in fw.penalties if np.nan_to_num(numeric(data, p.id, [i]), nan=0.0)[0] > 0
    ]
    g_ranked = group[ranked[group]]
    s_ranked = stage_rows[ranked[stage_rows]]
    summary: dict[str, Any] = {
        "enterprise_id": enterprise_id,
        "year": plain(year),
        "park": plain(frame["park"].iloc[i]) if "park" in frame.columns else None,
        "stage": stage.id,
        "stage_zh": stage.name.zh,
        "stage_en": stage.name.en,
        "total": float(total[i]),
        "core": float(frame["core"].iloc[i]),
        "bonus": bonus,
        "bonus_uncapped": bonus_uncapped,
        "bonus_cap_effect": round(bonus - bonus_uncapped, fw.decimals),
        "deduction": float(frame["deduction"].iloc[i]),
        "vetoed": bool(frame["vetoed"].iloc[i]),
        "penalties": penalties,
        "rank": None if rank is pd.NA else int(rank),
        "n_ranked": int(g_ranked.size),
        "percentile": None
        if np.isnan(frame["percentile"].iloc[i])
        else float(frame["percentile"].iloc[i]),
        "tier": None if tier is None else tier.id,
        "tier_zh": None if tier is None else tier.name.zh,
        "tier_en": None if tier is None else tier.name.en,
        "group_median_total": float(np.median(total[g_ranked])) if g_ranked.size else float("nan"),
        "stage_median_total": float(np.median(total[s_ranked])) if s_ranked.size else float("nan"),
        "n_group": int(group.size),
        "n_stage": int(stage_rows.size),
    }
    return Portrait(fw, summary, table)


# --- old vs new --------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class PointsChange:
    """Points gained or lost per line between a base and a candidate framework, per firm.

    Attributes
    ----------
    base, candidate : Decomposition
        The two decompositions (same firms, same order).
    lines : pandas.DataFrame
        Union of the line metadata (base names where both have the line).
    frame : pandas.DataFrame
        One row per firm: keys, ``stage_base`` / ``stage_candidate``, one column per line with
        candidate minus base points (a line missing from a framework counts 0 there),
        ``total_base``, ``total_candidate``, ``total_change`` (= the sum of the line changes,
        exactly), ``rank_base``, ``rank_candidate``, ``tier_base``, ``tier_candidate`` (tier id,
        ``none`` or ``vetoed``).
    """

    base: Decomposition
    candidate: Decomposition
    lines: pd.DataFrame
    frame: pd.DataFrame
    _units: IntArray = field(repr=False)

    @property
    def line_ids(self) -> list[str]:
        return list(self.lines.index)

    def changes(self) -> pd.DataFrame:
        """The per-line changes only (one column per line id)."""
        return self.frame[self.line_ids]

    def firm(self, enterprise_id: str, year: Any = None) -> pd.DataFrame:
        """One firm's lines: ``points_base``, ``points_candidate``, ``change`` and both names."""
        pos = self.base._row(enterprise_id, year)
        out = self.lines.copy()
        out["points_base"] = self.base.values.iloc[pos].reindex(out.index, fill_value=0.0)
        out["points_candidate"] = self.candidate.values.iloc[pos].reindex(out.index, fill_value=0.0)
        out["change"] = self.frame[self.line_ids].iloc[pos].to_numpy(dtype=np.float64)
        return out

    def summary(self) -> pd.DataFrame:
        """Per line over all firms: mean, smallest and largest change, firms gaining and losing."""
        ch = self.changes()
        out = self.lines[["kind", "name_zh", "name_en"]].copy()
        out["mean_change"] = ch.mean().to_numpy()
        out["min_change"] = ch.min().to_numpy()
        out["max_change"] = ch.max().to_numpy()
        out["firms_gaining"] = (ch > 0).sum().to_numpy()
        out["firms_losing"] = (ch < 0).sum().to_numpy()
        return out

    def to_frame(self) -> pd.DataFrame:
        """The per-firm table."""
        return self.frame

    def to_dict(self) -> dict[str, Any]:
        """Plain data: framework ids, lines and one record per firm."""
        return {
            "base": self.base.framework.id,
            "candidate": self.candidate.framework.id,
            "lines": frame_to_records(self.lines.reset_index()),
            "firms": frame_to_records(self.frame),
        }


def points_change(base_result: ScoreResult, candidate_result: ScoreResult) -> PointsChange:
    """Per firm, the points gained or lost per indicator between two frameworks.

    Lines are matched by id over the union (base order, then candidate-only ids; then the
    bonus-cap lines, then deductions). For every firm the line changes add up exactly to
    ``total_candidate − total_base``.

    Parameters
    ----------
    base_result, candidate_result : ScoreResult
        The same enterprise table scored under the base and the candidate framework.

    Returns
    -------
    PointsChange

    Raises
    ------
    ValueError
        When the two results do not hold the same firms in the same order.
    """
    bf, cf = base_result.frame, candidate_result.frame
    if len(bf) != len(cf):
        raise ValueError(MSG_NOT_SAME_FIRMS.format(what=f"{len(bf)} vs {len(cf)} rows"))
    for col in ("enterprise_id", "year"):
        if (
            col in bf.columns
            and col in cf.columns
            and not np.array_equal(bf[col].to_numpy(), cf[col].to_numpy())
        ):
            raise ValueError(MSG_NOT_SAME_FIRMS.format(what=f"column {col} differs"))
    b, c = decompose(base_result), decompose(candidate_result)
    blines, clines = b.lines, c.lines
    order = [i for i in blines.index if blines.at[i, "kind"] == "indicator"] + [
        i for i in clines.index if clines.at[i, "kind"] == "indicator" and i not in blines.index
    ]
    order += [i for i in blines.index if blines.at[i, "kind"] == "bonus_cap"]
    order += [
        i for i in clines.index if clines.at[i, "kind"] == "bonus_cap" and i not in blines.index
    ]
    order.append(DEDUCTION)
    lines = pd.concat([blines, clines[~clines.index.isin(blines.index)]]).loc[order]

    def aligned(dec: Decomposition) -> IntArray:
        pos = {line: j for j, line in enumerate(dec.lines.index)}
        out = np.zeros((dec.n_firms, len(order)), dtype=np.int64)
        for j, line in enumerate(order):
            if line in pos:
                out[:, j] = dec._units[:, pos[line]]
        return out

    delta = aligned(c) - aligned(b)
    d = max(b.framework.decimals, c.framework.decimals)
    if b.framework.decimals != c.framework.decimals:  # rescale to the finer decimals
        delta = units(from_units(aligned(c), c.framework.decimals), d) - units(
            from_units(aligned(b), b.framework.decimals), d
        )
    keys = b.keys[[k for k in ("enterprise_id", "year", "park") if k in b.keys.columns]].copy()
    keys["stage_base"] = b.keys["stage"].to_numpy()
    keys["stage_candidate"] = c.keys["stage"].to_numpy()
    changes = pd.DataFrame(from_units(delta, d), columns=order, index=keys.index)
    tail = pd.DataFrame(
        {
            "total_base": b.keys["total"].to_numpy(),
            "total_candidate": c.keys["total"].to_numpy(),
            "total_change": from_units(delta.sum(axis=1), d),
            "rank_base": b.keys["rank"].array,
            "rank_candidate": c.keys["rank"].array,
            "tier_base": _state(base_result),
            "tier_candidate": _state(candidate_result),
        },
        index=keys.index,
    )
    frame = pd.concat([keys, changes, tail], axis=1)
    return PointsChange(b, c, lines, frame, delta)
