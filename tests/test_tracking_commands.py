"""One MLflow run per command: it starts before the work, ends after it, and holds what a reviewer
needs (params once, metrics as metrics, the inputs as datasets, the framework as a model)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.constraints import ConstraintSet
from calibrate.framework import Framework
from calibrate.tracking import (
    MSG_PARAM_CHANGED,
    Tracker,
    TrackingWarning,
    default_tracking_uri,
    log_suggestion,
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    args = ["synth", "--out", str(folder), "--enterprises", "500", "--parks", "2"]
    assert main([*args, "--years", "2019-2023", "--seed", "5", "--no-progress"]) == 0
    return folder


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> str:
    return default_tracking_uri(tmp_path_factory.mktemp("store"))


def suggest_args(small: Path, out: Path, uri: str, *more: str) -> list[str]:
    return [
        "suggest",
        "--framework",
        "longwan-2022",
        "--data",
        str(small / "enterprises.parquet"),
        "--events",
        str(small / "events.parquet"),
        "--target",
        "hte_certified",
        "--out",
        str(out),
        "--bootstrap",
        "2",
        "--no-progress",
        "--tracking-uri",
        uri,
        *more,
    ]


@pytest.fixture(scope="module")
def suggested(small: Path, store: str, tmp_path_factory: pytest.TempPathFactory) -> Any:
    """`calibrate suggest` once, into its own experiment: (run, output path)."""
    out = tmp_path_factory.mktemp("sug") / "new.yaml"
    assert main(suggest_args(small, out, store, "--experiment", "cmd-suggest")) == 0
    tracker = Tracker(store, experiment="cmd-suggest")
    runs = tracker.client.search_runs([tracker.experiment_id()])
    assert len(runs) == 1  # one command, one run
    return tracker, runs[0], out


def test_suggest_is_one_run_around_the_work(suggested: Any) -> None:
    _, run, out = suggested
    assert run.info.status == "FINISHED"
    assert run.info.run_name == "suggest-longwan-2022-hte_certified-h1-loglik-seed0"
    # the run was open while the suggestion was written, not opened afterwards
    written_ms = out.stat().st_mtime * 1000
    assert run.info.start_time <= written_ms <= run.info.end_time
    assert run.data.tags["calibrate.command"] == "suggest"


def test_params_once_metrics_as_metrics(suggested: Any) -> None:
    tracker, run, out = suggested
    params, metrics = run.data.params, run.data.metrics
    framework = Framework.load(out)
    assert params["framework_fingerprint"] == framework.fingerprint
    assert params["n_trials"] == "400" and params["storage_study"] == ""
    held_out = framework.calibration["held_out"]
    for name, values in held_out.items():
        assert name not in params and f"pooled.suggested.{name}" not in params
        if values["suggested"] is not None:
            assert metrics[f"pooled.suggested.{name}"] == pytest.approx(
                values["suggested"], abs=1e-6
            )  # YAML keeps 6 digits
    for key in metrics:  # each metric was logged once per step, never twice
        steps = [m.step for m in tracker.client.get_metric_history(run.info.run_id, key)]
        assert len(steps) == len(set(steps)), key


def test_inputs_are_datasets_with_fingerprint_and_rows(suggested: Any, small: Path) -> None:
    from calibrate.data import load_enterprises, load_events
    from calibrate.framework import load_framework

    _, run, _ = suggested
    table = load_enterprises(small / "enterprises.parquet", load_framework("longwan-2022"))
    events = load_events(small / "events.parquet")
    found = {d.dataset.name: d for d in run.inputs.dataset_inputs}
    assert set(found) == {"enterprises", "events"}
    assert found["enterprises"].dataset.digest == table.fingerprint
    assert found["events"].dataset.digest == events.fingerprint
    assert f'"num_rows": {len(table.frame)}' in found["enterprises"].dataset.profile
    contexts = {t.value for t in found["enterprises"].tags if t.key == "mlflow.data.context"}
    assert contexts == {"training"}


def test_suggested_framework_is_a_model_that_scores_and_takes_an_alias(
    suggested: Any, small: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracker, run, out = suggested
    model_id = run.data.tags["calibrate.model_id"]
    assert tracker.client.get_logged_model(model_id).source_run_id == run.info.run_id
    version = tracker.register_framework(run.info.run_id, "cmd-longwan", alias="adopted")
    assert version == 1
    mv = tracker.client.get_model_version_by_alias("cmd-longwan", "adopted")
    logged = tracker.client.get_logged_model(model_id)
    assert mv.source == logged.artifact_location  # the command's model, not a second copy
    models = tracker.client.search_logged_models([run.info.experiment_id])
    assert [m.model_id for m in models] == [model_id]
    folder = tracker.download_registered_framework("cmd-longwan", "adopted", tmp_path / "m")
    monkeypatch.setenv("MLFLOW_ALLOW_PICKLE_DESERIALIZATION", "false")
    import mlflow.pyfunc

    from calibrate.scoring import score

    rows = pd.read_parquet(small / "enterprises.parquet").head(40)
    predicted = mlflow.pyfunc.load_model(str(folder)).predict(rows)
    expected = score(Framework.load(out), rows).frame
    pd.testing.assert_frame_equal(predicted, expected)


def test_every_computing_command_takes_a_tracking_uri() -> None:
    from calibrate.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name in ("fit", "suggest", "compare", "report", "run", "demo"):
        options = {o for a in sub.choices[name]._actions for o in a.option_strings}  # type: ignore[attr-defined]
        assert "--tracking-uri" in options, name


def test_compare_logs_one_run_with_metrics(small: Path, store: str, tmp_path: Path) -> None:
    args = ["compare", "--base", "longwan-2022", "--candidate", "national-2024"]
    args += ["--data", str(small / "enterprises.parquet"), "--out", str(tmp_path / "cmp")]
    assert main([*args, "--tracking-uri", store, "--experiment", "cmd-compare"]) == 0
    tracker = Tracker(store, experiment="cmd-compare")
    (run,) = tracker.client.search_runs([tracker.experiment_id()])
    assert run.info.status == "FINISHED" and run.data.tags["calibrate.command"] == "compare"
    assert run.data.params["candidate_framework_id"] == "national-2024"
    assert "overall.spearman" in run.data.metrics and "overall.spearman" not in run.data.params
    assert (tmp_path / "cmp" / "summary.md").exists()


def test_unreachable_store_warns_and_results_stay_on_disk(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "new.yaml"
    uri = "postgresql+psycopg://nobody:x@127.0.0.1:9/nothing"  # discard port: refused at once
    # the command line turns the TrackingWarning into one `warning:` line on stderr
    assert main(suggest_args(small, out, uri)) == 0
    assert Framework.load(out).calibration is not None
    out_text, err = capsys.readouterr()
    assert "MLflow run" not in out_text
    lines = [x for x in err.splitlines() if "MLflow tracking failed for postgresql+psycopg" in x]
    assert len(lines) == 1 and lines[0].startswith("warning:")


@pytest.fixture
def silent_server() -> Any:
    """A port that accepts connections and never answers (a store that hangs)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        yield sock.getsockname()[1]


