"""Benchmark: batched AUC + top-k precision for a re-weighting search loop.

Run:  python benchmarks/bench_metrics.py [--firms 100000] [--weightings 1000] [--repeat 3]

Setting (DESIGN.md target: <= 5 s on the 2-core reference machine): 100,000 firms, ~5 %
positives, 50 ranking groups, a 100,000 x 32 indicator-fraction matrix on a coarse grid
(0, 1/4, ..., 1: many ties), 1,000 candidate weightings. Reported:

* seconds for ``batch_evaluate_weights`` (AUC and top 5/10/20 % precision and lift within
  groups), for whole-point weightings (many tied scores) and continuous weightings;
* the same against a naive reference in the same process: ``sklearn.metrics.roc_auc_score``
  column by column (AUC only, no top-k) on 20 columns, scaled to 1,000;
* process CPU seconds beside wall seconds: on a shared machine (load average above the CPU
  count) wall time is inflated while CPU time is less so;
* peak traced memory (tracemalloc) of one ``batch_evaluate_weights`` call and the process's
  peak RSS.

A script, not a test: timings on a shared machine are noisy, so each run is repeated and the
best and median are printed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import time
import tracemalloc

import numpy as np
from sklearn.metrics import roc_auc_score

from calibrate.metrics import DEFAULT_BLOCK_ELEMENTS, batch_evaluate_weights, roc_auc


def make_data(n_firms: int, n_weightings: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    F = rng.integers(0, 5, size=(n_firms, 32)) / 4  # coarse grid -> many tied totals
    group = rng.integers(0, 50, n_firms)
    # outcome loosely driven by a few indicators so AUCs are not all 0.5
    signal = F[:, :8].sum(axis=1) + rng.normal(0, 2.0, n_firms)
    y = (signal > np.quantile(signal, 0.95)).astype(np.int8)
    W_points = rng.integers(0, 11, size=(32, n_weightings)).astype(float)  # whole points
    W_cont = rng.random((32, n_weightings))
    return y, F, group, W_points, W_cont


def timed(fn, repeat: int) -> tuple[float, float, float, object]:
    """Best and median wall seconds, best process CPU seconds (all threads), last result."""
    times, cpu, out = [], [], None
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        out = fn()
        times.append(time.perf_counter() - t0)
        cpu.append(time.process_time() - c0)
    return min(times), statistics.median(times), min(cpu), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=100_000)
    parser.add_argument("--weightings", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--reference-columns", type=int, default=20)
    args = parser.parse_args()

    y, F, group, W_points, W_cont = make_data(args.firms, args.weightings)
    fractions = (0.05, 0.1, 0.2)
    scores0 = F @ W_points[:, 0]
    print(
        f"firms={args.firms:,}  positives={y.mean():.2%}  groups=50  indicators=32  "
        f"weightings={args.weightings:,}"
    )
    load = os.getloadavg()
    print(
        f"cpus={os.cpu_count()}  load average at start: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}"
    )
    print(
        f"ties: whole-point weighting 0 has {np.unique(scores0).size:,} distinct totals "
        f"for {args.firms:,} firms"
    )
    print(
        f"block: {max(1, DEFAULT_BLOCK_ELEMENTS // args.firms)} weightings "
        f"({DEFAULT_BLOCK_ELEMENTS * 8 / 2**20:.0f} MiB of scores)"
    )

    results = {}
    for label, W in (("whole-point W", W_points), ("continuous W", W_cont)):
        for n_jobs in (1, 2):
            best, med, cpu, out = timed(
                lambda W=W, n_jobs=n_jobs: batch_evaluate_weights(
                    y, F, W, group, fractions, n_jobs=n_jobs
                ),
                args.repeat,
            )
            results[(label, n_jobs)] = (best, out)
            print(
                f"batch_evaluate_weights  {label:14s} n_jobs={n_jobs}: "
                f"wall best {best:6.2f} s  median {med:6.2f} s  "
                f"({best / args.weightings * 1e3:.2f} ms per weighting); CPU {cpu:6.2f} s"
            )

    # Naive reference: sklearn per column (AUC only), on a sample of columns, scaled.
    k = args.reference_columns
    t0 = time.perf_counter()
    ref = [roc_auc_score(y, F @ W_points[:, j]) for j in range(k)]
    naive = (time.perf_counter() - t0) / k * args.weightings
    best_1 = results[("whole-point W", 1)][0]
    best_2 = results[("whole-point W", 2)][0]
    print(
        f"naive sklearn roc_auc_score loop (AUC only), {k} columns scaled to "
        f"{args.weightings:,}: {naive:6.2f} s  -> batch is {naive / best_1:.1f}x faster "
        f"(n_jobs=1), {naive / best_2:.1f}x (n_jobs=2)"
    )

    # Correctness spot checks on the sampled columns.
    frame = results[("whole-point W", 1)][1]
    auc_diff = np.max(np.abs(frame["auc_pooled"].to_numpy()[:k] - np.array(ref)))
    exact = all(frame["auc_pooled"].iloc[j] == roc_auc(y, F @ W_points[:, j]) for j in range(k))
    print(
        f"check: max |batch AUC - sklearn| over {k} columns = {auc_diff:.1e}; "
        f"equal to roc_auc bit for bit: {exact}"
    )

    tracemalloc.start()
    batch_evaluate_weights(y, F, W_points[:, :200], group, fractions, n_jobs=2)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"peak traced memory of one call (n_jobs=2): {peak / 2**20:.0f} MiB "
        f"(inputs: F {F.nbytes / 2**20:.0f} MiB); process peak RSS {rss:.0f} MiB"
    )


if __name__ == "__main__":
    main()
