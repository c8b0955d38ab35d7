"""Suggestion quality and speed (issue 4). Prints figures; not a timed test.

1. Quality: on a generated panel, held-out AUC (and top-list precision) of the official
   framework, the suggestion, every unsupervised baseline, logistic and LightGBM models, and the
   oracle probability from the truth file — all on the same held-out firm-years.
2. Solver choice: the smooth convex likelihood (L-BFGS-B / SLSQP) against Optuna TPE on the AUC
   and top-10 % objectives — training time and held-out metrics.
3. Speed: ``suggest`` with 200 bootstraps on 50,000 firms × 5 years.

Run: ``python benchmarks/bench_suggest.py [--quick]``.
"""

from __future__ import annotations

import argparse
import tempfile
import time

import pandas as pd

from calibrate.framework import load_framework
from calibrate.pipeline import Experiment, run_experiment
from calibrate.suggest import suggest
from calibrate.synth import SynthConfig, generate


def quality(framework: str, enterprises: int, seed: int, bootstrap: int) -> pd.DataFrame:
    spec = {
        "name": "bench-quality",
        "framework": framework,
        "target": "hte_certified",
        "horizon": 1,
        "data": {
            "synth": {"enterprises": enterprises, "parks": 3, "years": "2018-2024", "seed": seed}
        },
        "constraints": {"granularity": 1},
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
                "auc": m["auc"],
                "prec_top10": m["prec_top10"],
                "official_auc": s.metrics.loc["auc", "current"],
            }
        )
    return pd.DataFrame(rows)


def speed(
    framework: str, enterprises: int, years: tuple[int, int], bootstrap: int, seed: int
) -> dict[str, float]:
    t0 = time.perf_counter()
    panel = generate(
        SynthConfig(enterprises=enterprises, parks=5, years=years, seed=seed), progress=False
    )
    t_synth = time.perf_counter() - t0
    f = load_framework(framework)
    t0 = time.perf_counter()
    s0 = suggest(
        f,
        panel.enterprises,
        panel.events,
        "hte_certified",
        n_bootstrap=0,
        progress=False,
        seed=seed,
    )
    t_fit = time.perf_counter() - t0
    t0 = time.perf_counter()
    s = suggest(
        f,
        panel.enterprises,
        panel.events,
        "hte_certified",
        n_bootstrap=bootstrap,
        progress=False,
        seed=seed,
    )
    t_total = time.perf_counter() - t0
    assert s.framework.to_yaml().count("points") > 0 and s0.framework is not None
    return {
        "firm_years": len(panel.enterprises),
        "synth_s": round(t_synth, 1),
        "fit_once_s": round(t_fit, 2),
        "with_bootstrap_s": round(t_total, 1),
        "bootstrap": bootstrap,
        "per_bootstrap_s": round((t_total - t_fit) / max(bootstrap, 1), 3),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    args = parser.parse_args()
    pd.set_option("display.width", 200)
    n_quality = 2000 if args.quick else 8000
    print(
        f"== 1. quality: longwan-2022 and national-2024, hte_certified h=1, synth {n_quality} firms/yr, "
        "3 parks, 2018-2024, seed 11 =="
    )
    for fw in ("longwan-2022", "national-2024"):
        table = quality(fw, n_quality, 11, 20 if args.quick else 50)
        print(f"-- {fw}")
        print(
            table[["kind", "n", "events", "auc", "auc_total", "prec_top10", "lift_top10"]]
            .round(4)
            .to_string()
        )
    print("\n== 2. solver choice: longwan-2022, synth 3000 firms/yr, seed 5, no bootstrap ==")
    print(solvers("longwan-2022", 1000 if args.quick else 3000, 5).round(4).to_string(index=False))
    size = (5000, (2020, 2024), 10) if args.quick else (50_000, (2020, 2024), 200)
    print(
        f"\n== 3. speed: longwan-2022, {size[0]:,} firms/yr x {size[1][0]}-{size[1][1]}, {size[2]} bootstraps =="
    )
    for k, v in speed("longwan-2022", size[0], size[1], size[2], 3).items():
        print(f"{k:<18} {v}")


if __name__ == "__main__":
    main()
