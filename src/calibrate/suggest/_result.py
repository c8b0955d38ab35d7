"""The suggestion: a framework in the same schema, its edit path, and the evidence for both."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from calibrate.constraints import ConstraintSet
from calibrate.framework import Framework


@dataclass(frozen=True, eq=False)
class Suggestion:
    """A suggested framework with its evidence.

    Attributes
    ----------
    base, framework : Framework
        Today's framework and the suggested one (same schema, with a ``calibration`` block).
    points : pandas.DataFrame
        One row per core indicator and stage of the suggested framework: ``current``,
        ``suggested``, ``continuous`` (before rounding), ``low`` / ``high`` (bootstrap interval),
        ``change``, ``pinned`` (``frozen`` / ``max_change`` / ``bound`` or empty) and
        ``confident``.
    metrics : pandas.DataFrame
        Held-out metrics, one row per metric (:data:`calibrate.metrics.METRIC_NAMES`), columns
        ``current`` and ``suggested``; computed on :attr:`test_years`, never used for fitting.
    metrics_by_year : pandas.DataFrame
        The same per held-out year (long form).
    path : pandas.DataFrame
        The edit path, one row per step (step 0 = today's framework): ``move``, ``indicator``,
        ``text_zh``, ``text_en``, training and held-out metrics after the step, ``cv_gain`` /
        ``cv_se`` (firm-level reduction of out-of-fold log loss inside the training years),
        ``chosen_share`` (bootstrap) and ``firms_changing_list``.
    directions : pandas.DataFrame
        Direction diagnosis per core indicator of today's framework (see
        :mod:`calibrate.suggest._directions`), with the action taken.
    steps : tuple of Framework
        The framework after each step of :attr:`path` (``steps[k]`` adopts the first k edits).
    """

    base: Framework
    framework: Framework
    points: pd.DataFrame
    metrics: pd.DataFrame
    metrics_by_year: pd.DataFrame
    objective: str
    solver: str
    target: str
    direction: str
    horizon: int
    constraints: ConstraintSet
    train_years: tuple[int, ...]
    test_years: tuple[int, ...]
    n_bootstrap: int
    seed: int
    data_fingerprint: str
    label_counts: dict[str, int] = field(default_factory=dict)
    train_mask: npt.NDArray[np.bool_] = field(
        default_factory=lambda: np.zeros(0, dtype=bool), repr=False
    )
    """Rows of the enterprise table the points were fitted on (labelled, ranked, training)."""
    test_mask: npt.NDArray[np.bool_] = field(
        default_factory=lambda: np.zeros(0, dtype=bool), repr=False
    )
    """Rows the held-out metrics are computed on — use it to measure any other score alike."""
    outcome: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0), repr=False)
    """0/1 per row for the good outcome (the event, or its absence for a bad event)."""
    bootstrap_draws: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    """Every bootstrap replicate's rounded points, long form: ``draw, indicator, stage, points``
    (feeds :class:`calibrate.sensitivity.FromDraws`; each replicate keeps the budget)."""
    warnings: tuple[str, ...] = ()
    """Why parts of the suggestion should not be trusted (few events per point, wrong signs …)."""
    path: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    directions: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    steps: tuple[Framework, ...] = ()

    @property
    def overall(self) -> pd.DataFrame:
        """Held-out metrics side by side (alias of :attr:`metrics`)."""
        return self.metrics

    def diff(self) -> pd.DataFrame:
        """A readable diff: changed points only, largest moves first, with names and intervals."""
        changed = self.points[self.points["change"] != 0].copy()
        changed["abs"] = changed["change"].abs()
        return changed.sort_values(
            ["abs", "indicator", "stage"], ascending=[False, True, True]
        ).drop(columns="abs")

    def at_step(self, k: int) -> Framework:
        """The framework adopting the first ``k`` edits of the path (0 = today's)."""
        return self.steps[k]

    def to_dict(self) -> dict[str, Any]:
        """The ``calibration`` block written into the suggested framework file."""
        assert self.framework.calibration is not None
        return dict(self.framework.calibration)

    def saved(self, path: str | Path) -> Suggestion:
        """:meth:`save`, returning the suggestion whose framework is exactly what was written
        (its block names the draws file beside it) — log or register that one."""
        from calibrate.framework import Framework

        written = self.save(path)
        return replace(self, framework=Framework.load(written))

    def save(self, path: str | Path) -> Path:
        """Write the suggested framework (with its calibration block) as YAML, and beside it
        ``NAME.draws.csv`` (the bootstrap draws a report reads for uncertainty),
        ``NAME.path.csv``, ``NAME.directions.csv``, ``NAME.diff.csv`` and ``NAME.points.csv``
        (UTF-8 with BOM, for Excel)."""
        out = Path(path)
        stem = out.with_suffix("")
        tables = {
            "draws": self.bootstrap_draws,
            "path": self.path,
            "directions": self.directions,
            "diff": self.diff(),
            "points": self.points,
        }
        cal = dict(self.framework.calibration or {})
        cal["bootstrap_draws_file"] = f"{stem.name}.draws.csv" if self.n_bootstrap else None
        written = replace(self.framework, calibration=cal).save(out)
        for name, table in tables.items():
            target = Path(f"{stem}.{name}.csv")
            tmp = target.with_name(target.name + ".tmp")
            table.to_csv(tmp, index=False, encoding="utf-8-sig", lineterminator="\n")
            tmp.replace(target)
        return written
