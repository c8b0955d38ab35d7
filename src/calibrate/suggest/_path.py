"""The edit path: policy edits found greedily, each kept only if cross-validation says so.

Each round (all inside the training years, on whole firms):

1. **screen** every candidate edit cheaply — refit only the edited column's weight (and the
   intercept) against the current fit's out-of-fold linear predictor, fold by fold;
2. **confirm** the best few with a full constrained points re-fit, out of fold;
3. **accept** the best confirmed edit whose firm-level reduction in out-of-fold log loss exceeds
   :data:`Z_ACCEPT` standard errors (the noise of the comparison); a *drop* is accepted when the
   loss grows by less than one standard error (the one-standard-error rule: a simpler policy
   that fits as well). Nothing accepted → the path ends.

How often an accepted edit would have been chosen is measured on bootstrap samples of firms:
the share of samples in which it has the largest in-sample gain among the screened candidates.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.constraints import ConstraintSet
from calibrate.framework import Framework
from calibrate.suggest._design import N_FOLDS, Design, Structure, paired_gain, raw_values
from calibrate.suggest._directions import Direction
from calibrate.suggest._moves import (
    AddIndicator,
    DropIndicator,
    Edit,
    SetRule,
    edit_indicator,
    guess_unit,
    new_indicator,
    reversed_rule,
    shape_rules,
)
from calibrate.suggest._solver import sigmoid

FloatArray = npt.NDArray[np.float64]

#: Standard errors an edit's cross-validated gain must exceed to be accepted.
Z_ACCEPT = 2.0
#: Candidates confirmed with a full re-fit per round, and screened for the bootstrap share.
CONFIRM, SHARE_POOL = 3, 10
#: Bootstrap samples for "how often chosen".
SHARE_DRAWS = 30
#: Key columns and columns that are never proposed as indicators.
KEYS = frozenset({"enterprise_id", "year", "park", "industry", "carrier", "revenue", "source_row"})


@dataclass
class Step:
    """One step of the path: the structure after it and the evidence for it."""

    step: int
    kind: str  # start | points | direction | shape | add | drop
    structure: Structure
    edit: Edit | None = None
    cv_gain: float = 0.0
    cv_se: float = 0.0
    chosen_share: float | None = None
    text: dict[str, str] = field(default_factory=dict)


@dataclass
class _Fit:
    """The current structure's out-of-fold fit: losses, linear predictors and states per fold."""

    structure: Structure
    loss: FloatArray
    z: dict[int, FloatArray]
    states: dict[int, dict[int, Any]]
    firm_loss: FloatArray


def _cv(
    design: Design, structure: Structure, warm: dict[int, dict[int, Any]] | None = None
) -> _Fit:
    box = design.box(structure)
    F = design.slice(design.matrix(structure), box)
    loss = np.empty(design.rows.size)
    zs: dict[int, FloatArray] = {}
    states: dict[int, dict[int, Any]] = {}
    for k in range(N_FOLDS):
        held = design.fold == k
        _, z, states[k] = design.fit(F, box, (~held).astype(np.float64), (warm or {}).get(k))
        zs[k] = z
        loss[held] = np.logaddexp(0.0, z[held]) - design.y[held] * z[held]
    return _Fit(structure, loss, zs, states, design.by_firm(loss))


# --- screening -----------------------------------------------------------------------------


