"""The ``calibrate`` command line: parse arguments, call the library, print, map errors to exit codes.

Exit codes: 0 success, 2 bad input (the message names the file, row or YAML path and the fix),
1 an unexpected failure (a bug: please report it with the traceback).
No logic lives here; every command is a few lines over a library call.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from calibrate import __version__
from calibrate.exceptions import CalibrateError

Handler = Callable[[argparse.Namespace], int]
_COMMANDS: dict[str, tuple[Callable[[argparse.ArgumentParser], None], Handler, str]] = {}


def command(
    name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]
) -> Callable[[Handler], Handler]:
    """Register a handler and the function that declares its arguments as a sub-command."""

    def wrap(handler: Handler) -> Handler:
        _COMMANDS[name] = (configure, handler, help_text)
        return handler

    return wrap


def _print(text: str = "") -> None:
    print(text, flush=True)


def _data_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="enterprise-year table: .csv (UTF-8/GBK), .xlsx or .parquet")
    p.add_argument("--encoding", help="CSV encoding (default: detect UTF-8, UTF-8 with BOM, GBK)")
    p.add_argument("--money-unit", choices=["wan", "yuan"], default="wan",
                   help="unit of money columns in the file; yuan is converted to 万元 (default: wan)")
    p.add_argument("--no-id-check", action="store_true",
                   help="accept any enterprise_id, not only unified social credit codes")
    p.add_argument("--rejects", metavar="FILE",
                   help="write bad rows with their reasons to FILE and go on with the good ones "
                        "(default: stop and list every problem)")


def _load_data(args: argparse.Namespace, framework: Any) -> Any:
    from calibrate.data import load_enterprises

    table = load_enterprises(
        args.data, framework, encoding=args.encoding, money_unit=args.money_unit,
        id_check="none" if args.no_id_check else "uscc",
        on_error="reject" if args.rejects else "raise",
    )
    for note in table.notes:
        _print(f"note: {note}")
    if args.rejects:
        _write_table(table.rejects, Path(args.rejects))
        _print(f"{len(table.rejects)} of {table.n_read} rows rejected -> {args.rejects}")
    return table


def _write_table(frame: Any, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix.lower() in {".parquet", ".pq"}:
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, encoding="utf-8")


# --- frameworks ------------------------------------------------------------------------------


def _cfg_frameworks(p: argparse.ArgumentParser) -> None:
    del p


@command("frameworks", "list the shipped frameworks", _cfg_frameworks)
def run_frameworks(args: argparse.Namespace) -> int:
    from calibrate.framework import load_framework, shipped_frameworks

    for ident in shipped_frameworks():
        f = load_framework(ident)
        n_rec = len(f.reconstructed())
        _print(f"{ident:<16} {f.name.zh} / {f.name.en}")
        _print(f"{'':<16} {len(f.stages)} stages, {len(f.indicators)} indicators, "
               f"{len(f.penalties)} penalty items, {len(f.tiers)} lists; "
               f"{f.provenance.status} ({n_rec} reconstructed elements)")
    return 0


# --- validate --------------------------------------------------------------------------------


def _cfg_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("framework", help="shipped framework id or path to a YAML file")
    p.add_argument("--data", help="also check this enterprise-year table against the framework")
    p.add_argument("--encoding")
    p.add_argument("--money-unit", choices=["wan", "yuan"], default="wan")
    p.add_argument("--no-id-check", action="store_true")


@command("validate", "check a framework file (and a data file against it)", _cfg_validate)
def run_validate(args: argparse.Namespace) -> int:
    from calibrate.framework import load_framework

    f = load_framework(args.framework)
    _print(f"ok: framework {f.id} {f.version} — {len(f.stages)} stages, {len(f.indicators)} indicators "
           f"({len(f.core_indicator_ids)} core, budget {f.core_budget:g}), {len(f.penalties)} penalty items; "
           f"fingerprint {f.fingerprint}")
    if args.data:
        from calibrate.data import load_enterprises

        table = load_enterprises(args.data, f, encoding=args.encoding, money_unit=args.money_unit,
                                 id_check="none" if args.no_id_check else "uscc")
        _print(f"ok: data {table.source} — {len(table.frame)} rows, {table.frame['year'].nunique()} years, "
               f"fingerprint {table.fingerprint}")
    return 0


# --- score -----------------------------------------------------------------------------------


def _cfg_score(p: argparse.ArgumentParser) -> None:
    p.add_argument("--framework", required=True, help="shipped framework id or YAML path")
    _data_options(p)
    p.add_argument("--out", required=True, help="scores output, .csv or .parquet")


@command("score", "score an enterprise table with a framework", _cfg_score)
def run_score(args: argparse.Namespace) -> int:
    from calibrate.framework import load_framework
    from calibrate.scoring import score

    f = load_framework(args.framework)
    table = _load_data(args, f)
    result = score(f, table.frame, source=table.source)
    out = Path(args.out)
    _write_table(result.frame, out)
    _print(f"scored {result.n_firms} enterprise-years with {f.id} -> {out}")
    report = result.missing_report()
    missing = report[report["missing"] > 0]
    if len(missing):
        _print("missing values per indicator (scored as the framework says):")
        for row in missing.itertuples():
            _print(f"  {row.indicator:<28} {row.name_zh:<16} {row.missing:>8} ({row.share:.1%}) -> {row.policy}")
    else:
        _print("no missing indicator values")
    _print("firms per stage and list:")
    _print(result.tier_counts().to_string())
    return 0


# --- entry point -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calibrate",
        description="Reproduce, test and re-weight enterprise innovation points policies (企业创新积分制).",
    )
    parser.add_argument("--version", action="version", version=f"calibrate {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (configure, _, help_text) in _COMMANDS.items():
        configure(sub.add_parser(name, help=help_text, description=help_text))
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    _, handler, _ = _COMMANDS[args.command]
    try:
        return handler(args)
    except CalibrateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
