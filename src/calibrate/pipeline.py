"""Experiments: one YAML file → the whole study, reproducibly, tracked in MLflow.

``calibrate run experiments/NAME.yaml`` and ``calibrate demo`` call :func:`run_experiment`:

1. load the framework and the data (files, or a synthetic panel generated from a seed);
2. score today's framework; suggest new points for the target (with bootstrap intervals);
3. measure every method on the **same held-out firm-years**: today's framework, the suggestion,
   the unsupervised baselines, a logistic model and a monotone LightGBM on the indicator
   fractions, and — on synthetic data — the oracle probability from the truth file;
4. compare today's and the suggested framework (who enters and leaves each list, subsidies);
5. rank uncertainty of the suggested framework over its bootstrap draws;
6. SHAP drivers of the LightGBM model (on a stated number of sampled rows);
7. the review-panel report (HTML, optionally PDF); 8. an MLflow run with everything attached.

An experiment file (all keys but ``name``, ``framework``, ``data`` and ``target`` optional):

.. code-block:: yaml

    name: national-hte
    framework: national-2024                 # shipped id or YAML path
    data:
      synth: {enterprises: 5000, parks: 3, years: 2018-2024, seed: 11}
      # or: enterprises: data/sample/enterprises.csv, events: …, truth: … (optional)
    target: hte_certified
    horizon: 1
    objective: loglik
    constraints: {granularity: 1, max_change: {absolute: 10}}
    bootstrap: 200
    seed: 0
    baselines: [equal, entropy, critic, cv, pca]
    models: [logistic, lightgbm]
    sensitivity_draws: 500
    report: {lang: zh, pdf: false}
    tracking: {enabled: true, experiment: calibrate, register_alias: candidate}
    out: out/national-hte

A file with a ``grid`` key is a grid (:class:`Grid`, :func:`run_grid`): one suggestion per
framework × objective × constraint set × seed, each an MLflow child run. ``study: {storage: URL,
name: NAME}`` in either kind of file shares an Optuna study (:func:`split_study`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, cast

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field

from calibrate.constraints import ConstraintSet
from calibrate.exceptions import ConstraintError, ExperimentError, Problem
from calibrate.framework import Framework, load_framework, read_yaml_file, typed_problems

__all__ = [
    "DEMO",
    "Experiment",
    "Grid",
    "GridCell",
    "GridResult",
    "RunResult",
    "StudySpec",
    "prepare_study_storage",
    "run_experiment",
    "run_grid",
    "split_study",
]

_KEYS = {
    "name",
    "description",
    "framework",
    "data",
    "target",
    "horizon",
    "objective",
    "constraints",
    "bootstrap",
    "trials",
    "seed",
    "baselines",
    "models",
    "sensitivity_draws",
    "report",
    "tracking",
    "out",
    "shap_rows",
    "direction",
}
BASELINES = ("equal", "entropy", "critic", "cv", "pca")
MODELS = ("logistic", "lightgbm")

#: The experiment ``calibrate demo`` runs: one small synthetic park, longwan-2022, certification.
DEMO: dict[str, Any] = {
    "name": "demo",
    "description": "Small synthetic park scored with longwan-2022; re-weighted for high-tech certification.",
    "framework": "longwan-2022",
    "data": {"synth": {"enterprises": 2500, "parks": 1, "years": "2018-2024", "seed": 2026}},
    "target": "hte_certified",
    "horizon": 1,
    "objective": "loglik",
    "constraints": {"granularity": 1, "max_change": {"absolute": 10}},
    "bootstrap": 100,
    "seed": 0,
    "baselines": ["equal", "entropy", "critic"],
    "models": ["logistic", "lightgbm"],
    "sensitivity_draws": 300,
    "report": {"lang": "zh", "pdf": False},
    "tracking": {"enabled": True, "experiment": "calibrate-demo", "register_alias": "candidate"},
    "out": "demo-output",
}


def _years(text: Any, where: str, problems: list[Problem]) -> tuple[int, int] | None:
    if isinstance(text, int):
        return text, text
    if isinstance(text, str):
        parts = text.split("-")
        if all(p.strip().isdigit() for p in parts) and len(parts) in (1, 2):
            first, last = int(parts[0]), int(parts[-1])
            if first <= last:
                return first, last
    problems.append(Problem(where, f"expected years like 2018-2024, found {text!r}"))
    return None


MSG_NOT_MAPPING = "expected a mapping of keys to values (key: value lines)"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class _SynthSpec(_Strict):
    enterprises: int = Field(3000, ge=10)  # the limits of SynthConfig
    parks: int = Field(2, ge=1, le=999)
    years: int | str = "2018-2024"
    seed: int = Field(0, ge=0)


class _DataSpec(_Strict):
    synth: _SynthSpec | None = None
    enterprises: str | None = None
    events: str | None = None
    truth: str | None = None


class _ReportSpec(_Strict):
    model_config = ConfigDict(extra="allow", strict=True)
    enabled: bool = True
    lang: Literal["zh", "en"] = "zh"
    pdf: bool = False


class _TrackingSpec(_Strict):
    model_config = ConfigDict(extra="allow", strict=True)
    enabled: bool = True
    experiment: str = "calibrate"
    register_alias: str | None = "candidate"


class _ExperimentSpec(_Strict):
    """The typed shape of an experiment file: every key, its type and its limits."""

    name: str
    description: str = ""
    framework: str
    data: _DataSpec
    target: str
    horizon: int = Field(1, ge=1)
    objective: Literal["loglik", "auc", "top5", "top10", "top20"] = "loglik"
    direction: Literal["higher", "lower"] | None = None
    constraints: dict[str, Any] | None = None
    bootstrap: int = Field(200, ge=0)
    trials: int = Field(400, ge=0)
    seed: int = Field(0, ge=0)
    baselines: list[Literal["equal", "entropy", "critic", "cv", "pca"]] | None = None
    models: list[Literal["logistic", "lightgbm"]] | None = None
    sensitivity_draws: int = Field(500, ge=0)
    shap_rows: int = Field(2000, ge=0)
    report: _ReportSpec = _ReportSpec()
    tracking: _TrackingSpec = _TrackingSpec()
    out: str | None = None


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file (see the module docstring for the keys)."""

    name: str
    framework: str
    target: str
    data: Mapping[str, Any]
    horizon: int = 1
    objective: str = "loglik"
    direction: str | None = None
    constraints: Mapping[str, Any] = field(default_factory=dict)
    bootstrap: int = 200
    trials: int = 400
    seed: int = 0
    baselines: tuple[str, ...] = BASELINES
    models: tuple[str, ...] = MODELS
    sensitivity_draws: int = 500
    shap_rows: int = 2000
    report: Mapping[str, Any] = field(default_factory=lambda: {"lang": "zh", "pdf": False})
    tracking: Mapping[str, Any] = field(default_factory=lambda: {"enabled": True})
    out: str = "out"
    description: str = ""
    source: str = "<experiment>"
    root: Path = field(default_factory=Path.cwd)

    @classmethod
    def from_dict(
        cls, raw: Any, source: str = "<experiment>", root: Path | None = None
    ) -> Experiment:
        """Validate a parsed experiment; every problem is reported with its YAML path.

        Types are checked by the typed model :class:`_ExperimentSpec` (wrong types anywhere
        give a path-and-fix message), the constraints by :class:`ConstraintSet`.
        """
        if not isinstance(raw, Mapping):
            raise ExperimentError(source, [Problem("<top>", MSG_NOT_MAPPING)])
        spec, problems = typed_problems(_ExperimentSpec, raw)
        if isinstance(raw.get("constraints"), Mapping):
            try:
                ConstraintSet.from_dict(raw["constraints"], f"{source}: constraints")
            except ConstraintError as exc:  # keep its places, under the constraints key
                problems += [Problem(f"constraints.{p.where}", p.message) for p in exc.problems]
        if problems:
            raise ExperimentError(source, problems)
        data = spec.data
        if data.synth is None and (data.enterprises is None or data.events is None):
            problems.append(
                Problem(
                    "data",
                    "give either synth: {enterprises, parks, years, seed} or "
                    "enterprises: FILE and events: FILE (truth: FILE optional)",
                )
            )
        if data.synth is not None:
            _years(data.synth.years, "data.synth.years", problems)
        if problems:
            raise ExperimentError(source, problems)
        synth = None if data.synth is None else data.synth.model_dump(exclude_unset=True)
        files = data.model_dump(exclude={"synth"}, exclude_none=True)
        return cls(
            name=spec.name,
            framework=spec.framework,
            target=spec.target,
            data={**files, **({"synth": synth} if synth is not None else {})},
            horizon=spec.horizon,
            objective=spec.objective,
            direction=spec.direction,
            constraints=dict(spec.constraints or {}),
            bootstrap=spec.bootstrap,
            trials=spec.trials,
            seed=spec.seed,
            baselines=BASELINES if "baselines" not in raw else tuple(spec.baselines or ()),
            models=MODELS if "models" not in raw else tuple(spec.models or ()),
            sensitivity_draws=spec.sensitivity_draws,
            shap_rows=spec.shap_rows,
            report={"lang": "zh", "pdf": False, **spec.report.model_dump(exclude_unset=True)},
            tracking={
                "enabled": True,
                "experiment": "calibrate",
                "register_alias": "candidate",
                **spec.tracking.model_dump(exclude_unset=True),
            },
            out=spec.out if spec.out is not None else f"out/{spec.name}",
            description=spec.description,
            source=source,
            root=root or Path.cwd(),
        )

    @classmethod
    def from_yaml(cls, path: str | Path) -> Experiment:
        """Read an experiment file (safe YAML); relative data paths are relative to the working folder."""
        return cls.from_dict(read_yaml_file(path, ExperimentError), str(path))

    def to_dict(self) -> dict[str, Any]:
        """The experiment as logged with its run."""
        return {
            "name": self.name,
            "framework": self.framework,
            "data": dict(self.data),
            "target": self.target,
            "horizon": self.horizon,
            "objective": self.objective,
            "direction": self.direction,
            "constraints": dict(self.constraints),
            "bootstrap": self.bootstrap,
            "trials": self.trials,
            "seed": self.seed,
            "baselines": list(self.baselines),
            "models": list(self.models),
            "sensitivity_draws": self.sensitivity_draws,
            "shap_rows": self.shap_rows,
            "report": dict(self.report),
            "tracking": dict(self.tracking),
            "out": self.out,
        }


