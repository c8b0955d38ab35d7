"""Everything a report can show, assembled from files: frameworks, data, events, target.

:func:`report_inputs` is what ``calibrate report`` calls. Given a suggested framework it reads
the ``calibration`` block and the stored bootstrap draws beside the YAML, so the standalone report
shows what the demo's report shows for the same inputs: calibration evidence, the edit path,
uncertainty from the stored draws (never a random re-draw when draws exist), warnings.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from calibrate.framework import Framework
from calibrate.report._data import latest_year, year_scores
from calibrate.report.calibration import read_calibration
from calibrate.report.html import ReportInputs

__all__ = ["DIRICHLET_DRAWS", "report_inputs"]

#: Draws of the points when the candidate has no stored bootstrap draws (a sensitivity check,
#: labelled as such in the report).
DIRICHLET_DRAWS = 300


def report_inputs(  # noqa: PLR0913 - public entry: keyword options mirror the report command
    base: Framework,
    candidate: Framework,
    data: pd.DataFrame,
    *,
    source: str | Path | None = None,
    events: pd.DataFrame | None = None,
    target: str | None = None,
    horizon: int | None = None,
    year: int | None = None,
    seed: int = 0,
    direction: str | None = None,
) -> ReportInputs:
    """Score, compare and measure rank uncertainty for a report of ``base`` vs ``candidate``.

    Parameters
    ----------
    base, candidate : Framework
    data : DataFrame
        The validated enterprise-year table.
    source : path, optional
        The candidate's YAML file (its ``bootstrap_draws_file`` is read from beside it).
    events : DataFrame, optional
    target : str, optional
        Default: the calibration block's target (when events are given).
    horizon : int, optional
        Default: the calibration block's horizon, else 1.
    direction : {"higher", "lower"}, optional
        The target's direction when :mod:`calibrate.outcomes` does not know it (default: the
        calibration block's, for its own target).
    year : int, optional
        The year under review (default: the latest in ``data``).
    seed : int
        Seed of the Dirichlet draws used when no stored draws exist.
    """
    from calibrate.compare import compare
    from calibrate.scoring import score
    from calibrate.sensitivity import FromDraws, rank_uncertainty

    cal = read_calibration(candidate, source)
    if events is not None and target is None and cal is not None:
        target = cal.target
    if horizon is None:
        horizon = cal.horizon if cal is not None and cal.horizon else 1
    base_scores, cand_scores = score(base, data), score(candidate, data)
    comparison = compare(
        base,
        candidate,
        data,
        events=events if target is not None else None,
        target=target,
        horizon=horizon,
        direction=direction
        if direction is not None or cal is None or cal.target != target
        else cal.direction,
        base_scores=base_scores,
        candidate_scores=cand_scores,
    )
    year = year if year is not None else latest_year(cand_scores)
    scores_year = year_scores(cand_scores, year) if year is not None else cand_scores
    if cal is not None and cal.draws is not None:
        uncertainty = rank_uncertainty(
            candidate, scores=scores_year, weights=FromDraws(cal.draws), n_draws=None, seed=seed
        )
    else:
        uncertainty = rank_uncertainty(
            candidate, scores=scores_year, weights="dirichlet", n_draws=DIRICHLET_DRAWS, seed=seed
        )
    return ReportInputs(
        base=base,
        candidate=candidate,
        comparison=comparison,
        sensitivity=uncertainty,
        data=data,
        base_scores=base_scores,
        candidate_scores=cand_scores,
        calibration=cal,
        year=year,
    )
