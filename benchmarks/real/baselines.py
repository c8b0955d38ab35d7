"""Baselines on the framework's indicator columns and the suggestion's own rows.

Each baseline takes the training matrix and outcome and returns scores for the training and the
held-out rows, higher = the outcome scored (the event, or its absence for a bad event):

* :func:`logistic_scores` — scikit-learn ``LogisticRegression`` on standardised columns after
  median imputation (medians from the training rows);
* :func:`optbinning_scores` — optbinning ``BinningProcess`` with ``monotonic_trend="auto_asc_desc"``
  for every column, then a ``Scorecard`` (WoE + logistic regression); missing values get
  optbinning's own missing bin;
* :func:`fasterrisk_scores` — FasterRisk 0.1.10 in its own virtual environment (it pins
  numpy < 2), data exchanged through ``.npz`` files; see ``fasterrisk_worker.py``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pandas as pd

FloatArray = npt.NDArray[np.float64]
FASTERRISK = "fasterrisk==0.1.10"
FASTERRISK_K = 10  # at most 10 integer-point terms: the size of a card a reviewer reads
WORKER = Path(__file__).with_name("fasterrisk_worker.py")


@dataclass(frozen=True)
class BaselineScores:
    """Scores of one baseline, or why it could not run."""

    train: FloatArray | None
    test: FloatArray | None
    note: str = ""


def logistic_scores(x_train: pd.DataFrame, y: FloatArray, x_test: pd.DataFrame) -> BaselineScores:
    """Median imputation → standardisation → logistic regression (default L2, C = 1)."""
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(max_iter=2000)
    )
    model.fit(x_train.to_numpy(dtype=np.float64), y.astype(np.int64))
    return BaselineScores(
        model.predict_proba(x_train.to_numpy(dtype=np.float64))[:, 1],
        model.predict_proba(x_test.to_numpy(dtype=np.float64))[:, 1],
    )


def optbinning_scores(x_train: pd.DataFrame, y: FloatArray, x_test: pd.DataFrame) -> BaselineScores:
    """Monotone optimal binning of every column (trend chosen per column), WoE, logistic."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    names = list(x_train.columns)
    process = BinningProcess(
        names, binning_fit_params={n: {"monotonic_trend": "auto_asc_desc"} for n in names}
    )
    card = Scorecard(binning_process=process, estimator=LogisticRegression(max_iter=2000))
    with warnings.catch_warnings():
        # optbinning 1.0 calls pandas APIs that pandas 3.1 deprecates (in-place reset_index,
        # enlarging a float frame with text); harmless here and not ours to fix
        warnings.simplefilter("ignore", category=pd.errors.Pandas4Warning)
        card.fit(x_train, y.astype(np.int64))
        train, test = card.predict_proba(x_train)[:, 1], card.predict_proba(x_test)[:, 1]
    selected = int(np.sum(card.binning_process_.get_support()))
    return BaselineScores(
        train, test, note=f"{selected} of {len(names)} columns kept by the binning process"
    )


def cache_dir() -> Path:
    """Where the FasterRisk environment lives (``$CALIBRATE_BENCH_CACHE`` or ~/.cache/...)."""
    root = os.environ.get("CALIBRATE_BENCH_CACHE") or Path.home() / ".cache" / "calibrate-bench"
    return Path(root)


def fasterrisk_python() -> tuple[Path | None, str]:
    """The FasterRisk environment's Python, created on first use; else ``None`` and why."""
    venv = cache_dir() / "fasterrisk-venv"
    python = venv / "bin" / "python"
    check = [str(python), "-c", "import fasterrisk"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python, ""
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(python), "-m", "pip", "install", "--quiet", FASTERRISK],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, timeout=900)
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return None, f"could not install {FASTERRISK} in {venv}: {last}"
    return python, ""


def fasterrisk_scores(x_train: pd.DataFrame, y: FloatArray, x_test: pd.DataFrame) -> BaselineScores:
    """FasterRisk risk score (≤ 10 terms, integer points) fitted in its own environment."""
    python, why = fasterrisk_python()
    if python is None:
        return BaselineScores(None, None, note=why)
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.npz", Path(tmp) / "out.npz"
        np.savez(
            src,
            X_train=x_train.to_numpy(dtype=np.float64),
            y_train=y.astype(np.float64),
            X_test=x_test.to_numpy(dtype=np.float64),
            names=np.asarray(list(x_train.columns)),
            k=np.int64(FASTERRISK_K),
        )
        done = subprocess.run(
            [str(python), str(WORKER), str(src), str(dst)], capture_output=True, text=True
        )
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["no message"])[-1]
            return BaselineScores(None, None, note=f"FasterRisk failed: {last}")
        out = np.load(dst, allow_pickle=False)
        return BaselineScores(
            out["train"].astype(np.float64),
            out["test"].astype(np.float64),
            note=f"{len(out['terms'])} binary terms",
        )


BASELINES = {
    "logistic regression": logistic_scores,
    "optbinning scorecard": optbinning_scores,
    "FasterRisk": fasterrisk_scores,
}
