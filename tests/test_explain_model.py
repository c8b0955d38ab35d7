"""SHAP attributions: additivity, the two tree backends agree, deterministic sampling."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from calibrate.explain import ShapResult, shap_importance
from calibrate.models import MonotoneGBM, PointsLogit


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n = 1500
    X = pd.DataFrame(
        {
            "rd_expense": rng.uniform(0, 10, n),
            "debt_ratio": rng.uniform(0, 1, n),
            "patents": rng.poisson(2, n).astype(float),
            "noise": rng.normal(size=n),
        }
    )
    X.index = [f"firm{i:04d}" for i in range(n)]
    logit = -2 + 0.4 * X["rd_expense"] - 2 * X["debt_ratio"] + 0.3 * X["patents"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    return X, y


@pytest.fixture(scope="module")
def gbm(data):
    X, y = data
    return MonotoneGBM(
        {"rd_expense": 1, "debt_ratio": -1, "patents": 1}, n_estimators=60, n_jobs=1
    ).fit(X, y)


def test_additivity_equals_raw_margin(data, gbm):
    X, _ = data
    res = shap_importance(gbm, X, max_rows=None)
    assert isinstance(res, ShapResult)
    assert res.output == "log-odds" and res.backend == "lightgbm"
    margin = gbm.decision_function(res.data)
    np.testing.assert_allclose(res.values.sum(axis=1) + res.expected_value, margin, atol=1e-9)
    np.testing.assert_allclose(res.margin.to_numpy(), margin, atol=1e-9)


def test_shap_tree_explainer_equals_lightgbm_pred_contrib(data, gbm):
    X, _ = data
    own = shap_importance(gbm, X, max_rows=300, seed=3)
    via_shap = shap_importance(gbm, X, max_rows=300, seed=3, backend="shap")
    assert via_shap.backend == "shap"
    assert via_shap.values.index.equals(own.values.index)
    np.testing.assert_allclose(
        via_shap.values.to_numpy(), own.values.to_numpy(), rtol=0, atol=1e-12
    )
    assert via_shap.expected_value == pytest.approx(own.expected_value, abs=1e-12)


def test_sampling_is_deterministic_and_reported(data, gbm):
    X, _ = data
    a = shap_importance(gbm, X, max_rows=200, seed=7)
    b = shap_importance(gbm, X, max_rows=200, seed=7)
    c = shap_importance(gbm, X, max_rows=200, seed=8)
    assert a.values.index.equals(b.values.index)
    assert not a.values.index.equals(c.values.index)
    assert a.n_rows_used == 200 and a.n_rows_total == 1500 and a.sampled
    assert a.values.index.is_monotonic_increasing  # rows kept in X's order
    assert a.data.equals(X.loc[a.values.index])
    full = shap_importance(gbm, X, max_rows=5000)
    assert full.n_rows_used == 1500 and not full.sampled
    d = a.to_dict()
    assert (d["n_rows_used"], d["n_rows_total"], d["sampled"], d["seed"]) == (200, 1500, True, 7)


def test_global_importance_table(data, gbm):
    X, _ = data
    res = shap_importance(gbm, X, max_rows=None)
    imp = res.importance
    expected = res.values.abs().mean().sort_values(ascending=False)
    assert imp.index.tolist() == expected.index.tolist()
    np.testing.assert_allclose(imp["mean_abs"].to_numpy(), expected.to_numpy())
    assert imp["share"].sum() == pytest.approx(1.0)
    assert imp["rank"].tolist() == [1, 2, 3, 4]
    assert imp.index[0] == "rd_expense" and imp.index[-1] == "noise"
    assert res.to_frame() is imp and res.top(2).index.tolist() == imp.index[:2].tolist()
    one = res.attributions("firm0001")
    assert set(one.index) == set(X.columns)
    assert one.abs().is_monotonic_decreasing


def test_points_logit_linear_attributions_add_up(data):
    X, y = data
    model = PointsLogit().fit(X, y)
    res = shap_importance(model, X, max_rows=100, seed=1)
    assert res.backend == "linear"
    np.testing.assert_allclose(res.margin.to_numpy(), model.decision_function(res.data), atol=1e-9)


def test_explanation_round_trip(data, gbm):
    X, _ = data
    res = shap_importance(gbm, X, max_rows=50)
    exp = res.to_explanation()
    np.testing.assert_array_equal(exp.values, res.values.to_numpy())
    assert list(exp.feature_names) == X.columns.tolist()


def test_errors(data, gbm):
    X, y = data
    with pytest.raises(TypeError, match="explains a fitted MonotoneGBM"):
        shap_importance(MonotoneGBM(), X)
    with pytest.raises(ValueError, match="X has 3 columns but the model was fitted on 4"):
        shap_importance(gbm, X.iloc[:, :3])
    with pytest.raises(ValueError, match="differ from the model's features"):
        shap_importance(gbm, X[X.columns[::-1]])
    with pytest.raises(ValueError, match="max_rows must be a positive whole number"):
        shap_importance(gbm, X, max_rows=0)
    with pytest.raises(ValueError, match="backend must be"):
        shap_importance(gbm, X, backend="kernel")
