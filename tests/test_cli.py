"""The command line: every command on real files, exit codes 0 / 2, messages that name the place."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from calibrate.cli import main
from calibrate.framework import Framework

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "sample"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small synthetic panel written by `calibrate synth` (parquet)."""
    folder = tmp_path_factory.mktemp("synth")
    assert (
        main(
            [
                "synth",
                "--out",
                str(folder),
                "--enterprises",
                "600",
                "--parks",
                "2",
                "--years",
                "2019-2023",
                "--seed",
                "4",
                "--no-progress",
            ]
        )
        == 0
    )
    return folder


def test_frameworks_lists_the_shipped_ones(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "frameworks")
    assert code == 0
    for ident in ("national-2024", "longwan-2022", "hangzhou-2020"):
        assert ident in out
    assert "32 indicators" in out  # longwan: the national 18 + 14 local
    # how much of each framework is official, counted from the provenance labels
    assert "official 0 of 28 elements (framework 0/1, stages 0/3, groups 0/3" in out  # national
    assert "longwan-2022-text" in out and "eligibility 1/10" in out


def test_score_writes_carrier_aggregates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out, carriers = tmp_path / "scores.csv", tmp_path / "carriers.csv"
    code, text, _ = run(
        capsys,
        "score",
        "--framework",
        "hangzhou-2020",
        "--data",
        str(SAMPLE / "enterprises.csv"),
        "--out",
        str(out),
        "--carriers",
        str(carriers),
    )
    assert code == 0 and "carriers ranked within park × year" in text
    scores, table = pd.read_csv(out), pd.read_csv(carriers)
    resident = scores[scores["carrier"].notna()]
    assert table["firms"].sum() == len(resident)  # every resident counted once
    assert table["credit_wan"].sum() == resident["credit_wan"].sum()
    assert (table.groupby(["park", "year"])["rank"].min() == 1).all()


