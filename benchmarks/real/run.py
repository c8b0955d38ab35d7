"""Run the real-data benchmark and print the comparison table (markdown).

``python -m benchmarks.real --out real_data.md [--datasets credit hmda patents] [--bootstrap 20]``

For every data set: the starting framework, ``suggest`` (points only, objective ``loglik``),
``suggest`` with all moves (once the engine has them), ``suggest`` with objective ``top10``, and
the three baselines — every row measured on the suggestion's own training rows
(``Suggestion.train_mask``) and held-out rows (``Suggestion.test_mask``) with the outcome it scored
(``Suggestion.outcome``), by :func:`calibrate.suggest.evaluate_ranking`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from benchmarks.real import baselines, datasets

from calibrate import metrics
from calibrate.constraints import ConstraintSet
from calibrate.framework import Framework
from calibrate.scoring import score
from calibrate.suggest import Suggestion, evaluate_policy, evaluate_ranking, suggest

POINTS_ONLY: tuple[str, ...] = ("points",)
#: The within-group AUC's key: ``metrics.AUC_WITHIN_GROUP`` once the metric vocabulary (issue 11)
#: lands, ``"auc"`` before.
AUC = str(getattr(metrics, "AUC_WITHIN_GROUP", "auc"))
HEADER = """## Real public data: suggest against logistic regression, optbinning and FasterRisk

Reproduce: `pip install -e .[dev]` then `python -m benchmarks.real --out real_data.md --seed {seed}
--bootstrap {bootstrap}` (FasterRisk installs itself into `~/.cache/calibrate-bench/fasterrisk-venv`
on first run). Every method sees the starting framework's indicator columns and exactly the
suggestion's training and held-out rows. The cross-sectional sets hold out a fixed seeded
stratified 30 % of rows, passed to `suggest` as `--split-column split` (one data year, no
invented years); the firm panel holds out its last three labelled years. Starting
frameworks (`benchmarks/real/frameworks/`) were committed before any fit. For a bad event the
outcome scored is its absence, so higher is better in every column.