def _two_params(
    o: FloatArray,
    f: FloatArray,
    y: FloatArray,
    w: FloatArray,
    part: npt.NDArray[np.int64],
    n_parts: int,
    free_t: bool,
) -> tuple[FloatArray, FloatArray]:
    """Per stage set, a weighted logistic fit of ``y`` on offset ``o`` + a + t·f with t ≥ 0.

    Damped Newton steps on all stage sets at once (sums by ``bincount``): a step of more than 4
    on the logit scale is never needed from here and would overshoot where probabilities
    saturate. A set whose slope wants to go negative keeps t = 0 (the edit does not help there).
    """
    a = np.zeros(n_parts)
    t = np.zeros(n_parts)
    free = np.full(n_parts, free_t)
    spread = max(float(np.ptp(f)), 1e-9) if f.size else 1.0

    def total(v: FloatArray) -> FloatArray:
        return np.bincount(part, weights=v, minlength=n_parts).astype(np.float64)

    for _ in range(40):
        p = sigmoid(o + a[part] + t[part] * f)
        r = w * (p - y)
        h = w * p * (1 - p)
        g_a, h_aa = total(r), total(h) + 1e-12
        da = g_a / h_aa
        dt = np.zeros(n_parts)
        if free.any():
            g_t, h_at, h_tt = total(r * f), total(h * f), total(h * f * f)
            det = h_aa * h_tt - h_at * h_at + 1e-12
            da = np.where(free, (h_tt * g_a - h_at * g_t) / det, da)
            dt = np.where(free, (h_aa * g_t - h_at * g_a) / det, 0.0)
        da, dt = np.clip(da, -4, 4), np.clip(dt, -4 / spread, 4 / spread)
        a, t = a - da, t - dt
        neg = free & (t < 0)
        if neg.any():  # pin at 0 and refit the intercept only there
            t[neg], free = 0.0, free & ~neg
        if max(float(np.abs(da).max()), float(np.abs(dt).max())) < 1e-9:
            break
    return a, t


def _theta(state: Any, j: int | None) -> float:
    if state is None or j is None:
        return 0.0
    return float(state[j])


def _new_column(
    design: Design, structure: Structure, edit: Edit, cache: dict[int, Any]
) -> FloatArray:
    """The fraction column an edit gives its indicator (no framework is rebuilt)."""
    found = cache.get(id(edit))
    if found is None:
        fw = structure.framework
        if isinstance(edit, AddIndicator):
            ind = edit.indicator
        else:
            assert isinstance(edit, SetRule)
            ind = replace(fw.indicator(edit.indicator), rule=edit.rule)
        found = (edit, design.column_of(fw, ind))
        cache[id(edit)] = found
    return found[1]


def _screen(design: Design, fit: _Fit, edit: Edit, cache: dict[int, Any]) -> FloatArray:
    """Out-of-fold loss per row after a one-column refit standing in for the edit."""
    ids = fit.structure.core_ids
    ident = edit_indicator(edit)
    j = ids.index(ident) if ident in ids else None
    old = (
        design.column(fit.structure.framework, ident)
        if j is not None
        else np.zeros(design.rows.size)
    )
    if isinstance(edit, DropIndicator):
        new, free = np.zeros_like(old), False
    else:
        new, free = _new_column(design, fit.structure, edit, cache), True
    loss = np.empty(design.rows.size)
    box = design.box(fit.structure)
    part = design.part_codes(box)
    n_parts = len(design.stage_sets(box))
    for k in range(N_FOLDS):
        held = design.fold == k
        theta = np.array([_theta(fit.states[k].get(p_i), j) for p_i in range(n_parts)])[part]
        o = fit.z[k] - theta * old
        a, t = _two_params(o, new, design.y, (~held).astype(np.float64), part, n_parts, free)
        z = o[held] + a[part[held]] + t[part[held]] * new[held]
        loss[held] = np.logaddexp(0.0, z) - design.y[held] * z
    return loss


# --- candidates ----------------------------------------------------------------------------


def _default_group(fw: Framework) -> str:
    core = [g.id for g in fw.groups if g.kind == "core"]
    counts = {g: sum(1 for i in fw.indicators if i.group == g) for g in core}
    return max(core, key=lambda g: (counts[g], -core.index(g)))


