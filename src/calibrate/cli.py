"""The ``calibrate`` command line: parse arguments, call the library, print, map errors to exit codes.

Exit codes: 0 success, 2 bad input (the message names the file, row or YAML path and the fix),
1 an unexpected failure (a bug: please report it with the traceback).
No logic lives here; every command is a few lines over a library call.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from calibrate import __version__
from calibrate.exceptions import CalibrateError, CalibrateWarning, Problem, UsageError

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
    p.add_argument(
        "--data", required=True, help="enterprise-year table: .csv (UTF-8/GBK), .xlsx or .parquet"
    )
    p.add_argument("--encoding", help="CSV encoding (default: detect UTF-8, UTF-8 with BOM, GBK)")
    p.add_argument("--sheet", help="workbook sheet to read (needed when several sheets hold data)")
    p.add_argument(
        "--money-unit",
        choices=["wan", "yuan"],
        default="wan",
        help="unit of money columns in the file; yuan is converted to 万元 (default: wan)",
    )
    p.add_argument(
        "--no-id-check",
        action="store_true",
        help="accept any enterprise_id, not only unified social credit codes",
    )
    p.add_argument(
        "--rejects",
        metavar="FILE",
        help="write bad rows with their reasons to FILE and go on with the good ones "
        "(default: stop and list every problem)",
    )


def _load_data(args: argparse.Namespace, framework: Any) -> Any:
    from calibrate.data import load_enterprises

    table = load_enterprises(
        args.data,
        framework,
        encoding=args.encoding,
        money_unit=args.money_unit,
        id_check="none" if args.no_id_check else "uscc",
        on_error="reject" if args.rejects else "raise",
        sheet=args.sheet,
    )
    for note in table.notes:
        _print(f"note: {note}")
    _check_years(args, table.frame["year"])
    if args.rejects:
        _write_table(table.rejects, Path(args.rejects))
        _print(f"{len(table.rejects)} of {table.n_read} rows rejected -> {args.rejects}")
    return table


def _load_events(args: argparse.Namespace, table: Any) -> Any:
    """The events table; every note and every unused or censoring-moving event is a warning."""
    from calibrate.data import load_events
    from calibrate.outcomes import event_coverage

    events = load_events(args.events, encoding=args.encoding)
    target = getattr(args, "target", None)
    horizon = getattr(args, "horizon", None) or 1  # report: None = the calibration's, else 1
    coverage = event_coverage(table.frame, events.frame, target, horizon)
    for line in [*events.notes, *coverage]:
        print(f"warning: {events.source}: {line}", file=sys.stderr)
    return events


def _write_table(frame: Any, path: Path) -> None:
    from calibrate._io import write_table

    write_table(frame, path)


#: Input options whose files must never be overwritten by an output.
_INPUT_OPTIONS = (
    "data",
    "events",
    "framework",
    "base",
    "candidate",
    "constraints",
    "experiment",
    "suggestion",
)
#: Commands whose ``--out`` is a folder (the others write a file) ...
_FOLDER_OUT = frozenset({"synth", "compare", "fit", "demo", "serve"})
#: ... and those that only add files to it (the others replace it as a whole).
_SHARED_OUT = frozenset({"demo", "serve"})


#: Tables ``Suggestion.save`` writes beside the framework YAML (``NAME.<table>.csv``).
_SUGGEST_TABLES = ("draws", "path", "directions", "diff", "points")


def _suggest_siblings(out: str) -> list[tuple[str, str]]:
    stem = Path(out).with_suffix("")
    return [(f"--out ({t})", f"{stem}.{t}.csv") for t in _SUGGEST_TABLES]


#: Whole-number options and their smallest sensible value (checked before any work).
_MINIMUM = {
    "horizon": (1, "give 1 or more years after the data year"),
    "max_edits": (1, "allow at least 1 edit (or leave it out)"),
    "min_train_years": (1, "train on at least 1 year"),
    "bootstrap": (0, "give 0 (no intervals) or more samples"),
    "trials": (0, "give 0 or more trials"),
    "seed": (0, "give a seed of 0 or more"),
    "shap_rows": (0, "give 0 or more rows"),
}


def _guard_options(args: argparse.Namespace) -> None:
    """Refuse option values no command can work with, before any work."""
    problems: list[Problem] = []
    for name, (least, fix) in _MINIMUM.items():
        value = getattr(args, name, None)
        if isinstance(value, int) and value < least:
            flag = "--" + name.replace("_", "-")
            problems.append(Problem(flag, f"is {value}; {fix}"))
    events, target = getattr(args, "events", None), getattr(args, "target", None)
    # report: with --events alone, the target is the candidate's calibration target
    if (args.command == "compare" and (events is None) != (target is None)) or (
        args.command == "report" and target is not None and events is None
    ):
        given, missing = ("--events", "--target") if events else ("--target", "--events")
        problems.append(Problem(missing, f"{given} needs {missing}; give both (or neither)"))
    if getattr(args, "moves", None) is not None:
        from calibrate.constraints import parse_moves  # the one owner of move names

        problems += parse_moves(args.moves, "--moves")[1]
    if problems:
        raise UsageError("command line", problems)


def _check_years(args: argparse.Namespace, years: Any) -> None:
    """``--train-years`` / ``--test-years`` must name years the data has."""
    from pandas import unique as pd_unique

    have = sorted(int(y) for y in pd_unique(years))
    problems = []
    for flag in ("train_years", "test_years"):
        span = getattr(args, flag, None)
        if span is None:
            continue
        missing = [y for y in range(span[0], span[1] + 1) if y not in have]
        if missing:
            shown = f"{have[0]}-{have[-1]}" if have else "none"
            problems.append(
                Problem(
                    f"--{flag.replace('_', '-')}",
                    f"the data has no rows for {', '.join(map(str, missing))} "
                    f"(its years: {shown}); choose years within the data",
                )
            )
    if problems:
        raise UsageError("command line", problems)


def _guard_outputs(args: argparse.Namespace) -> None:
    """Refuse unsafe ``--out`` / ``--rejects`` paths before any work (see :mod:`calibrate._io`)."""
    from calibrate._io import check_outputs, table_format

    inputs = [getattr(args, o) for o in _INPUT_OPTIONS if isinstance(getattr(args, o, None), str)]
    files: list[tuple[str, str]] = []
    folders: list[tuple[str, str]] = []
    shared: list[tuple[str, str]] = []
    out = getattr(args, "out", None)
    if out is not None:
        kind = shared if args.command in _SHARED_OUT else folders
        (kind if args.command in _FOLDER_OUT else files).append(("--out", out))
        if args.command == "suggest":
            files += _suggest_siblings(out)
    rejects = getattr(args, "rejects", None)
    if rejects is not None:
        files.append(("--rejects", rejects))
    tables = [("--rejects", rejects), ("--carriers", getattr(args, "carriers", None))]
    files += [(flag, path) for flag, path in tables[1:] if isinstance(path, str)]
    check_outputs(inputs, files, folders, shared)
    for flag, path in tables:
        if isinstance(path, str):
            table_format(path, flag)
    if args.command == "score" and out is not None:
        table_format(out, "--out")


# --- frameworks ------------------------------------------------------------------------------


def _cfg_frameworks(p: argparse.ArgumentParser) -> None:
    del p


@command("frameworks", "list the shipped frameworks", _cfg_frameworks)
def run_frameworks(args: argparse.Namespace) -> int:
    from calibrate.framework import load_framework, shipped_frameworks

    for ident in shipped_frameworks():
        f = load_framework(ident)
        counts = f.provenance_counts()
        official = sum(c["official"] for c in counts.values())
        total = sum(c["official"] + c["reconstructed"] for c in counts.values())
        _print(f"{ident:<18} {f.name.zh} / {f.name.en}")
        _print(
            f"{'':<18} {len(f.stages)} stages, {len(f.indicators)} indicators, "
            f"{len(f.penalties)} penalty items, {len(f.tiers)} tiers + {len(f.lists)} lists, "
            f"{len(f.subsidies)} subsidies, {len(f.pools)} pools"
            f"{', eligibility rules' if f.eligibility else ''}{', credit lines' if f.credit else ''}"
        )
        parts = ", ".join(
            f"{kind} {c['official']}/{c['official'] + c['reconstructed']}"
            for kind, c in counts.items()
        )
        _print(f"{'':<18} official {official} of {total} elements ({parts} official)")
    return 0


# --- validate --------------------------------------------------------------------------------


def _cfg_validate(p: argparse.ArgumentParser) -> None:
    p.add_argument("framework", help="shipped framework id or path to a YAML file")
    p.add_argument("--data", help="also check this enterprise-year table against the framework")
    p.add_argument("--encoding")
    p.add_argument("--sheet", help="workbook sheet to read (needed when several sheets hold data)")
    p.add_argument("--money-unit", choices=["wan", "yuan"], default="wan")
    p.add_argument("--no-id-check", action="store_true")


@command("validate", "check a framework file (and a data file against it)", _cfg_validate)
def run_validate(args: argparse.Namespace) -> int:
    from calibrate.framework import load_framework

    f = load_framework(args.framework)
    _print(
        f"ok: framework {f.id} {f.version} — {len(f.stages)} stages, {len(f.indicators)} indicators "
        f"({len(f.core_indicator_ids)} core, budget {f.core_budget:g}), {len(f.penalties)} penalty items; "
        f"fingerprint {f.fingerprint}"
    )
    if args.data:
        from calibrate.data import load_enterprises

        table = load_enterprises(
            args.data,
            f,
            encoding=args.encoding,
            money_unit=args.money_unit,
            id_check="none" if args.no_id_check else "uscc",
            sheet=args.sheet,
        )
        for note in table.notes:
            _print(f"note: {note}")
        _print(
            f"ok: data {table.source} — {len(table.frame)} rows, {table.frame['year'].nunique()} years, "
            f"fingerprint {table.fingerprint}"
        )
    return 0


# --- score -----------------------------------------------------------------------------------


def _cfg_score(p: argparse.ArgumentParser) -> None:
    p.add_argument("--framework", required=True, help="shipped framework id or YAML path")
    _data_options(p)
    p.add_argument("--out", required=True, help="scores output, .csv or .parquet")
    p.add_argument(
        "--carriers",
        help="also write carrier aggregates (incubators ranked by their residents) to this "
        ".csv or .parquet; needs a carrier column",
    )


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
            _print(
                f"  {row.indicator:<28} {row.name_zh:<16} {row.missing:>8} ({row.share:.1%}) -> {row.policy}"
            )
    else:
        _print("no missing indicator values")
    _print("firms per stage and list:")
    _print(result.tier_counts().to_string())
    extra = [f"list__{li.id}" for li in f.lists] + [f"pool__{p.id}" for p in f.pools]
    if extra:
        _print("firms per stage on the named lists and in the cultivation pools:")
        by_stage = result.frame.groupby("stage", observed=False)[extra].sum()
        _print(by_stage.rename(columns=lambda c: c.split("__", 1)[1]).to_string())
    credit = result.credit_table()
    if credit is not None:
        _print("credit lines (万元): firms covered per stage")
        shown = credit.assign(share=[f"{v:.1%}" for v in credit["share"]])
        _print(shown.to_string(float_format=lambda v: f"{v:,.0f}"))
    if args.carriers:
        from calibrate.scoring import carrier_scores

        carriers = carrier_scores(result, table.frame)
        _write_table(carriers.frame, Path(args.carriers))
        _print(
            f"{len(carriers.frame)} carriers ranked within {' × '.join(carriers.by)} "
            f"({carriers.unassigned} firms without a carrier) -> {args.carriers}"
        )
    return 0


# --- synth -----------------------------------------------------------------------------------


def _years(text: str) -> tuple[int, int]:
    """``2018-2024`` or ``2023`` → (first, last)."""
    try:
        parts = [int(p) for p in text.split("-")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"years must look like 2018-2024 or 2023, not {text!r}"
        ) from None
    if len(parts) == 1:
        return parts[0], parts[0]
    if len(parts) != 2 or parts[0] > parts[1]:
        raise argparse.ArgumentTypeError(
            f"years must look like 2018-2024 (first <= last), not {text!r}"
        )
    return parts[0], parts[1]


def _cfg_synth(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--out", required=True, help="folder for enterprises, events, truth and coefficients"
    )
    p.add_argument(
        "--enterprises",
        type=int,
        default=3000,
        help="firms alive per year on average (default 3000)",
    )
    p.add_argument("--parks", type=int, default=2, help="number of parks (default 2)")
    p.add_argument(
        "--years", type=_years, default=(2018, 2024), help="data years, e.g. 2018-2024 (default)"
    )
    p.add_argument(
        "--seed", type=int, default=0, help="random seed; same seed, same bytes (default 0)"
    )
    p.add_argument(
        "--format",
        choices=["parquet", "csv"],
        default="parquet",
        help="file format (default parquet)",
    )
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    p.add_argument(
        "--failure-modes",
        action="store_true",
        help="add a wrong-signed indicator, a badly placed goalpost and an unread predictive "
        "column (data/README.md, 'Failure modes')",
    )


@command("synth", "generate a synthetic multi-park panel with known ground truth", _cfg_synth)
def run_synth(args: argparse.Namespace) -> int:
    from calibrate.synth import SynthConfig, generate

    try:
        config = SynthConfig(
            enterprises=args.enterprises,
            parks=args.parks,
            years=args.years,
            seed=args.seed,
            failure_modes=args.failure_modes,
        )
    except ValueError as exc:  # the config lists every bad value
        text = str(exc).removeprefix("invalid SynthConfig: ")
        raise UsageError("command line", [Problem("synth options", text)]) from None
    from calibrate._io import output_folder

    panel = generate(config, progress=not args.no_progress)
    with output_folder(args.out) as tmp:
        written = panel.write(tmp, fmt=args.format)
    paths = {name: Path(args.out) / p.relative_to(tmp) for name, p in written.items()}
    _print(
        f"{len(panel.enterprises):,} enterprise-years, {panel.enterprises['enterprise_id'].nunique():,} firms, "
        f"{args.parks} parks, {args.years[0]}-{args.years[1]}; {len(panel.events):,} events"
    )
    for name, path in paths.items():
        _print(f"  {name:<13} {path}")
    return 0


def _tracking_options(p: argparse.ArgumentParser) -> None:
    t = p.add_argument_group("tracking (one MLflow run per command)")
    t.add_argument("--no-track", action="store_true", help="do not log an MLflow run")
    t.add_argument(
        "--tracking-uri",
        help="MLflow store: sqlite:///FILE, postgresql://USER:PASSWORD@HOST/DB or an mlflow "
        "server's http://HOST:PORT (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db here)",
    )
    t.add_argument(
        "--experiment",
        default=None,
        help="MLflow experiment name (default calibrate)",
    )


def _command_run(args: argparse.Namespace, command: str, run_name: str | None = None) -> Any:
    """The command's MLflow run (a context manager; inactive with --no-track)."""
    from calibrate.tracking import DEFAULT_EXPERIMENT, Tracker

    tracker = Tracker(
        args.tracking_uri,
        experiment=getattr(args, "experiment", None) or DEFAULT_EXPERIMENT,
        enabled=not getattr(args, "no_track", False),
    )
    return tracker.command_run(command, run_name=run_name)


