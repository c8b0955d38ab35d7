"""Shared stores in PostgreSQL: several workers on one Optuna study and one MLflow store.

Needs a server: ``CALIBRATE_TEST_POSTGRES`` is the URI of a database whose user may create
databases (``.ci/run`` starts PostgreSQL 15 on 127.0.0.1 and sets it). Each test gets a fresh
database, dropped afterwards. Without the variable these tests skip locally; in CI
(``CI=true``) they fail, so a server that did not start cannot pass unnoticed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from calibrate.cli import main
from calibrate.framework import Framework
from calibrate.tracking import Tracker
from helpers_cli import free_port

pytestmark = pytest.mark.postgres

ENV = "CALIBRATE_TEST_POSTGRES"
MSG_NO_SERVER = (
    f"{ENV} is not set: start PostgreSQL and set it to postgresql+psycopg://USER:PASSWORD@"
    "127.0.0.1:5432/DB for a user who may create databases (.ci/run does both)"
)
TRIALS = 24


def _server() -> str:
    uri = os.environ.get(ENV)
    if not uri:
        if os.environ.get("CI") == "true":
            pytest.fail(MSG_NO_SERVER)
        pytest.skip(MSG_NO_SERVER)
    return uri


def _conninfo(uri: str, database: str | None = None) -> str:
    """A libpq connection string for ``uri`` (another ``database`` if given)."""
    from sqlalchemy.engine import make_url

    url = make_url(uri).set(drivername="postgresql")
    if database is not None:
        url = url.set(database=database)
    return url.render_as_string(hide_password=False)


def _admin(uri: str, *sql: str) -> None:
    import psycopg

    with psycopg.connect(_conninfo(uri), autocommit=True, connect_timeout=5) as conn:
        for statement in sql:
            conn.execute(statement)  # type: ignore[arg-type]  # test-made names, no user input


@pytest.fixture
def databases() -> Iterator[list[tuple[str, str]]]:
    """Two fresh databases, (name, SQLAlchemy URI) each: MLflow and Optuna each keep their schema
    version in a table of the same name (``alembic_version``), so they cannot share one."""
    from sqlalchemy.engine import make_url

    uri = _server()
    names = [f"calibrate_test_{uuid.uuid4().hex[:12]}" for _ in range(2)]
    _admin(uri, *(f'CREATE DATABASE "{n}"' for n in names))
    try:
        yield [
            (n, make_url(uri).set(database=n).render_as_string(hide_password=False)) for n in names
        ]
    finally:
        for n in names:
            _admin(
                uri,
                f'ALTER DATABASE "{n}" ALLOW_CONNECTIONS true',
                f'DROP DATABASE IF EXISTS "{n}" WITH (FORCE)',
            )


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("synth")
    args = ["synth", "--out", str(folder), "--enterprises", "400", "--parks", "2"]
    assert main([*args, "--years", "2019-2023", "--seed", "9", "--no-progress"]) == 0
    return folder


def suggest_args(small: Path, out: Path, *more: str, bootstrap: int = 0) -> list[str]:
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
        str(bootstrap),
        "--no-progress",
        *more,
    ]


def calibrate(*args: str, cwd: Path) -> subprocess.Popen[str]:
    """``calibrate ARGS`` in a process of its own (a worker) working in ``cwd`` (where a
    database store keeps its artifacts), this checkout on its path."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    return subprocess.Popen(
        [sys.executable, "-m", "calibrate.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=cwd,
    )


def finish(worker: subprocess.Popen[str]) -> tuple[str, str]:
    out, err = worker.communicate(timeout=600)
    assert worker.returncode == 0, err
    return out, err


def study_trials(storage_url: str) -> dict[str, int]:
    """Completed trials per study in an Optuna storage (its engine closed afterwards)."""
    import optuna

    storage = optuna.storages.RDBStorage(storage_url)
    try:
        return {
            s.study_name: len(
                optuna.load_study(study_name=s.study_name, storage=storage).get_trials(
                    deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,)
                )
            )
            for s in optuna.get_all_study_summaries(storage=storage)
        }
    finally:
        storage.engine.dispose()


