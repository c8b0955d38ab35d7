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
    p.add_argument(
        "--data", required=True, help="enterprise-year table: .csv (UTF-8/GBK), .xlsx or .parquet"
    )
    p.add_argument("--encoding", help="CSV encoding (default: detect UTF-8, UTF-8 with BOM, GBK)")
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
        _print(
            f"{'':<16} {len(f.stages)} stages, {len(f.indicators)} indicators, "
            f"{len(f.penalties)} penalty items, {len(f.tiers)} lists; "
            f"{f.provenance.status} ({n_rec} reconstructed elements)"
        )
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
        )
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


@command("synth", "generate a synthetic multi-park panel with known ground truth", _cfg_synth)
def run_synth(args: argparse.Namespace) -> int:
    from calibrate.synth import SynthConfig, generate

    config = SynthConfig(
        enterprises=args.enterprises, parks=args.parks, years=args.years, seed=args.seed
    )
    panel = generate(config, progress=not args.no_progress)
    paths = panel.write(args.out, fmt=args.format)
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
    p.add_argument(
        "--objective",
        choices=["loglik", "auc", "top5", "top10", "top20"],
        default="loglik",
        help="what to maximise on the training years (default loglik)",
    )
    p.add_argument(
        "--direction",
        choices=["higher", "lower"],
        help="should high scorers be more (higher) or less (lower) likely to have the event; "
        "default lower for loan_default, else higher",
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


def _constraints(args: argparse.Namespace) -> Any:
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
    return ConstraintSet.from_dict(spec, args.constraints or "command line")


def _span(years: tuple[int, int] | None) -> list[int] | None:
    return None if years is None else list(range(years[0], years[1] + 1))


@command(
    "suggest", "suggest re-weighted points that predict an outcome, under constraints", _cfg_suggest
)
def run_suggest(args: argparse.Namespace) -> int:
    from calibrate.data import load_events
    from calibrate.framework import load_framework
    from calibrate.suggest import suggest

    f = load_framework(args.framework)
    study = args.study or (
        f"suggest-{f.id}-{args.target}-h{args.horizon}-{args.objective}" if args.storage else None
    )
    if args.storage:
        from calibrate.pipeline import prepare_study_storage

        prepare_study_storage(args.storage)
    with _command_run(args, "suggest", _suggest_run_name(args, f.id)) as run:
        table = _load_data(args, f)
        events = load_events(args.events, encoding=args.encoding)
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
            storage=args.storage,
            study_name=study,
        )
        out = Path(args.out)
        result.save(out)
        stem = out.with_suffix("")
        _write_table(result.diff(), Path(f"{stem}.diff.csv"))
        _write_table(result.points, Path(f"{stem}.points.csv"))
        _print_suggestion(result, out, stem)
        from calibrate.tracking import log_suggestion

        log_suggestion(run, result)
    _say_run(run)
    return 0


def _suggest_run_name(args: argparse.Namespace, framework_id: str) -> str:
    return f"suggest-{framework_id}-{args.target}-h{args.horizon}-{args.objective}-seed{args.seed}"


