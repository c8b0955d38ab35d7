"""Regenerate the committed synthetic sample in ``data/sample/``.

Usage (from the repository root)::

    python scripts/make_sample.py            # writes data/sample/*.csv + coefficients.yaml
    python scripts/make_sample.py --out DIR  # somewhere else

The same command always writes the same bytes (on the same platform). The configuration is
:data:`SAMPLE`: 2 parks, 2,000 firms alive per year (about 2,850 distinct firms), data years
2019–2024, seed 7, CSV.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from calibrate.synth import SynthConfig, generate

#: The configuration of the committed sample (tests check data/sample/coefficients.yaml against it).
SAMPLE = SynthConfig(enterprises=2000, parks=2, years=(2019, 2024), seed=7)


def main(argv: list[str] | None = None) -> int:
    """Write the sample and print the files and their sizes."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1] / "data" / "sample"
    parser.add_argument(
        "--out", type=Path, default=default, help=f"output folder (default {default})"
    )
    args = parser.parse_args(argv)
    panel = generate(SAMPLE, progress=True)
    paths = panel.write(args.out, fmt="csv")
    total = 0
    for name, path in paths.items():
        size = path.stat().st_size
        total += size
        print(f"{name:13s} {path}  {size / 1e6:6.2f} MB")
    print(f"{'total':13s} {total / 1e6:6.2f} MB")
    for key, value in panel.summary().items():
        print(f"  {key:28s} {value:.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
