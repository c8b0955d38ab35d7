"""Fit FasterRisk in its own environment (it pins numpy < 2) and write its scores.

Run by :func:`benchmarks.real.baselines.fasterrisk_scores` with the virtual environment's Python:
``python fasterrisk_worker.py IN.npz OUT.npz``. IN holds ``X_train``, ``y_train`` (0/1),
``X_test``, ``names`` and ``k``; OUT gets ``train`` and ``test`` probabilities of ``y = 1``.
Imports neither calibrate nor anything outside the environment's own packages.

Method (fixed before any fit): missing values → the training median; every column binarised
at up to 20 training-quantile thresholds (``BinBinarizer``, ``x <= threshold`` dummies);
``RiskScoreOptimizer`` with at most ``k`` binary terms and integer points in [-5, 5]; the first
(lowest training logistic loss) model of its diverse pool is used.
"""

from __future__ import annotations

import sys

import numpy as np
import pandas as pd


def main(src: str, dst: str) -> None:
    from fasterrisk.binarization_util import BinBinarizer
    from fasterrisk.fasterrisk import RiskScoreClassifier, RiskScoreOptimizer

    data = np.load(src, allow_pickle=False)
    names = [str(n) for n in data["names"]]
    train = pd.DataFrame(data["X_train"], columns=names)
    test = pd.DataFrame(data["X_test"], columns=names)
    median = train.median()
    train, test = train.fillna(median), test.fillna(median)
    binarizer = BinBinarizer(max_num_thresholds_per_feature=20, sampling_seed=0)
    bin_train, _ = binarizer.fit_transform(train)
    bin_test, _ = binarizer.transform(test)
    y = np.where(data["y_train"] > 0, 1.0, -1.0)
    k = min(int(data["k"]), bin_train.shape[1])
    optimizer = RiskScoreOptimizer(X=bin_train.to_numpy(dtype=float), y=y, k=k, lb=-5, ub=5)
    optimizer.optimize()
    multiplier, intercept, coefficients = optimizer.get_models(model_index=0)
    model = RiskScoreClassifier(multiplier, intercept, coefficients)
    np.savez(
        dst,
        train=model.predict_prob(bin_train.to_numpy(dtype=float)),
        test=model.predict_prob(bin_test.to_numpy(dtype=float)),
        terms=np.asarray(
            [n for n, c in zip(bin_train.columns, coefficients, strict=True) if c != 0]
        ),
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
