"""Speed of :func:`calibrate.compare.compare` at national scale.

Target (issue 5): compare two frameworks on 520,000 firms of one year in <= 10 s, both scorings
included. The table has random indicator values drawn to fit the framework's rules (zero-inflated
counts, goalposts, bands) across 170 parks of unequal size. The candidate re-weights the
technology group, drops one indicator and keeps the lists, so every comparison table has work to
do. The reference run in the same process is one plain scoring of the table.

Run: ``PYTHONPATH=src python benchmarks/bench_compare.py [--firms N] [--framework ID]``
"""

from __future__ import annotations

import argparse
import math
import tempfile
import time
from collections.abc import Mapping

import numpy as np
import pandas as pd
import scipy.stats  # noqa: F401  - a one-off ~1-5 s import, paid before the clock starts

from calibrate.compare import compare
from calibrate.framework import (
    BandsRule,
    BinaryRule,
    CountRule,
    Framework,
    LinearRule,
    PercentileRule,
    load_framework,
)
from calibrate.framework.model import value_at
from calibrate.scoring import assign_stages, score

BUDGET_SECONDS = 10.0


def make_table(framework: Framework, n: int, *, parks: int = 170, seed: int = 0) -> pd.DataFrame:
    """A random enterprise table that ``framework`` can score (one year, ``parks`` parks)."""
    rng = np.random.default_rng(seed)
    weight = (np.arange(parks) + 1.0) ** -0.7
    park = rng.choice(parks, size=n, p=weight / weight.sum())
    revenue = np.exp(rng.normal(np.log(300.0), 1.8, size=n))
    lo = framework.stages[0].revenue_min
    revenue = np.maximum(revenue, lo)
    last_max = framework.stages[-1].revenue_max
    if last_max is not None:
        revenue = np.minimum(revenue, last_max * 0.999)
    stage_index = assign_stages(revenue, framework)
    stages = framework.stage_ids
    cols: dict[str, object] = {
        "enterprise_id": np.char.add("E", np.arange(n).astype(str)),
        "year": np.full(n, 2024),
        "park": np.char.add("P", park.astype(str)),
        "industry": rng.choice(
            ["C39", "I65", "C35", "C38", "C27", "M73", "M75", "C34", "C29", "F51"], size=n
        ),
        "carrier": np.where(
            rng.random(n) < 0.4, np.char.add("K", rng.integers(0, 2000, n).astype(str)), None
        ),
        "revenue": revenue,
    }
    for ind in framework.indicators:
        if ind.id == "revenue":
            continue
        rule = ind.rule
        zero = rng.random(n) < 0.35
        if isinstance(rule, LinearRule):
            low = np.array([value_at(rule.low, s) for s in stages])[stage_index]
            high = np.array([value_at(rule.high, s) for s in stages])[stage_index]
            x = low + rng.uniform(-0.2, 1.3, size=n) * (high - low)
        elif isinstance(rule, BandsRule):
            mins = [b.min for s in stages for b in rule.bands_at(s)]
            top = max(mins) if mins else 1.0
            x = rng.uniform(min(0.0, min(mins, default=0.0)), 1.3 * top if top > 0 else 1.0, size=n)
        elif isinstance(rule, CountRule):
            x = rng.poisson(1.5, size=n).astype(float)
        elif isinstance(rule, BinaryRule):
            x = (rng.random(n) < 0.25).astype(float)
        elif isinstance(rule, PercentileRule):
            x = np.exp(rng.normal(3.0, 1.5, size=n))
        else:  # pragma: no cover
            raise TypeError(rule)
        cols[ind.id] = np.where(zero, 0.0, x)
    for pen in framework.penalties:
        cols[pen.id] = (rng.random(n) < 0.01).astype(np.int8)
    return pd.DataFrame(cols)


