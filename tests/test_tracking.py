"""MLflow tracking: what a run holds, the registry round trip, and failures that never fail a run.

Every test writes to a store under ``tmp_path``; none touches the repository's ``mlflow.db``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import calibrate
from calibrate.data import fingerprint
from calibrate.framework import Framework
from calibrate.ids import make_uscc
from calibrate.models import PointsLogit, features_from_scores, fit_temporal
from calibrate.outcomes import make_labels
from calibrate.scoring import score
from calibrate.suggest import Suggestion, suggest
from calibrate.tracking import (
    MSG_PARAM_CLASH,
    PACKAGES,
    TrackedRun,
    Tracker,
    TrackingError,
    TrackingWarning,
    default_tracking_uri,
    package_versions,
)

FW = (Path(__file__).parent / "frameworks" / "mini.yaml").read_text(encoding="utf-8")

TARGET = "hte_certified"
SEED = 7
RUN_NAME = f"suggest-mini-{TARGET}-h1-loglik-seed{SEED}"


def make_panel(n_firms: int = 600, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Six years of firms whose certification chance rises with R&D intensity and patents."""
    rng = np.random.default_rng(seed)
    ids = make_uscc(rng, n_firms)
    frames = []
    for yr in range(2018, 2024):
        frames.append(
            pd.DataFrame(
                {
                    "enterprise_id": ids,
                    "year": yr,
                    "park": rng.choice(["a", "b"], n_firms),
                    "revenue": rng.lognormal(5.5, 1.2, n_firms),
                    "rd_intensity": rng.uniform(0, 0.12, n_firms).round(3),
                    "invention_patent_apps": rng.poisson(1.5, n_firms).astype(float),
                    "vc_financing": rng.exponential(300, n_firms).round(),
                    "awards_provincial": rng.binomial(1, 0.2, n_firms),
                    "env_violation": rng.binomial(1, 0.01, n_firms),
                    "research_misconduct": 0,
                }
            )
        )
    data = pd.concat(frames, ignore_index=True)
    z = -3 + 30 * data["rd_intensity"] + 0.1 * data["invention_patent_apps"]
    events = data.loc[rng.uniform(size=len(data)) < 1 / (1 + np.exp(-z)), ["enterprise_id", "year"]]
    events = events.assign(event=TARGET, year=events["year"] + 1).reset_index(drop=True)
    return data, events


def run_suggest(framework: Framework, data: pd.DataFrame, events: pd.DataFrame) -> Suggestion:
    return suggest(framework, data, events, TARGET, n_bootstrap=3, progress=False, seed=SEED)


@pytest.fixture(scope="module")
def framework() -> Framework:
    return Framework.from_yaml(FW)


@pytest.fixture(scope="module")
def panel() -> tuple[pd.DataFrame, pd.DataFrame]:
    return make_panel()


@pytest.fixture(scope="module")
def suggestion(framework: Framework, panel: tuple[pd.DataFrame, pd.DataFrame]) -> Suggestion:
    return run_suggest(framework, *panel)