@pytest.mark.parametrize(
    "scheme", ["postgresql+psycopg://u:p@127.0.0.1:{port}/db", "http://127.0.0.1:{port}"]
)
def test_a_store_that_hangs_costs_a_bounded_wait_and_a_warning(
    small: Path,
    tmp_path: Path,
    silent_server: int,
    scheme: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Without the bounds (3 s to connect, no retries) this command would wait for minutes."""
    out = tmp_path / "new.yaml"
    uri = scheme.format(port=silent_server)
    assert main(suggest_args(small, out, uri)) == 0
    err = capsys.readouterr().err
    # one warning line, then the run stops talking to the store
    assert len([x for x in err.splitlines() if "this suggest run is not tracked" in x]) == 1
    assert Framework.load(out).calibration is not None


# --- log_suggestion with an edit path (the calibration keys the suggest package fills) ------


EDITS = [
    {
        "step": 1,
        "move": "points",
        "indicator": "rd_intensity",
        "text_en": "R&D intensity +4 points",
        "train": {"auc": 0.70, "prec_top10": 0.31},
        "held_out": {"auc": 0.68, "prec_top10": 0.29},
        "held_out_without_park": None,
        "cv_gain": 0.012,
        "points": {"rd_intensity": {"seed": 9.0, "growth": 8.0}},
        "before": {"position": 3, "indicator": {"id": "rd_intensity"}},
    },
    {
        "step": 2,
        "move": "direction",
        "indicator": "debt_ratio",
        "text_en": "debt ratio reversed",
        "train": {"auc": 0.72, "prec_top10": 0.33},
        "held_out": {"auc": 0.69, "prec_top10": 0.30},
        "held_out_without_park": {"p1": {"auc": 0.66}},
        "cv_gain": 0.004,
        "points": {"rd_intensity": {"seed": 9.0, "growth": 8.0}},
    },
]
DIRECTIONS = [
    {"indicator": "rd_intensity", "policy": "higher", "evidence": "higher"},
    {"indicator": "debt_ratio", "policy": "higher", "evidence": "lower"},
]


def test_log_suggestion_logs_the_edit_path_directions_and_warnings(
    suggested: Any, store: str
) -> None:
    tracker, _, out = suggested
    from calibrate.suggest import Suggestion

    framework = Framework.load(out)
    calibration = {**framework.calibration, "edits": EDITS, "directions": DIRECTIONS}
    base = framework.with_points({}, id="longwan-2022", version="2022")
    sug = Suggestion(
        base=base,
        framework=framework.with_points({}, calibration=calibration),
        points=pd.DataFrame({"indicator": ["rd_intensity"], "stage": ["s1"], "change": [4.0]}),
        metrics=pd.DataFrame({"current": [0.6], "suggested": [0.7]}, index=["auc"]),
        metrics_by_year=pd.DataFrame(
            {"framework": ["suggested"], "metric": ["auc"], "year": [2023], "value": [0.7]}
        ),
        objective="auc",
        solver="moves",
        target="hte_certified",
        direction="higher",
        horizon=1,
        constraints=ConstraintSet(),
        train_years=(2020, 2021),
        test_years=(2022,),
        n_bootstrap=0,
        seed=0,
        data_fingerprint="abc",
        warnings=("few events in stage s5", "debt ratio direction reversed"),
    )
    t = Tracker(store, experiment="cmd-edits")
    with t.command_run("suggest", run_name="edits") as run:
        log_suggestion(run, sug)
    assert {"edits.csv", "edit_points.csv", "directions.csv", "warnings.txt"} <= set(run.artifacts)
    rid = run.run_id
    assert rid is not None
    history = t.client.get_metric_history(rid, "edit.held_out.auc")
    assert sorted((h.step, h.value) for h in history) == [(1, 0.68), (2, 0.69)]
    folder = Path(t.client.get_run(rid).info.artifact_uri)
    edits = pd.read_csv(folder / "edits.csv")
    assert list(edits["move"]) == ["points", "direction"]
    assert list(edits["held_out.auc"]) == [0.68, 0.69]
    assert list(edits["cv_gain"]) == [0.012, 0.004]
    assert edits["held_out_without_park.p1.auc"].isna().tolist() == [True, False]
    assert not {"points", "before"} & set(edits.columns)
    points = pd.read_csv(folder / "edit_points.csv")
    assert points.to_dict("records")[:2] == [
        {"step": 1, "indicator": "rd_intensity", "stage": "seed", "points": 9.0},
        {"step": 1, "indicator": "rd_intensity", "stage": "growth", "points": 8.0},
    ]
    directions = pd.read_csv(folder / "directions.csv")
    assert list(directions["evidence"]) == ["higher", "lower"]
    text = (folder / "warnings.txt").read_text(encoding="utf-8")
    assert text == "few events in stage s5\ndebt ratio direction reversed\n"


def test_a_param_cannot_change_within_a_run(store: str) -> None:
    t = Tracker(store, experiment="cmd-params")
    with t.command_run("fit") as run:
        run.log_params({"seed": 1})
        run.log_params({"seed": 1})  # the same again: nothing
        with pytest.warns(
            TrackingWarning, match=MSG_PARAM_CHANGED.format(key="seed", old="1", new="2")
        ):
            run.log_params({"seed": 2})
    assert run.run_id is not None
    assert t.client.get_run(run.run_id).data.params == {"seed": "1"}


def test_a_failing_command_ends_its_run_failed(store: str) -> None:
    t = Tracker(store, experiment="cmd-failing")
    with pytest.raises(ZeroDivisionError), t.command_run("fit") as run:
        _ = 1 / 0
    assert run.run_id is not None
    stored = t.client.get_run(run.run_id)
    assert stored.info.status == "FAILED"
    assert stored.data.tags["calibrate.error"] == "ZeroDivisionError: division by zero"


def test_names_mlflow_refuses_are_made_safe_not_lost(store: str) -> None:
    t = Tracker(store, experiment="cmd-names")
    with t.command_run("run") as run:
        run.log_metrics([("method.oracle (truth).auc", 0.9, 0)])
        run.log_params({"weights[rd]": 2})
    assert run.run_id is not None
    data = t.client.get_run(run.run_id).data
    assert data.metrics == {"method.oracle _truth_.auc": 0.9}
    assert data.params == {"weights_rd_": "2"}