"""
ALL_MOVES = "all"


@dataclass(frozen=True, eq=False)
class CalibrateRun:
    """Training and held-out metrics of the starting and the suggested framework."""

    suggestion: Suggestion
    train: dict[str, dict[str, float]]  # {"current" | "suggested": ranking metrics}
    test: dict[str, dict[str, float]]


def constraint_set(moves: Sequence[str] | str) -> ConstraintSet:
    """Whole points and the moves allowed (names or ``"all"``), through the constraints reader,
    which owns their parsing."""
    names = moves if isinstance(moves, str) else list(moves)
    return ConstraintSet.from_dict({"granularity": 1, "moves": names})


def run_calibrate(
    framework: Framework,
    data: pd.DataFrame,
    events: pd.DataFrame,
    target: str,
    *,
    moves: Sequence[str] | str,
    objective: str,
    seed: int,
    train_years: Sequence[int],
    test_years: Sequence[int],
    direction: str,
    n_bootstrap: int = 50,
    split_column: str | None = None,
) -> CalibrateRun | None:
    """``suggest`` through the library API, with the training and held-out metrics of both
    frameworks re-measured here (and checked against the engine's own)."""
    constraints = constraint_set(moves)
    found = suggest(
        framework,
        data,
        events,
        target,
        horizon=1,
        constraints=constraints,
        objective=objective,  # type: ignore[arg-type]
        train_years=None if split_column else train_years,
        test_years=None if split_column else test_years,
        split_column=split_column,
        n_bootstrap=n_bootstrap,
        seed=seed,
        progress=False,
        direction=direction,  # type: ignore[arg-type]
    )
    y = found.outcome
    train: dict[str, dict[str, float]] = {}
    test: dict[str, dict[str, float]] = {}
    for name, fw in (("current", found.base), ("suggested", found.framework)):
        result = score(fw, data)
        train[name] = evaluate_policy(y[found.train_mask], result, found.train_mask)
        test[name] = evaluate_policy(y[found.test_mask], result, found.test_mask)
    for name in ("current", "suggested"):  # the engine's own held-out figures must agree
        engine = found.metrics.loc[AUC, name]
        if not np.isclose(engine, test[name][AUC], equal_nan=True):
            raise RuntimeError(
                f"held-out {AUC} of {name}: {test[name][AUC]} here, {engine} in suggest"
            )
    return CalibrateRun(found, train, test)


def _row(
    method: str, train: dict[str, float], test: dict[str, float], note: str = ""
) -> dict[str, Any]:
    return {
        "method": method,
        "train_auc": train[AUC],
        "test_auc": test[AUC],
        "test_prec_top10": test["prec_top10"],
        "note": note,
    }


def _empty(method: str, note: str) -> dict[str, Any]:
    nan = float("nan")
    return {
        "method": method,
        "train_auc": nan,
        "test_auc": nan,
        "test_prec_top10": nan,
        "note": note,
    }


def benchmark(
    ds: datasets.RealDataset, *, seed: int, n_bootstrap: int
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Every row of the table for one data set, and the facts for its heading."""
    data = ds.enterprises

    def calibrate_rows(moves: Sequence[str] | str, objective: str) -> CalibrateRun | None:
        run = run_calibrate(
            ds.framework, data, ds.events, ds.target, moves=moves, objective=objective, seed=seed,
            train_years=ds.train_years, test_years=ds.test_years, direction=ds.direction,
            n_bootstrap=n_bootstrap, split_column=ds.split_column,
        )  # fmt: skip
        if run is not None:
            _check_rows(ds, run.suggestion)
        return run

    points = calibrate_rows(POINTS_ONLY, "loglik")
    assert points is not None  # points-only always runs
    found = points.suggestion
    rows = [
        _row("starting framework", points.train["current"], points.test["current"]),
        _row("suggest: points (loglik)", points.train["suggested"], points.test["suggested"]),
    ]
    everything = calibrate_rows(ALL_MOVES, "loglik")
    rows.append(
        _row(
            "suggest: all moves (loglik)",
            everything.train["suggested"],
            everything.test["suggested"],
        )
        if everything is not None
        else _empty(
            "suggest: all moves (loglik)", "not available: this engine re-weights points only"
        )
    )
    top = calibrate_rows(ALL_MOVES if everything is not None else POINTS_ONLY, "top10")
    assert top is not None
    label = "all moves" if everything is not None else "points"
    rows.append(_row(f"suggest: {label} (top10)", top.train["suggested"], top.test["suggested"]))
    rows += _baseline_rows(ds, found)
    facts = {
        "train": int(found.train_mask.sum()),
        "test": int(found.test_mask.sum()),
        "test_rate": float(found.outcome[found.test_mask].mean()),
        "outcome": found.framework.calibration["outcome_scored"]
        if found.framework.calibration
        else "",
        "points": _points_line(found),
        "path": _path_lines(everything.suggestion) if everything is not None else [],
        "against": _against_rule(ds, found),
        "warnings": found.warnings,
    }
    return pd.DataFrame(rows), facts


def _points_line(found: Suggestion) -> str:
    """``id start → suggested [bootstrap interval]`` for every core indicator (one stage); an
    interval that never leaves 0 is labelled pinned, not read as a confident zero."""
    parts = []
    for r in found.points.itertuples():
        interval = "" if np.isnan(r.low) else f" [{r.low:g}–{r.high:g}]"
        if r.high == 0:
            interval = f" [{r.low:g}–{r.high:g}, pinned at the lower bound]"
        parts.append(f"`{r.indicator}` {r.current:g} → {r.suggested:g}{interval}")
    return ", ".join(parts)


def _against_rule(ds: datasets.RealDataset, found: Suggestion) -> str:
    """Indicators whose raw value, on the training rows, ranks with the outcome scored in the
    opposite direction to their rule (Spearman ρ, missing values left out)."""
    y = found.outcome[found.train_mask]
    parts = []
    for ind in ds.framework.indicators:
        raw = ds.enterprises[ind.id].to_numpy(dtype=np.float64)[found.train_mask]
        seen = ~np.isnan(raw)
        rho = metrics.spearman(raw[seen], y[seen])
        assert isinstance(rho, float)
        if rho * ind.direction < 0:
            parts.append(f"`{ind.id}` (rule {'+' if ind.direction > 0 else '−'}, ρ = {rho:+.3f})")
    return ", ".join(parts) or "none"


def _path_lines(found: Suggestion) -> list[str]:
    """The edit path in words (``Suggestion.path.text_en``, once the engine writes one)."""
    path = getattr(found, "path", None)
    if not isinstance(path, pd.DataFrame) or "text_en" not in path.columns:
        return []
    column = f"held_out_{AUC}"
    lines = []
    for k, row in enumerate(path.itertuples(index=False)):
        after = getattr(row, column, None) if column in path.columns else None
        tail = f" — held-out AUC {after:.3f}" if isinstance(after, float) else ""
        lines.append(f"{k}. {row.text_en}{tail}")
    return lines


def _check_rows(ds: datasets.RealDataset, found: Suggestion) -> None:
    """The engine's held-out rows must be exactly the converter's ``test`` rows (and train alike)."""
    split = ds.enterprises["split"].to_numpy()
    if not (
        np.array_equal(found.test_mask, split == "test")
        and np.array_equal(found.train_mask, split == "train")
    ):
        raise RuntimeError(
            f"{ds.key}: suggest's training/held-out rows differ from the split column"
        )


def _baseline_rows(ds: datasets.RealDataset, found: Suggestion) -> list[dict[str, Any]]:
    x = ds.enterprises[ds.indicator_ids].astype(np.float64)
    group = ds.enterprises["year"].to_numpy()  # the frameworks rank within each data year
    tr, te, y = found.train_mask, found.test_mask, found.outcome
    rows = []
    for method, fit in baselines.BASELINES.items():
        out = fit(x[tr].reset_index(drop=True), y[tr], x[te].reset_index(drop=True))
        if out.train is None or out.test is None:
            rows.append(_empty(method, out.note))
            continue
        rows.append(
            _row(
                method,
                evaluate_ranking(y[tr], out.train, group[tr]),
                evaluate_ranking(y[te], out.test, group[te]),
                out.note,
            )
        )
    return rows


def _fmt(x: float) -> str:
    return "—" if np.isnan(x) else f"{x:.3f}"


def markdown(ds: datasets.RealDataset, table: pd.DataFrame, facts: dict[str, Any]) -> str:
    """One data set's section: heading, what was held out, the table, the gap to the best baseline."""
    base = table[table["method"].isin(list(baselines.BASELINES))]["test_auc"].max()
    lines = [
        f"### {ds.source} — {facts['outcome']} ({ds.framework.id}, {len(ds.indicator_ids)} indicators)",
        "",
        f"Training rows {facts['train']}, held-out rows {facts['test']} ({ds.holdout}); "
        f"outcome rate on held-out rows {facts['test_rate']:.3f}. AUC within each ranking group "
        "(data year); top-10 % precision = outcome rate on each group's top 10 %.",
        "",
        "| method | training AUC | held-out AUC | held-out top-10 % precision | held-out AUC − best baseline | note |",
        "|---|---|---|---|---|---|",
    ]
    for r in table.itertuples():
        gap = r.test_auc - base
        lines.append(
            f"| {r.method} | {_fmt(r.train_auc)} | {_fmt(r.test_auc)} | {_fmt(r.test_prec_top10)} "
            f"| {'—' if np.isnan(gap) else f'{gap:+.3f}'} | {r.note} |"
        )
    lines += [
        "",
        f"Points, start → suggested (points only, loglik) [90 % bootstrap interval]: {facts['points']}.",
    ]
    lines += [
        "",
        "Indicators whose raw value ranks with the outcome against their rule's direction on the "
        f"training rows: {facts['against']}.",
    ]
    if facts["path"]:
        lines += ["", "Edit path (all moves, loglik), step 0 = the starting framework:", ""]
        lines += facts["path"]
    for warning in facts["warnings"]:
        lines += ["", f"Warning from suggest: {warning}"]
    return "\n".join(lines) + "\n"


def targets(results: Sequence[tuple[datasets.RealDataset, pd.DataFrame]]) -> str:
    """Issue 10's targets per data set, computed from the tables (best available suggest row)."""
    lines = [
        "| data set | start | suggest (loglik) | best baseline | suggest − best | within 0.005 | not below start | top10 ≥ loglik on top-10 % precision |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for ds, table in results:
        by = table.set_index("method")
        moves = (
            "all moves"
            if not np.isnan(by.loc["suggest: all moves (loglik)", "test_auc"])
            else "points"
        )
        best_row = by.loc[f"suggest: {moves} (loglik)"]
        top_row = by.loc[f"suggest: {moves} (top10)"]
        base = by.loc[list(baselines.BASELINES), "test_auc"]
        start, got, best = (
            by.loc["starting framework", "test_auc"],
            best_row["test_auc"],
            base.max(),
        )
        lines.append(
            f"| {ds.source} | {start:.3f} | {got:.3f} ({moves}) | {best:.3f} ({base.idxmax()}) "
            f"| {got - best:+.3f} | {_yes_no(got >= best - 0.005)} | {_yes_no(got >= start)} "
            f"| {_yes_no(top_row['test_prec_top10'] >= best_row['test_prec_top10'])} "
            f"({top_row['test_prec_top10']:.3f} vs {best_row['test_prec_top10']:.3f}) |"
        )
    return "\n".join(lines) + "\n"


def _yes_no(flag: bool) -> str:
    return "yes" if flag else "**no**"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.real", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--out", type=Path, required=True, help="markdown file to write the tables to"
    )
    parser.add_argument(
        "--datasets", nargs="+", choices=list(datasets.SOURCES), default=list(datasets.SOURCES)
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--bootstrap",
        type=int,
        default=20,
        help="bootstrap samples per suggestion (intervals only)",
    )
    args = parser.parse_args(argv)
    sections, results = [], []
    for key in args.datasets:
        start = time.perf_counter()
        try:
            ds = datasets.load(key)
        except ImportError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        table, facts = benchmark(ds, seed=args.seed, n_bootstrap=args.bootstrap)
        sections.append(markdown(ds, table, facts))
        results.append((ds, table))
        print(f"{key}: {time.perf_counter() - start:.1f} s", file=sys.stderr)
    text = "\n".join(
        [HEADER.format(seed=args.seed, bootstrap=args.bootstrap), targets(results), *sections]
    )
    print(text)
    args.out.write_text(text, encoding="utf-8")
    return 0
