"""The training problem of a suggestion: rows, folds, fraction columns, and constrained fits.

A *structure* is a framework whose rules (and indicator set) may have been edited while its
points are still today's (an added indicator starts at 0): the constraint box is always built
against today's points, so a cap on change means change from the policy in force, however many
edits precede. :class:`Design` holds the training rows once and gives, for any structure, the
fraction matrix, the box, a constrained fit, and out-of-fold losses by firm.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.constraints import Box, ConstraintSet, project
from calibrate.exceptions import ConstraintError
from calibrate.framework import Framework, Indicator
from calibrate.scoring import ScoreResult, indicator_points
from calibrate.suggest._solver import fit_loglik

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

#: Folds of the cross-validation inside the training years (grouped by firm).
N_FOLDS = 3
#: Training rows kept for the edit search (whole firms are sampled); the final points and their
#: bootstrap use every training row.
SEARCH_ROWS = 40_000


def raw_values(data: pd.DataFrame, column: str) -> FloatArray:
    """A data column as float (text that is not a number becomes missing)."""
    series = data[column]
    if series.dtype == np.float64:
        return series.to_numpy()
    if series.dtype == bool:
        return series.to_numpy(dtype=np.float64)
    return pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


@dataclass
class Structure:
    """A framework under edit: rules and indicator set, today's points, indicators to drop."""

    framework: Framework
    dropped: frozenset[str] = frozenset()

    @property
    def core_ids(self) -> tuple[str, ...]:
        return self.framework.core_indicator_ids


@dataclass(frozen=True)
class Sliced:
    """A fraction matrix cut by stage set: row positions, and F, fixed, y of those rows."""

    n_rows: int
    n_cols: int
    sets: list[list[int]]
    idx: list[IntArray]
    F: list[FloatArray]
    fixed: list[FloatArray]
    y: list[FloatArray]