def _log_inputs(run: Any, table: Any, events: Any = None) -> None:
    """The enterprise (and events) tables as the run's MLflow datasets."""
    if not run.active:
        return
    for name, t, context in (("enterprises", table, "training"), ("events", events, "labels")):
        if t is not None:
            run.log_dataset(
                name,
                fingerprint=t.fingerprint,
                rows=len(t.frame),
                source=str(t.source),
                columns=[str(c) for c in t.frame.columns if c != "source_row"],
                context=context,
            )


def _say_run(run: Any) -> None:
    tracked = run.result()
    if tracked is not None:
        _print(f"MLflow run {tracked.run_id} in {tracked.uri}")


# --- suggest ---------------------------------------------------------------------------------


def _group_limit(text: str) -> tuple[str, float]:
    name, _, value = text.partition("=")
    try:
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected GROUP=POINTS such as tech=50, not {text!r}"
        ) from None


def _outcome_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--events", required=True, help="events table: enterprise_id, year, event")
    p.add_argument(
        "--target",
        required=True,
        help="event to predict, e.g. hte_certified, tech_sme_registered, loan_default",
    )
    p.add_argument(
        "--horizon",
        type=int,
        default=1,
        help="years after the data year in which the event counts (default 1)",
    )
    _direction_option(p)