def _print_suggestion(result: Any, out: Path, stem: Path) -> None:
    _print(f"suggested framework {result.framework.id} -> {out}")
    _print(
        f"  trained on {list(result.train_years)}, held out {list(result.test_years)}; objective {result.objective} "
        f"({result.solver}); {result.n_bootstrap} bootstrap samples of firms"
    )
    _print("held-out metrics (today vs suggested):")
    _print(
        result.metrics.loc[["auc", "prec_top5", "prec_top10", "prec_top20"]].round(4).to_string()
    )
    diff = result.diff()
    _print(f"{len(diff)} point values changed; largest moves:")
    _print(
        diff.head(10)[
            ["indicator", "name_zh", "stage", "current", "suggested", "low", "high"]
        ].to_string(index=False)
    )
    _print(f"diff -> {stem}.diff.csv; points with intervals -> {stem}.points.csv")
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)


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
    from calibrate.data import fingerprint, load_events
    from calibrate.framework import load_framework
    from calibrate.models import (
        MonotoneGBM,
        PointsLogit,
        features_from_scores,
        fit_temporal,
        policy_directions,
    )
    from calibrate.outcomes import make_labels
    from calibrate.scoring import score

    f = load_framework(args.framework)
    name = f"fit-{f.id}-{args.target}-h{args.horizon}-{args.model}-seed{args.seed}"
    with _command_run(args, "fit", name) as run:
        table = _load_data(args, f)
        events_table = load_events(args.events, encoding=args.encoding)
        _log_inputs(run, table, events_table)
        events = events_table.frame
        result = score(f, table.frame, source=table.source)
        labels = make_labels(table.frame, events, args.target, args.horizon)
        mask = labels.labelled_mask & ~result.frame["vetoed"].to_numpy(dtype=bool)
        X = features_from_scores(result, kind="fractions")[mask]
        y = labels.frame["label"].to_numpy()[mask].astype("int8")
        est: Any = (
            PointsLogit()
            if args.model == "logistic"
            else MonotoneGBM(
                monotone=policy_directions(f, kind="fractions"), random_state=args.seed
            )
        )
        fitted = fit_temporal(
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
        extra = _fit_outputs(args, fitted, X)
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


def _fit_outputs(args: argparse.Namespace, fitted: Any, X: Any) -> list[Path]:
    """Per-year metrics and (lightgbm) SHAP importance under ``--out``."""
    extra: list[Path] = []
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        fitted.by_year.to_csv(out / "metrics_by_year.csv")
        extra.append(out / "metrics_by_year.csv")
        if args.model == "lightgbm":
            from calibrate.explain import shap_importance

            last = max(fitted.estimators)
            shap = shap_importance(
                fitted.estimators[last], X, max_rows=args.shap_rows, seed=args.seed
            )
            shap.importance.to_csv(out / "shap_importance.csv")
            extra.append(out / "shap_importance.csv")
            _print(
                f"SHAP importance on {shap.n_rows_used:,} sampled rows -> {out / 'shap_importance.csv'}"
            )
    return extra


# --- compare ---------------------------------------------------------------------------------


def _cfg_compare(p: argparse.ArgumentParser) -> None:
    p.add_argument("--base", required=True, help="today's framework: shipped id or YAML path")
    p.add_argument("--candidate", required=True, help="proposed framework: shipped id or YAML path")
    _data_options(p)
    p.add_argument("--events", help="events table, to compare outcome metrics")
    p.add_argument("--target", help="event for the outcome metrics")
    p.add_argument("--horizon", type=int, default=1)
    p.add_argument("--format", choices=["csv", "parquet"], default="csv")
    p.add_argument("--out", required=True, help="folder for the tables and summary.md")
    _tracking_options(p)


@command(
    "compare", "what-if: who wins and who loses if a park adopts another framework", _cfg_compare
)
def run_compare(args: argparse.Namespace) -> int:
    from calibrate.compare import compare
    from calibrate.data import load_events
    from calibrate.framework import load_framework

    base, cand = load_framework(args.base), load_framework(args.candidate)
    if (args.events is None) != (args.target is None):
        print("error: give --events and --target together (or neither)", file=sys.stderr)
        return 2
    with _command_run(args, "compare", f"compare-{base.id}-{cand.id}") as run:
        table = _load_data(args, base)
        events = load_events(args.events, encoding=args.encoding) if args.events else None
        _log_inputs(run, table, events)
        result = compare(
            base,
            cand,
            table.frame,
            events=events.frame if events is not None else None,
            target=args.target,
            horizon=args.horizon,
        )
        paths = result.write(args.out, fmt=args.format)
        summary = paths.get("summary")
        if summary is not None:
            _print(Path(summary).read_text(encoding="utf-8"))
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
        help="proposed framework (e.g. the output of calibrate suggest)",
    )
    _data_options(p)
    p.add_argument("--events")
    p.add_argument("--target")
    p.add_argument("--horizon", type=int, default=1)
    p.add_argument(
        "--lang", choices=["zh", "en"], default="zh", help="report language (default Chinese)"
    )
    p.add_argument("--pdf", action="store_true", help="also print a PDF with headless Chromium")
    p.add_argument("--out", required=True, help="report .html")
    _tracking_options(p)


@command(
    "report", "write the review-panel report (HTML, optionally PDF) for two frameworks", _cfg_report
)
def run_report(args: argparse.Namespace) -> int:
    from calibrate.compare import compare
    from calibrate.data import load_events
    from calibrate.framework import load_framework
    from calibrate.report import ReportInputs, build_report
    from calibrate.scoring import score
    from calibrate.sensitivity import rank_uncertainty

    base, cand = load_framework(args.base), load_framework(args.candidate)
    with _command_run(args, "report", f"report-{base.id}-{cand.id}") as run:
        table = _load_data(args, base)
        events_table = load_events(args.events, encoding=args.encoding) if args.events else None
        _log_inputs(run, table, events_table)
        events = events_table.frame if events_table is not None else None
        base_scores, cand_scores = score(base, table.frame), score(cand, table.frame)
        comparison = compare(
            base,
            cand,
            table.frame,
            events=events,
            target=args.target,
            horizon=args.horizon,
            base_scores=base_scores,
            candidate_scores=cand_scores,
        )
        uncertainty = rank_uncertainty(
            cand, scores=cand_scores, weights="dirichlet", n_draws=300, seed=0
        )
        files = build_report(
            ReportInputs(
                base=base,
                candidate=cand,
                comparison=comparison,
                sensitivity=uncertainty,
                data=table.frame,
                base_scores=base_scores,
                candidate_scores=cand_scores,
            ),
            args.out,
            lang=args.lang,
            pdf=args.pdf,
        )
        pdf = getattr(files, "pdf", None)
        _print(f"report -> {files.html}" + (f" and {pdf}" if pdf else ""))
        from calibrate.tracking import log_comparison

        log_comparison(run, comparison)
        run.log_params({"lang": args.lang})
        run.log_artifacts(
            [Path(files.html), *([Path(pdf)] if pdf else [])],
            "report",
        )
    _say_run(run)
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


def _finish_run(result: Any) -> None:
    for warning in result.suggestion.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    _print("")
    _print("held-out comparison of methods (same firm-years):")
    cols = [
        c for c in ("auc", "auc_total", "prec_top10", "lift_top10") if c in result.methods.columns
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
