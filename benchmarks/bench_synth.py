"""Speed and memory of the synthetic panel generator (issue 15: 50k firms × 7 years ≤ 15 s).

Usage::

    python benchmarks/bench_synth.py                       # 50,000 firms a year, 2018-2024
    python benchmarks/bench_synth.py --enterprises 10000   # smaller; extrapolated to 50,000

Prints wall-clock and CPU seconds of ``calibrate.synth.generate`` (CPU time is the better
figure on a shared machine: other processes stretch the wall clock), enterprise-year rows per
second, the peak resident memory of the process (``resource.getrusage``; no tracemalloc, which
would slow numpy down), then the time of ``Panel.write`` (Parquet) against a reference run in
the same process: writing the same three tables with pyarrow alone. The last line is what
``calibrate synth`` costs — generate + write — set against the 15 s target; with fewer than
50,000 firms it is extrapolated linearly in rows (an upper bound: part of the cost is fixed).
"""

from __future__ import annotations

import argparse
import resource
import sys
import tempfile
import time
from pathlib import Path

from calibrate.synth import SynthConfig, generate

TARGET_FIRMS, TARGET_SECONDS = 50_000, 15.0


def _write_reference(panel, folder: Path) -> float:
    """CPU seconds to write the panel's three tables with pyarrow alone (zstd Parquet)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    t = time.process_time()
    for name in ("enterprises", "events", "truth"):
        table = pa.Table.from_pandas(getattr(panel, name), preserve_index=False)
        pq.write_table(table, folder / f"{name}.parquet", compression="zstd")
    return time.process_time() - t


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark once and print the figures."""
    parser = argparse.ArgumentParser(description="benchmark calibrate.synth.generate")
    parser.add_argument("--enterprises", type=int, default=TARGET_FIRMS)
    parser.add_argument("--parks", type=int, default=2)
    parser.add_argument("--years", default="2018-2024")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--oracle-draws", type=int, default=SynthConfig.oracle_draws)
    parser.add_argument("--failure-modes", action="store_true")
    args = parser.parse_args(argv)
    first, last = (int(y) for y in args.years.split("-"))
    config = SynthConfig(
        enterprises=args.enterprises,
        parks=args.parks,
        years=(first, last),
        seed=args.seed,
        oracle_draws=args.oracle_draws,
        # only when asked, so that the script also times versions without the option
        **({"failure_modes": True} if args.failure_modes else {}),
    )
    wall, cpu = time.perf_counter(), time.process_time()
    panel = generate(config, progress=False)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    rows = len(panel.enterprises)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / (
        1024 if sys.platform != "darwin" else 1024**2
    )
    print(
        f"config          {args.enterprises} firms/year x {last - first + 1} years, "
        f"{args.parks} parks, oracle_draws={args.oracle_draws}"
    )
    print(
        f"rows            {rows} enterprise-years, "
        f"{panel.enterprises['enterprise_id'].nunique()} firms, {len(panel.events)} events"
    )
    print(f"generate        {wall:.1f} s wall, {cpu:.1f} s CPU")
    print(f"throughput      {rows / wall:,.0f} rows/s wall, {rows / cpu:,.0f} rows/s CPU")
    print(f"peak memory     {peak_mb:,.0f} MB (max RSS)")
    with tempfile.TemporaryDirectory() as tmp:
        t = time.process_time()
        panel.write(Path(tmp) / "panel", fmt="parquet")
        write = time.process_time() - t
        (Path(tmp) / "ref").mkdir()
        reference = _write_reference(panel, Path(tmp) / "ref")
    print(
        f"write parquet   {write:.2f} s CPU; pyarrow alone {reference:.2f} s CPU "
        f"(ratio {write / reference:.2f})"
    )
    scale = TARGET_FIRMS / args.enterprises if last - first == 6 else float("nan")
    total = (cpu + write) * scale
    label = "measured" if scale == 1 else f"extrapolated x{scale:.1f} from {args.enterprises}"
    print(
        f"synth 50k x 7   {total:.1f} s CPU generate + write ({label}); "
        f"target {TARGET_SECONDS:.0f} s: {total / TARGET_SECONDS:.2f} of it"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