def _direction_option(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--direction",
        choices=["higher", "lower"],
        help="should high scorers be more (higher) or less (lower) likely to have the event; "
        "known for hte_certified, tech_sme_registered (higher) and loan_default (lower), "
        "required for any other event",
    )


def _locale_lang() -> str:
    """``en`` when the user's locale names another language than Chinese, else ``zh``."""
    import os

    for key in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(key, "")
        if value and value not in ("C", "POSIX") and not value.startswith("C."):
            return "zh" if value.lower().startswith("zh") else "en"
    return "zh"


def _cfg_suggest(p: argparse.ArgumentParser) -> None:
    p.add_argument("--framework", required=True, help="today's framework: shipped id or YAML path")
    _data_options(p)
    _outcome_options(p)
    p.add_argument(
        "--out",
        required=True,
        help="suggested framework YAML; a diff and a points table are written beside it",
    )
    c = p.add_argument_group("constraints (override --constraints FILE)")
    c.add_argument(
        "--constraints", metavar="FILE", help="constraints YAML (see calibrate.constraints)"
    )
    c.add_argument(
        "--granularity",
        type=float,
        help="1 = whole points (default), 0.5 = half points, 0 = continuous",
    )
    c.add_argument("--min-points", type=float, help="lower bound for every core indicator")
    c.add_argument("--max-points", type=float, help="upper bound for every core indicator")
    c.add_argument("--max-change", type=float, help="largest change from today's points, in points")
    c.add_argument(
        "--max-change-relative",
        type=float,
        help="largest change as a share of today's points, e.g. 0.5",
    )
    c.add_argument(
        "--group-min", type=_group_limit, action="append", default=[], metavar="GROUP=POINTS"
    )
    c.add_argument(
        "--group-max", type=_group_limit, action="append", default=[], metavar="GROUP=POINTS"
    )
    c.add_argument(
        "--same-across-stages", action="store_true", help="one set of points for every stage"
    )
    c.add_argument(
        "--nonzero",
        nargs="+",
        default=[],
        metavar="INDICATOR",
        help="indicators that must keep points",
    )
    c.add_argument(
        "--moves",
        help="edits allowed: points,direction,shape,indicators or all "
        "(default points,direction,shape; new indicators need data a park may not collect)",
    )
    c.add_argument(
        "--frozen", nargs="+", default=[], metavar="INDICATOR", help="indicators nothing may change"
    )
    c.add_argument(
        "--frozen-thresholds",
        nargs="+",
        default=[],
        metavar="INDICATOR",
        help="indicators whose goalposts, bands and direction stay (points may move)",
    )
    p.add_argument(
        "--max-edits",
        type=int,
        default=8,
        help="longest edit path (default 8; re-weighting is one)",
    )
    p.add_argument(
        "--candidate-columns",
        nargs="+",
        metavar="COLUMN",
        help="data columns that may become indicators (with --moves indicators; default: every "
        "numeric column no rule reads)",
    )
    p.add_argument(
        "--split-column",
        help="a column of train/test choosing the held-out rows (instead of years)",
    )
    p.add_argument(
        "--lang",
        choices=["zh", "en"],
        default=_locale_lang(),
        help="language of the printed edit path (default from the locale: zh unless it is not Chinese)",
    )
    p.add_argument(
        "--holdout",
        choices=["year", "park"],
        default="year",
        help="park: also require evidence with points fitted without each park (>= 2 parks)",
    )
    p.add_argument(
        "--objective",
        choices=["loglik", "auc", "top5", "top10", "top20"],
        default="loglik",
        help="what to maximise on the training years (default loglik)",
    )
    p.add_argument(
        "--train-years",
        type=_years,
        help="e.g. 2018-2021 (default: every labelled year before the test years)",
    )
    p.add_argument("--test-years", type=_years, help="e.g. 2022 (default: the last labelled year)")
    p.add_argument(
        "--bootstrap",
        type=int,
        default=200,
        help="bootstrap samples of firms for intervals (default 200)",
    )
    p.add_argument(
        "--trials",
        type=int,
        default=400,
        help="search candidates for non-smooth objectives (default 400)",
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--no-progress", action="store_true")
    _study_options(p)
    _tracking_options(p)


def _study_options(p: argparse.ArgumentParser) -> None:
    o = p.add_argument_group("shared Optuna study (objectives other than loglik)")
    o.add_argument(
        "--storage",
        metavar="URL",
        help="Optuna storage, e.g. postgresql+psycopg://USER:PASSWORD@HOST/DB or sqlite:///FILE: "
        "processes given the same --storage and --study work on one study; a rerun resumes it",
    )
    o.add_argument(
        "--study",
        metavar="NAME",
        help="study name in --storage (default suggest-FRAMEWORK-TARGET-hHORIZON-OBJECTIVE, "
        "the same for every --seed)",
    )


def _constraints(args: argparse.Namespace) -> Any:  # noqa: C901 - one branch per constraint flag, read in order
    from calibrate.constraints import ConstraintSet

    spec: dict[str, Any] = {}
    if args.constraints:
        spec = ConstraintSet.from_yaml(args.constraints).to_dict()
    if args.granularity is not None:
        spec["granularity"] = args.granularity
    if args.min_points is not None or args.max_points is not None:
        default = dict(spec.get("bounds", {}).get("default", {}))
        if args.min_points is not None:
            default["min"] = args.min_points
        if args.max_points is not None:
            default["max"] = args.max_points
        spec.setdefault("bounds", {})["default"] = default
    change = dict(spec.get("max_change", {}))
    if args.max_change is not None:
        change["absolute"] = args.max_change
    if args.max_change_relative is not None:
        change["relative"] = args.max_change_relative
    if change:
        spec["max_change"] = change
    for key, pairs in (("min", args.group_min), ("max", args.group_max)):
        for group, value in pairs:
            spec.setdefault("groups", {}).setdefault(group, {})[key] = value
    if args.same_across_stages:
        spec["same_across_stages"] = True
    if args.nonzero:
        spec["nonzero"] = sorted({*spec.get("nonzero", []), *args.nonzero})
    if args.moves is not None:
        spec["moves"] = args.moves
    for key in ("frozen", "frozen_thresholds"):
        given = getattr(args, key)
        if given:
            spec[key] = sorted({*spec.get(key, []), *given})
    return ConstraintSet.from_dict(spec, args.constraints or "command line")


def _span(years: tuple[int, int] | None) -> list[int] | None:
    return None if years is None else list(range(years[0], years[1] + 1))


@command(
    "suggest", "suggest re-weighted points that predict an outcome, under constraints", _cfg_suggest
)
def run_suggest(args: argparse.Namespace) -> int:
    from calibrate._io import output_staging
    from calibrate.framework import load_framework
    from calibrate.suggest import suggest
    from calibrate.tracking import log_suggestion

    f = load_framework(args.framework)
    study = args.study or (
        f"suggest-{f.id}-{args.target}-h{args.horizon}-{args.objective}" if args.storage else None
    )
    if args.storage:
        from calibrate.pipeline import prepare_study_storage

        prepare_study_storage(args.storage)
    with _command_run(args, "suggest", _suggest_run_name(args, f.id)) as run:
        table = _load_data(args, f)
        events = _load_events(args, table)
        _log_inputs(run, table, events)
        run.log_params({"n_trials": args.trials, "storage_study": study or ""})
        result = suggest(
            f,
            table.frame,
            events.frame,
            args.target,
            args.horizon,
            constraints=_constraints(args),
            objective=args.objective,
            direction=args.direction,
            train_years=_span(args.train_years),
            test_years=_span(args.test_years),
            n_bootstrap=args.bootstrap,
            n_trials=args.trials,
            seed=args.seed,
            progress=not args.no_progress,
            split_column=args.split_column,
            max_edits=args.max_edits,
            candidate_columns=args.candidate_columns,
            storage=args.storage,
            study_name=study,
            holdout=args.holdout,
        )
        out = Path(args.out)
        with output_staging(out.parent) as tmp:  # the framework and its tables land as one set
            result = result.saved(tmp / out.name)
        _print_suggestion(result, out, args.lang)
        log_suggestion(run, result)
    _say_run(run)
    return 0


def _suggest_run_name(args: argparse.Namespace, framework_id: str) -> str:
    return f"suggest-{framework_id}-{args.target}-h{args.horizon}-{args.objective}-seed{args.seed}"


def _print_suggestion(result: Any, out: Path, lang: str) -> None:
    stem = out.with_suffix("")
    _print(f"suggested framework {result.framework.id} -> {out}")
    _print(
        f"  fitted on {list(result.train_years)}, held out {list(result.test_years)} (never used "
        f"for fitting); objective {result.objective} ({result.solver}); {result.n_bootstrap} "
        "bootstrap samples of firms"
    )
    _print(
        "edit path (adopt the first k edits with: calibrate apply-edits --suggestion "
        f"{out} --upto k --out FILE):"
    )
    _print_path(result, lang)
    _print("held-out metrics (today vs suggested):")
    _print(
        result.metrics.loc[["auc_within_group", "prec_top5", "prec_top10", "prec_top20"]]
        .round(4)
        .to_string()
    )
    flagged = result.directions[result.directions["verdict"] != "agrees"]
    if len(flagged):
        _print("indicators whose direction the outcome does not confirm:")
        _print(flagged.to_string(index=False))
    _print(
        f"beside it: {stem}.path.csv, {stem}.directions.csv, {stem}.diff.csv, "
        f"{stem}.points.csv, {stem}.draws.csv"
    )
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)


