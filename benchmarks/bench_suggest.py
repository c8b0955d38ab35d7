"""Suggestion quality and speed (issues 4 and 10). Prints figures; not a timed test.

1. Quality: on a generated panel, held-out AUC (and top-list precision) of the official
   framework, the suggestion with points only and with every move, every unsupervised baseline,
   logistic and LightGBM models, and the oracle probability from the truth file — all on the same
   held-out firm-years — and the share of the official-to-oracle gap each suggestion closes.
2. Solver choice: the smooth convex likelihood (L-BFGS-B / SLSQP) against Optuna TPE on the AUC
   and top-10 % objectives — training time and held-out metrics.
3. Speed: ``suggest`` points-only on 250k firm-years, and with ``--moves all`` and 200
   bootstraps on 50,000 firms × 5 years, each against one ``score`` call of the same table.

Run: ``python benchmarks/bench_suggest.py [--quick]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import pandas as pd

from calibrate.constraints import MOVES
from calibrate.framework import load_framework
from calibrate.pipeline import Experiment, run_experiment
from calibrate.suggest import suggest
from calibrate.synth import SynthConfig, generate


def quality(
    framework: str, enterprises: int, seed: int, bootstrap: int, moves: str
) -> pd.DataFrame:
    spec = {
        "name": "bench-quality",
        "framework": framework,
        "target": "hte_certified",
        "horizon": 1,
        "data": {
            "synth": {"enterprises": enterprises, "parks": 3, "years": "2018-2024", "seed": seed}
        },
        "constraints": {"granularity": 1, "moves": moves},
        "bootstrap": bootstrap,
        "sensitivity_draws": 0,
        "report": {"enabled": False},
        "tracking": {"enabled": False},
        "baselines": ["equal", "entropy", "critic", "cv", "pca"],
        "models": ["logistic", "lightgbm"],
    }
    with tempfile.TemporaryDirectory() as tmp:
        exp = Experiment.from_dict({**spec, "out": tmp}, "bench")
        result = run_experiment(exp, say=lambda _: None)
    return result.methods


def solvers(framework: str, enterprises: int, seed: int) -> pd.DataFrame:
    panel = generate(
        SynthConfig(enterprises=enterprises, parks=3, years=(2018, 2024), seed=seed), progress=False
    )
    f = load_framework(framework)
    rows = []
    for objective in ("loglik", "auc", "top10"):
        t0 = time.perf_counter()
        s = suggest(
            f,
            panel.enterprises,
            panel.events,
            "hte_certified",
            objective=objective,  # type: ignore[arg-type]
            n_bootstrap=0,
            n_trials=400,
            progress=False,
            seed=seed,
        )
        seconds = time.perf_counter() - t0
        m = s.metrics["suggested"]
        rows.append(
            {
                "objective": objective,
                "solver": s.solver,
                "seconds": round(seconds, 2),
                "auc": m["auc_within_group"],
                "prec_top10": m["prec_top10"],
                "official_auc": s.metrics.loc["auc_within_group", "current"],
            }
        )
    return pd.DataFrame(rows)


def speed(
    framework: str,
    enterprises: int,
    years: tuple[int, int],
    bootstrap: int,
    seed: int,
    moves: tuple[str, ...],
) -> dict[str, float]:
    from calibrate.constraints import ConstraintSet
    from calibrate.scoring import score

    t0 = time.perf_counter()
    panel = generate(
        SynthConfig(enterprises=enterprises, parks=5, years=years, seed=seed), progress=False
    )
    t_synth = time.perf_counter() - t0
    f = load_framework(framework)
    t0 = time.perf_counter()
    score(f, panel.enterprises)
    t_score = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = suggest(
        f,
        panel.enterprises,
        panel.events,
        "hte_certified",
        constraints=ConstraintSet(moves=moves),
        n_bootstrap=bootstrap,
        progress=False,
        seed=seed,
    )
    t_total = time.perf_counter() - t0
    return {
        "firm_years": len(panel.enterprises),
        "moves": ",".join(moves),
        "edits": len(s.path) - 1,
        "bootstrap": bootstrap,
        "synth_s": round(t_synth, 1),
        "score_once_s": round(t_score, 2),
        "suggest_s": round(t_total, 1),
        "suggest_over_score": round(t_total / t_score, 1),
    }


def closure(table: pd.DataFrame, row: str) -> float:
    """Share of the official-to-oracle gap in held-out within-group AUC that ``row`` closes."""
    auc = table["auc_within_group"]
    return float((auc[row] - auc["official"]) / (auc["oracle (truth)"] - auc["official"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument(
        "--only", choices=["quality", "solvers", "speed"], help="run one section of the three"
    )
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    n_quality = 2000 if args.quick else 8000
    print(
        f"== 1. quality: longwan-2022 and national-2024, hte_certified h=1, synth {n_quality} firms/yr, "
        "3 parks, 2018-2024, seed 11 =="
    )
    for fw in ("longwan-2022", "national-2024") if args.only in (None, "quality") else ():
        bootstrap = 20 if args.quick else 50
        points = quality(fw, n_quality, 11, bootstrap, "points")
        moves = quality(fw, n_quality, 11, bootstrap, "all")
        table = points.copy()
        table.loc["suggested (all moves)"] = moves.loc["suggested"]
        table = table.rename(index={"suggested": "suggested (points only)"})
        print(f"-- {fw}")
        cols = ["kind", "n", "events", "auc_within_group", "auc_pooled", "prec_top10", "lift_top10"]
        print(table[cols].round(4).to_string())
        for row in ("suggested (points only)", "suggested (all moves)"):
            print(f"   {row}: closes {closure(table, row):.0%} of the official-to-oracle gap")
    if args.only in (None, "solvers"):
        print("\n== 2. solver choice: longwan-2022, synth 3000 firms/yr, seed 5, no bootstrap ==")
        table = solvers("longwan-2022", 1000 if args.quick else 3000, 5)
        print(table.round(4).to_string(index=False))
    if args.only not in (None, "speed"):
        return
    runs = (
        [(2000, (2020, 2024), 10, ("points",)), (2000, (2020, 2024), 10, MOVES)]
        if args.quick
        else [(50_000, (2020, 2024), 200, ("points",)), (50_000, (2020, 2024), 200, MOVES)]
    )
    print("\n== 3. speed: longwan-2022, 5 parks, against one score() of the same table ==")
    rows = [speed("longwan-2022", n, yrs, b, 3, mv) for n, yrs, b, mv in runs]
    print(pd.DataFrame(rows).to_string(index=False))


if __name__ == "__main__":
    main()
