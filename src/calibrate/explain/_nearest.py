"""Nearest path to the next list: the smallest change of one indicator that lifts a firm onto it.

Rules (all exact; the scorer's edge rules are in :mod:`calibrate.scoring`):

* **Target and cut-off.** The target is the list just above the firm's (the largest list for a
  firm on none); ``target=`` may name a better one. Lists are cumulative: a firm is on list ``t``
  or a better one iff its rank ≤ ``seats_t`` of its ranking group. With the other firms' totals
  fixed, that holds iff the firm's total ≥ the ``seats_t``-th highest total of the *other* ranked
  firms of the group — the **cut-off**, i.e. the lowest total of the firms now on list ``t`` or
  better. Reaching it exactly is enough (a tie at the cut-off is inclusive). Raising the firm
  does not change the group's size, so the seats stay the same.
* **One indicator at a time**, every other raw value held fixed; values are raw values in the
  indicator's unit. Indicators counted in whole units (unit ``count``, ``0/1``, or count and
  binary rules) get whole-number answers.
* **Rounding.** Points are rounded half-up to the framework's ``decimals`` before they are
  summed, so an indicator needs ``points ≥ target − ½·10⁻ᵈ`` before rounding; every inversion
  is checked against the scorer's own float arithmetic and moved to the exact smallest float
  (or whole number) that is enough.
* **Inversion per rule kind.** *linear*: ``low + f·(high − low)`` at the firm's stage (per-stage
  goalposts), ``f`` the needed fraction — for ``high < low`` the path goes down; *bands*: the
  band minimum nearest to the current value whose band gives enough points (or, for bands that
  reward smaller values, just below the minimum of the band above); *count*: the smallest whole
  count that is enough (``ceil``); *binary*: 0 → 1; *percentile*: the smallest value that passes
  enough peers of the ranking group (just above a peer's value, reported as ``threshold`` with
  ``inclusive=False`` and ``value`` the next float — or the next whole number).
* **Bonus cap.** A bonus indicator earns a firm only what is left under its group's cap; a
  firm whose bonus group is capped cannot be lifted by it (``bonus_cap``).
* **Percentile rules change the peers.** Raising a firm's value past peers lowers *their*
  fractions (they now have one fewer firm below them) and can lower the cut-off itself. This is
  handled exactly, not approximated: for a percentile rule (and for a ``missing: median`` rule
  whose group has missing values, where the firm's value moves the imputed median) every
  candidate value is scored for the whole ranking group — the indicator's points of every peer
  are recomputed with the scorer's formula and the cut-off is taken from the peers' new totals.
  The candidates are the peers' values and the points just above them, in increasing order; the
  first that is enough is the answer (a higher value never hurts: the firm's fraction rises and
  the peers' fall). ``cutoff_after`` shows the cut-off that the answer meets.
* **Median imputation.** For a ``missing: median`` indicator whose ranking group has missing
  values, the firm's value moves the median that its peers are imputed with, which can raise or
  lower their points in jumps. Every candidate is still scored for the whole group (so an answer
  is always enough), but the search is a scan of the candidates refined by bisection and the
  answer may not be the smallest: ``exact`` is False. No shipped framework imputes medians.
* **Stage.** An indicator that also decides the stage (``revenue``) must stay inside the firm's
  stage: an answer at or past the stage's revenue bound is reported as ``stage``.
* **Not reachable** (``reason``): ``vetoed`` (on no list whatever its points), ``no_lists`` (the
  framework publishes none), ``top`` (already
  on the top list or better than the target), ``no_seats`` (the target list has no seat in the
  ranking group), ``not_scored`` (no points for this indicator in the stage), ``max_points``
  (even the indicator's best value is not enough), ``bonus_cap``, ``stage``.

Verification: with ``verify=True`` every answer is re-scored with :func:`calibrate.scoring.score`
on the firm's ranking group (ranking, lists and percentile rules never look outside it) and
``verified`` says whether the firm lands on the target list or a better one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from calibrate.explain._shared import (
    BoolArray,
    FloatArray,
    IntArray,
    TotalsAfter,
    check_data,
    frame_to_records,
    from_units,
    indicator_points,
    locate,
    numeric,
    plain,
    tier_codes,
    units,
)
from calibrate.framework import (
    BandsRule,
    BinaryRule,
    CountRule,
    Framework,
    Indicator,
    LinearRule,
    Name,
    PercentileRule,
)
from calibrate.framework.model import value_at
from calibrate.scoring import ScoreResult, impute_group_median, score, tier_seats

__all__ = ["REASONS", "NearestPath", "nearest_path"]

#: Why a list is not reachable (by one indicator or at all), in both languages.
REASONS: dict[str, Name] = {
    "vetoed": Name(
        "企业被一票否决，不进入任何榜单", "the firm is vetoed: it is on no list whatever its points"
    ),
    "ineligible": Name(
        "企业不符合参评条件，不参与排名，不进入任何榜单",
        "the firm does not meet the eligibility rules: it is not ranked and on no list",
    ),
    "no_lists": Name("该积分办法不发布榜单", "the framework publishes no lists"),
    "top": Name(
        "企业已在目标榜单或更高榜单", "the firm is already on the target list or a better one"
    ),
    "no_seats": Name(
        "目标榜单在该排名组中没有名额", "the target list has no seats in the firm's ranking group"
    ),
    "not_scored": Name(
        "该指标在企业所处阶段不计分", "the indicator earns no points in the firm's stage"
    ),
    "max_points": Name(
        "该指标满分也不足以进入目标榜单",
        "not reachable by this indicator: even its best value is not enough",
    ),
    "bonus_cap": Name(
        "加分已达上限，该加分项无法提高总分",
        "not reachable by this indicator: the bonus cap leaves too little room",
    ),
    "stage": Name(
        "所需数值会使企业进入另一成长阶段",
        "not reachable by this indicator: the value needed moves the firm to another stage",
    ),
}

MSG_FRAMEWORK = (
    "result was scored under framework {found!r}, not {expected!r}; pass the ScoreResult of "
    "this framework on this data (or result=None to score it)"
)
MSG_TARGET = "target {target!r} is not a list of framework {framework!r}; pick one of {choices}"
#: Give up scanning whole-number candidates beyond this many (never reached in practice).
MAX_SCAN = 100_000
STAGE_COLUMN = "revenue"
INTEGER_UNITS = frozenset({"count", "0/1", "flag", "个", "项", "件", "人"})


def _is_integer(ind: Indicator) -> bool:
    return isinstance(ind.rule, CountRule | BinaryRule) or ind.unit.strip().lower() in INTEGER_UNITS


@dataclass(frozen=True, eq=False)
class NearestPath:
    """The smallest single-indicator changes that lift one firm onto the next list.

    Attributes
    ----------
    framework : Framework
    enterprise_id, year
        The firm-year.
    stage : str
        The firm's stage id.
    tier, target : str or None
        The firm's list now (None = on none) and the list aimed at.
    total : float
        The firm's total now.
    cutoff : float
        Lowest total of the firms on the target list or better in the firm's ranking group (NaN
        when there is no target).
    need : float
        ``cutoff − total``: points the firm lacks (with the peers' totals fixed).
    rank : int or None
    seats : int
        Seats of the target list in the ranking group.
    reason : str or None
        Why no indicator can help (``vetoed``, ``ineligible``, ``no_lists``, ``top``,
        ``no_seats``), else None.
    frame : pandas.DataFrame
        One row per indicator (indexed by id): ``name_zh``, ``name_en``, ``group``,
        ``group_kind``, ``kind``, ``unit``, ``current`` (raw value, NaN when missing),
        ``direction`` (``up`` / ``down``), ``threshold`` and ``inclusive`` (the value must be
        ``>= threshold`` — or ``> threshold`` when not inclusive; mirrored for ``down``),
        ``value`` (a value to set: the smallest that is enough), ``change`` (``value −
        current``), ``points_now``, ``points_after``, ``total_after``, ``cutoff_after``,
        ``reachable``, ``reason`` (code of :data:`REASONS` when not reachable), ``exact``
        (False when the answer is enough but may not be the smallest: see the module notes on
        ``missing: median``), ``verified`` (None unless ``verify=True``).
    """

    framework: Framework
    enterprise_id: str
    year: Any
    stage: str
    tier: str | None
    target: str | None
    total: float
    cutoff: float
    need: float
    rank: int | None
    seats: int
    reason: str | None
    frame: pd.DataFrame

    def reachable(self) -> pd.DataFrame:
        """The indicators that can lift the firm, in framework order."""
        return self.frame[self.frame["reachable"]]

    def to_frame(self) -> pd.DataFrame:
        """The per-indicator table."""
        return self.frame

    def to_dict(self) -> dict[str, Any]:
        """Plain data: the firm, target, cut-off and one record per indicator."""
        return {
            "framework": self.framework.id,
            "enterprise_id": self.enterprise_id,
            "year": plain(self.year),
            "stage": self.stage,
            "tier": self.tier,
            "target": self.target,
            "total": self.total,
            "cutoff": None if math.isnan(self.cutoff) else self.cutoff,
            "need": None if math.isnan(self.need) else self.need,
            "rank": self.rank,
            "seats": self.seats,
            "reason": self.reason,
            "indicators": frame_to_records(self.frame.reset_index()),
        }

    def text(self, lang: str = "en") -> str:
        """One line per indicator: what to change, or why it cannot help."""
        name_col = "name_zh" if lang == "zh" else "name_en"
        out = []
        for ind_id, r in self.frame.iterrows():
            if r["reachable"]:
                op = (
                    (">=" if r["inclusive"] else ">")
                    if r["direction"] == "up"
                    else ("<=" if r["inclusive"] else "<")
                )
                out.append(
                    f"{r[name_col]} ({ind_id}): {op} {r['threshold']:g} {r['unit']} "
                    f"(now {r['current']:g}, change {r['change']:+g})"
                )
            else:
                why = REASONS[str(r["reason"])]
                out.append(f"{r[name_col]} ({ind_id}): {why.zh if lang == 'zh' else why.en}")
        return "\n".join(out)


class _Firm:
    """Everything about the firm's ranking group that every indicator's search needs."""

    def __init__(
        self,
        fw: Framework,
        result: ScoreResult,
        data: pd.DataFrame,
        i: int,
        target: int,
        n_seats: int,
    ) -> None:
        self.fw, self.result, self.data, self.i = fw, result, data, i
        codes = result.group_code
        self.rows: IntArray = np.flatnonzero(codes == codes[i])
        self.gi = int(np.flatnonzero(self.rows == i)[0])
        self.others: BoolArray = result.ranked[self.rows]  # the ranked peers
        self.others[self.gi] = False
        self.stage_pos = int(result.stage_index[i])
        self.stage_rows: IntArray = result.stage_index[self.rows]
        self.target = target
        self.seats = n_seats
        frame = result.frame
        wanted = [
            "total",
            "core",
            "bonus",
            "deduction",
            *(f"grp__{g.id}" for g in fw.groups),
            *(f"pts__{ind}" for ind in fw.indicator_ids),
        ]
        block = frame[wanted].to_numpy(dtype=np.float64)[self.rows]
        self.columns: dict[str, FloatArray] = {c: block[:, j] for j, c in enumerate(wanted)}
        totals = self.columns["total"]
        self.total = float(totals[self.gi])
        self.cutoff = self.cutoff_of(totals)
        self.need_units = int(units(self.cutoff, fw.decimals) - units(self.total, fw.decimals))

    def cutoff_of(self, totals: FloatArray) -> float:
        """The seats-th highest total of the other ranked firms of the group."""
        other = np.sort(totals[self.others])[::-1]
        return float(other[self.seats - 1])


class _Search:
    """The exact success test for one firm and one indicator, and the search per rule kind."""

    def __init__(self, firm: _Firm, ind: Indicator) -> None:
        self.firm, self.ind = firm, ind
        fw = firm.fw
        self.fw = fw
        self.stage = fw.stage_ids[firm.stage_pos]
        self.points = float(ind.points[self.stage])
        self.x = numeric(firm.data, ind.id, firm.rows)
        self.x0 = float(self.x[firm.gi])
        self.pts = firm.columns[f"pts__{ind.id}"]
        self.pts0 = float(self.pts[firm.gi])
        self.after = TotalsAfter(firm.result, ind, firm.rows, firm.columns)
        self.codes = np.zeros(len(firm.rows), dtype=np.int64)
        # a median-imputed indicator with missing peers: the firm's value moves their imputed value
        self.moves_median = ind.missing == "median" and bool(
            np.isnan(np.delete(self.x, firm.gi)).any()
        )
        self.group_dependent = isinstance(ind.rule, PercentileRule) or self.moves_median
        if np.isnan(self.x0):
            if ind.missing == "median":
                self.start = float(impute_group_median(self.x, self.codes)[firm.gi])
            else:
                self.start = -math.inf
        else:
            self.start = self.x0
        self.integer = _is_integer(ind)
        group = fw.group(ind.group)
        self.bonus_room = (
            math.inf
            if group.kind == "core" or group.cap is None
            else float(group.cap)
            - min(float(firm.columns[f"grp__{group.id}"][firm.gi]), float(group.cap))
        )

    # -- the oracle --------------------------------------------------------------------------------
    def evaluate(self, xs: Any) -> tuple[BoolArray, FloatArray, FloatArray, FloatArray]:
        """For candidate values of the firm: enough?, its points, its total, the cut-off."""
        xs = np.asarray(xs, dtype=np.float64).reshape(-1)
        firm = self.firm
        if not self.group_dependent:
            stage_index = np.full(xs.size, firm.stage_pos, dtype=np.int64)
            pts = indicator_points(self.fw, self.ind, xs, stage_index, np.zeros(xs.size, np.int64))
            total = self.after(np.full(xs.size, self.pts0), pts, firm.gi)
            cut = np.full(xs.size, firm.cutoff)
            return total >= firm.cutoff, pts, total, cut
        ok = np.zeros(xs.size, dtype=bool)
        pts = np.empty(xs.size)
        total = np.empty(xs.size)
        cut = np.empty(xs.size)
        x = self.x.copy()
        for k, value in enumerate(xs):
            x[firm.gi] = value
            group_pts = indicator_points(self.fw, self.ind, x, firm.stage_rows, self.codes)
            totals = self.after(self.pts, group_pts)
            cut[k] = firm.cutoff_of(totals)
            pts[k], total[k] = group_pts[firm.gi], totals[firm.gi]
            ok[k] = totals[firm.gi] >= cut[k]
        return ok, pts, total, cut

    def ok(self, value: float) -> bool:
        return bool(self.evaluate([value])[0][0])

    def target_units(self) -> int:
        """Points the indicator must reach (whole units of the last decimal), peers fixed."""
        return int(units(self.pts0, self.fw.decimals)) + self.firm.need_units

    def needed_fraction(self) -> float:
        """Smallest unrounded fraction whose rounded points reach the target (peers fixed)."""
        s = 10.0**self.fw.decimals
        return ((self.target_units() - 0.5 - 1e-9) / s) / self.points

    # -- searches: each returns (value, threshold, inclusive, direction) or None --------------------
    def search(self) -> tuple[float, float, bool, str] | None:
        rule = self.ind.rule
        if isinstance(rule, LinearRule):
            return self._linear(rule)
        if isinstance(rule, BandsRule):
            return self._bands()
        if isinstance(rule, CountRule):
            return self._count(rule)
        if isinstance(rule, BinaryRule):
            return (1.0, 1.0, True, "up") if self.ok(1.0) else None
        return self._percentile()

    def _linear(self, rule: LinearRule) -> tuple[float, float, bool, str] | None:
        low, high = value_at(rule.low, self.stage), value_at(rule.high, self.stage)
        sign = 1.0 if high > low else -1.0
        start = low if self.start == -math.inf else self.start
        if (high - start) * sign <= 0 or not self.ok(high):
            return None
        guess = low + self.needed_fraction() * (high - low)  # the exact inversion
        if (guess - start) * sign <= 0:
            guess = float(np.nextafter(start, high))
        if (guess - high) * sign > 0:
            guess = high
        x = _smallest_float(self.ok, start, high, guess)
        if self.integer:
            x = float(math.ceil(x) if sign > 0 else math.floor(x))
        return x, x, True, "up" if sign > 0 else "down"

    def _count(self, rule: CountRule) -> tuple[float, float, bool, str] | None:
        per_unit = value_at(rule.per_unit, self.stage)
        if per_unit <= 0:
            return None
        lowest = 1.0 if self.start == -math.inf else math.floor(self.start) + 1.0
        full = float(math.ceil(self.points / per_unit - 1e-12))
        if full < lowest:
            return None
        # the exact inversion: ceil of the units the needed points take
        guess = max(
            lowest, float(math.ceil(self.needed_fraction() * self.points / per_unit - 1e-12))
        )
        if guess <= full and self.ok(guess) and (guess == lowest or not self.ok(guess - 1)):
            return guess, guess, True, "up"
        if full - lowest > MAX_SCAN:  # pragma: no cover - absurd per_unit
            return None
        cand = np.arange(lowest, full + 1.0)
        hit = np.flatnonzero(self.evaluate(cand)[0])
        if hit.size == 0:
            return None
        x = float(cand[hit[0]])
        return x, x, True, "up"

    def _bands(self) -> tuple[float, float, bool, str] | None:
        rule = self.ind.rule
        assert isinstance(rule, BandsRule)
        mins = sorted({b.min for b in rule.bands_at(self.stage)})
        cands: list[tuple[float, float, bool, str]] = []
        for m in mins:
            if m > self.start:  # into the band that starts at m
                v = float(math.ceil(m)) if self.integer else m
                cands.append((v, m, True, "up"))
            elif self.start != -math.inf:  # just below m: into the band under it
                v = float(math.ceil(m) - 1) if self.integer else float(np.nextafter(m, -math.inf))
                cands.append((v, m, False, "down"))
        if not cands:
            return None
        ok = self.evaluate([c[0] for c in cands])[0]
        good = [c for c, flag in zip(cands, ok, strict=True) if flag]
        if not good:
            return None
        base = 0.0 if self.start == -math.inf else self.start
        return min(good, key=lambda c: (abs(c[0] - base), c[3] != "up"))

    def _percentile(self) -> tuple[float, float, bool, str] | None:
        peers = np.delete(self.x, self.firm.gi)
        peers = np.unique(peers[~np.isnan(peers)])
        cands: list[tuple[float, float, bool]] = []
        for peer in peers:
            u = float(peer)
            if u < self.start:
                continue
            if u > self.start:
                cands.append((u, u, True))  # tie with the peers at u
            above = u + 1.0 if self.integer else float(np.nextafter(u, math.inf))
            cands.append((above, u, self.integer))  # pass the peers at u
        if self.integer:  # whole numbers: u + 1 is itself a threshold
            cands = [(v, v, True) for v in sorted({c[0] for c in cands})]
        if not cands:
            return None
        if self.moves_median:
            # imputed peers follow the median, which follows the firm: scan every candidate, then
            # bisect between the first that is enough and the one before it
            hit = np.flatnonzero(self.evaluate([c[0] for c in cands])[0])
            if hit.size == 0:
                return None
            v, thr, inclusive = cands[int(hit[0])]
            if hit[0] > 0 and not self.integer:
                v = _smallest_float(self.ok, cands[int(hit[0]) - 1][0], v, v)
                thr, inclusive = v, True
            return v, thr, inclusive, "up"
        # a higher value never hurts (the firm's fraction rises, its peers' fall): bisect
        if not self.ok(cands[-1][0]):
            return None
        bad, good = -1, len(cands) - 1
        while good - bad > 1:
            mid = (bad + good) // 2
            if self.ok(cands[mid][0]):
                good = mid
            else:
                bad = mid
        v, thr, inclusive = cands[good]
        return v, thr, inclusive, "up"


def _smallest_float(ok: Any, start: float, end: float, guess: float) -> float:
    """The float nearest to ``start`` (exclusive) on the way to ``end`` for which ``ok`` holds.

    ``ok`` is monotone along the way and true at ``end``. ``guess`` (the analytic inversion) is
    checked first with its neighbours; bisection settles anything the float arithmetic moved.
    """
    step = float(np.nextafter(guess, start))
    if ok(guess) and (step == start or not ok(step)):
        return guess
    bad, good = start, end
    if ok(guess):
        good = guess
    else:
        bad = guess
    for _ in range(4000):
        mid = bad + (good - bad) / 2.0
        if mid == bad or mid == good:
            break
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def _row(ind: Indicator, kinds: Mapping[str, str]) -> dict[str, Any]:
    return {
        "indicator": ind.id,
        "name_zh": ind.name.zh,
        "name_en": ind.name.en,
        "group": ind.group,
        "group_kind": kinds[ind.group],
        "kind": ind.rule.kind,
        "unit": ind.unit,
    }


EMPTY = {
    "direction": None,
    "threshold": np.nan,
    "inclusive": None,
    "value": np.nan,
    "change": np.nan,
    "points_after": np.nan,
    "total_after": np.nan,
    "cutoff_after": np.nan,
    "reachable": False,
    "exact": True,
    "verified": None,
}


def nearest_path(  # noqa: C901, PLR0915 - one inversion per rule kind, kept together to stay exact
    framework: Framework,
    data: pd.DataFrame,
    result: ScoreResult | None,
    enterprise_id: str,
    year: Any,
    *,
    target: str | None = None,
    verify: bool = False,
) -> NearestPath:
    """The smallest change of each single indicator that lifts a firm onto the next list.

    Parameters
    ----------
    framework : Framework
    data : pandas.DataFrame
        The enterprise table (raw values).
    result : ScoreResult or None
        ``score(framework, data)``; None scores it here.
    enterprise_id : str
    year
        The firm-year to explain.
    target : str, optional
        Id of the list to reach; by default the list just above the firm's.
    verify : bool
        Re-score the firm's ranking group with every answer (about 40 ms per indicator) and
        record in ``verified`` whether the firm lands on the target list or a better one.

    Returns
    -------
    NearestPath

    Notes
    -----
    The rules — cut-off, rounding, inversion per rule kind, bonus cap, percentile rules (handled
    exactly, peers' points included), stage bounds — are in :mod:`calibrate.explain._nearest`.
    """
    if result is None:
        result = score(framework, data)
    elif result.framework != framework:
        raise ValueError(MSG_FRAMEWORK.format(found=result.framework.id, expected=framework.id))
    fw = framework
    i = locate(result, enterprise_id, year)
    check_data(result, data, i)
    frame = result.frame
    stage = fw.stage_ids[int(result.stage_index[i])]
    pos = int(tier_codes(result)[i])
    current = fw.tiers[pos].id if pos >= 0 else None
    vetoed = bool(frame["vetoed"].iloc[i])
    ranked = result.ranked  # eligible and not vetoed: the firms that compete for seats
    rank = int(frame["rank"].iloc[i]) if ranked[i] else None
    tier_ids = [t.id for t in fw.tiers]
    if target is not None:
        if target not in tier_ids:
            raise ValueError(MSG_TARGET.format(target=target, framework=fw.id, choices=tier_ids))
        t_pos = tier_ids.index(target)
    else:
        t_pos = pos - 1 if pos >= 0 else len(tier_ids) - 1
    reason: str | None = None
    n_seats = 0
    if vetoed:
        reason = "vetoed"
    elif not ranked[i]:
        reason = "ineligible"
    elif not tier_ids:
        reason = "no_lists"
    elif t_pos < 0 or 0 <= pos <= t_pos:
        reason = "top"
    else:
        n_ranked = int((ranked & (result.group_code == result.group_code[i])).sum())
        n_seats = int(tier_seats(fw, t_pos, [n_ranked])[0])
        if n_seats == 0:
            reason = "no_seats"
    target_id = tier_ids[t_pos] if t_pos >= 0 else None
    kinds = {g.id: g.kind for g in fw.groups}
    total = float(frame["total"].iloc[i])
    rows: list[dict[str, Any]] = []
    if reason is not None:
        for ind in fw.indicators:
            row = _row(ind, kinds)
            row.update(
                EMPTY,
                current=float(numeric(data, ind.id, [i])[0]),
                points_now=float(frame[f"pts__{ind.id}"].iloc[i]),
                reason=reason,
            )
            rows.append(row)
        return NearestPath(
            fw,
            enterprise_id,
            year,
            stage,
            current,
            target_id,
            total,
            math.nan,
            math.nan,
            rank,
            n_seats,
            reason,
            pd.DataFrame(rows).set_index("indicator"),
        )

    firm = _Firm(fw, result, data, i, t_pos, n_seats)
    for ind in fw.indicators:
        row = _row(ind, kinds)
        search = _Search(firm, ind)
        row.update(EMPTY, current=search.x0, points_now=search.pts0, reason=None)
        if search.points <= 0:
            row["reason"] = "not_scored"
            rows.append(row)
            continue
        found = search.search()
        if found is not None and ind.id == STAGE_COLUMN:
            st = fw.stages[firm.stage_pos]
            if found[0] < st.revenue_min or (
                st.revenue_max is not None and found[0] >= st.revenue_max
            ):
                found, row["reason"] = None, "stage"
        if found is None:
            if row["reason"] is None:
                row["reason"] = _why_not(search)
            rows.append(row)
            continue
        value, threshold, inclusive, direction = found
        ok, pts, tot, cut = search.evaluate([value])
        row.update(
            direction=direction,
            threshold=threshold,
            inclusive=inclusive,
            value=value,
            change=value - search.x0,
            points_after=float(pts[0]),
            total_after=float(tot[0]),
            cutoff_after=float(cut[0]),
            reachable=bool(ok[0]),
            exact=not search.moves_median,
        )
        if verify:
            row["verified"] = _verify(fw, data, firm, ind, value)
        rows.append(row)
    return NearestPath(
        fw,
        enterprise_id,
        year,
        stage,
        current,
        target_id,
        total,
        firm.cutoff,
        float(from_units(firm.need_units, fw.decimals)),
        rank,
        n_seats,
        None,
        pd.DataFrame(rows).set_index("indicator"),
    )


def _why_not(search: _Search) -> str:
    need = from_units(search.firm.need_units, search.fw.decimals)
    if search.bonus_room <= 0:
        return "bonus_cap"
    if isinstance(search.ind.rule, PercentileRule) or search.points - search.pts0 < need:
        return "max_points"
    return "bonus_cap" if search.bonus_room < need else "max_points"


def _verify(fw: Framework, data: pd.DataFrame, firm: _Firm, ind: Indicator, value: float) -> bool:
    """Re-score the firm's ranking group with the new value: on the target list or better?"""
    group = data.iloc[firm.rows].copy()
    column = numeric(data, ind.id, firm.rows).copy()
    column[firm.gi] = value
    group[ind.id] = column
    res = score(fw, group)
    code = int(tier_codes(res)[firm.gi])
    return bool(0 <= code <= firm.target and not res.frame["vetoed"].iloc[firm.gi])
