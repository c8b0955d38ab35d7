"""Speed of model fitting, SHAP and label construction.

Run from the repository root::

    PYTHONPATH=src python benchmarks/bench_models.py [--rows 100000] [--features 32] [--trees 300]

Prints, with the machine's core count:

* LightGBM (:class:`calibrate.models.MonotoneGBM`) fit time on rows × features with the given
  number of trees, with every feature constrained (+1) and without constraints;
* SHAP time for the default sample of 2,000 rows (both backends: LightGBM ``pred_contrib``
  and ``shap.TreeExplainer``, which give the same numbers);
* label construction time (:func:`calibrate.outcomes.make_labels`) for 50,000 firms × 7 years
  for the three named targets.

The data are synthetic (a seeded generator); timings are the best of ``--repeat`` runs.
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def model_data(n: int, k: int, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.gamma(1.0, 3.0, size=(n, k)), columns=[f"ind_{j:02d}" for j in range(k)])
    weights = rng.uniform(0.0, 0.3, k)
    logit = -4.0 + X.to_numpy() @ weights / np.sqrt(k) * 3 + rng.normal(0, 1, n)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    return X, y


def label_data(n_firms: int, years: range, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    ids = np.array([f"F{i:07d}" for i in range(n_firms)])
    ent = pd.DataFrame(
        {
            "enterprise_id": np.repeat(ids, len(years)),
            "year": np.tile(np.arange(years.start, years.stop), n_firms),
        }
    )
    ent["hte_valid"] = (rng.uniform(size=len(ent)) < 0.15).astype(np.int8)
    rates = {
        "hte_certified": 0.04,
        "tech_sme_registered": 0.2,
        "loan_granted": 0.1,
        "loan_default": 0.01,
    }
    parts = []
    for event, rate in rates.items():
        hit = rng.uniform(size=len(ent)) < rate
        parts.append(
            pd.DataFrame(
                {
                    "enterprise_id": ent["enterprise_id"].to_numpy()[hit],
                    "year": ent["year"].to_numpy()[hit],
                    "event": event,
                }
            )
        )
    return ent, pd.concat(parts, ignore_index=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--features", type=int, default=32)
    parser.add_argument("--trees", type=int, default=300)
    parser.add_argument("--shap-rows", type=int, default=2000)
    parser.add_argument("--firms", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--jobs", type=int, default=None, help="LightGBM threads: default 1, -1 = all cores"
    )
    args = parser.parse_args()

    from calibrate.explain import shap_importance
    from calibrate.models import MonotoneGBM
    from calibrate.outcomes import make_labels

    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    threads = "1" if args.jobs is None else ("all" if args.jobs <= 0 else str(args.jobs))
    print(f"cores: {os.cpu_count()}, load average before: {load}, LightGBM threads: {threads}")
    X, y = model_data(args.rows, args.features)
    shape = f"{args.rows:,} x {args.features}, {args.trees} trees"
    for label, monotone in (
        ("monotone +1 on every feature", [1] * args.features),
        ("unconstrained", None),
    ):
        t, model = best_of(
            args.repeat,
            lambda m=monotone: MonotoneGBM(m, n_estimators=args.trees, n_jobs=args.jobs).fit(X, y),
        )
        print(f"LightGBM fit ({shape}, {label}): {t:.2f} s")

    model = MonotoneGBM([1] * args.features, n_estimators=args.trees, n_jobs=args.jobs).fit(X, y)
    for backend in ("lightgbm", "shap"):
        shap_importance(model, X.iloc[:10], backend=backend)  # warm-up (imports)
        t, res = best_of(
            args.repeat,
            lambda b=backend: shap_importance(model, X, max_rows=args.shap_rows, backend=b),
        )
        print(
            f"SHAP ({backend} backend, {res.n_rows_used:,} sampled rows of {len(X):,}): "
            f"{t:.2f} s ({t / res.n_rows_used * 1e3:.2f} ms per row)"
        )

    ent, ev = label_data(args.firms, range(2018, 2025))
    for target in ("hte_certified", "tech_sme_registered", "loan_default"):
        t, lab = best_of(args.repeat, lambda tg=target: make_labels(ent, ev, tg, horizon=2))
        counts = ", ".join(f"{k} {v:,}" for k, v in lab.counts().items())
        print(
            f"labels {target} ({args.firms:,} firms x 7 years, {len(ev):,} events, "
            f"horizon 2): {t:.2f} s [{counts}]"
        )
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"load average after: {load}")


if __name__ == "__main__":
    main()