@dataclass
class RunResult:
    """What an experiment produced: paths, the held-out comparison of methods, result objects."""

    experiment: Experiment
    out: Path
    paths: dict[str, Path]
    methods: pd.DataFrame
    suggestion: Any
    comparison: Any = None
    uncertainty: Any = None
    run_id: str | None = None
    tracking_uri: str | None = None
    seconds: dict[str, float] = field(default_factory=dict)


def _load_data(
    exp: Experiment, framework: Framework, out: Path, say: Callable[[str], None]
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame | None, str]:
    from calibrate.data import load_enterprises, load_events, read_table

    if "synth" in exp.data:
        from calibrate.synth import SynthConfig, generate

        spec = exp.data["synth"] or {}
        problems: list[Problem] = []
        years = _years(spec.get("years", "2018-2024"), "data.synth.years", problems) or (2018, 2024)
        config = SynthConfig(
            enterprises=int(spec.get("enterprises", 3000)),
            parks=int(spec.get("parks", 2)),
            years=years,
            seed=int(spec.get("seed", 0)),
        )
        say(
            f"generating a synthetic panel: {config.enterprises} firms a year, {config.parks} park(s), "
            f"{years[0]}-{years[1]}, seed {config.seed}"
        )
        panel = generate(config, progress=True)
        panel.write(out / "data", fmt="parquet")
        return panel.enterprises, panel.events, panel.truth, "synthetic"
    root = exp.root
    table = load_enterprises(root / exp.data["enterprises"], framework)
    events = load_events(root / exp.data["events"]).frame
    truth = None
    if exp.data.get("truth"):
        truth, _ = read_table(root / exp.data["truth"])
        # CSV cells arrive as text: every truth column but the id is a number
        for col in truth.columns.drop("enterprise_id", errors="ignore"):
            truth[col] = pd.to_numeric(truth[col])
        truth["enterprise_id"] = truth["enterprise_id"].astype("str")
    return table.frame, events, truth, str(exp.data["enterprises"])