@dataclass
class Design:
    """Training rows of one suggestion, arranged for fast refits of any structure.

    Attributes
    ----------
    data : DataFrame
        The whole enterprise table (fractions of edited rules are computed on it).
    rows : int array
        Positions (in ``data``) of the training rows used here.
    y : float array
        Oriented outcome (1 = the good outcome) of those rows.
    """

    data: pd.DataFrame
    base_scores: ScoreResult
    constraints: ConstraintSet
    today: Framework
    rows: IntArray
    y: FloatArray
    fixed: FloatArray
    stage: IntArray
    group: IntArray
    firm: IntArray
    fold: IntArray
    points_allowed: bool = True
    _columns: dict[tuple[str, str], FloatArray] = field(default_factory=dict, repr=False)
    _stage_rows: dict[tuple[int, ...], IntArray] = field(default_factory=dict, repr=False)
    _firm_codes: IntArray | None = field(default=None, repr=False)

    # -- construction ------------------------------------------------------------------------
    @classmethod
    def build(
        cls,
        data: pd.DataFrame,
        base_scores: ScoreResult,
        constraints: ConstraintSet,
        y_all: FloatArray,
        train_mask: npt.NDArray[np.bool_],
        seed: int,
        max_rows: int | None = SEARCH_ROWS,
    ) -> Design:
        frame = base_scores.frame
        fixed_all = (frame["bonus"] - frame["deduction"]).to_numpy(dtype=np.float64)
        firm_codes = pd.factorize(data["enterprise_id"], sort=True)[0].astype(np.int64)
        rows = np.flatnonzero(train_mask)
        rng = np.random.default_rng(seed)
        firms = np.unique(firm_codes[rows])
        if max_rows is not None and rows.size > max_rows:
            keep = rng.permutation(firms)[: max(1, int(firms.size * max_rows / rows.size))]
            rows = rows[np.isin(firm_codes[rows], keep)]
            firms = np.unique(firm_codes[rows])
        fold_of_firm = np.zeros(firm_codes.max() + 1 if firm_codes.size else 1, dtype=np.int64)
        fold_of_firm[firms] = rng.permutation(np.arange(firms.size) % N_FOLDS)
        return cls(
            data=data,
            base_scores=base_scores,
            constraints=constraints,
            today=base_scores.framework,
            rows=rows,
            y=y_all[rows],
            fixed=fixed_all[rows],
            stage=base_scores.stage_index[rows].astype(np.int64),
            group=base_scores.group_code[rows].astype(np.int64),
            firm=firm_codes[rows],
            fold=fold_of_firm[firm_codes[rows]],
            points_allowed=constraints.allows("points"),
        )

    # -- fraction columns -------------------------------------------------------------------
    def column(self, framework: Framework, ident: str, *, rows: bool = True) -> FloatArray:
        """Fraction column of one indicator under ``framework`` (cached by rule)."""
        return self.column_of(framework, framework.indicator(ident), rows=rows)

    def column_of(self, framework: Framework, ind: Indicator, *, rows: bool = True) -> FloatArray:
        """Fraction column of an indicator (in ``framework`` or about to be), cached by rule."""
        ident = ind.id
        key = (ident, repr(ind.rule) + ind.missing)
        full = self._columns.get(key)
        if full is None:
            if ident in self.today.indicator_ids and ind == self.today.indicator(ident):
                pos = self.today.indicator_ids.index(ident)
                full = np.ascontiguousarray(self.base_scores.fractions[:, pos])
            else:
                full = np.empty(len(self.data))
                indicator_points(
                    framework,
                    ind,
                    raw_values(self.data, ident),
                    self.base_scores.stage_index,
                    self.base_scores.group_code,
                    fraction_out=full,
                )
            self._columns[key] = full
        return full[self.rows] if rows else full

    def matrix(self, structure: Structure, *, rows: bool = True) -> FloatArray:
        """Fraction matrix of the structure's core indicators (training rows or all rows)."""
        fw = structure.framework
        return np.column_stack([self.column(fw, i, rows=rows) for i in structure.core_ids])

    # -- constraints -------------------------------------------------------------------------
    def box(self, structure: Structure) -> Box:
        """The constraint box of a structure, against today's points; dropped rows pinned at 0."""
        box = self.constraints.box(structure.framework)
        if not self.points_allowed:
            box.lo, box.hi = box.current.copy(), box.current.copy()
        for r, ident in enumerate(box.ids):
            if ident in structure.dropped:
                box.lo[r] = 0.0
                box.hi[r] = 0.0
        if structure.dropped:
            box.raise_if_infeasible(structure.framework.id)
        return box

    def stage_sets(self, box: Box) -> list[list[int]]:
        """Stages fitted together: all of them when points are the same across stages."""
        n = len(box.stages)
        return [list(range(n))] if box.same_across_stages else [[c] for c in range(n)]

    # -- fits --------------------------------------------------------------------------------
    def rows_of(self, cset: list[int]) -> IntArray:
        """Positions (in this design's rows) of the stages in ``cset`` (cached)."""
        key = tuple(cset)
        found = self._stage_rows.get(key)
        if found is None:
            found = np.flatnonzero(np.isin(self.stage, cset))
            self._stage_rows[key] = found
        return found

    def slice(self, F: FloatArray, box: Box) -> Sliced:
        """The fraction matrix cut into its stage sets once, for many fits (folds, bootstrap)."""
        sets = self.stage_sets(box)
        idx = [self.rows_of(c) for c in sets]
        return Sliced(
            F.shape[0],
            F.shape[1],
            sets,
            idx,
            [np.ascontiguousarray(F[i]) for i in idx],
            [self.fixed[i] for i in idx],
            [self.y[i] for i in idx],
        )

    def fit(
        self,
        F: FloatArray | Sliced,
        box: Box,
        weight: FloatArray,
        states: dict[int, FloatArray | None] | None = None,
        *,
        predict: bool = True,
    ) -> tuple[FloatArray, FloatArray, dict[int, FloatArray | None]]:
        """Constrained loglik fit per stage set: continuous points, linear predictor, states.

        The linear predictor ``α + β·(F·w + fixed)`` is that of the continuous optimum (the
        states), for every row of ``F`` — rows with weight 0 included, which is how held-out
        folds are predicted. ``predict=False`` skips it (zeros), for refits that need only the
        points (the bootstrap).
        """
        parts = F if isinstance(F, Sliced) else self.slice(F, box)
        points = np.empty_like(box.current)
        z = np.zeros(parts.n_rows)
        out_states: dict[int, FloatArray | None] = {}
        k = parts.n_cols
        for p_i, cset in enumerate(parts.sets):
            idx, Fp, fixed, y = parts.idx[p_i], parts.F[p_i], parts.fixed[p_i], parts.y[p_i]
            c0 = cset[0]
            lo, hi = box.lo[:, c0], box.hi[:, c0]
            w0 = project(np.clip(box.current[:, c0], lo, hi), lo, hi, box.budget, box.groups)
            start = (states or {}).get(p_i)
            if start is not None and not _feasible(start, lo, hi):
                start = None
            wt = weight[idx]
            w, state = fit_loglik(Fp, fixed, y, wt, w0, lo, hi, box.budget, box.groups, state=start)
            out_states[p_i] = state
            for c in cset:
                points[:, c] = w
            if not predict:
                continue
            if state is None:  # nothing to learn: a constant predictor at the base rate
                rate = float(np.clip((wt @ y) / max(wt.sum(), 1e-12), 1e-6, 1 - 1e-6))
                z[idx] = np.log(rate / (1 - rate))
            else:
                z[idx] = Fp @ state[:k] + state[k] + state[k + 1] * fixed
        return points, z, out_states

    def part_codes(self, box: Box) -> IntArray:
        """The stage set of every row (index into :meth:`stage_sets`)."""
        out = np.zeros(self.rows.size, dtype=np.int64)
        for p_i, cset in enumerate(self.stage_sets(box)):
            out[self.rows_of(cset)] = p_i
        return out

    def by_firm(self, values: FloatArray) -> FloatArray:
        """Sum of per-row values per training firm (the unit the bootstrap and tests resample)."""
        if self._firm_codes is None:
            self._firm_codes = pd.factorize(self.firm)[0]
        return np.bincount(self._firm_codes, weights=values).astype(np.float64)


def _feasible(state: FloatArray, lo: FloatArray, hi: FloatArray) -> bool:
    k = lo.size
    theta, beta = state[:k], state[k + 1]
    return bool(np.all(theta >= beta * lo - 1e-9) and np.all(theta <= beta * hi + 1e-9))


def paired_gain(old: FloatArray, new: FloatArray) -> tuple[float, float]:
    """Mean firm-level loss reduction from ``old`` to ``new`` (totals) and its standard error."""
    diff = old - new
    n = diff.size
    if n < 2:
        return float(diff.sum()), float("inf")
    return float(diff.sum()), float(diff.std(ddof=1) * np.sqrt(n))


def check_feasible(design: Design, structure: Structure) -> bool:
    """Whether the constraints can be met for this structure (infeasible candidates are skipped)."""
    try:
        design.box(structure)
    except ConstraintError:
        return False
    return True
