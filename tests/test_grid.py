"""Experiment grids: frameworks × objectives × constraint sets × seeds, each cell a child run,
the same bytes whatever the backend (in process, joblib processes, a Dask cluster)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from calibrate.cli import main
from calibrate.exceptions import ExperimentError
from calibrate.framework import Framework
from calibrate.pipeline import Grid, run_grid
from calibrate.tracking import Tracker, default_tracking_uri

SPEC: dict[str, Any] = {
    "name": "tiny-grid",
    "data": {"synth": {"enterprises": 300, "parks": 1, "years": "2019-2023", "seed": 3}},
    "target": "hte_certified",
    "bootstrap": 2,
    "trials": 32,
    "tracking": {"enabled": False},
    "grid": {
        "frameworks": ["longwan-2022"],
        "objectives": ["loglik", "auc"],
        "constraints": {
            "loose": {"granularity": 1},
            "capped": {"granularity": 1, "max_change": {"absolute": 3}},
        },
        "seeds": [0, 1],
    },
}


def grid_in(folder: Path, **changes: Any) -> Grid:
    return Grid.from_dict({**SPEC, "out": str(folder), **changes}, "grid.yaml", root=folder)


def tree(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_cells_cover_every_combination_in_a_fixed_order(tmp_path: Path) -> None:
    cells = grid_in(tmp_path).cells()
    assert [c.id for c in cells] == [
        "longwan-2022__loglik__loose__seed0",
        "longwan-2022__loglik__loose__seed1",
        "longwan-2022__loglik__capped__seed0",
        "longwan-2022__loglik__capped__seed1",
        "longwan-2022__auc__loose__seed0",
        "longwan-2022__auc__loose__seed1",
        "longwan-2022__auc__capped__seed0",
        "longwan-2022__auc__capped__seed1",
    ]
    assert cells[2].constraints == {"granularity": 1, "max_change": {"absolute": 3}}


def test_every_grid_problem_is_reported_with_its_key() -> None:
    bad = {
        **SPEC,
        "grid": {
            "objectives": ["loglik", "gini"],
            "seeds": [0, -1],
            "constraints": {"neg": {"granularity": -2}},
            "folds": 3,
        },
    }
    with pytest.raises(ExperimentError) as info:
        Grid.from_dict(bad, "grid.yaml")
    assert [p.where for p in info.value.problems] == [
        "grid.folds",
        "grid.objectives[1]",
        "grid.seeds[1]",
        "grid.frameworks",
    ]
    bad["grid"] = {"seeds": [0]}
    with pytest.raises(ExperimentError) as info:
        Grid.from_dict(bad, "grid.yaml")
    assert [p.where for p in info.value.problems] == ["grid.frameworks"]
    bad["grid"] = {"frameworks": ["longwan-2022"], "constraints": {"neg": {"granularity": -2}}}
    with pytest.raises(ExperimentError) as info:
        Grid.from_dict(bad, "grid.yaml")
    assert [p.where for p in info.value.problems] == ["grid.constraints.neg.granularity"]


@pytest.fixture(scope="module")
def sequential(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("seq")
    result = run_grid(grid_in(folder), say=lambda _: None, jobs=1)
    assert len(result.table) == 8 and result.run_id is None
    return tree(folder)


def test_sequential_grid_writes_every_cell(sequential: dict[str, bytes]) -> None:
    cells = {k.split("/")[1] for k in sequential if k.startswith("cells/")}
    assert len(cells) == 8
    summary = sequential["grid.csv"].decode("utf-8").splitlines()
    assert summary[0].startswith("cell,framework,objective,constraints,seed,current.")
    assert len(summary) == 9
    # seeds and objectives matter: the cells are not copies of one another
    assert len({v for k, v in sequential.items() if k.endswith("points.csv")}) > 1


def test_joblib_processes_give_the_same_bytes(sequential: dict[str, bytes], tmp_path: Path) -> None:
    run_grid(grid_in(tmp_path), say=lambda _: None, jobs=2)
    assert tree(tmp_path) == sequential


def test_a_dask_cluster_gives_the_same_bytes(sequential: dict[str, bytes], tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        run_grid(grid_in(tmp_path), say=lambda _: None, dask_scheduler=cluster.scheduler_address)
    assert tree(tmp_path) == sequential


def test_cli_grid_is_one_run_with_a_child_run_per_cell(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = {
        **SPEC,
        "out": str(tmp_path / "out"),
        "tracking": {"enabled": True, "experiment": "grid"},
        "grid": {**SPEC["grid"], "seeds": [0], "objectives": ["loglik"]},
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    uri = default_tracking_uri(tmp_path)
    assert main(["run", str(path), "--jobs", "2", "--tracking-uri", uri]) == 0
    assert "one child run per cell" in capsys.readouterr().out
    tracker = Tracker(uri, experiment="grid")
    runs = tracker.client.search_runs([tracker.experiment_id()])
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and parents[0].data.params["cells"] == "2"
    assert sorted(r.info.run_name for r in children) == [
        "longwan-2022__loglik__capped__seed0",
        "longwan-2022__loglik__loose__seed0",
    ]
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert {r.info.status for r in runs} == {"FINISHED"}
    for child in children:
        cell = tmp_path / "out" / "cells" / child.info.run_name / "suggested.yaml"
        assert child.data.params["framework_fingerprint"] == Framework.load(cell).fingerprint


def test_a_study_key_shares_one_optuna_study_per_cell_and_resumes(tmp_path: Path) -> None:
    import optuna

    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    spec = {
        **SPEC,
        "out": str(tmp_path / "out"),
        "trials": 16,
        "study": {"storage": storage, "name": "team"},
        "grid": {
            "frameworks": ["longwan-2022"],
            "objectives": ["auc"],
            "seeds": [0],
            "constraints": {"pooled": {"same_across_stages": True}},
        },
    }
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    for _ in range(2):  # the second run resumes the study and adds its trials
        assert main(["run", str(path)]) == 0
    study = "team.longwan-2022__auc__pooled__seed0.stage0"
    summaries = optuna.get_all_study_summaries(storage=storage)
    assert [(s.study_name, s.n_trials) for s in summaries] == [(study, 32)]


def test_a_bad_study_key_is_reported_with_its_place(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump({**SPEC, "study": {"name": "x", "url": "y"}}), encoding="utf-8")
    assert main(["run", str(path)]) == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "  - study: expected {storage: URL, name: NAME}, e.g. storage: sqlite:///optuna.db"
    )