def run_experiment(
    exp: Experiment,
    *,
    say: Callable[[str], None] = print,
    tracking_uri: str | None = None,
    command: str = "run",
    study: StudySpec | None = None,
) -> RunResult:
    """Run an experiment end to end and write everything under ``exp.out``.

    The whole run is one MLflow run (:meth:`calibrate.tracking.Tracker.command_run`) that
    starts before the data is read and ends after the report is written.

    Parameters
    ----------
    exp : Experiment
    say : callable
        Where progress lines go (the CLI prints them).
    tracking_uri : str, optional
        MLflow store; default ``MLFLOW_TRACKING_URI`` or ``sqlite:///mlflow.db`` in the working folder.
    command : str
        ``run`` or ``demo`` (the run's ``calibrate.command`` tag).
    study : StudySpec, optional
        A shared Optuna study for the search (see :func:`split_study`).
    """
    from calibrate.tracking import Tracker

    tracker = Tracker(
        tracking_uri,
        experiment=str(exp.tracking.get("experiment", "calibrate")),
        enabled=bool(exp.tracking.get("enabled", True)),
    )
    with tracker.command_run(command, run_name=f"{command}-{exp.name}") as run:
        result = _run_experiment(exp, say, run, study)
    tracked = run.result()
    if tracked is not None:
        result.run_id, result.tracking_uri = tracked.run_id, tracked.uri
    return result