def machine_pass_ms() -> float:
    """Milliseconds for one pass over 256 MB of float64 (DESIGN.md measured ≈ 9 ms on an idle machine)."""
    a = np.ones(32 * 1024 * 1024)
    best = math.inf
    for _ in range(3):
        t0 = time.perf_counter()
        a.sum()
        best = min(best, time.perf_counter() - t0)
    return best * 1000


def candidate_of(base: Framework) -> Framework:
    """Base with the first core group up-weighted by 30 % and the last core indicator dropped."""
    first_core = next(g.id for g in base.groups if g.kind == "core")
    drop = base.core_indicator_ids[-1]
    return base.reweight({first_core: 1.3}).drop([drop], id=f"{base.id}-candidate")


def _analyse(c) -> dict[str, object]:
    """Every answer of the comparison (what ``write`` needs, without the disk)."""
    out: dict[str, object] = {
        "overall": c.overall,
        "transitions": c.transitions(),
        "transitions_by_stage": c.transitions(by="stage"),
        "lists": c.lists,
        "movers": c.movers,
        "subsidies": c.subsidies,
        "subsidy_changes": c.subsidy_changes,
        "cutoffs": c.cutoffs,
    }
    for dim in ("park", "industry", "stage", "carrier"):
        out[f"seats_{dim}"] = c.seat_shares(dim)
    for s in c.slices:
        out[f"by_{s}"] = c.by_group(s)
    out["summary"] = c.summary()
    out["dict"] = c.to_dict()
    return out


def run(framework_id: str, n: int, repeat: int) -> Mapping[str, float]:
    base = load_framework(framework_id)
    print(f"machine: one pass over 256 MB takes {machine_pass_ms():.0f} ms (idle reference: 9 ms)")
    cand = candidate_of(base)
    print(
        f"compare: {framework_id} vs candidate ({len(base.indicators)} vs {len(cand.indicators)} "
        f"indicators), {n:,} firms; best of {repeat} runs (other load on the machine adds noise)"
    )
    t0 = time.perf_counter()
    data = make_table(base, n)
    print(f"  {'generate table':<44s} {time.perf_counter() - t0:7.2f} s")
    times: dict[str, list[float]] = {"reference": [], "compare": [], "analyse": [], "total": []}
    for _ in range(repeat):
        t0 = time.perf_counter()
        score(base, data)
        times["reference"].append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        c = compare(base, cand, data)
        t1 = time.perf_counter()
        tables = _analyse(c)
        t2 = time.perf_counter()
        times["compare"].append(t1 - t0)
        times["analyse"].append(t2 - t1)
        times["total"].append(t2 - t0)
    best = {k: min(v) for k, v in times.items()}
    print(f"  {'reference: one scoring':<44s} {best['reference']:7.2f} s")
    print(f"  {'compare() incl. both scorings':<44s} {best['compare']:7.2f} s")
    print(f"  {'all tables, summary and to_dict':<44s} {best['analyse']:7.2f} s")
    print(
        f"  {'TOTAL compare + every table':<44s} {best['total']:7.2f} s   "
        f"(budget {BUDGET_SECONDS:.0f} s: {best['total'] / BUDGET_SECONDS:.0%}; "
        f"{best['total'] / best['reference']:.1f}× one scoring; "
        f"all runs: {', '.join(f'{t:.1f}' for t in times['total'])} s)"
    )
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        c.write(tmp, "parquet")
        best["write"] = time.perf_counter() - t0
    print(f"  {'write(fmt=parquet), tables already computed':<44s} {best['write']:7.2f} s")
    movers = tables["movers"]
    by_group = tables["by_group"]
    assert isinstance(movers, pd.DataFrame) and isinstance(by_group, pd.DataFrame)
    print(
        f"  movers {len(movers):,}, subsidy changes {len(c.subsidy_changes):,}, "
        f"ranking groups {len(by_group):,}, spearman {c.overall['spearman']:.4f}"
    )
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--firms", type=int, default=520_000)
    parser.add_argument("--framework", default="longwan-2022")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    run(args.framework, args.firms, args.repeat)


if __name__ == "__main__":
    main()
