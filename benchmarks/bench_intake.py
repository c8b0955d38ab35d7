"""Speed of checked intake: :func:`calibrate.data.load_enterprises` against a bare ``read_csv``.

Intake now reads CSV itself (to number rows as an editor shows them, detect separators, stop on
ragged rows and mixed encodings) and validates every cell. The reference run in the same process
is ``pandas.read_csv`` of the same file with every cell as text (no checks at all); the ratio says
what the checks cost.

Run: ``PYTHONPATH=src python benchmarks/bench_intake.py [--copies K]``
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import pandas as pd

from calibrate.data import load_enterprises
from calibrate.framework import load_framework

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample" / "enterprises.csv"


def _best(fn: object, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--copies", type=int, default=4, help="sample years stacked (default 4)")
    args = parser.parse_args()
    framework = load_framework("longwan-2022")
    sample = pd.read_csv(SAMPLE, dtype=str, keep_default_na=False)
    frames = []
    for k in range(args.copies):  # shift years so (enterprise_id, year) stays unique
        part = sample.copy()
        part["year"] = (part["year"].astype(int) + 10 * k).astype(str)
        frames.append(part)
    table = pd.concat(frames, ignore_index=True)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "enterprises.csv"
        table.to_csv(path, index=False)
        reference = _best(lambda: pd.read_csv(path, dtype=str, keep_default_na=False))
        checked = _best(lambda: load_enterprises(path, framework))
    print(f"{len(table):,} rows x {table.shape[1]} columns")
    print(f"pandas.read_csv (reference) {reference:.3f} s")
    print(f"load_enterprises (checked)  {checked:.3f} s  ratio {checked / reference:.1f}x")


if __name__ == "__main__":
    main()