def _run_experiment(  # noqa: PLR0915 - the experiment's steps in order; each step is a function call
    exp: Experiment, say: Callable[[str], None], run: Any, study: StudySpec | None = None
) -> RunResult:
    """The body of :func:`run_experiment`, logging into the open MLflow ``run``."""
    from calibrate.compare import compare
    from calibrate.scoring import score
    from calibrate.suggest import evaluate_policy, evaluate_ranking

    clock: dict[str, float] = {}
    t0 = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal t0
        clock[name] = round(time.perf_counter() - t0, 2)
        t0 = time.perf_counter()

    out = (exp.root / exp.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    framework = load_framework(exp.framework)
    data, events, truth, data_name = _load_data(exp, framework, out, say)
    lap("data")

    say(f"scoring {len(data):,} enterprise-years with {framework.id}")
    base_scores = score(framework, data)
    constraints = ConstraintSet.from_dict(exp.constraints, f"{exp.source}: constraints")
    say(
        f"suggesting points for {exp.target} (horizon {exp.horizon}, {exp.objective}, {exp.bootstrap} bootstrap samples)"
    )
    sug = _suggest(
        exp, framework, data, events, constraints, exp.objective, exp.seed,
        study.storage if study else None, study.name if study else None,
        base_scores=base_scores,
    )  # fmt: skip
    sug = sug.saved(out / "suggested.yaml")
    sug.diff().to_csv(out / "diff.csv", index=False)
    sug.points.to_csv(out / "points.csv", index=False)
    lap("suggest")

    # --- every method on the same held-out rows ---------------------------------------------
    years = data["year"].to_numpy(dtype=np.int64)
    y, test, train = sug.outcome, sug.test_mask, sug.train_mask
    rows: dict[str, dict[str, float]] = {
        "official": evaluate_policy(y[test], base_scores, test),
        "suggested": dict(sug.metrics["suggested"]),
    }
    kinds = {"official": "framework", "suggested": "framework"}
    cand_scores = score(sug.framework, data)
    if exp.baselines:
        from calibrate.weighting import baseline

        say(
            f"unsupervised baselines: {', '.join(exp.baselines)} (fitted on the training years only)"
        )
        train_data = data[np.isin(years, sug.train_years)]
        for method in exp.baselines:
            fw_b = baseline(framework, train_data, method, rounding="whole")
            rows[f"baseline: {method}"] = evaluate_policy(y[test], score(fw_b, data), test)
            kinds[f"baseline: {method}"] = "baseline"
    lap("baselines")
    shap_result = None
    if exp.models:
        from calibrate.models import (
            MonotoneGBM,
            PointsLogit,
            features_from_scores,
            policy_directions,
        )

        X = features_from_scores(base_scores, kind="fractions")
        X.insert(0, "stage_code", base_scores.stage_index.astype(np.float64))
        group = base_scores.group_code
        for name in exp.models:
            say(f"model: {name}")
            if name == "logistic":
                est: Any = PointsLogit()
            else:
                mono = {"stage_code": 0, **policy_directions(framework, kind="fractions")}
                est = MonotoneGBM(monotone=mono, random_state=exp.seed, n_jobs=1)
            est.fit(X[train], y[train].astype(np.int8))
            prob = est.predict_proba(X[test])[:, 1]
            rows[f"model: {name}"] = evaluate_ranking(y[test], prob, group[test])
            kinds[f"model: {name}"] = "model"
            if name == "lightgbm":
                from calibrate.explain import shap_importance

                shap_result = shap_importance(est, X[test], max_rows=exp.shap_rows, seed=exp.seed)
                shap_result.importance.to_csv(out / "shap_importance.csv")
                from calibrate.report import plot_shap

                figure = plot_shap(shap_result)
                figure.savefig(out / "shap_importance.png", dpi=120, metadata={"Software": None})
    lap("models")
    if truth is not None:
        col = f"oracle_{exp.target}_h{exp.horizon}"
        if col in truth.columns:
            merged = data[["enterprise_id", "year"]].merge(
                truth[["enterprise_id", "year", col]], on=["enterprise_id", "year"], how="left"
            )
            p = merged[col].to_numpy(dtype=np.float64)
            if sug.direction == "lower":
                p = 1.0 - p
            ok = test & ~np.isnan(p)
            rows["oracle (truth)"] = evaluate_ranking(y[ok], p[ok], base_scores.group_code[ok])
            kinds["oracle (truth)"] = "oracle"
    methods = pd.DataFrame(rows).T
    methods.insert(0, "kind", pd.Series(kinds))
    methods.index.name = "method"
    methods.to_csv(out / "methods.csv")

    say("comparing today's and the suggested framework")
    comparison = compare(
        framework,
        sug.framework,
        data,
        events=events,
        target=exp.target,
        horizon=exp.horizon,
        base_scores=base_scores,
        candidate_scores=cand_scores,
    )
    comparison.write(out / "compare")
    lap("compare")

    uncertainty = None
    if exp.sensitivity_draws and exp.bootstrap:
        from calibrate.sensitivity import FromDraws, rank_uncertainty

        say(
            f"rank uncertainty: {exp.sensitivity_draws} draws from the {exp.bootstrap} bootstrap points tables"
        )
        uncertainty = rank_uncertainty(
            sug.framework,
            scores=cand_scores,
            weights=FromDraws(sug.bootstrap_draws),
            n_draws=exp.sensitivity_draws,
            seed=exp.seed,
        )
        uncertainty.to_frame().to_csv(out / "uncertainty.csv", index=False)
    lap("sensitivity")

    paths: dict[str, Path] = {
        "suggested framework": out / "suggested.yaml",
        "diff": out / "diff.csv",
        "points": out / "points.csv",
        "methods": out / "methods.csv",
        "comparison": out / "compare",
    }
    if (out / "shap_importance.png").exists():
        paths["drivers (SHAP)"] = out / "shap_importance.png"
    if exp.report.get("enabled", True):
        _write_report(
            exp,
            out,
            paths,
            framework,
            sug,
            comparison,
            uncertainty,
            shap_result,
            methods,
            data,
            base_scores,
            cand_scores,
            data_name,
            say,
        )
    lap("report")

    _log_experiment(run, exp, out, sug, methods, data, data_name, framework)
    lap("tracking")
    (out / "timings.json").write_text(json.dumps(clock, indent=2), encoding="utf-8")
    return RunResult(exp, out, paths, methods, sug, comparison, uncertainty, None, None, clock)


def _log_experiment(
    run: Any,
    exp: Experiment,
    out: Path,
    sug: Any,
    methods: pd.DataFrame,
    data: pd.DataFrame,
    data_name: str,
    framework: Framework,
) -> None:
    """Everything an experiment's MLflow run holds, logged once at the end of the work."""
    if not run.active:
        return
    from calibrate.tracking import log_suggestion

    (out / "experiment.json").write_text(
        json.dumps(exp.to_dict(), indent=2, ensure_ascii=False), encoding="utf-8"
    )
    run.log_dataset(
        "enterprises",
        fingerprint=sug.data_fingerprint,
        rows=len(data),
        source=data_name,
        columns=[str(c) for c in data.columns],
    )
    log_suggestion(run, sug)
    run.log_params({"experiment": exp.name, "n_bootstrap_rank_draws": exp.sensitivity_draws})
    run.set_tags({"experiment": exp.name, "data": data_name})
    run.log_metrics(
        (f"method.{str(name).replace(': ', '.').replace(' ', '_')}.{metric}", value, 0)
        for name, row in methods.drop(columns="kind").iterrows()
        for metric, value in row.items()
    )
    run.log_artifacts(
        [
            p
            for p in (
                out / "methods.csv",
                out / "report.html",
                out / "shap_importance.png",
                out / "shap_importance.csv",
                out / "experiment.json",
                out / "compare",
            )
            if p.exists()
        ],
        "extra",
    )
    alias = exp.tracking.get("register_alias")
    if alias and run.active:
        run.tracker.register_framework(run.run_id, f"{framework.id}-{exp.target}", alias=str(alias))


def _write_report(  # noqa: PLR0913 - public entry: keyword options mirror the experiment file
    exp: Experiment,
    out: Path,
    paths: dict[str, Path],
    framework: Framework,
    sug: Any,
    comparison: Any,
    uncertainty: Any,
    shap_result: Any,
    methods: pd.DataFrame,
    data: pd.DataFrame,
    base_scores: Any,
    cand_scores: Any,
    data_name: str,
    say: Callable[[str], None],
) -> None:
    say("writing the report")
    from calibrate.report import ReportInputs, build_report

    files = build_report(
        ReportInputs(
            base=framework,
            candidate=sug.framework,
            suggestion=sug,
            comparison=comparison,
            sensitivity=uncertainty,
            shap=shap_result,
            extra_metrics=_extra_metrics(methods),
            data=data,
            base_scores=base_scores,
            candidate_scores=cand_scores,
            synthetic=data_name == "synthetic",
            notes=[
                f"{exp.name}: {exp.description}" if exp.description else exp.name,
                *sug.warnings,
            ],
        ),
        out / "report.html",
        lang=str(exp.report.get("lang", "zh")),
        pdf=bool(exp.report.get("pdf", False)),
    )
    paths["report"] = Path(files.html)
    if files.pdf is not None:
        paths["report pdf"] = Path(files.pdf)


def _extra_metrics(methods: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Baselines, models and the oracle for the report's metrics table (official and suggested are built in)."""
    extra: dict[str, dict[str, float]] = {}
    for name, row in methods.iterrows():
        if row["kind"] in ("baseline", "model", "oracle"):
            extra[str(name)] = {
                str(k): float(v) for k, v in row.drop("kind").items() if not math.isnan(float(v))
            }
    return extra


MSG_STORAGE = (
    "cannot open the Optuna storage {url}: {error}; check the URL (postgresql+psycopg://USER:"
    "PASSWORD@HOST:PORT/DB or sqlite:///FILE), that the server runs and that the database exists "
    "(give Optuna its own database: MLflow's tables clash with Optuna's)"
)


def prepare_study_storage(url: str) -> None:
    """Create the tables of a shared Optuna storage once, before any worker searches.

    Workers that start together take turns (:func:`calibrate.tracking.schema_lock`): Optuna's
    table creation does not survive two processes doing it at once.

    Raises
    ------
    ExperimentError
        When the storage cannot be opened (the message names the URL and what to check).
    """
    import optuna

    from calibrate.tracking import schema_lock

    try:
        with schema_lock(url):
            storage = optuna.storages.RDBStorage(url)
        storage.engine.dispose()
    except Exception as exc:
        error = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ExperimentError(
            "--storage", [Problem("storage", MSG_STORAGE.format(url=url, error=error))]
        ) from exc


# --- experiment grids ------------------------------------------------------------------------
#
# A grid is an experiment file with a ``grid`` key; every other key is the shared setting:
#
#     grid:
#       frameworks: [longwan-2022, national-2024]
#       objectives: [loglik, auc]
#       constraints: {loose: {granularity: 1}, capped: {granularity: 1, max_change: {absolute: 5}}}
#       seeds: [0, 1]
#
# Each cell (framework × objective × constraint set × seed) is one suggestion on the same data
# and held-out years. Cells are computed by workers (sequentially, joblib processes, or a Dask
# cluster) that return bytes; the parent writes every file and logs every MLflow child run in
# cell order, so the outputs are the same, byte for byte, whatever the backend.

GRID_KEYS = ("frameworks", "objectives", "constraints", "seeds")


@dataclass(frozen=True)
class GridCell:
    """One cell of a grid: its id (also its folder under ``cells/``) and its settings."""

    id: str
    framework: str
    objective: str
    constraints_name: str
    constraints: Mapping[str, Any]
    seed: int


@dataclass(frozen=True)
class Grid:
    """A validated grid experiment: the shared :class:`Experiment` and the cells' axes."""

    experiment: Experiment
    frameworks: tuple[str, ...]
    objectives: tuple[str, ...]
    constraints: Mapping[str, Mapping[str, Any]]
    seeds: tuple[int, ...]

    @classmethod
    def from_dict(cls, raw: Any, source: str = "<grid>", root: Path | None = None) -> Grid:
        """Validate a grid file: the ``grid`` key here, every other key as an experiment."""
        spec = raw.get("grid") if isinstance(raw, Mapping) else None
        problems = _grid_problems(spec)
        if isinstance(spec, Mapping) and isinstance(raw, Mapping):
            if not spec.get("frameworks") and "framework" not in raw:
                problems.append(
                    Problem("grid.frameworks", "give grid.frameworks: [ID, …] or framework: ID")
                )
        if problems:
            raise ExperimentError(source, problems)
        assert isinstance(spec, Mapping) and isinstance(raw, Mapping)
        frameworks = tuple(str(f) for f in spec.get("frameworks") or [raw.get("framework")])
        rest = {k: v for k, v in raw.items() if k != "grid"}
        rest.setdefault("framework", frameworks[0])
        exp = Experiment.from_dict(rest, source, root)
        sets = dict(spec.get("constraints") or {"default": dict(exp.constraints)})
        for name, cset in sets.items():
            try:
                ConstraintSet.from_dict(cset or {}, f"{source}: grid.constraints.{name}")
            except ExperimentError:
                raise
            except Exception as exc:  # a ConstraintError: keep its places under the grid key
                found = getattr(exc, "problems", [Problem("", str(exc))])
                problems += [
                    Problem(f"grid.constraints.{name}.{p.where}", p.message) for p in found
                ]
        if problems:
            raise ExperimentError(source, problems)
        return cls(
            experiment=exp,
            frameworks=frameworks,
            objectives=tuple(str(o) for o in spec.get("objectives") or [exp.objective]),
            constraints={str(k): dict(v or {}) for k, v in sets.items()},
            seeds=tuple(int(s) for s in spec.get("seeds") or [exp.seed]),
        )

    def cells(self) -> list[GridCell]:
        """Every cell, in a fixed order (frameworks, objectives, constraint sets, seeds)."""
        return [
            GridCell(f"{fw}__{obj}__{name}__seed{seed}", fw, obj, name, cset, seed)
            for fw in self.frameworks
            for obj in self.objectives
            for name, cset in self.constraints.items()
            for seed in self.seeds
        ]


def _grid_problems(spec: Any) -> list[Problem]:
    if not isinstance(spec, Mapping):
        return [Problem("grid", "expected a mapping with " + ", ".join(GRID_KEYS))]
    problems = [
        Problem(f"grid.{k}", f"unknown key; allowed: {', '.join(GRID_KEYS)}")
        for k in spec
        if k not in GRID_KEYS
    ]
    for key in ("frameworks", "objectives", "seeds"):
        value = spec.get(key)
        if value is not None and (not isinstance(value, list) or not value):
            problems.append(Problem(f"grid.{key}", "expected a non-empty list"))
    for i, obj in enumerate(spec.get("objectives") or []):
        if obj not in ("loglik", "auc", "top5", "top10", "top20"):
            problems.append(
                Problem(f"grid.objectives[{i}]", "choose loglik, auc, top5, top10 or top20")
            )
    for i, seed in enumerate(spec.get("seeds") or []):
        if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
            problems.append(
                Problem(f"grid.seeds[{i}]", f"expected a whole number >= 0, found {seed!r}")
            )
    sets = spec.get("constraints")
    if sets is not None and (not isinstance(sets, Mapping) or not sets):
        problems.append(
            Problem(
                "grid.constraints", "expected named constraint sets, e.g. {loose: {granularity: 1}}"
            )
        )
    return problems


@dataclass(frozen=True)
class CellResult:
    """What a worker sends back: the files of a cell (bytes) and the suggestion."""

    cell: GridCell
    files: dict[str, bytes]
    metrics: dict[str, float]
    suggestion: Any


@dataclass
class GridResult:
    """A finished grid: the summary table (one row per cell), where files are, the run."""

    grid: Grid
    out: Path
    table: pd.DataFrame
    cells: list[CellResult]
    run_id: str | None = None
    tracking_uri: str | None = None


def _run_cell(
    cell: GridCell,
    exp: Experiment,
    inputs: Mapping[str, tuple[pd.DataFrame, pd.DataFrame]],
    study: StudySpec | None = None,
) -> CellResult:
    """One suggestion for one cell: pure, so any process may compute it.

    ``inputs`` maps a framework id to its (enterprise table, events table).
    """

    framework = load_framework(cell.framework)
    data, events = inputs[cell.framework]
    constraints = ConstraintSet.from_dict(cell.constraints, f"grid cell {cell.id}")
    sug = _suggest(
        exp, framework, data, events, constraints, cell.objective, cell.seed,
        study.storage if study else None, study.for_cell(cell.id).name if study else None,
        progress=False,
    )  # fmt: skip
    files = {
        "suggested.yaml": sug.framework.to_yaml().encode("utf-8"),
        "points.csv": sug.points.to_csv(index=False, lineterminator="\n").encode("utf-8"),
        "heldout_metrics.csv": sug.metrics.to_csv(lineterminator="\n").encode("utf-8"),
    }
    metrics = {
        f"{col}.{metric}": float(cast(Any, sug.metrics.at[metric, col]))
        for metric in sug.metrics.index
        for col in ("current", "suggested")
    }
    return CellResult(cell, files, metrics, sug)


def _map_cells(
    cells: list[GridCell],
    work: Callable[[GridCell], CellResult],
    jobs: int,
    dask_scheduler: str | None,
) -> list[CellResult]:
    """Compute every cell on the chosen backend; results come back in cell order."""
    if dask_scheduler:
        return _map_on_dask(cells, work, dask_scheduler)
    if jobs != 1 and len(cells) > 1:
        from joblib import Parallel, delayed

        return list(Parallel(n_jobs=jobs)(delayed(work)(c) for c in cells))
    return [work(c) for c in cells]


MSG_NO_DASK = "needs Dask's distributed package: pip install -e '.[dask]' (or calibrate[dask])"
MSG_DASK_UNREACHABLE = (
    "no Dask scheduler answered at {address} within 10 s ({error}); start one "
    "(dask scheduler, then dask worker ADDRESS on each machine) or check the address"
)


def _map_on_dask(
    cells: list[GridCell], work: Callable[[GridCell], CellResult], address: str
) -> list[CellResult]:
    try:
        from distributed import Client
    except ImportError:
        raise ExperimentError("--dask-scheduler", [Problem("dask", MSG_NO_DASK)]) from None
    try:
        client = Client(address, timeout="10s")
    except (OSError, TimeoutError) as exc:
        problem = Problem("dask", MSG_DASK_UNREACHABLE.format(address=address, error=exc))
        raise ExperimentError("--dask-scheduler", [problem]) from exc
    with client:
        futures = client.map(work, cells, key=[f"calibrate-cell-{c.id}" for c in cells])
        return list(client.gather(futures))


def run_grid(
    grid: Grid,
    *,
    say: Callable[[str], None] = print,
    tracking_uri: str | None = None,
    jobs: int = 1,
    dask_scheduler: str | None = None,
    study: StudySpec | None = None,
) -> GridResult:
    """Run every cell of a grid; write ``cells/<id>/…`` and ``grid.csv`` under the output folder.

    Parameters
    ----------
    grid : Grid
    say : callable
        Where progress lines go.
    tracking_uri : str, optional
        MLflow store. The grid is one run; each cell is a child run with its suggestion
        (:func:`calibrate.tracking.log_suggestion`).
    jobs : int
        Worker processes for the cells (joblib; ``-1`` = one per core). Ignored with
        ``dask_scheduler``.
    dask_scheduler : str, optional
        Address of a Dask scheduler (``tcp://host:8786``): the cells run on its workers.
    study : StudySpec, optional
        A shared Optuna study; each cell searches in ``<name>.<cell id>``.

    Returns
    -------
    GridResult
        The same files and table, byte for byte, whatever ``jobs`` and the backend.
    """
    import functools

    from calibrate.tracking import Tracker

    exp = grid.experiment
    out = (exp.root / exp.out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    tracker = Tracker(
        tracking_uri,
        experiment=str(exp.tracking.get("experiment", "calibrate")),
        enabled=bool(exp.tracking.get("enabled", True)),
    )
    cells = grid.cells()
    with tracker.command_run("run", run_name=f"grid-{exp.name}") as run:
        inputs, data_name = _grid_inputs(grid, out, say)
        data = inputs[grid.frameworks[0]][0]
        run.log_dataset(
            "enterprises",
            fingerprint=_fingerprint(data),
            rows=len(data),
            source=data_name,
            columns=[str(c) for c in data.columns],
        )
        run.log_params(
            {
                "experiment": exp.name,
                "frameworks": ",".join(grid.frameworks),
                "objectives": ",".join(grid.objectives),
                "constraint_sets": ",".join(grid.constraints),
                "seeds": ",".join(map(str, grid.seeds)),
                "cells": len(cells),
            }
        )
        backend = f"Dask at {dask_scheduler}" if dask_scheduler else f"{jobs} job(s)"
        say(f"grid {exp.name}: {len(cells)} cells on {backend}")
        work = functools.partial(_run_cell, exp=exp, inputs=inputs, study=study)
        results = _map_cells(cells, work, jobs, dask_scheduler)
        table = _write_grid(out, results)
        say(f"grid summary -> {out / 'grid.csv'}")
        run.log_artifacts([out / "grid.csv"], "grid")
        _log_cells(tracker, run, results, data_name)
    tracked = run.result()
    return GridResult(
        grid,
        out,
        table,
        results,
        tracked.run_id if tracked else None,
        tracked.uri if tracked else None,
    )


def _grid_inputs(
    grid: Grid, out: Path, say: Callable[[str], None]
) -> tuple[dict[str, tuple[pd.DataFrame, pd.DataFrame]], str]:
    """The data of every framework of the grid: one synthetic panel, or each file read (and
    validated) against each framework."""
    exp = grid.experiment
    inputs: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}
    name = ""
    for fw in grid.frameworks:
        if inputs and "synth" in exp.data:  # one panel serves every framework
            inputs[fw] = next(iter(inputs.values()))
            continue
        data, events, _, name = _load_data(exp, load_framework(fw), out, say)
        inputs[fw] = (data, events)
    return inputs, name


def _fingerprint(data: pd.DataFrame) -> str:
    from calibrate.data import fingerprint

    return fingerprint(data.drop(columns=["source_row"], errors="ignore"))


def _write_grid(out: Path, results: list[CellResult]) -> pd.DataFrame:
    """Each cell's files under ``cells/<id>/`` and one summary row per cell in ``grid.csv``."""
    rows = []
    for r in results:
        folder = out / "cells" / r.cell.id
        folder.mkdir(parents=True, exist_ok=True)
        for name, data in r.files.items():
            (folder / name).write_bytes(data)
        c = r.cell
        rows.append(
            {
                "cell": c.id,
                "framework": c.framework,
                "objective": c.objective,
                "constraints": c.constraints_name,
                "seed": c.seed,
                **{k: round(v, 6) for k, v in r.metrics.items()},
            }
        )
    table = pd.DataFrame(rows)
    (out / "grid.csv").write_bytes(table.to_csv(index=False, lineterminator="\n").encode("utf-8"))
    return table


def _log_cells(tracker: Any, run: Any, results: list[CellResult], data_name: str) -> None:
    """One MLflow child run per cell, in cell order, under the grid's run."""
    if not run.active:
        return
    from calibrate.tracking import log_suggestion

    for r in results:
        with tracker.command_run("run", run_name=r.cell.id, parent_run_id=run.run_id) as child:
            child.log_params({"cell": r.cell.id, "constraint_set": r.cell.constraints_name})
            child.set_tags({"data": data_name})
            log_suggestion(child, r.suggestion)


# --- a shared Optuna study named in the experiment file ----------------------------------------


@dataclass(frozen=True)
class StudySpec:
    """``study: {storage: URL, name: NAME}`` of an experiment (or grid) file.

    The searches of non-smooth objectives (``auc``, ``top…``) add their trials to the study
    ``NAME`` in ``storage`` (a grid cell to ``NAME.<cell id>``), so several processes can work on
    one experiment and a rerun resumes it; ``loglik`` is solved exactly and ignores it.
    """

    storage: str
    name: str

    def for_cell(self, cell_id: str) -> StudySpec:
        return StudySpec(self.storage, f"{self.name}.{cell_id}")


def split_study(raw: Any, source: str) -> tuple[Any, StudySpec | None]:
    """The experiment file without its ``study`` key, and that key validated.

    Raises
    ------
    ExperimentError
        When ``study`` is not a mapping with a ``storage`` URL (and optionally a ``name``).
    """
    if not isinstance(raw, Mapping) or "study" not in raw:
        return raw, None
    spec = raw["study"]
    rest = {k: v for k, v in raw.items() if k != "study"}
    problems = []
    if not isinstance(spec, Mapping) or not isinstance(spec.get("storage"), str):
        problems.append(
            Problem(
                "study", "expected {storage: URL, name: NAME}, e.g. storage: sqlite:///optuna.db"
            )
        )
    else:
        problems += [
            Problem(f"study.{k}", "unknown key; allowed: storage, name")
            for k in spec
            if k not in ("storage", "name")
        ]
    if problems:
        raise ExperimentError(source, problems)
    assert isinstance(spec, Mapping)
    name = str(spec.get("name") or rest.get("name") or "calibrate")
    return rest, StudySpec(str(spec["storage"]), name)


def _suggest(  # noqa: PLR0913 - an experiment's suggestion: its inputs and the cell's choices
    exp: Experiment,
    framework: Framework,
    data: pd.DataFrame,
    events: pd.DataFrame,
    constraints: ConstraintSet,
    objective: str,
    seed: int,
    storage: str | None,
    study_name: str | None,
    **options: Any,
) -> Any:
    """``suggest`` with the experiment's target, horizon, bootstrap and trials (one call for a
    plain run and for every grid cell)."""
    from calibrate.suggest import suggest

    return suggest(
        framework,
        data,
        events,
        exp.target,
        exp.horizon,
        constraints=constraints,
        objective=objective,  # type: ignore[arg-type]  # validated in Experiment / Grid
        n_bootstrap=exp.bootstrap,
        n_trials=exp.trials,
        seed=seed,
        direction=exp.direction,  # type: ignore[arg-type]  # validated in Experiment.from_dict
        storage=storage,
        study_name=study_name,
        **options,
    )
