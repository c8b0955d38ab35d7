"""Policy edits a suggestion can propose, one class per kind, and how candidates are made.

Every edit changes the *structure* of a framework — an indicator's rule or the indicator set —
and is followed by a points re-fit, so each step of an edit path is a whole policy. Kinds:

* :class:`SetRule` with ``kind="direction"`` — reverse a rule whose indicator predicts the
  outcome the other way (a ``linear`` rule with ``low > high``, descending bands);
* :class:`SetRule` with ``kind="shape"`` — goalposts, band thresholds/values or a count's cap
  re-fitted to the outcome: monotone in the rule's direction, thresholds snapped to numbers a
  policy text would print, at most :data:`MAX_BANDS` bands, each holding at least
  :data:`MIN_BAND_SHARE` of the firms (split points from optbinning's optimal binning);
* :class:`AddIndicator` — a data column no rule reads, with a fitted rule, in a core group;
* :class:`DropIndicator` — an indicator whose removal does not lower the cross-validated fit.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from calibrate.framework import Framework
from calibrate.framework.model import (
    Band,
    BandsRule,
    BinaryRule,
    CountRule,
    Indicator,
    LinearRule,
    Name,
    PercentileRule,
    Provenance,
    value_at,
)

FloatArray = npt.NDArray[np.float64]

MAX_BANDS = 5
MIN_BAND_SHARE = 0.05
#: Rows used to find split points (a sample: optimal binning costs ~0.2 s per 40k rows).
BINNING_ROWS = 10_000
_NICE = (1.0, 2.0, 2.5, 5.0)


# --- edits ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SetRule:
    """Give an indicator a new rule (``kind`` is ``direction`` or ``shape``)."""

    indicator: str
    rule: Any
    kind: str

    def apply(self, framework: Framework) -> Framework:
        inds = tuple(
            replace(i, rule=self.rule) if i.id == self.indicator else i
            for i in framework.indicators
        )
        return framework._rebuild(indicators=inds)

    def text(self, framework: Framework, lang: str) -> str:
        ind = framework.indicator(self.indicator)
        name = ind.name.zh if lang == "zh" else ind.name.en
        rule = describe_rule(self.rule, ind.unit, lang)
        if self.kind == "direction":
            return (
                f"将“{name}”改为越低越好：{rule}"
                if lang == "zh" and _descending(self.rule)
                else f"将“{name}”改为越高越好：{rule}"
                if lang == "zh"
                else f"Reverse “{name}”: {rule}"
            )
        return f"重新设定“{name}”的计分标准：{rule}" if lang == "zh" else f"Re-fit “{name}”: {rule}"


@dataclass(frozen=True)
class AddIndicator:
    """Add a data column as a new core indicator (0 points until the re-fit gives it some)."""

    indicator: Indicator
    kind: str = "add"

    def apply(self, framework: Framework) -> Framework:
        return framework._rebuild(indicators=(*framework.indicators, self.indicator))

    def text(self, framework: Framework, lang: str) -> str:
        ind = self.indicator
        rule = describe_rule(ind.rule, ind.unit, lang)
        group = framework.group(ind.group).name
        if lang == "zh":
            return f"新增指标“{ind.id}”（归入“{group.zh}”）：{rule}"
        return f"Add indicator “{ind.id}” (group “{group.en}”): {rule}"


@dataclass(frozen=True)
class DropIndicator:
    """Remove an indicator (its points go to the others in the re-fit)."""

    indicator_id: str
    kind: str = "drop"

    def apply(self, framework: Framework) -> Framework:
        return framework  # dropped indicators are pinned at 0 points, removed when written

    def text(self, framework: Framework, lang: str) -> str:
        name = framework.indicator(self.indicator_id).name
        return f"删除指标“{name.zh}”" if lang == "zh" else f"Drop indicator “{name.en}”"


Edit = SetRule | AddIndicator | DropIndicator


def edit_indicator(edit: Edit) -> str:
    """The indicator an edit is about."""
    if isinstance(edit, AddIndicator):
        return edit.indicator.id
    if isinstance(edit, DropIndicator):
        return edit.indicator_id
    return edit.indicator


# --- numbers a policy text would print -----------------------------------------------------


def nice(value: float, *, share: bool = False) -> float:
    """``value`` snapped to 1, 2, 2.5 or 5 × 10^k (whole percentages for shares)."""
    if not math.isfinite(value) or value == 0:
        return 0.0
    if share and abs(value) <= 1.5:
        return round(value, 2) + 0.0
    sign = 1.0 if value > 0 else -1.0
    mag = abs(value)
    exp = math.floor(math.log10(mag))
    best = min(
        (m * 10.0**e for e in (exp - 1, exp, exp + 1) for m in _NICE),
        key=lambda c: (abs(math.log(c / mag)), c),
    )
    return float(f"{sign * best:.12g}")


def is_share(unit: str, x: FloatArray) -> bool:
    """Whether values are shares or rates (fractions), so thresholds are whole percentages."""
    finite = x[np.isfinite(x)]
    return unit.strip() in ("%", "share", "ratio", "比例", "占比") or (
        finite.size > 0 and float(np.abs(finite).max()) <= 1.5
    )


# --- rule descriptions ---------------------------------------------------------------------


def _fmt(v: float) -> str:
    return f"{v:g}"


def _descending(rule: Any) -> bool:
    if isinstance(rule, LinearRule):
        return value_at(rule.high, _first_stage(rule.high)) < value_at(
            rule.low, _first_stage(rule.low)
        )
    if isinstance(rule, BandsRule):
        bands = (
            rule.bands_at(next(iter(rule.bands))) if isinstance(rule.bands, Mapping) else rule.bands
        )
        return len(bands) > 1 and bands[0].value > bands[-1].value
    return False


def _first_stage(value: Any) -> str:
    return next(iter(value)) if isinstance(value, Mapping) else ""


def describe_rule(rule: Any, unit: str, lang: str) -> str:
    """One line a policy text could print for a rule (first stage's parameters if they differ)."""
    u = "" if unit in ("share", "count", "value", "fraction", "ratio") else unit
    zh = lang == "zh"
    if u and not zh and u[:1].isascii() and u[:1].isalpha():
        u = f" {u}"
    if isinstance(rule, LinearRule):
        lo = value_at(rule.low, _first_stage(rule.low))
        hi = value_at(rule.high, _first_stage(rule.high))
        if zh:
            return f"{_fmt(lo)}{u}得0分，{_fmt(hi)}{u}得满分，其间按线性插值"
        return f"0 at {_fmt(lo)}{u}, full points at {_fmt(hi)}{u}, linear in between"
    if isinstance(rule, BandsRule):
        first = next(iter(rule.bands)) if isinstance(rule.bands, Mapping) else ""
        bands: tuple[Band, ...] = rule.bands_at(first)
        parts = [
            (
                f"≥{_fmt(b.min)}{u}得{round(b.value * 100):d}%"
                if zh
                else f"≥{_fmt(b.min)}{u}: {round(b.value * 100):d} %"
            )
            for b in bands
        ]
        return ("；" if zh else "; ").join(parts)
    if isinstance(rule, CountRule):
        per = value_at(rule.per_unit, _first_stage(rule.per_unit))
        return (
            f"每{u or '项'}{_fmt(per)}分，封顶"
            if zh
            else f"{_fmt(per)} points per {u or 'unit'}, capped"
        )
    if isinstance(rule, BinaryRule):
        return "有则得满分" if zh else "full points if present"
    if isinstance(rule, PercentileRule):
        return "按组内百分位计分" if zh else "by percentile within the ranking group"
    return str(rule)


# --- shapes fitted to the outcome -----------------------------------------------------------


@dataclass(frozen=True)
class Bins:
    """Monotone bins of one column against the outcome: split points and fraction per bin."""

    splits: tuple[float, ...]
    values: tuple[float, ...]  # fraction of points per bin, len(splits) + 1, monotone


def fit_bins(
    x: FloatArray, y: FloatArray, ascending: bool, *, share: bool, seed: int = 0
) -> Bins | None:
    """Split points from optbinning (monotone), snapped to printable numbers, values by PAV.

    Returns None when no split survives (the column carries no monotone signal here).
    """
    from optbinning import OptimalBinning
    from sklearn.isotonic import isotonic_regression

    ok = np.isfinite(x)
    xs, ys = x[ok], y[ok]
    if xs.size < 50 or np.unique(xs).size < 2 or ys.min() == ys.max():
        return None
    if xs.size > BINNING_ROWS:
        pick = np.random.default_rng(seed).choice(xs.size, BINNING_ROWS, replace=False)
        xb, yb = xs[pick], ys[pick]
    else:
        xb, yb = xs, ys
    ob = OptimalBinning(
        dtype="numerical",
        monotonic_trend="ascending" if ascending else "descending",
        max_n_bins=MAX_BANDS,
        min_bin_size=MIN_BAND_SHARE,
    )
    ob.fit(xb, yb.astype(int))
    splits = sorted({nice(float(s), share=share) for s in np.asarray(ob.splits, dtype=float)})
    splits = _enough_firms(xs, splits)
    if not splits:
        return None
    pos = np.searchsorted(np.asarray(splits), xs, side="right")
    n = np.bincount(pos, minlength=len(splits) + 1).astype(float)
    ev = np.bincount(pos, weights=ys, minlength=len(splits) + 1)
    rate = isotonic_regression(
        ev / np.maximum(n, 1), sample_weight=np.maximum(n, 1e-9), increasing=ascending
    )
    lo, hi = float(rate.min()), float(rate.max())
    if hi - lo < 1e-9:
        return None
    frac = (rate - lo) / (hi - lo)
    values = tuple(float(round(v, 1)) + 0.0 for v in frac)
    return Bins(tuple(splits), values)


def _enough_firms(xs: FloatArray, splits: list[float]) -> list[float]:
    """Drop split points that leave a band with fewer than MIN_BAND_SHARE of the firms."""
    out = list(splits)
    changed = True
    while changed and out:
        changed = False
        pos = np.searchsorted(np.asarray(out), xs, side="right")
        share = np.bincount(pos, minlength=len(out) + 1) / xs.size
        small = np.flatnonzero(share < MIN_BAND_SHARE)
        if small.size:
            b = int(small[0])
            del out[min(b, len(out) - 1)]
            changed = True
    return out


def bands_rule(bins: Bins, floor: float) -> BandsRule:
    """A band table scoring ``bins``: ``floor`` opens the first band (below it scores 0)."""
    mins = (floor, *bins.splits)
    return BandsRule(
        tuple(Band(float(m), float(v)) for m, v in zip(mins, bins.values, strict=True))
    )


def linear_rule(bins: Bins, ascending: bool) -> LinearRule:
    """Goalposts at the first and last split point (0 at one, full points at the other)."""
    a, b = bins.splits[0], bins.splits[-1]
    if a == b:
        b = a * 2 if a else 1.0
    return LinearRule(low=a, high=b) if ascending else LinearRule(low=b, high=a)


def floor_of(x: FloatArray, *, share: bool) -> float:
    """A printable number at or below every observed value (opens a descending band table)."""
    finite = x[np.isfinite(x)]
    lo = float(finite.min()) if finite.size else 0.0
    if lo >= 0:
        return 0.0
    snapped = nice(lo, share=share)
    return snapped if snapped <= lo else snapped * 2


# --- candidates ----------------------------------------------------------------------------


def reversed_rule(ind: Indicator, x: FloatArray) -> Any | None:
    """Today's rule pointing the other way; None for a yes/no rule.

    A ``linear`` rule swaps its goalposts; a one-table ``bands`` rule keeps its thresholds and
    reverses its values; any other kind (percentile, count, per-stage bands) becomes a
    "less is better" ``linear`` rule between the 5th and 95th percentile of the values, snapped.
    """
    rule = ind.rule
    if isinstance(rule, BinaryRule):
        return None
    if isinstance(rule, LinearRule):
        return LinearRule(low=rule.high, high=rule.low)
    share = is_share(ind.unit, x)
    if isinstance(rule, BandsRule) and not isinstance(rule.bands, Mapping) and rule.bands:
        bands = tuple(rule.bands)
        if rule.value_is == "fraction":
            values = [b.value for b in bands]
            mins = [floor_of(x, share=share), *(b.min for b in bands)]
            if mins[0] < mins[1]:
                rev = [*values[::-1], 0.0]
                pairs = zip(mins, rev, strict=True)
                return BandsRule(tuple(Band(float(m), float(v)) for m, v in pairs))
    finite = x[np.isfinite(x)]
    if finite.size < 2:
        return None
    lo, hi = (nice(float(q), share=share) for q in np.quantile(finite, (0.05, 0.95)))
    if hi <= lo:
        return None
    return LinearRule(low=hi, high=lo)


def shape_rules(
    ind: Indicator,
    x: FloatArray,
    y: FloatArray,
    ascending: bool,
    stages: tuple[str, ...],
    seed: int,
) -> list[Any]:
    """Rules re-fitted to the outcome in one direction: a band table, and goalposts or a cap."""
    share = is_share(ind.unit, x)
    bins = fit_bins(x, y, ascending, share=share, seed=seed)
    if bins is None:
        return []
    out: list[Any] = []
    if ascending:  # the lowest bin has fraction 0: it is "below the first band"
        pairs = zip(bins.splits, bins.values[1:], strict=True)
        out.append(BandsRule(tuple(Band(float(m), float(v)) for m, v in pairs)))
    else:
        floor = floor_of(x, share=share)
        if floor < bins.splits[0]:
            out.append(bands_rule(bins, floor))
    if isinstance(ind.rule, CountRule) and ascending and bins.splits[-1] > 0:
        out.append(count_rule_with_cap(ind, bins.splits[-1], stages))
    else:
        out.append(linear_rule(bins, ascending))
    return out


def count_rule_with_cap(ind: Indicator, cap: float, stages: tuple[str, ...]) -> CountRule:
    """A count rule reaching the indicator's points at ``cap`` units, in every stage."""
    old = ind.rule.per_unit if isinstance(ind.rule, CountRule) else 1.0
    per = {s: (ind.points[s] / cap if ind.points[s] > 0 else value_at(old, s)) for s in stages}
    if len(set(per.values())) == 1:
        return CountRule(next(iter(per.values())))
    return CountRule(per)


def guess_unit(x: FloatArray) -> str:
    """A neutral unit word for a data column: share, count or value."""
    finite = x[np.isfinite(x)]
    if is_share("", finite):
        return "share"
    if finite.size and np.all(finite == np.round(finite)):
        return "count"
    return "value"


def new_indicator(
    column: str, rule: Any, group: str, stages: tuple[str, ...], unit: str = "value"
) -> Indicator:
    """A data column as an indicator with 0 points (the re-fit decides its points)."""
    return Indicator(
        id=column,
        name=Name(zh=column, en=column),
        unit=unit,
        group=group,
        rule=rule,
        points={s: 0.0 for s in stages},
        provenance=Provenance(
            "reconstructed",
            reasoning=(
                f"proposed by calibrate suggest: data column {column!r}, read by no rule of the "
                "base framework, predicted the outcome in cross-validation on the training years"
            ),
        ),
    )
