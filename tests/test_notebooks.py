"""The research notebooks run top to bottom on the sample data (DESIGN.md: notebooks "run in CI").

Each notebook is executed in a fresh ``python3`` kernel with ``notebooks/`` as the working
directory, exactly as a user runs it. The temporary folders the notebooks create (the MLflow store
of 02, the report of 03) land in pytest's ``tmp_path``, because the kernel inherits ``TMPDIR``. A
probe cell appended to each notebook prints the key results as JSON, so the assertions read the
kernel's state instead of parsing what the notebook printed.

Fast checks (no kernel) keep the committed notebooks clean: no outputs, the ``python3`` kernel, no
reusable logic defined inside a notebook, relative data paths.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
KERNEL = "python3"
CELL_TIMEOUT = 300  # seconds per cell
PROBE_MARK = "NOTEBOOK-PROBE "
#: Where an MLflow store would appear if a notebook forgot to use a temporary folder.
STRAY_STORES = tuple(d / f for d in (ROOT, NOTEBOOKS) for f in ("mlflow.db", "mlartifacts"))

#: What each notebook must leave behind, as a Python expression evaluated in its kernel at the end.
PROBES: dict[str, str] = {
    "01_reproduce_a_park_policy.ipynb": """{
        "rows_read": loaded.n_read, "rows_scored": len(result.frame),
        "rejected": len(lenient.rejects), "broken_rows": len(broken),
        "leading_board": len(board), "firm": FIRM,
        "exact": bool(dec.sum().iloc[0] == dec.keys["total"].iloc[0]), "pool": len(pool),
        "draws": unc.n_draws,
    }""",
    "02_calibrate_national_framework.ipynb": """{
        "run_id": run.run_id, "version": version, "store": str(store),
        "same_framework": bool(candidate.fingerprint == suggestion.framework.fingerprint),
        "n_bootstrap": suggestion.n_bootstrap, "methods": list(methods.index),
        "oracle_auc": float(methods.loc["oracle (truth)", "auc_within_group"]),
        "official_auc": float(methods.loc["official", "auc_within_group"]),
        "labels": {k: int(v) for k, v in labels.counts().items()},
    }""",
    "03_test_a_weight_change.ipynb": """{
        "report": str(files.html), "candidate": proposal.id, "firm": FIRM, "year": YEAR,
        "entered": int(comparison.overall["entered"]), "draws": uncertainty.n_draws,
        "target": path.target, "reachable": int(len(reach)),
    }""",
}


def _notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("*.ipynb"))


def _code_cells(path: Path) -> list[Any]:
    nb = nbformat.read(path, as_version=4)
    return [c for c in nb.cells if c.cell_type == "code"]


# --- fast checks on the committed files ------------------------------------------------------


def test_every_notebook_has_a_probe() -> None:
    names = [p.name for p in _notebooks()]
    assert names == sorted(PROBES), "give every notebook a probe in PROBES (and drop stale ones)"


@pytest.mark.parametrize("path", _notebooks(), ids=lambda p: p.stem)
def test_committed_notebook_is_clean(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == KERNEL
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        assert cell.outputs == [] and cell.execution_count is None, (
            f"{path.name}: commit notebooks with outputs cleared (cell {cell.get('id')})"
        )
        # DESIGN.md: notebooks import calibrate and define no reusable logic.
        assert not re.search(r"^\s*(def|class)\s", cell.source, re.MULTILINE), (
            f"{path.name}: move reusable logic into src/calibrate (cell {cell.get('id')})"
        )
        outside = cell.source.replace("../data/sample", "")
        assert "/work/" not in cell.source and "data/sample" not in outside, (
            f"{path.name}: use paths relative to notebooks/ (cell {cell.get('id')})"
        )


# --- execution -----------------------------------------------------------------------------------


def _kernel_name() -> str:
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
    except NoSuchKernel:  # a fresh machine without Jupyter's default kernel spec
        cmd = [sys.executable, "-m", "ipykernel", "install", "--user", "--name", KERNEL]
        subprocess.run(cmd, check=True, capture_output=True)
    return KERNEL


def _execute(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> tuple[Any, dict[str, Any], float]:
    """Run notebook ``name`` and its probe cell; return the notebook, the probe and seconds."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the kernel's tempfile.mkdtemp() lands here
    monkeypatch.delenv("MLFLOW_TRACKING_URI", raising=False)
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    probe = f"import json as _j\nprint({PROBE_MARK!r} + _j.dumps({PROBES[name]}, default=str))"
    nb.cells.append(nbformat.v4.new_code_cell(probe))
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name=_kernel_name(),
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    seconds = time.perf_counter() - start
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            assert out.output_type != "error", f"{name}: {cell.get('id')} raised {out.get('ename')}"
    text = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.output_type == "stream")
    found = [line[len(PROBE_MARK) :] for line in text.splitlines() if line.startswith(PROBE_MARK)]
    assert found, f"{name}: the probe printed nothing:\n{text}"
    return nb, json.loads(found[-1]), seconds


