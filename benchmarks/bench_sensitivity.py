"""Speed of :func:`calibrate.sensitivity.rank_uncertainty`.

Target (issue 5): 1,000 Monte-Carlo draws of the points table on 50,000 firms in <= 30 s. The
reference run in the same process is the naive approach — edit the framework with
``with_points`` and re-score the raw data for every draw — timed on 10 draws and scaled to the
same number of draws. Also checks on the way that the unperturbed draw reproduces the scorer.

Run: ``PYTHONPATH=src python benchmarks/bench_sensitivity.py [--firms N] [--draws D]``
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from bench_compare import machine_pass_ms, make_table  # same directory: the random table generator

from calibrate.framework import load_framework
from calibrate.scoring import score
from calibrate.sensitivity import Dirichlet, points_array, rank_uncertainty, score_draws

BUDGET_SECONDS = 30.0
NAIVE_DRAWS = 10


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=50_000)
    parser.add_argument("--draws", type=int, default=1_000)
    parser.add_argument("--framework", default="longwan-2022")
    args = parser.parse_args()

    fw = load_framework(args.framework)
    print(f"machine: one pass over 256 MB takes {machine_pass_ms():.0f} ms (idle reference: 9 ms)")
    data = make_table(fw, args.firms, parks=12)
    print(
        f"sensitivity: {fw.id} ({len(fw.indicators)} indicators, {len(fw.stages)} stages), "
        f"{args.firms:,} firms, {args.draws:,} Dirichlet draws"
    )

    t0 = time.perf_counter()
    scores = score(fw, data)
    t_score = time.perf_counter() - t0
    print(f"  one scoring of the raw data                 {t_score:7.2f} s")

    same = score_draws(scores, points_array(fw)[None])
    f = scores.frame
    assert np.array_equal(same.total[:, 0], f["total"].to_numpy())
    assert np.array_equal(same.rank[:, 0], f["rank"].to_numpy(dtype=np.int64, na_value=0))
    assert np.array_equal(same.tier[:, 0], f["tier"].cat.codes.to_numpy())
    print("  unperturbed draw reproduces totals, ranks, lists: yes")

    # naive reference: re-score the raw data for every draw
    rng = np.random.default_rng(0)
    draws = Dirichlet().sample(fw, NAIVE_DRAWS, rng)
    t0 = time.perf_counter()
    for d in range(NAIVE_DRAWS):
        table = {
            ind: {s: float(draws[d, si, j]) for si, s in enumerate(fw.stage_ids)}
            for j, ind in enumerate(fw.indicator_ids)
        }
        score(fw.with_points(table), data)
    t_naive = (time.perf_counter() - t0) / NAIVE_DRAWS * args.draws
    print(f"  naive re-scoring, {NAIVE_DRAWS} draws scaled to {args.draws:,}    {t_naive:7.2f} s")

    t0 = time.perf_counter()
    result = rank_uncertainty(fw, weights=Dirichlet(), n_draws=args.draws, seed=0, scores=scores)
    t_mc = time.perf_counter() - t0
    t0 = time.perf_counter()
    n_uncertain = len(result.uncertain(0.8))
    result.stability()
    t_tables = time.perf_counter() - t0
    print(
        f"  rank_uncertainty ({args.draws:,} draws)               {t_mc:7.2f} s   "
        f"(budget {BUDGET_SECONDS:.0f} s: {t_mc / BUDGET_SECONDS:.0%}; "
        f"{t_naive / t_mc:.1f}× faster than naive; {t_mc / args.draws * 1000:.1f} ms per draw)"
    )
    print(f"  per-firm table + uncertain() + stability()  {t_tables:7.2f} s")
    print(f"  firms whose most likely tier has p < 0.8: {n_uncertain:,}")


if __name__ == "__main__":
    main()
