"""Command-line speed: start-up, ``calibrate score`` parquet → parquet, and a national-scale run.

Every figure is a ratio against a reference measured in the same run, on the same machine:

* ``help``: ``calibrate --help`` against ``python -c pass`` (median of N starts), and the
  slowest imports ``python -X importtime`` reports for it;
* ``score``: ``calibrate score`` on a 1,000,000-row parquet file (longwan-2022) against pyarrow
  alone reading and writing the same table, and where the command's time goes (imports,
  reading, intake validation in ``calibrate.data``, scoring, writing) measured in process;
* ``national``: a synthetic panel of 520,000 firm-years with national-2024 through ``validate``,
  ``score``, ``suggest`` (points, loglik), ``compare`` and ``report``: wall time and peak memory
  (max RSS) of each command in its own process.

* ``install``: distributions and megabytes of the core install and what ``[notebooks]`` adds.

Run: ``python benchmarks/bench_cli.py help|score|national|install [--rows N] [--work DIR]``.
Goals (issue 15): ``--help`` < 0.5 s; ``score`` ≤ 2× pyarrow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
SRC = HERE.parent / "src"

# Runs the CLI in a child process and reports its wall time and peak memory as a JSON line.
MEASURE = """
import json, resource, sys, time
t = time.perf_counter()
from calibrate.cli import main
code = main(sys.argv[1:])
seconds = time.perf_counter() - t
peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print("BENCH " + json.dumps({"code": code, "seconds": seconds, "peak_mb": peak_mb}), file=sys.stderr)
"""


def _env() -> dict[str, str]:
    path = os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return {**os.environ, "PYTHONPATH": path, "MLFLOW_DISABLE_TELEMETRY": "true"}


def _wall(cmd: list[str], n: int) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        subprocess.run(cmd, check=True, capture_output=True, env=_env())
        times.append(time.perf_counter() - t)
    return statistics.median(times)


#: Runs of each side of the score comparison (the best counts: first runs pay for a cold cache).
RUNS = 3


def _best_of(n: int, work: Any) -> float:
    times = []
    for _ in range(n):
        t = time.perf_counter()
        work()
        times.append(time.perf_counter() - t)
    return min(times)


def _cli(*args: str) -> dict[str, float]:
    """One command in its own process: wall seconds (imports included) and peak MB."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, *args], capture_output=True, text=True, env=_env()
    )
    lines = [x for x in done.stderr.splitlines() if x.startswith("BENCH ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"calibrate {' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(lines[-1][6:])


def bench_help(n: int) -> None:
    base = _wall([sys.executable, "-c", "pass"], n)
    cli = _wall([sys.executable, "-m", "calibrate.cli", "--help"], n)
    print(f"python -c pass            {base:6.3f} s (median of {n})")
    print(f"calibrate --help          {cli:6.3f} s  = {cli / base:.2f}x python -c pass")
    print(f"calibrate's own share     {cli - base:6.3f} s  (goal: --help < 0.5 s)")
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "calibrate.cli", "--help"],
        capture_output=True,
        text=True,
        env=_env(),
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.split("|")
        if len(parts) == 3 and parts[1].strip().isdigit():
            rows.append((int(parts[1]), parts[2].rstrip()))
    print("slowest imports (cumulative µs):")
    for us, name in sorted(rows, reverse=True)[:6]:
        print(f"  {us:>8}  {name}")


def bench_score(rows: int, work: Path) -> None:
    import pyarrow.parquet as pq

    sys.path.insert(0, str(HERE))
    from bench_score import make_table

    src, out = work / f"score-{rows}.parquet", work / "scores.parquet"
    if not src.exists():
        make_table("longwan-2022", rows).to_parquet(src, index=False)
    arrow = _best_of(RUNS, lambda: pq.write_table(pq.read_table(src), work / "copy.parquet"))
    # the same copy in a process of its own, start-up and `import pyarrow` included, as for
    # calibrate; the best of RUNS, as on every other side of this comparison
    copy = (
        "import pyarrow.parquet as pq; "
        f"pq.write_table(pq.read_table({str(src)!r}), {str(work / 'copy.parquet')!r})"
    )
    command = [sys.executable, "-c", copy]
    arrow_process = _best_of(
        RUNS, lambda: subprocess.run(command, check=True, capture_output=True, env=_env())
    )
    args = ["score", "--framework", "longwan-2022", "--data", str(src), "--out", str(out)]
    runs = [_cli(*args, "--no-id-check") for _ in range(RUNS)]
    run = min(runs, key=lambda r: r["seconds"])
    imports = _wall(
        [sys.executable, "-c", "import calibrate.cli, calibrate.data, calibrate.scoring"], 3
    )
    # The floor of any scorer: pyarrow reading this input and writing calibrate's (wider) output.
    scores = pq.read_table(out)
    floor = _best_of(
        RUNS, lambda: (pq.read_table(src), pq.write_table(scores, work / "copy.parquet"))
    )
    steps = _score_steps(src, work)
    n_in, n_out = pq.read_schema(src), scores.schema
    print(f"{rows:,} rows, longwan-2022, parquet -> parquet")
    print(f"pyarrow read + write      {arrow:6.2f} s  (the input, {len(n_in.names)} columns)")
    print(
        f"  the same as a process   {arrow_process:6.2f} s  (start-up and import pyarrow included)"
    )
    print(
        f"pyarrow I/O floor         {floor:6.2f} s  (read the input, write the "
        f"{len(n_out.names)}-column scores table)"
    )
    shown = ", ".join(f"{r['seconds']:.2f}" for r in runs)
    print(f"(best of {RUNS}; calibrate runs: {shown} s)")
    print(
        f"calibrate score           {run['seconds']:6.2f} s in process + start-up; "
        f"= {run['seconds'] / arrow:.1f}x pyarrow (goal <= 2x), "
        f"{run['seconds'] / arrow_process:.1f}x the pyarrow process, {run['seconds'] / floor:.1f}x "
        f"the I/O floor; peak {run['peak_mb']:,.0f} MB"
    )
    print(f"  imports (own process)   {imports:6.2f} s")
    for name, seconds in steps.items():
        print(f"  {name:<22}  {seconds:6.2f} s")


def _score_steps(src: Path, work: Path) -> dict[str, float]:
    """Where ``calibrate score``'s time goes, step by step, in this process."""
    from calibrate.data import load_enterprises, read_table
    from calibrate.framework import load_framework
    from calibrate.scoring import score

    f = load_framework("longwan-2022")
    out: dict[str, float] = {}
    t = time.perf_counter()
    frame, _ = read_table(src)
    out["read (pandas)"] = time.perf_counter() - t
    t = time.perf_counter()
    table = load_enterprises(frame, f, id_check="none")
    out["intake validation"] = time.perf_counter() - t
    t = time.perf_counter()
    result = score(f, table.frame, source=table.source)
    out["score"] = time.perf_counter() - t
    t = time.perf_counter()
    result.frame.to_parquet(work / "steps.parquet", index=False)
    out["write (pandas)"] = time.perf_counter() - t
    return out


def bench_national(rows: int, work: Path) -> None:
    years = 7
    folder = work / f"national-{rows}"
    if not (folder / "enterprises.parquet").exists():
        args = ["synth", "--out", str(folder), "--enterprises", str(rows // years)]
        _cli(*args, "--parks", "20", "--years", "2018-2024", "--seed", "1", "--no-progress")
    data = ["--data", str(folder / "enterprises.parquet")]
    events = ["--events", str(folder / "events.parquet"), "--target", "hte_certified"]
    steps = {
        "validate": ["validate", "national-2024", *data],
        "score": ["score", "--framework", "national-2024", *data, "--out", str(work / "s.parquet")],
        "suggest (points)": [
            "suggest", "--framework", "national-2024", *data, *events,
            "--out", str(work / "national-hte.yaml"), "--bootstrap", "20", "--no-progress",
            "--no-track",
        ],
        "compare": [
            "compare", "--base", "national-2024", "--candidate", str(work / "national-hte.yaml"),
            *data, *events, "--out", str(work / "compare"), "--no-track",
        ],
        "report": [
            "report", "--base", "national-2024", "--candidate", str(work / "national-hte.yaml"),
            *data, *events, "--out", str(work / "report.html"), "--no-track",
        ],
    }  # fmt: skip
    n = len(__import__("pandas").read_parquet(folder / "enterprises.parquet", columns=["year"]))
    print(f"national-2024, synthetic panel of {n:,} firm-years (20 parks, 2018-2024)")
    print(f"{'command':<18} {'seconds':>8} {'peak MB':>9}")
    for name, args in steps.items():
        run = _cli(*args)
        print(f"{name:<18} {run['seconds']:8.1f} {run['peak_mb']:9,.0f}")


def bench_install(work: Path) -> None:
    """Distributions and installed megabytes of the core install and of ``[notebooks]``.

    Resolves both with ``pip install --dry-run --ignore-installed --report`` (asks the package
    index) and sums the files of each distribution as installed in this environment.
    """
    from importlib import metadata

    def resolve(spec: str) -> set[str]:
        report = work / "pip-report.json"
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed", "--quiet"]
            + ["--report", str(report), "-e", spec],
            check=True,
            cwd=HERE.parent,
            capture_output=True,
        )
        data = json.loads(report.read_text(encoding="utf-8"))
        return {i["metadata"]["name"].lower().replace("_", "-") for i in data["install"]}

    def size(name: str) -> int | None:
        try:
            dist = metadata.distribution(name)
        except metadata.PackageNotFoundError:
            return None
        paths = (Path(str(dist.locate_file(f))) for f in dist.files or [])
        return sum(p.stat().st_size for p in paths if p.is_file())

    core, notebooks = resolve("."), resolve(".[notebooks]")
    extra = sorted(notebooks - core)
    core_mb = sum(s for n in core if (s := size(n)) is not None) / 1e6
    sizes = {n: size(n) for n in extra}
    extra_mb = sum(s for s in sizes.values() if s is not None) / 1e6
    print(f"core install        {len(core):4d} distributions {core_mb:8,.0f} MB")
    print(
        f"[notebooks] adds    {len(extra):4d} distributions {extra_mb:8,.0f} MB "
        f"(+{extra_mb / core_mb:.0%}); not installed here: "
        + (", ".join(n for n, s in sizes.items() if s is None) or "none")
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("what", choices=["help", "score", "national", "install"])
    p.add_argument("--rows", type=int, help="rows (score: 1,000,000; national: 520,000)")
    p.add_argument("--starts", type=int, default=7, help="process starts to time for help")
    p.add_argument("--work", type=Path, help="folder for generated data (default: a temp folder)")
    args = p.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="calibrate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    if args.what == "help":
        bench_help(args.starts)
    elif args.what == "install":
        bench_install(work)
    elif args.what == "score":
        bench_score(args.rows or 1_000_000, work)
    else:
        bench_national(args.rows or 520_000, work)


if __name__ == "__main__":
    main()