def _cfg_apply(p: argparse.ArgumentParser) -> None:
    p.add_argument("--suggestion", required=True, help="a framework written by calibrate suggest")
    p.add_argument(
        "--upto", type=int, required=True, help="adopt the first K edits of its path (0 = today's)"
    )
    p.add_argument("--out", required=True, help="the framework YAML to write")


@command(
    "apply-edits", "write the framework that adopts the first K edits of a suggestion", _cfg_apply
)
def run_apply_edits(args: argparse.Namespace) -> int:
    from calibrate.framework import load_framework
    from calibrate.suggest import apply_edits

    suggested = load_framework(args.suggestion)
    out = Path(args.out)
    if out.resolve() == Path(args.suggestion).resolve():
        print(f"error: --out {out} is the suggestion itself; choose another file", file=sys.stderr)
        return 2
    framework = apply_edits(suggested, args.upto)
    from calibrate._io import atomic_file

    with atomic_file(out) as tmp:
        framework.save(tmp)
    edits = (suggested.calibration or {}).get("edits") or []
    for rec in edits[: args.upto + 1]:
        _print(f"  step {rec['step']}: {rec['text_zh']} / {rec['text_en']}")
    _print(f"framework with the first {args.upto} edit(s) -> {out}")
    return 0


# --- fit -------------------------------------------------------------------------------------