def test_validate_framework_and_data(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(
        capsys, "validate", "longwan-2022", "--data", str(SAMPLE / "enterprises.csv")
    )
    assert code == 0
    assert out.startswith("ok: framework longwan-2022")
    assert "ok: data enterprises.csv" in out


def test_validate_reports_every_yaml_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    doc = Framework.from_yaml(
        (ROOT / "src/calibrate/frameworks/longwan-2022.yaml").read_text("utf-8")
    ).to_dict()
    doc["stages"][1]["revenue_min"] = 90  # overlaps the seed stage
    doc["indicators"][0]["group"] = "nope"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    code, _, err = run(capsys, "validate", str(path))
    assert code == 2
    assert "bad.yaml: 2 framework problems" in err
    assert "stages[1].revenue_min" in err and "indicators[0].group" in err


def test_score_writes_output_and_reports_missing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out_file = tmp_path / "scores.parquet"
    code, out, _ = run(
        capsys,
        "score",
        "--framework",
        "longwan-2022",
        "--data",
        str(SAMPLE / "enterprises.csv"),
        "--out",
        str(out_file),
    )
    assert code == 0
    scores = pd.read_parquet(out_file)
    firms = pd.read_csv(SAMPLE / "enterprises.csv", usecols=["enterprise_id"])
    assert len(scores) == len(firms)  # every row in is a row out
    assert {
        "stage",
        "pts__rd_intensity",
        "total",
        "rank",
        "percentile",
        "tier",
        "subsidy_wan",
    } <= set(scores.columns)
    assert "missing values per indicator" in out and "firms per stage and list" in out


def test_score_bad_rows_stop_or_go_to_rejects(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = pd.read_csv(SAMPLE / "enterprises.csv", nrows=50)
    data.loc[3, "revenue"] = -5
    data.loc[7, "enterprise_id"] = "NOT-A-CODE"
    bad = tmp_path / "bad.csv"
    data.to_csv(bad, index=False, encoding="gbk")
    code, _, err = run(
        capsys,
        "score",
        "--framework",
        "longwan-2022",
        "--data",
        str(bad),
        "--out",
        str(tmp_path / "s.csv"),
    )
    assert code == 2
    assert "bad.csv, row 5, column revenue" in err and "bad.csv, row 9, column enterprise_id" in err
    code, out, _ = run(
        capsys,
        "score",
        "--framework",
        "longwan-2022",
        "--data",
        str(bad),
        "--out",
        str(tmp_path / "s.csv"),
        "--rejects",
        str(tmp_path / "rejects.csv"),
    )
    assert code == 0
    assert "2 of 50 rows rejected" in out
    rejects = pd.read_csv(tmp_path / "rejects.csv")
    assert rejects["source_row"].tolist() == [5, 9]
    assert len(pd.read_csv(tmp_path / "s.csv")) == 48


def test_unknown_framework_is_exit_2(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(
        capsys,
        "score",
        "--framework",
        "nowhere-2030",
        "--data",
        str(SAMPLE / "enterprises.csv"),
        "--out",
        str(tmp_path / "x.csv"),
    )
    assert code == 2
    assert "not a shipped framework and no such file" in err


def test_suggest_writes_framework_diff_and_points(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "sug" / "longwan-hte.yaml"
    code, text, _ = run(
        capsys,
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
        "5",
        "--max-change",
        "8",
        "--group-min",
        "tech=40",
        "--no-progress",
    )
    assert code == 0, text
    f = Framework.load(out)
    assert f.calibration is not None and f.calibration["constraints"]["max_change"] == {
        "absolute": 8.0
    }
    assert (out.parent / "longwan-hte.diff.csv").exists() and (
        out.parent / "longwan-hte.points.csv"
    ).exists()
    assert "held-out metrics" in text


def test_suggest_bad_constraints_are_exit_2(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(
        capsys,
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
        str(tmp_path / "x.yaml"),
        "--group-min",
        "nosuchgroup=10",
        "--no-progress",
    )
    assert code == 2
    assert "groups.nosuchgroup" in err


def test_compare_writes_tables_and_summary(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candidate = tmp_path / "cand.yaml"
    from calibrate.framework import load_framework

    load_framework("longwan-2022").reweight({"rd_intensity": 2.0}).save(candidate)
    code, out, _ = run(
        capsys,
        "compare",
        "--base",
        "longwan-2022",
        "--candidate",
        str(candidate),
        "--data",
        str(small / "enterprises.parquet"),
        "--out",
        str(tmp_path / "cmp"),
    )
    assert code == 0
    assert (tmp_path / "cmp" / "summary.md").exists()
    assert any(p.suffix == ".csv" for p in (tmp_path / "cmp").iterdir())
    assert out.strip() != ""


def test_report_in_english(small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from calibrate.framework import load_framework

    candidate = tmp_path / "cand.yaml"
    load_framework("longwan-2022").reweight({"rd_intensity": 1.5, "vc_financing": 0.5}).save(
        candidate
    )
    out = tmp_path / "report.html"
    code, text, _ = run(
        capsys,
        "report",
        "--base",
        "longwan-2022",
        "--candidate",
        str(candidate),
        "--data",
        str(small / "enterprises.parquet"),
        "--events",
        str(small / "events.parquet"),
        "--target",
        "hte_certified",
        "--lang",
        "en",
        "--out",
        str(out),
    )
    assert code == 0, text
    html = out.read_text(encoding="utf-8")
    assert '<html lang="en"' in html and "data:image/png;base64," in html
    # every indicator named in both languages (HTML-escaped "&")
    assert "R&amp;D expense / operating revenue" in html and "研发费用占营业收入比例" in html


def test_fit_with_shap_and_tracking(
    small: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    code, text, _ = run(
        capsys,
        "fit",
        "--framework",
        "longwan-2022",
        "--data",
        str(small / "enterprises.parquet"),
        "--events",
        str(small / "events.parquet"),
        "--target",
        "hte_certified",
        "--model",
        "lightgbm",
        "--shap-rows",
        "300",
        "--out",
        str(tmp_path / "fit"),
        "--tracking-uri",
        uri,
    )
    assert code == 0, text
    by_year = pd.read_csv(tmp_path / "fit" / "metrics_by_year.csv")
    assert by_year["auc_within_group"].between(0.5, 1.0).all()
    assert "SHAP importance on 300 sampled rows" in text and "MLflow run" in text
    assert pd.read_csv(tmp_path / "fit" / "shap_importance.csv").shape[0] == 32
