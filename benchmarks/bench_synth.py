"""Speed and memory of the synthetic panel generator.

Usage::

    python benchmarks/bench_synth.py                       # 50,000 firms a year, 2018-2024
    python benchmarks/bench_synth.py --enterprises 10000 --write /tmp/synth

Prints wall-clock and CPU seconds of ``calibrate.synth.generate`` (CPU time is the better
figure on a shared machine), enterprise-year rows per second, and the peak resident memory of
the process (``resource.getrusage``; no tracemalloc, which would slow numpy down). With
``--write`` it also times writing Parquet.
"""

from __future__ import annotations

import argparse
import resource
import sys
import time

from calibrate.synth import SynthConfig, generate


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark once and print the figures."""
    parser = argparse.ArgumentParser(description="benchmark calibrate.synth.generate")
    parser.add_argument("--enterprises", type=int, default=50_000)
    parser.add_argument("--parks", type=int, default=2)
    parser.add_argument("--years", default="2018-2024")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oracle-draws", type=int, default=SynthConfig.oracle_draws)
    parser.add_argument("--write", default=None, help="also write Parquet files to this folder")
    args = parser.parse_args(argv)
    first, last = (int(y) for y in args.years.split("-"))
    config = SynthConfig(
        enterprises=args.enterprises,
        parks=args.parks,
        years=(first, last),
        seed=args.seed,
        oracle_draws=args.oracle_draws,
    )
    wall, cpu = time.perf_counter(), time.process_time()
    panel = generate(config, progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = len(panel.enterprises)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
        1024 if sys.platform != "darwin" else 1024**2
    )
    print(
        f"config          {args.enterprises} firms/year x {last - first + 1} years, {args.parks} parks, "
        f"oracle_draws={args.oracle_draws}"
    )
    print(
        f"rows            {rows} enterprise-years, {panel.enterprises['enterprise_id'].nunique()} firms, "
        f"{len(panel.events)} events"
    )
    print(f"generate        {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"throughput      {rows / wall:,.0f} rows/s wall, {rows / cpu:,.0f} rows/s CPU")
    print(f"peak memory     {peak_mb:,.0f} MB (max RSS)")
    if args.write:
        t = time.perf_counter()
        panel.write(args.write, fmt="parquet")
        print(f"write parquet   {time.perf_counter() - t:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