@pytest.fixture(scope="module")
def extras(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("extras")
    png = folder / "importance.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(32)))
    html = folder / "report.html"
    html.write_text("<html><body>报告</body></html>", encoding="utf-8")
    return [png, html]


@pytest.fixture(scope="module")
def tracker(tmp_path_factory: pytest.TempPathFactory) -> Tracker:
    """One store for the module: creating MLflow's tables takes seconds, later runs milliseconds."""
    root = tmp_path_factory.mktemp("store")
    return Tracker(default_tracking_uri(root), experiment="calibrate-tests")


@pytest.fixture(scope="module")
def logged(tracker: Tracker, suggestion: Suggestion, extras: list[Path]) -> TrackedRun:
    run = tracker.log_suggestion(
        suggestion, extra_artifacts=extras, tags={"team": "torch"}, params={"n_trials": 400}
    )
    assert run is not None
    return run


def local(run: TrackedRun, path: str) -> Path:
    """The logged artifact as a local file (the SQLite store keeps artifacts on disk)."""
    return Path(run.artifact(path))


# --- where runs go --------------------------------------------------------------------------


def test_default_uri_is_sqlite_in_the_project_folder(tmp_path: Path) -> None:
    assert default_tracking_uri(tmp_path) == f"sqlite:///{tmp_path.resolve().as_posix()}/mlflow.db"


def test_uri_resolution_argument_then_environment_then_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    tracker = Tracker()
    assert tracker.uri == default_tracking_uri(tmp_path)
    assert tracker.artifact_root == str(tmp_path.resolve() / "mlartifacts")
    monkeypatch.setenv("MLFLOW_TRACKING_URI", "sqlite:////elsewhere/runs.db")
    assert Tracker().uri == "sqlite:////elsewhere/runs.db"
    assert Tracker().artifact_root == str(Path("/elsewhere/mlartifacts").resolve())
    assert Tracker("http://localhost:5000").uri == "http://localhost:5000"
    assert Tracker("http://localhost:5000").artifact_root is None
    assert list(tmp_path.iterdir()) == []  # nothing is opened before the first log


def test_package_versions_name_the_stack() -> None:
    versions = package_versions()
    assert list(versions) == [*PACKAGES, "python"]
    assert versions["calibrate"] == calibrate.__version__
    assert all(versions.values())


# --- what a suggestion run holds ------------------------------------------------------------


def test_params_and_tags_are_logged(
    tracker: Tracker, logged: TrackedRun, suggestion: Suggestion
) -> None:
    run = tracker.client.get_run(logged.run_id)
    s = suggestion
    assert run.info.run_name == RUN_NAME == logged.run_name
    assert run.info.status == "FINISHED"
    assert run.info.experiment_id == logged.experiment_id == tracker.experiment_id()
    expected = {
        "framework_id": "mini+hte_certified",
        "framework_version": "1-suggested",
        "framework_fingerprint": s.framework.fingerprint,
        "base_framework_id": "mini",
        "base_framework_version": "1",
        "base_framework_fingerprint": s.base.fingerprint,
        "target": TARGET,
        "horizon": "1",
        "objective": "loglik",
        "solver": s.solver,
        "seed": str(SEED),
        "n_bootstrap": "3",
        "train_years": ",".join(map(str, s.train_years)),
        "test_years": ",".join(map(str, s.test_years)),
        "data_fingerprint": s.data_fingerprint,
        "events_fingerprint": s.framework.calibration["events_fingerprint"],
        "constraints": '{"granularity":1.0,"moves":["points","direction","shape"]}',
        "n_trials": "400",
        **{f"labels.{k}": str(v) for k, v in s.label_counts.items()},
    }
    assert run.data.params == expected
    tags = run.data.tags
    versions = package_versions()
    assert tags["calibrate.version"] == calibrate.__version__
    assert tags["calibrate.command"] == "suggest"
    assert tags["calibrate.kind"] == "suggestion"
    assert tags["calibrate.base_framework"] == "mini"
    assert tags["calibrate.target"] == TARGET
    assert tags["team"] == "torch"
    assert {k: tags[f"version.{k}"] for k in versions} == versions
    assert tags["mlflow.note.content"].startswith("Suggested core points for **mini**")


def test_metrics_per_held_out_year_use_the_year_as_step(
    tracker: Tracker, logged: TrackedRun, suggestion: Suggestion
) -> None:
    client = tracker.client
    by_year = suggestion.metrics_by_year
    finite = by_year[np.isfinite(by_year["value"].to_numpy(dtype=float))]
    assert len(finite) > 0
    for rec in finite.itertuples():
        history = client.get_metric_history(logged.run_id, f"{rec.framework}.{rec.metric}")
        assert [(h.step, h.value) for h in history if h.step == rec.year] == [(rec.year, rec.value)]
    latest = client.get_run(logged.run_id).data.metrics
    for metric, row in suggestion.metrics.iterrows():
        for col in ("current", "suggested"):
            key = f"pooled.{col}.{metric}"
            if math.isfinite(row[col]):
                assert latest[key] == pytest.approx(row[col], rel=0, abs=0)
            else:
                assert key not in latest  # undefined metrics are not logged


def test_artifacts_hold_the_framework_yaml_byte_for_byte(
    logged: TrackedRun, suggestion: Suggestion
) -> None:
    assert set(logged.artifacts) == {
        "framework.yaml",
        "base_framework.yaml",
        "points.csv",
        "diff.csv",
        "heldout_metrics.csv",
        "heldout_metrics_by_year.csv",
        "edits.csv",  # the edit path the engine writes into the calibration block
        "edit_points.csv",
        "directions.csv",
        "extra/importance.png",
        "extra/report.html",
    } | ({"warnings.txt"} if suggestion.warnings else set())
    for path in logged.artifacts:
        assert local(logged, path).is_file(), path
    assert local(logged, "framework.yaml").read_bytes() == suggestion.framework.to_yaml().encode(
        "utf-8"
    )
    assert Framework.load(local(logged, "framework.yaml")) == suggestion.framework
    assert local(logged, "base_framework.yaml").read_bytes() == suggestion.base.to_yaml().encode(
        "utf-8"
    )
    points = pd.read_csv(local(logged, "points.csv"))
    assert list(points.columns) == list(suggestion.points.columns)
    np.testing.assert_array_equal(points["suggested"], suggestion.points["suggested"])
    diff = pd.read_csv(local(logged, "diff.csv"))
    assert len(diff) == len(suggestion.diff())
    held = pd.read_csv(local(logged, "heldout_metrics.csv"), index_col="metric")
    assert list(held.index) == list(suggestion.metrics.index)
    assert (
        local(logged, "extra/report.html").read_text(encoding="utf-8")
        == "<html><body>报告</body></html>"
    )
    assert local(logged, "extra/importance.png").read_bytes().startswith(b"\x89PNG")


def test_artifacts_live_beside_the_database(tracker: Tracker, logged: TrackedRun) -> None:
    assert tracker.artifact_root is not None
    assert Path(logged.artifact_uri).is_relative_to(Path(tracker.artifact_root) / "calibrate-tests")


def test_a_report_can_be_attached_later(
    tracker: Tracker, logged: TrackedRun, tmp_path: Path
) -> None:
    report = tmp_path / "compare.html"
    report.write_text("<html>对比</html>", encoding="utf-8")
    assert tracker.log_report(logged.run_id, report) == "report/compare.html"
    assert local(logged, "report/compare.html").read_text(encoding="utf-8") == "<html>对比</html>"


def test_same_seed_logs_the_same_params_and_metrics(
    tracker: Tracker,
    logged: TrackedRun,
    framework: Framework,
    panel: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    again = tracker.log_suggestion(
        run_suggest(framework, *panel), params={"n_trials": 400}, tags={"team": "torch"}
    )
    assert again is not None and again.run_id != logged.run_id
    assert again.run_name == logged.run_name
    client = tracker.client
    first, second = client.get_run(logged.run_id).data, client.get_run(again.run_id).data
    assert first.params == second.params
    assert first.metrics == second.metrics
    for key in first.metrics:
        h1 = [(m.step, m.value) for m in client.get_metric_history(logged.run_id, key)]
        h2 = [(m.step, m.value) for m in client.get_metric_history(again.run_id, key)]
        assert h1 == h2, key
    assert (
        local(again, "framework.yaml").read_bytes() == local(logged, "framework.yaml").read_bytes()
    )


def test_param_names_cannot_clash(tracker: Tracker, suggestion: Suggestion) -> None:
    with pytest.raises(ValueError, match="^" + MSG_PARAM_CLASH.format(keys="seed, target") + "$"):
        tracker.log_suggestion(suggestion, params={"target": "x", "seed": 1})


def test_missing_extra_artifact_warns_and_the_run_is_still_logged(
    tracker: Tracker, suggestion: Suggestion, tmp_path: Path
) -> None:
    missing = tmp_path / "nope.png"
    with pytest.warns(TrackingWarning, match="nope.png does not exist"):
        run = tracker.log_suggestion(suggestion, extra_artifacts=[missing], run_name="with-missing")
    assert run is not None and "framework.yaml" in run.artifacts
    assert not any(a.startswith("extra/") for a in run.artifacts)


# --- registry -------------------------------------------------------------------------------


def test_registered_alias_resolves_to_the_same_yaml(
    tracker: Tracker,
    logged: TrackedRun,
    suggestion: Suggestion,
    panel: tuple[pd.DataFrame, pd.DataFrame],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    yaml_bytes = suggestion.framework.to_yaml().encode("utf-8")
    version = tracker.register_framework(logged.run_id, "mini-hte", alias="candidate")
    assert version == 1
    folder = tracker.download_registered_framework("mini-hte", "candidate", tmp_path / "model")
    assert (folder / "artifacts" / "framework.yaml").read_bytes() == yaml_bytes
    assert tracker.load_registered_framework("mini-hte", "candidate") == suggestion.framework
    # nothing pickled: a model from code, loadable with pickle deserialisation switched off
    assert not [p for p in folder.rglob("*") if p.suffix in {".pkl", ".pickle", ".cloudpickle"}]
    assert "loader_module: mlflow.pyfunc.loaders.code_model" in (folder / "MLmodel").read_text()
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    import mlflow.pyfunc

    model = mlflow.pyfunc.load_model(str(folder))
    rows = panel[0].head(50)
    pd.testing.assert_frame_equal(model.predict(rows), score(suggestion.framework, rows).frame)

    # promote the same version, then register a new candidate: aliases move independently
    assert tracker.set_alias("mini-hte", "adopted", 1)
    assert tracker.register_framework(logged.run_id, "mini-hte") == 2
    client = tracker.client
    assert int(client.get_model_version_by_alias("mini-hte", "candidate").version) == 2
    assert int(client.get_model_version_by_alias("mini-hte", "adopted").version) == 1
    assert (
        tracker.load_registered_framework("mini-hte", "adopted").to_yaml().encode("utf-8")
        == yaml_bytes
    )
    assert client.get_run(logged.run_id).data.tags["calibrate.registered_as"] == "mini-hte/2"


def test_unknown_alias_raises_tracking_error(tracker: Tracker, logged: TrackedRun) -> None:
    with pytest.raises(
        TrackingError, match="no registered framework 'nobody' with alias 'candidate'"
    ):
        tracker.load_registered_framework("nobody", "candidate")


# --- switched off, and failing stores -------------------------------------------------------


def test_disabled_tracker_does_nothing(tmp_path: Path, suggestion: Suggestion) -> None:
    tracker = Tracker(default_tracking_uri(tmp_path), enabled=False)
    assert tracker.log_suggestion(suggestion) is None
    assert tracker.log_report("abc", tmp_path) is None
    assert tracker.register_framework("abc", "x") is None
    assert tracker.set_alias("x", "adopted", 1) is False
    with pytest.raises(TrackingError, match="tracking is disabled"):
        tracker.load_registered_framework("x", "candidate")
    assert list(tmp_path.iterdir()) == []


def test_unwritable_store_warns_and_never_raises(tmp_path: Path, suggestion: Suggestion) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the store's folder should be", encoding="utf-8")
    tracker = Tracker(f"sqlite:///{(blocker / 'mlflow.db').as_posix()}")
    with pytest.warns(
        TrackingWarning,
        match=r"^MLflow tracking failed for sqlite:///.*not-a-folder/mlflow\.db: "
        r".*this suggest run is not tracked",
    ):
        assert tracker.log_suggestion(suggestion) is None
    with pytest.warns(TrackingWarning, match="this registration is not tracked"):
        assert tracker.register_framework("abc", "x") is None
    with pytest.warns(TrackingWarning, match="this report is not tracked"):
        assert tracker.log_report("abc", blocker) is None


def test_unsupported_uri_warns_and_never_raises(suggestion: Suggestion) -> None:
    with pytest.warns(TrackingWarning, match="^MLflow tracking failed for nosuch://store: "):
        assert Tracker("nosuch://store").log_suggestion(suggestion) is None


def test_unwritable_artifact_folder_marks_the_run_failed(
    tracker: Tracker, tmp_path: Path, suggestion: Suggestion
) -> None:
    blocker = tmp_path / "artifacts-blocked"
    blocker.write_text("", encoding="utf-8")
    tracker = Tracker(
        tracker.uri, experiment="blocked", artifact_root=blocker
    )  # same store: tables exist
    with pytest.warns(TrackingWarning, match="this suggest run is not tracked"):
        assert tracker.log_suggestion(suggestion) is None
    runs = tracker.client.search_runs([tracker.experiment_id()])
    assert [r.info.status for r in runs] == ["FAILED"]
    assert "calibrate.tracking_error" in runs[0].data.tags


# --- a model fit ----------------------------------------------------------------------------


def test_fit_result_is_tracked(
    tracker: Tracker, framework: Framework, panel: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    data, events = panel
    labels = make_labels(data, events, TARGET, 1)
    mask = labels.labelled_mask
    scores = score(framework, data)
    X = features_from_scores(scores)[mask]
    result = fit_temporal(PointsLogit(), X, labels.y, data["year"][mask], scores.group_code[mask])
    tracker = Tracker(tracker.uri, experiment="fits")
    data_fp = fingerprint(data)
    run = tracker.log_fit(
        result, framework=framework, target=TARGET, horizon=1, data_fingerprint=data_fp, seed=3
    )
    assert run is not None
    assert run.run_name == f"fit-mini-{TARGET}-h1-pointslogit-seed3"
    stored = tracker.client.get_run(run.run_id).data
    assert stored.params["model"] == "PointsLogit"
    assert stored.params["model.C"] == "1.0"
    assert stored.params["framework_fingerprint"] == framework.fingerprint
    assert stored.params["data_fingerprint"] == data_fp
    assert stored.params["test_years"] == ",".join(map(str, result.test_years))
    for split in result.splits:
        assert stored.params[f"train_years.{split.test_year}"] == ",".join(
            map(str, split.train_years)
        )
    assert stored.tags["calibrate.kind"] == "fit"
    history = tracker.client.get_metric_history(run.run_id, "auc_pooled")
    assert [(h.step, h.value) for h in history] == [
        (int(y), float(v)) for y, v in result.by_year["auc_pooled"].items() if math.isfinite(v)
    ]
    assert stored.metrics["pooled.auc_pooled"] == result.auc
    assert set(run.artifacts) == {"heldout_metrics.csv", "fit.json", "framework.yaml"}
    held = pd.read_csv(
        io.StringIO(local(run, "heldout_metrics.csv").read_text(encoding="utf-8")),
        index_col="held_out",
    )
    assert list(held.index) == list(result.to_frame().index)