def _cfg_fit(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--framework", required=True, help="framework whose indicator fractions are the features"
    )
    _data_options(p)
    _outcome_options(p)
    p.add_argument("--model", choices=["logistic", "lightgbm"], default="lightgbm")
    p.add_argument(
        "--min-train-years",
        type=int,
        default=2,
        help="years in the first training window (default 2)",
    )
    p.add_argument(
        "--shap-rows", type=int, default=2000, help="rows sampled for SHAP (lightgbm; default 2000)"
    )
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", help="folder for the per-year metrics, predictions and SHAP importance")
    _tracking_options(p)


@command("fit", "fit an outcome model with out-of-time validation (and SHAP drivers)", _cfg_fit)
def run_fit(args: argparse.Namespace) -> int:
    from calibrate.data import fingerprint
    from calibrate.framework import load_framework
    from calibrate.models import (
        MonotoneGBM,
        PointsLogit,
        features_from_scores,
        fit_temporal,
        policy_directions,
    )
    from calibrate.outcomes import make_labels, resolve_target
    from calibrate.scoring import score

    tgt = resolve_target(args.target, args.direction)
    f = load_framework(args.framework)
    name = f"fit-{f.id}-{args.target}-h{args.horizon}-{args.model}-seed{args.seed}"
    with _command_run(args, "fit", name) as run:
        table = _load_data(args, f)
        events_table = _load_events(args, table)
        _log_inputs(run, table, events_table)
        result = score(f, table.frame, source=table.source)
        labels = make_labels(table.frame, events_table.frame, args.target, args.horizon, rule=tgt)
        for note in labels.notes:
            _print(f"note: {note}")
        mask = labels.labelled_mask & ~result.frame["vetoed"].to_numpy(dtype=bool)
        X = features_from_scores(result, kind="fractions")[mask]
        y = labels.frame["label"].to_numpy()[mask].astype("int8")
        est: Any = (
            PointsLogit()
            if args.model == "logistic"
            else MonotoneGBM(
                monotone=policy_directions(f, kind="fractions", outcome=tgt.direction or "higher"),
                random_state=args.seed,
            )
        )
        fitted = _fit_temporal(
            fit_temporal,
            est,
            X,
            y,
            table.frame["year"].to_numpy()[mask],
            result.group_code[mask],
            min_train_years=args.min_train_years,
            horizon=args.horizon,
        )
        _print(
            f"{args.model} on {f.id} fractions -> {args.target} within {args.horizon} year(s); "
            f"{int(mask.sum()):,} labelled firm-years"
        )
        _print(fitted.by_year.round(4).to_string())
        extra = _write_fit_outputs(args, fitted, X) if args.out else []
        from calibrate.tracking import log_fit

        log_fit(
            run,
            fitted,
            target=args.target,
            horizon=args.horizon,
            data_fingerprint=fingerprint(table.frame),
            framework=f,
            seed=args.seed,
        )
        run.log_artifacts(extra, "extra")
    _say_run(run)
    return 0