def proposable_columns(data: pd.DataFrame, framework: Framework, exclude: set[str]) -> list[str]:
    """Numeric data columns no rule reads (keys, flags, events and future-named ones left out)."""
    from calibrate.outcomes import FUTURE_NAME_PATTERN

    read = set(framework.indicator_ids) | set(framework.penalty_ids) | set(framework.ranking_group)
    out = []
    for col in data.columns:
        name = str(col)
        if name in read or name in KEYS or name in exclude or FUTURE_NAME_PATTERN.search(name):
            continue
        x = raw_values(data, name)
        finite = np.isfinite(x)
        if finite.mean() < 0.5 or np.unique(x[finite]).size < 2:
            continue
        out.append(name)
    return out


def candidates(
    design: Design,
    structure: Structure,
    directions: dict[str, Direction],
    columns: list[str],
    seed: int,
) -> list[Edit]:
    """Every edit the constraints allow from ``structure``."""
    cons: ConstraintSet = design.constraints
    fw = structure.framework
    stages = fw.stage_ids
    y = design.y
    out: list[Edit] = []
    locked = set(cons.frozen) | set(cons.frozen_thresholds) | set(structure.dropped)
    added = {i.id for i in fw.indicators} - set(design.today.indicator_ids)
    for ident in structure.core_ids:
        if ident in locked or ident in added:
            continue
        ind = fw.indicator(ident)
        x = raw_values(design.data, ident)[design.rows]
        d = directions.get(ident)
        if cons.allows("direction") and d is not None and d.points_other_way:
            rev = reversed_rule(ind, x)
            if rev is not None:
                out.append(SetRule(ident, rev, "direction"))
            if cons.allows("shape"):
                for rule in shape_rules(ind, x, y, ind.direction < 0, stages, seed):
                    out.append(SetRule(ident, rule, "direction"))
        if (
            cons.allows("shape")
            and ind.rule.kind != "binary"
            and (d is None or not d.points_other_way)
        ):
            for rule in shape_rules(ind, x, y, ind.direction > 0, stages, seed):
                out.append(SetRule(ident, rule, "shape"))
    if cons.allows("indicators"):
        out += _additions(design, fw, columns, stages, seed)
        out += [
            DropIndicator(i)
            for i in structure.core_ids
            if i not in set(cons.frozen) | set(cons.nonzero) | structure.dropped
            and _droppable(design, structure, i)
        ]
    return out


def _additions(
    design: Design, fw: Framework, columns: list[str], stages: tuple[str, ...], seed: int
) -> list[Edit]:
    from calibrate import metrics

    group = _default_group(fw)
    out: list[Edit] = []
    for col in columns:
        if col in fw.indicator_ids:
            continue
        x = raw_values(design.data, col)[design.rows]
        ok = np.isfinite(x)
        if ok.sum() < 50 or design.y[ok].min() == design.y[ok].max():
            continue
        ascending = metrics.grouped_auc(design.y[ok], x[ok], design.group[ok]) >= 0.5
        probe = new_indicator(col, None, group, stages, guess_unit(x))
        for rule in shape_rules(probe, x, design.y, ascending, stages, seed):
            out.append(AddIndicator(replace(probe, rule=rule)))
    return out


def _droppable(design: Design, structure: Structure, ident: str) -> bool:
    from calibrate.suggest._design import check_feasible

    trial = Structure(structure.framework, structure.dropped | {ident})
    return len(structure.core_ids) - len(trial.dropped) >= 2 and check_feasible(design, trial)


def _after(structure: Structure, edit: Edit) -> Structure:
    if isinstance(edit, DropIndicator):
        return Structure(structure.framework, structure.dropped | {edit.indicator_id})
    return Structure(edit.apply(structure.framework), structure.dropped)


# --- the greedy path -----------------------------------------------------------------------