def test_two_workers_share_one_study_and_one_tracking_store(
    databases: list[tuple[str, str]], small: Path, tmp_path: Path
) -> None:
    (_, uri), (_, studies) = databases
    shared = [
        "--objective",
        "auc",
        "--same-across-stages",  # one study (one part of the search) per worker
        "--trials",
        str(TRIALS),
        "--storage",
        studies,
        "--study",
        "shared",
        "--tracking-uri",
        uri,
        "--experiment",
        "workers",
    ]
    workers = [
        calibrate(
            *suggest_args(small, tmp_path / f"w{i}.yaml", *shared, "--seed", str(i)), cwd=tmp_path
        )
        for i in (1, 2)
    ]
    for worker in workers:
        out, err = finish(worker)
        assert "MLflow run" in out, err
    # each worker added its own trials to the one study
    assert study_trials(studies) == {"shared.stage0": 2 * TRIALS}

    tracker = Tracker(uri, experiment="workers")
    runs = tracker.client.search_runs([tracker.experiment_id()])
    assert len(runs) == 2  # one run per command
    assert {r.info.status for r in runs} == {"FINISHED"}
    assert {r.data.params["seed"] for r in runs} == {"1", "2"}
    assert {r.data.params["storage_study"] for r in runs} == {"shared"}
    for i in (1, 2):
        assert Framework.load(tmp_path / f"w{i}.yaml").calibration is not None
    # a database store keeps artifacts in ./mlartifacts of the working folder
    assert runs[0].info.artifact_uri.startswith(str(tmp_path / "mlartifacts"))

    # a later run resumes the same study: its trials are added to the ones stored
    finish(
        calibrate(*suggest_args(small, tmp_path / "w3.yaml", *shared, "--seed", "3"), cwd=tmp_path)
    )
    assert study_trials(studies) == {"shared.stage0": 3 * TRIALS}


def _run_status(uri: str) -> str | None:
    import psycopg

    with psycopg.connect(_conninfo(uri), connect_timeout=5) as conn:
        row = conn.execute("SELECT status FROM runs").fetchone()
    return None if row is None else str(row[0])


def test_a_dropped_connection_mid_run_leaves_results_on_disk_with_a_warning(
    databases: list[tuple[str, str]], small: Path, tmp_path: Path
) -> None:
    name, uri = databases[0]
    out = tmp_path / "new.yaml"
    # 80 bootstrap samples: the work outlasts the moment the store goes away
    worker = calibrate(
        *suggest_args(small, out, "--tracking-uri", uri, "--experiment", "drop", bootstrap=80),
        cwd=tmp_path,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:  # wait until the command's run is open
        try:
            if _run_status(uri) == "RUNNING":
                break
        except Exception:  # the tables are not there yet
            pass
        time.sleep(0.2)
    else:
        pytest.fail("the worker never opened its MLflow run")
    _admin(  # the server now refuses the database and cuts every session to it
        _server(),
        f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false',
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        f"WHERE datname = '{name}' AND usename = current_user AND pid <> pg_backend_pid()",
    )  # (autovacuum may be in the database too: the server's own, not ours to end)
    text, err = finish(worker)
    assert worker.poll() == 0
    assert (
        "warning: MLflow tracking failed for postgresql+psycopg" in err
    )  # one line, no class name
    assert "this suggest run is not tracked" in err
    assert "MLflow run" not in text
    assert Framework.load(out).calibration is not None
    assert (tmp_path / "new.diff.csv").exists() and (tmp_path / "new.points.csv").exists()

    _admin(_server(), f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    assert _run_status(uri) == "RUNNING"  # the run does not claim what it could not log


def _wait_healthy(
    port: int, server: subprocess.Popen[str], log: Path, seconds: float = 180
) -> None:
    import urllib.request

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(
                f"mlflow server exited with {server.returncode}:\n{log.read_text()[-3000:]}"
            )
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as reply:
                if reply.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.5)
    pytest.fail("mlflow server did not answer /health")


def test_an_mlflow_server_on_postgresql_keeps_runs_and_their_artifacts(
    databases: list[tuple[str, str]], small: Path, tmp_path: Path
) -> None:
    """The README's team set-up: ``mlflow server`` with a PostgreSQL backend and an artifact
    root; workers only know its address."""
    from mlflow.tracking import MlflowClient

    (_, backend), _ = databases
    store, port, log = tmp_path / "server-artifacts", free_port(), tmp_path / "server.log"
    with log.open("w") as sink:
        server = subprocess.Popen(
            [sys.executable, "-m", "mlflow", "server", "--backend-store-uri", backend,
             "--artifacts-destination", str(store), "--host", "127.0.0.1", "--port", str(port),
             "--workers", "1"],
            stdout=sink,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, "MLFLOW_DISABLE_TELEMETRY": "true"},
        )  # fmt: skip
    try:
        _wait_healthy(port, server, log)
        address = f"http://127.0.0.1:{port}"
        worker_dir = tmp_path / "worker"
        worker_dir.mkdir()
        out, err = finish(
            calibrate(
                *suggest_args(small, worker_dir / "s.yaml", "--tracking-uri", address,
                              "--experiment", "team"),
                cwd=worker_dir,
            )
        )  # fmt: skip
        assert "MLflow run" in out, err
        client = MlflowClient(address)
        experiment = client.get_experiment_by_name("team")
        assert experiment is not None
        runs = client.search_runs([experiment.experiment_id])
        assert [r.info.status for r in runs] == ["FINISHED"]
        logged = {a.path for a in client.list_artifacts(runs[0].info.run_id)}
        assert {"edits.csv", "directions.csv"} <= logged, logged
        # the artifacts went through the server to its artifact root, not to the worker's folder
        assert any(store.rglob("edits.csv"))
        assert not (worker_dir / "mlartifacts").exists() and not (worker_dir / "mlruns").exists()
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
