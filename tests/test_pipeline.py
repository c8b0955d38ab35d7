"""Experiments and `calibrate demo`: validated files, the whole pipeline, outputs a user can find."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.exceptions import ExperimentError
from calibrate.framework import Framework
from calibrate.pipeline import DEMO, Experiment, run_experiment

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize(
    "path", sorted((ROOT / "experiments").glob("*.yaml")), ids=lambda p: p.stem
)
def test_shipped_experiments_validate(path: Path) -> None:
    exp = Experiment.from_yaml(path)
    assert exp.name == path.stem
    assert exp.bootstrap == 200 and exp.tracking["enabled"] is True


def test_every_experiment_problem_is_reported_with_its_key() -> None:
    with pytest.raises(ExperimentError) as info:
        Experiment.from_dict(
            {
                "name": "x",
                "framework": "longwan-2022",
                "data": {"synth": {"firms": 10}},
                "target": "t",
                "baselines": ["entropy", "topsis"],
                "objective": "gini",
                "horizon": -1,
                "constraints": {"granularity": -2},
            },
            "bad.yaml",
        )
    wheres = [p.where for p in info.value.problems]
    assert wheres == [
        "data.synth.firms",
        "baselines[1]",
        "objective",
        "horizon",
        "constraints.granularity",
    ]
    assert str(info.value).startswith("bad.yaml: 5 experiment problems")


def test_data_needs_synth_or_files() -> None:
    with pytest.raises(ExperimentError, match="give either synth"):
        Experiment.from_dict(
            {
                "name": "x",
                "framework": "longwan-2022",
                "data": {"enterprises": "a.csv"},
                "target": "t",
            }
        )


def test_small_experiment_end_to_end(tmp_path: Path) -> None:
    """Files in, every method on the same held-out rows, comparison, no report, no tracking."""
    spec = {
        "name": "small",
        "framework": "national-2024",
        "target": "hte_certified",
        "data": {
            "enterprises": str(ROOT / "data/sample/enterprises.csv"),
            "events": str(ROOT / "data/sample/events.csv"),
            "truth": str(ROOT / "data/sample/truth.csv"),
        },
        "constraints": {"granularity": 1, "max_change": {"absolute": 10}},
        "bootstrap": 10,
        "sensitivity_draws": 20,
        "baselines": ["equal", "entropy"],
        "models": ["logistic"],
        "report": {"enabled": False},
        "tracking": {"enabled": False},
        "out": str(tmp_path / "out"),
    }
    lines: list[str] = []
    result = run_experiment(Experiment.from_dict(spec, "small.yaml"), say=lines.append)
    methods = result.methods
    assert list(methods.index) == [
        "official",
        "suggested",
        "baseline: equal",
        "baseline: entropy",
        "model: logistic",
        "oracle (truth)",
    ]
    assert methods["n"].nunique() == 1  # every method on the same held-out firm-years
    assert (
        methods.loc["oracle (truth)", "auc_within_group"]
        > methods.loc["official", "auc_within_group"]
    )
    assert Framework.load(tmp_path / "out" / "suggested.yaml").calibration is not None
    assert (tmp_path / "out" / "compare" / "summary.md").exists()
    assert pd.read_csv(tmp_path / "out" / "uncertainty.csv").shape[0] > 0
    assert any("suggesting points" in line for line in lines)
    assert result.run_id is None and "report" not in result.paths


@pytest.mark.slow
def test_demo_runs_everything_and_says_where(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    uri = f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}"
    (tmp_path / "store").mkdir()
    assert main(["demo", "--out", "demo-output", "--tracking-uri", uri]) == 0
    out = capsys.readouterr().out
    folder = tmp_path / "demo-output"
    report = (folder / "report.html").read_text(encoding="utf-8")
    assert "企业创新积分制" in report and report.count("data:image/png;base64,") >= 5
    methods = pd.read_csv(folder / "methods.csv", index_col="method")
    assert {"official", "suggested", "model: lightgbm", "oracle (truth)"} <= set(methods.index)
    assert (
        methods.loc["suggested", "auc_within_group"] > methods.loc["official", "auc_within_group"]
    )
    timings = json.loads((folder / "timings.json").read_text())
    assert sum(timings.values()) < 180  # the budget for the demo on this machine
    for words in (
        "held-out comparison of methods",
        "MLflow run",
        "mlflow ui --backend-store-uri",
        "report.html",
    ):
        assert words in out
    from calibrate.tracking import Tracker

    framework = Tracker(uri).load_registered_framework(
        f"longwan-2022-{DEMO['target']}", "candidate"
    )
    assert framework.to_yaml() == (folder / "suggested.yaml").read_text(encoding="utf-8")


def test_experiment_files_refuse_duplicate_keys(tmp_path: Path) -> None:
    path = tmp_path / "e.yaml"
    path.write_text("name: e\nframework: longwan-2022\ntarget: a\ntarget: b\n", encoding="utf-8")
    with pytest.raises(
        ExperimentError, match=r"line 4, column 1: not valid YAML: found duplicate key 'target'"
    ):
        Experiment.from_yaml(path)