def search_path(
    design: Design,
    start: Structure,
    directions: dict[str, Direction],
    columns: list[str],
    *,
    max_edits: int,
    seed: int,
    progress: Callable[[str], None] | None = None,
) -> list[Step]:
    """The accepted edits in order, step 0 being today's framework (see the module docstring)."""
    say = progress or (lambda _msg: None)
    steps = [Step(0, "start", start)]
    today = _cv(design, start, None) if design.points_allowed else None
    fit = _cv(design, start)
    if today is not None:
        frozen = Design(**{**design.__dict__, "points_allowed": False})
        today = _cv(frozen, start)
        gain, se = paired_gain(today.firm_loss, fit.firm_loss)
        steps.append(Step(1, "points", start, cv_gain=gain, cv_se=se))
    pool = candidates(design, start, directions, columns, seed)
    cache: dict[int, Any] = {}
    say(f"edit search: {len(pool)} candidate edits")
    while len(steps) - 1 < max_edits and pool:
        chosen = _round(design, fit, pool, seed + len(steps), cache)
        if chosen is None:
            break
        edit, new_fit, gain, se, share = chosen
        steps.append(Step(len(steps), edit.kind, new_fit.structure, edit, gain, se, share))
        say(
            f"edit {len(steps) - 1}: {edit.kind} {edit_indicator(edit)} (gain {gain:.1f} ± {se:.1f})"
        )
        fit = new_fit
        touched = edit_indicator(edit)
        pool = [e for e in pool if edit_indicator(e) != touched]
    return steps


def _round(
    design: Design, fit: _Fit, pool: list[Edit], seed: int, cache: dict[int, Any]
) -> tuple[Edit, _Fit, float, float, float] | None:
    screened = []
    for edit in pool:
        loss = _screen(design, fit, edit, cache)
        gain, _ = paired_gain(fit.firm_loss, design.by_firm(loss))
        screened.append((gain, edit))
    screened.sort(key=lambda t: -t[0])
    best: tuple[Edit, _Fit, float, float] | None = None
    for gain0, edit in screened[:CONFIRM]:
        if gain0 <= 0 and not isinstance(edit, DropIndicator):
            continue
        structure = _after(fit.structure, edit)
        same_k = len(structure.core_ids) == len(fit.structure.core_ids) and not isinstance(
            edit, DropIndicator
        )
        new = _cv(design, structure, fit.states if same_k else None)
        gain, se = paired_gain(fit.firm_loss, new.firm_loss)
        ok = gain >= -se if isinstance(edit, DropIndicator) else gain > Z_ACCEPT * se
        if ok and (best is None or gain > best[2]):
            best = (edit, new, gain, se)
    if best is None:
        return None
    edit, new, gain, se = best
    pool_top = [e for _, e in screened[:SHARE_POOL]]
    share = _chosen_share(design, fit, pool_top, edit, seed, cache)
    return edit, new, gain, se, share


def _chosen_share(
    design: Design, fit: _Fit, pool: list[Edit], chosen: Edit, seed: int, cache: dict[int, Any]
) -> float:
    """Share of bootstrap samples of firms in which ``chosen`` (any variant of the same move on
    the same indicator) has the largest gain among the screened candidates."""
    if chosen not in pool:
        pool = [*pool, chosen]
    rng = np.random.default_rng(seed)
    codes, uniq = pd.factorize(design.firm)
    # in-sample gains per firm for each candidate, from the out-of-fold screen (cheap, honest)
    per_firm = np.vstack(
        [fit.firm_loss - design.by_firm(_screen(design, fit, e, cache)) for e in pool]
    )
    # variants of one edit (bands or goalposts for the same indicator and kind) count as one
    same = np.array(
        [e.kind == chosen.kind and edit_indicator(e) == edit_indicator(chosen) for e in pool]
    )
    wins = 0
    for _ in range(SHARE_DRAWS):
        counts = np.bincount(rng.integers(0, uniq.size, uniq.size), minlength=uniq.size)
        totals = per_firm @ counts
        wins += int(same[int(np.argmax(totals))])
    return wins / SHARE_DRAWS