def _report_runtime(name: str, seconds: float, record_property: Any) -> None:
    record_property("runtime_seconds", round(seconds, 1))
    print(f"\n{name}: {seconds:.1f} s")


@pytest.mark.slow
def test_01_reproduce_a_park_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: Any
) -> None:
    name = "01_reproduce_a_park_policy.ipynb"
    _, probe, seconds = _execute(name, tmp_path, monkeypatch)
    _report_runtime(name, seconds, record_property)
    assert probe["rows_read"] == probe["rows_scored"] > 0  # every row in is a row out
    assert probe["rejected"] == probe["broken_rows"] == 3  # the broken copy is rejected, row by row
    assert probe["leading_board"] > 0
    assert isinstance(probe["firm"], str) and probe["exact"] is True
    assert probe["pool"] > 0
    assert probe["draws"] == 500


@pytest.mark.slow
def test_02_calibrate_national_framework(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: Any
) -> None:
    name = "02_calibrate_national_framework.ipynb"
    stores_before = {p for p in STRAY_STORES if p.exists()}
    _, probe, seconds = _execute(name, tmp_path, monkeypatch)
    _report_runtime(name, seconds, record_property)
    assert isinstance(probe["run_id"], str) and re.fullmatch(r"[0-9a-f]{32}", probe["run_id"])
    assert probe["version"] == 1 and probe["same_framework"] is True
    store = Path(probe["store"])
    assert store.is_relative_to(tmp_path) and (store / "mlflow.db").is_file()
    stores_after = {p for p in STRAY_STORES if p.exists()}
    assert stores_after == stores_before, "keep the notebook's MLflow store in a temporary folder"
    assert probe["n_bootstrap"] == 50
    assert {"official", "suggested", "oracle (truth)"} <= set(probe["methods"])
    assert any(m.startswith("baseline: ") for m in probe["methods"])
    assert probe["oracle_auc"] > probe["official_auc"]  # the truth beats any points table
    assert probe["labels"]["labelled"] > 0 and probe["labels"]["censored"] > 0


@pytest.mark.slow
def test_03_test_a_weight_change(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, record_property: Any
) -> None:
    from calibrate.report import SECTIONS

    name = "03_test_a_weight_change.ipynb"
    _, probe, seconds = _execute(name, tmp_path, monkeypatch)
    _report_runtime(name, seconds, record_property)
    report = Path(probe["report"])
    assert report.is_relative_to(tmp_path) and report.is_file()
    html = report.read_text(encoding="utf-8")
    assert html.startswith("<!") or "<html" in html[:500]
    missing = [s for s in SECTIONS if f'id="{s}"' not in html]
    assert not missing, f"report sections missing: {missing}"
    assert probe["firm"] in html  # the entrant's card is in the report
    assert probe["entered"] > 0 and probe["draws"] == 500
    assert probe["target"] == "leading" and probe["reachable"] > 0