def _fit_temporal(fit: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``models.fit_temporal``; too few years for ``--min-train-years`` is an option error."""
    from calibrate.models import MSG_NO_SPLITS

    try:
        return fit(*args, **kwargs)
    except ValueError as exc:
        if not str(exc).startswith(MSG_NO_SPLITS.split("{")[0]):
            raise
        raise UsageError("command line", [Problem("--min-train-years", str(exc))]) from None


def _write_fit_outputs(args: argparse.Namespace, fitted: Any, X: Any) -> list[Path]:
    """Per-year metrics (and SHAP importance) into ``--out``, replaced as a set."""
    from calibrate._io import output_folder

    out = Path(args.out)
    names = ["metrics_by_year.csv"]
    with output_folder(out) as tmp:
        fitted.by_year.to_csv(tmp / "metrics_by_year.csv", encoding="utf-8-sig")
        if args.model == "lightgbm":
            from calibrate.explain import shap_importance

            last = max(fitted.estimators)
            shap = shap_importance(
                fitted.estimators[last], X, max_rows=args.shap_rows, seed=args.seed
            )
            shap.importance.to_csv(tmp / "shap_importance.csv", encoding="utf-8-sig")
            names.append("shap_importance.csv")
    if "shap_importance.csv" in names:
        _print(
            f"SHAP importance on {shap.n_rows_used:,} sampled rows -> {out / 'shap_importance.csv'}"
        )
    return [out / n for n in names]


# --- compare ---------------------------------------------------------------------------------


def _cfg_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="today's framework: shipped id or YAML path")
    p.add_argument("--candidate", required=True, help="proposed framework: shipped id or YAML path")
    _data_options(p)
    p.add_argument("--events", help="events table, to compare outcome metrics")
    p.add_argument("--target", help="event for the outcome metrics")
    p.add_argument("--horizon", type=int, default=1)
    _direction_option(p)
    p.add_argument(
        "--years", type=_years, help="years for the outcome metrics, e.g. 2023 (default: held-out)"
    )
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    p.add_argument("--out", required=True, help="folder for the tables and summary.md")
    _tracking_options(p)


@command(
    "compare", "what-if: who wins and who loses if a park adopts another framework", _cfg_compare
)
def run_compare(args: argparse.Namespace) -> int:
    from calibrate.compare import compare
    from calibrate.framework import load_framework

    base, cand = load_framework(args.base), load_framework(args.candidate)
    with _command_run(args, "compare", f"compare-{base.id}-{cand.id}") as run:
        table = _load_data(args, base)
        events = _load_events(args, table) if args.events else None
        _log_inputs(run, table, events)
        result = compare(
            base,
            cand,
            table.frame,
            events=events.frame if events is not None else None,
            target=args.target,
            horizon=args.horizon,
            direction=args.direction,
            years=_span(args.years),
        )
        from calibrate._io import output_folder

        with output_folder(args.out) as tmp:
            paths = result.write(tmp, fmt=args.format)
            summary = paths.get("summary")
            text = Path(summary).read_text(encoding="utf-8") if summary is not None else None
        if text is not None:
            _print(text)
        _print(f"tables -> {args.out}")
        from calibrate.tracking import log_comparison

        log_comparison(run, result)
        run.log_artifacts([Path(args.out)], "compare")
    _say_run(run)
    return 0


# --- report ----------------------------------------------------------------------------------


def _cfg_report(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="today's framework")
    p.add_argument(
        "--candidate",
        required=True,
        help="proposed framework (e.g. the output of calibrate suggest, with its calibration "
        "block and NAME.draws.csv beside it)",
    )
    _data_options(p)
    p.add_argument("--events")
    p.add_argument("--target", help="event (default: the candidate's calibration target)")
    p.add_argument("--horizon", type=int, help="years (default: the calibration's, else 1)")
    _direction_option(p)
    p.add_argument(
        "--year", type=int, help="year under review for lists and counts (default: the latest)"
    )
    p.add_argument(
        "--lang",
        choices=["zh", "en"],
        help="report language (default: zh for a framework with a Chinese name, else en)",
    )
    p.add_argument("--pdf", action="store_true", help="also print a PDF with headless Chromium")
    p.add_argument("--out", required=True, help="report .html (tables go beside it as .xlsx)")
    _tracking_options(p)


@command(
    "report", "write the review-panel report (HTML, optionally PDF) for two frameworks", _cfg_report
)
def run_report(args: argparse.Namespace) -> int:
    from calibrate._io import output_staging
    from calibrate.framework import load_framework
    from calibrate.report import build_report
    from calibrate.report.inputs import report_inputs

    base, cand = load_framework(args.base), load_framework(args.candidate)
    source = Path(args.candidate) if Path(args.candidate).is_file() else None
    with _command_run(args, "report", f"report-{base.id}-{cand.id}") as run:
        table = _load_data(args, base)
        events = _load_events(args, table) if args.events else None
        _log_inputs(run, table, events)
        inputs = report_inputs(
            base,
            cand,
            table.frame,
            source=source,
            events=events.frame if events is not None else None,
            target=args.target,
            direction=args.direction,
            horizon=args.horizon,
            year=args.year,
        )
        lang = args.lang or default_lang(inputs.base)
        out = Path(args.out)
        with output_staging(
            out.parent
        ) as tmp:  # the HTML, PDF and tables replace old ones together
            staged = build_report(inputs, tmp / out.name, lang=lang, pdf=args.pdf)
        html = out.parent / Path(staged.html).name
        pdf = out.parent / Path(staged.pdf).name if staged.pdf else None
        tables = [out.parent / Path(p).name for p in staged.tables]
        _print(f"report -> {html}" + (f" and {pdf}" if pdf else ""))
        for path in tables:
            _print(f"tables -> {path}")
        from calibrate.tracking import log_comparison

        if inputs.comparison is not None:
            log_comparison(run, inputs.comparison)
        run.log_params({"lang": lang})
        run.log_artifacts([html, *([pdf] if pdf else []), *tables], "report")
    _say_run(run)
    return 0


def default_lang(framework: Any) -> str:
    from calibrate.report.i18n import default_lang as pick

    return pick(framework)


def _cfg_memo(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--frameworks",
        nargs="+",
        required=True,
        metavar="F",
        help="frameworks to set side by side, the reference (official) one first",
    )
    _data_options(p)
    p.add_argument("--events")
    p.add_argument("--target", help="event for outcome metrics of frameworks without calibration")
    p.add_argument("--horizon", type=int, default=1)
    p.add_argument("--year", type=int, help="year under review (default: the latest)")
    p.add_argument("--lang", choices=["zh", "en"], help="default: zh for a Chinese framework")
    p.add_argument("--pdf", action="store_true", help="also print the one-page PDF")
    p.add_argument("--out", required=True, help="memo .html")


@command("memo", "a one-page decision memo: N frameworks side by side for one year", _cfg_memo)
def run_memo(args: argparse.Namespace) -> int:
    from calibrate.data import load_events
    from calibrate.framework import load_framework
    from calibrate.report.memo import build_memo, write_memo

    if len(args.frameworks) < 2:
        raise CalibrateError(
            f"--frameworks: got {len(args.frameworks)} framework; give the reference and at "
            "least one proposal, e.g. --frameworks longwan-2022 suggested.yaml"
        )
    frameworks = [load_framework(f) for f in args.frameworks]
    sources = [Path(f) if Path(f).is_file() else None for f in args.frameworks]
    memo = build_memo(
        frameworks,
        _load_data(args, frameworks[0]).frame,
        sources=sources,
        events=load_events(args.events, encoding=args.encoding).frame if args.events else None,
        target=args.target,
        horizon=args.horizon,
        year=args.year,
    )
    html, pdf = write_memo(
        memo, args.out, lang=args.lang or default_lang(frameworks[0]), pdf=args.pdf
    )
    _print(f"memo -> {html}" + (f" and {pdf}" if pdf else ""))
    return 0


# --- serve ---------------------------------------------------------------------------------


def _cfg_serve(p: argparse.ArgumentParser) -> None:
    p.add_argument("--framework", required=True, help="framework to start from: shipped id or YAML")
    _data_options(p)
    p.add_argument("--events", help="events table, for outcome metrics (with --target)")
    p.add_argument("--target", help="event the outcome metrics are about, e.g. hte_certified")
    p.add_argument("--horizon", type=int, default=1, help="years after the data year (default 1)")
    p.add_argument("--port", type=int, default=5006, help="port on 127.0.0.1 (default 5006)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh", help="page language (default zh)")
    p.add_argument(
        "--out", default="workbench-output", help="folder for saved frameworks and workbooks"
    )
    _tracking_options(p)


def _save_hook(args: argparse.Namespace, base: Any) -> Any:
    """The one place a workbench save becomes an MLflow run (None when --no-track)."""
    if args.no_track:
        return None
    from calibrate.tracking import Tracker

    tracker = Tracker(args.tracking_uri)

    def on_save(framework: Any, files: list[Path]) -> str | None:
        run = tracker.log_edit(framework, base, extra_artifacts=files, command="serve")
        return None if run is None else run.run_id

    return on_save


@command("serve", "the what-if workbench in the browser, on 127.0.0.1", _cfg_serve)
def run_serve(args: argparse.Namespace) -> int:
    from calibrate.app import Baseline, serve
    from calibrate.data import load_events
    from calibrate.framework import load_framework

    if (args.events is None) != (args.target is None):
        print("error: give --events and --target together (or neither)", file=sys.stderr)
        return 2
    f = load_framework(args.framework)
    table = _load_data(args, f)
    events = load_events(args.events, encoding=args.encoding).frame if args.events else None
    baseline = Baseline.from_events(
        f, table.frame, events, args.target, args.horizon, source=table.source
    )
    serve(
        baseline,
        port=args.port,
        lang=args.lang,
        out_dir=args.out,
        on_save=_save_hook(args, f),
        say=_print,
    )
    return 0


# --- run / demo ------------------------------------------------------------------------------


def _cfg_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("experiment", help="experiment YAML, e.g. experiments/national-hte.yaml")
    p.add_argument(
        "--tracking-uri",
        help="MLflow store (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db here)",
    )
    g = p.add_argument_group("grids (an experiment file with a grid: key)")
    g.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="cells computed at once in worker processes (-1: one per core; default 1)",
    )
    g.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help="run the cells on a Dask cluster, e.g. tcp://10.0.0.5:8786 (needs the [dask] extra)",
    )


def _print_path(suggestion: Any, lang: str = "zh") -> None:
    """The edit path: each step in words, with training and held-out metrics after it."""
    path = suggestion.path
    cols = ["step", "move", "text_zh" if lang == "zh" else "text_en"]
    cols += ["train_auc_within_group", "held_out_auc_within_group", "held_out_prec_top10"]
    cols += [c for c in ("park_held_out_auc_within_group",) if c in path.columns]
    cols += ["chosen_share", "firms_changing_list"]
    _print(path[cols].round(4).to_string(index=False))


def _finish_run(result: Any) -> None:
    for warning in result.suggestion.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print("")
    _print("edit path (held out: never used for fitting):")
    _print_path(result.suggestion)
    _print("")
    _print("held-out comparison of methods (same firm-years):")
    cols = [
        c
        for c in ("auc_within_group", "auc_pooled", "prec_top10", "lift_top10")
        if c in result.methods.columns
    ]
    _print(result.methods[["kind", *cols]].round(4).to_string())
    _print("")
    for name, path in result.paths.items():
        _print(f"{name:<20} {path}")
    if result.run_id:
        uri = result.tracking_uri or ""
        _print(f"{'MLflow run':<20} {result.run_id} in {uri}")
        _print(f"{'browse runs':<20} mlflow ui --backend-store-uri {uri}")
    _print(f"{'timings (s)':<20} " + ", ".join(f"{k} {v}" for k, v in result.seconds.items()))


@command("run", "run a declared experiment end to end, tracked in MLflow", _cfg_run)
def run_run(args: argparse.Namespace) -> int:
    from calibrate.exceptions import ExperimentError
    from calibrate.framework import read_yaml_file
    from calibrate.pipeline import (
        Experiment,
        Grid,
        prepare_study_storage,
        run_experiment,
        run_grid,
        split_study,
    )

    raw, study = split_study(read_yaml_file(args.experiment, ExperimentError), args.experiment)
    if study is not None:
        prepare_study_storage(study.storage)
    if isinstance(raw, dict) and "grid" in raw:
        grid = run_grid(
            Grid.from_dict(raw, str(args.experiment)),
            say=_print,
            tracking_uri=args.tracking_uri,
            jobs=args.jobs,
            dask_scheduler=args.dask_scheduler,
            study=study,
        )
        _print(grid.table.to_string(index=False))
        if grid.run_id:
            _print(
                f"{'MLflow run':<20} {grid.run_id} in {grid.tracking_uri} (one child run per cell)"
            )
        return 0
    result = run_experiment(
        Experiment.from_dict(raw, str(args.experiment)),
        say=_print,
        tracking_uri=args.tracking_uri,
        study=study,
    )
    _finish_run(result)
    return 0


def _cfg_demo(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default="demo-output", help="output folder (default demo-output)")
    p.add_argument("--lang", choices=["zh", "en"], default="zh")
    p.add_argument(
        "--tracking-uri",
        help="MLflow store (default: $MLFLOW_TRACKING_URI or sqlite:///mlflow.db here)",
    )


@command(
    "demo", "synth -> score -> suggest -> compare -> report -> MLflow on a small park", _cfg_demo
)
def run_demo(args: argparse.Namespace) -> int:
    from calibrate.pipeline import DEMO, Experiment, run_experiment

    spec = {**DEMO, "out": args.out, "report": {**DEMO["report"], "lang": args.lang}}
    result = run_experiment(
        Experiment.from_dict(spec, "calibrate demo"),
        say=_print,
        tracking_uri=args.tracking_uri,
        command="demo",
    )
    _finish_run(result)
    _print(f"\nopen the report in a browser: {result.paths['report']}")
    return 0


# --- entry point -----------------------------------------------------------------------------


_DEBUG_HELP = "show the Python traceback of an unexpected failure (or set CALIBRATE_DEBUG=1)"
MSG_INTERNAL = (
    "internal error ({kind}: {text}); this is a bug in calibrate, please report it with the "
    "command you ran{hint}"
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="calibrate",
        description="Reproduce, test and re-weight enterprise innovation points policies (企业创新积分制).",
    )
    parser.add_argument("--version", action="version", version=f"calibrate {__version__}")
    parser.add_argument("--debug", action="store_true", help=_DEBUG_HELP)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name, (configure, _, help_text) in _COMMANDS.items():
        p = sub.add_parser(name, help=help_text, description=help_text)
        configure(p)
        if not any("--debug" in a.option_strings for a in p._actions):
            p.add_argument(
                "--debug", action="store_true", default=argparse.SUPPRESS, help=_DEBUG_HELP
            )
    return parser


def _debugging(args: argparse.Namespace) -> bool:
    return bool(getattr(args, "debug", False)) or os.environ.get("CALIBRATE_DEBUG", "") not in {
        "",
        "0",
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; every failure ends as one message on stderr and an exit code.

    0 success; 2 bad input (a :class:`~calibrate.exceptions.CalibrateError`: the message names
    the file, row or YAML path and the fix); 1 an unexpected failure (a bug: one line, the
    traceback only with ``--debug`` or ``CALIBRATE_DEBUG=1``); 130 interrupted (Ctrl-C).
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    if not args.command:
        parser.print_help()
        return 2
    _, handler, _ = _COMMANDS[args.command]
    with warnings.catch_warnings():
        warnings.showwarning = _one_line_warning
        # the product's own warnings are messages to the user: always shown, never escalated
        warnings.simplefilter("always", CalibrateWarning)
        return _run(handler, args)


def _one_line_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """Warnings reach the user as one ``warning: …`` line on stderr, not a source excerpt."""
    print(f"warning: {message}", file=sys.stderr)


def _run(handler: Handler, args: argparse.Namespace) -> int:
    try:
        _guard_options(args)
        _guard_outputs(args)
        return handler(args)
    except CalibrateError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted (Ctrl-C); no output file was left half-written", file=sys.stderr)
        return 130
    except Exception as exc:
        debug = _debugging(args)
        if debug:
            traceback.print_exc(file=sys.stderr)
        text = str(exc).splitlines()[0][:200] if str(exc) else ""
        hint = "" if debug else " and --debug (which shows the traceback)"
        print(
            "error: " + MSG_INTERNAL.format(kind=type(exc).__name__, text=text, hint=hint),
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
