"""`calibrate suggest` and `calibrate apply-edits` on the committed sample: the edit path, every
output file, adopting a prefix, and the target's direction that is never guessed."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from calibrate.cli import main
from calibrate.framework import Framework

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"
DATA = ["--data", str(SAMPLE / "enterprises.csv"), "--events", str(SAMPLE / "events.csv")]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def suggested(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("suggest") / "nat.yaml"
    code = main(
        [
            "suggest", "--framework", "national-2024", *DATA, "--target", "hte_certified",
            "--max-change", "10", "--moves", "all", "--max-edits", "4", "--bootstrap", "10",
            "--no-progress", "--lang", "en", "--out", str(out),
        ]
    )  # fmt: skip
    assert code == 0
    return out


def test_suggest_writes_the_framework_and_every_table_beside_it(suggested: Path) -> None:
    fw = Framework.load(suggested)
    cal = fw.calibration
    assert cal is not None and cal["bootstrap_draws_file"] == "nat.draws.csv"
    for name in ("path", "directions", "diff", "points", "draws"):
        table = suggested.with_name(f"nat.{name}.csv")
        assert table.read_bytes().startswith(b"\xef\xbb\xbf")  # UTF-8 with BOM, for Excel
    path = pd.read_csv(suggested.with_name("nat.path.csv"), encoding="utf-8-sig")
    assert path["step"].tolist() == list(range(len(path))) and len(path) == len(cal["edits"])
    draws = pd.read_csv(suggested.with_name("nat.draws.csv"), encoding="utf-8-sig")
    assert draws["draw"].nunique() == 10
    assert cal["held_out_years"] == cal["test_years"] and not set(cal["train_years"]) & set(
        cal["test_years"]
    )


def test_apply_edits_writes_any_prefix(
    suggested: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    fw = Framework.load(suggested)
    edits = fw.calibration["edits"]  # type: ignore[index]
    one = tmp_path / "one.yaml"
    code, out, _ = run(
        capsys, "apply-edits", "--suggestion", str(suggested), "--upto", "1", "--out", str(one)
    )
    assert code == 0 and "step 1:" in out
    adopted = Framework.load(one)
    core = set(adopted.core_indicator_ids)
    assert {k: v for k, v in adopted.points().items() if k in core} == edits[1]["points"]
    code, _, err = run(
        capsys, "apply-edits", "--suggestion", str(suggested), "--upto", "99", "--out", str(one)
    )
    assert code == 2 and f"choose a step from 0 to {len(edits) - 1}, found 99" in err


def test_an_unknown_event_needs_a_direction(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "suggest", "--framework", "national-2024", *DATA, "--target", "grant_won",
        "--out", str(tmp_path / "x.yaml"), "--no-progress",
    )  # fmt: skip
    assert code == 2
    assert "target 'grant_won' has no known direction" in err and "--direction higher" in err
    assert "Traceback" not in err and not (tmp_path / "x.yaml").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--moves", "points,wiggle"], "unknown move 'wiggle'"),
        (["--max-edits", "0"], "--max-edits: is 0; allow at least 1 edit"),
        (["--frozen", "no_such_indicator"], "no indicator 'no_such_indicator' in national-2024"),
    ],
)
def test_bad_suggest_options_are_one_clear_message(
    args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys, "suggest", "--framework", "national-2024", *DATA, "--target", "hte_certified",
        "--out", str(tmp_path / "x.yaml"), "--no-progress", *args,
    )  # fmt: skip
    assert code == 2 and message in err and "Traceback" not in err


def test_monotone_constraints_flip_for_a_bad_event_and_fit_runs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a model of loan_default must be allowed to predict it *less* for firms the policy rewards;
    # with +1 constraints LightGBM could only learn a constant (held-out AUC 0.500)
    from calibrate.framework import load_framework
    from calibrate.models import policy_directions

    signs = set(
        policy_directions(
            load_framework("longwan-2022"), kind="fractions", outcome="lower"
        ).values()
    )
    assert signs == {-1}
    out = tmp_path / "fit"
    code, stdout, _ = run(
        capsys, "fit", "--framework", "longwan-2022", *DATA, "--target", "tech_sme_registered",
        "--model", "lightgbm", "--no-track", "--out", str(out), "--shap-rows", "200",
    )  # fmt: skip
    assert code == 0 and "auc_pooled" in stdout
