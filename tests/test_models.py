"""Estimators, feature matrices and temporal validation."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

from calibrate import metrics
from calibrate.exceptions import DataContractError
from calibrate.framework import load_framework, shipped_frameworks
from calibrate.models import (
    MSG_NOT_BINARY,
    FitResult,
    MonotoneGBM,
    PointsLogit,
    feature_matrix,
    features_from_indicators,
    features_from_scores,
    fit_temporal,
    policy_directions,
    temporal_splits,
)
from calibrate.outcomes import make_labels
from calibrate.scoring import score

# --- scikit-learn conventions ---------------------------------------------------------------
# Both estimators pass every check of sklearn 1.9, so no expected_failed_checks are declared. They are
# binary-only on purpose (tags.classifier_tags.multi_class = False: the outcomes are event /
# no event and coef_ is one row per indicator), which the checks verify through
# check_classifier_not_supporting_multiclass.


@parametrize_with_checks([PointsLogit(), MonotoneGBM(n_estimators=10, n_jobs=1)])
def test_sklearn_compatible(estimator, check):
    check(estimator)


# --- data -----------------------------------------------------------------------------------


def logistic_data(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(
        {
            "rd_expense": rng.uniform(0, 20, n),
            "debt_ratio": rng.uniform(0, 1, n),
            "noise": rng.normal(0, 5, n),
        }
    )
    logit = -1.0 + 0.15 * X["rd_expense"] - 2.0 * X["debt_ratio"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y.to_numpy()


def wiggly_data(n=3000, seed=1):
    """Outcome non-monotone in 'a' (a sine), increasing in 'b', decreasing in 'c'."""
    rng = np.random.default_rng(seed)
    X = pd.DataFrame(rng.uniform(0, 1, size=(n, 3)), columns=["a", "b", "c"])
    logit = 2.5 * np.sin(6 * X["a"]) + 2 * X["b"] - 2 * X["c"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    return X, y


# --- PointsLogit ----------------------------------------------------------------------------


def test_points_logit_equals_standardised_sklearn_logistic_regression():
    X, y = logistic_data()
    model = PointsLogit(C=0.5).fit(X, y)
    ref = make_pipeline(StandardScaler(), LogisticRegression(C=0.5, max_iter=1000, tol=1e-6))
    ref.fit(X, y)
    np.testing.assert_allclose(model.predict_proba(X), ref.predict_proba(X), atol=1e-6)
    np.testing.assert_allclose(model.coef_std_, ref[-1].coef_[0], rtol=1e-5)


def test_points_logit_coef_reads_back_per_indicator():
    X, y = logistic_data(n=20000)
    model = PointsLogit(C=np.inf).fit(X, y)
    table = model.coef_table()
    assert table.index.tolist() == ["rd_expense", "debt_ratio", "noise"]
    assert table.index.name == "feature"
    # the coefficients are per unit of X: the generating model's 0.15 and -2.0 come back
    assert table.loc["rd_expense", "coef"] == pytest.approx(0.15, abs=0.02)
    assert table.loc["debt_ratio", "coef"] == pytest.approx(-2.0, abs=0.2)
    assert abs(table.loc["noise", "coef"]) < 0.02
    # decision_function is X @ coef_.T + intercept_ on the raw scale
    np.testing.assert_allclose(
        model.decision_function(X), X.to_numpy() @ model.coef_[0] + model.intercept_[0], atol=1e-9
    )
    np.testing.assert_allclose(table["coef_std"], table["coef"] * table["scale"])
    assert model.coef_.shape == (1, 3)


def test_points_logit_constant_column_gets_zero_coefficient():
    X, y = logistic_data(n=500)
    X["constant"] = 7.0
    table = PointsLogit().fit(X, y).coef_table()
    assert table.loc["constant", "coef"] == 0.0 and table.loc["constant", "scale"] == 1.0


@pytest.mark.parametrize("Model", [PointsLogit, MonotoneGBM])
def test_binary_only(Model):
    X, _ = logistic_data(n=60)
    y = np.repeat([0, 1, 2], 20)
    with pytest.raises(ValueError) as err:
        Model().fit(X, y)
    assert str(err.value) == MSG_NOT_BINARY.format(model=Model.__name__, n=3, classes=[0, 1, 2])


# --- MonotoneGBM ----------------------------------------------------------------------------


def _grid_predictions(model, X, feature, n_base=200, n_grid=41):
    """Probabilities of n_base rows as `feature` sweeps its range (shape n_base × n_grid)."""
    base = X.iloc[:n_base]
    grid = np.linspace(X[feature].min() - 0.1, X[feature].max() + 0.1, n_grid)
    rep = base.loc[base.index.repeat(n_grid)].copy()
    rep[feature] = np.tile(grid, n_base)
    return model.predict_proba(rep)[:, 1].reshape(n_base, n_grid)


def test_monotone_constraints_hold_on_a_grid():
    X, y = wiggly_data()
    model = MonotoneGBM({"a": 1, "b": 1, "c": -1}, n_estimators=100, n_jobs=1).fit(X, y)
    assert model.monotone_ == [1, 1, -1]
    for feat, sign in (("a", 1), ("b", 1), ("c", -1)):
        steps = np.diff(_grid_predictions(model, X, feat), axis=1) * sign
        assert steps.min() >= 0.0, feat  # exact: never a decrease, not even by 1e-16
    # the test has teeth: without the constraint the same data give a non-monotone fit in 'a'
    free = MonotoneGBM(n_estimators=100, n_jobs=1).fit(X, y)
    assert np.diff(_grid_predictions(free, X, "a"), axis=1).min() < -0.01


def test_monotone_from_framework_uses_policy_directions():
    fw = small_framework()
    assert policy_directions(fw, kind="raw") == {
        "rd_expense": 1,
        "debt_ratio": -1,
        "invention_patent_apps": 1,
    }
    assert set(policy_directions(fw).values()) == {1}  # points always point the policy's way
    model = MonotoneGBM.from_framework(fw, kind="raw", n_estimators=5)
    assert model.monotone == {"rd_expense": 1, "debt_ratio": -1, "invention_patent_apps": 1}
    X, y = logistic_data(n=300)
    X = X.rename(columns={"noise": "invention_patent_apps"})
    model.fit(X, y)
    assert model.monotone_ == [1, -1, 1]


def test_monotone_argument_errors():
    X, y = logistic_data(n=100)
    with pytest.raises(ValueError, match="monotone has 2 entries but X has 3 features"):
        MonotoneGBM([1, 1], n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="monotone entries must be -1, 0 or \\+1; found 2"):
        MonotoneGBM([1, 2, 0], n_estimators=2).fit(X, y)
    with pytest.raises(ValueError, match="X has no column names"):
        MonotoneGBM({"a": 1}, n_estimators=2).fit(X.to_numpy(), y)


def test_gbm_is_deterministic():
    X, y = wiggly_data(n=1000)
    kw = dict(n_estimators=20, subsample=0.7, colsample_bytree=0.7)
    p1 = MonotoneGBM(random_state=5, n_jobs=1, **kw).fit(X, y).predict_proba(X)
    p2 = MonotoneGBM(random_state=5, n_jobs=1, **kw).fit(X, y).predict_proba(X)
    assert np.array_equal(p1, p2)
    # deterministic=True also makes the thread count irrelevant here (same build, same data)
    p_threads = MonotoneGBM(random_state=5, n_jobs=2, **kw).fit(X, y).predict_proba(X)
    assert np.array_equal(p1, p_threads)
    p3 = MonotoneGBM(random_state=6, n_jobs=1, **kw).fit(X, y).predict_proba(X)
    assert not np.array_equal(p1, p3)  # the seed does drive the sampling


def test_gbm_margin_and_probability_agree():
    X, y = wiggly_data(n=1000)
    model = MonotoneGBM(n_estimators=20, n_jobs=1).fit(X, y)
    margin = model.decision_function(X)
    np.testing.assert_allclose(model.predict_proba(X)[:, 1], 1 / (1 + np.exp(-margin)), rtol=1e-12)
    assert model.feature_importances_.shape == (3,)
    assert (model.predict(X) == (margin > 0)).all()


# --- feature matrices -----------------------------------------------------------------------


def scored():
    fw = small_framework()
    data = pd.DataFrame(
        {
            "enterprise_id": list("abcdef"),
            "year": [2020] * 3 + [2021] * 3,
            "park": "p",
            "revenue": [10, 50, 500, 20, 200, 300],
            "rd_expense": [1.0, 5.0, 20.0, np.nan, 2.0, 8.0],
            "debt_ratio": [0.5, 0.2, 0.9, 0.8, 0.35, 0.5],
            "invention_patent_apps": [0, 1, 5, 2, 0, 3],
        }
    )
    return fw, data, score(fw, data)


def test_features_from_scores_are_points_named_by_indicator():
    fw, data, result = scored()
    X = features_from_scores(result)
    assert X.columns.tolist() == list(fw.indicator_ids)
    assert X.index.equals(data.index)
    assert X.loc[0].tolist() == [5.0, 10.0, 0.0]  # 50×0.1, 20×(0.8−0.5)/0.6, 0 patents
    np.testing.assert_array_equal(
        X.to_numpy(), result.frame[[f"pts__{i}" for i in fw.indicator_ids]].to_numpy()
    )
    F = features_from_scores(result, kind="fractions")
    np.testing.assert_array_equal(F.to_numpy(), result.fractions)
    pd.testing.assert_frame_equal(feature_matrix(result), X)


def test_features_from_indicators_rank_within_stage_and_year():
    fw, data, _ = scored()
    X = features_from_indicators(data, fw)
    # groups: (small, 2020) = a, b; (large, 2020) = c; (small, 2021) = d; (large, 2021) = e, f
    assert X["rd_expense"].tolist()[:3] == [0.5, 1.0, 1.0]
    assert math.isnan(X.loc[3, "rd_expense"])  # missing stays missing
    assert X["rd_expense"].tolist()[4:] == [0.5, 1.0]
    assert X["debt_ratio"].tolist() == [1.0, 0.5, 1.0, 1.0, 0.5, 1.0]  # direction kept (raw)
    Z = features_from_indicators(data, fw, method="zscore")
    assert Z["rd_expense"].tolist()[:3] == [-1.0, 1.0, 0.0]  # a one-firm group has std 0 → 0
    pd.testing.assert_frame_equal(feature_matrix(data, fw), X)


def test_features_from_indicators_reports_missing_columns():
    fw, data, _ = scored()
    with pytest.raises(DataContractError) as err:
        features_from_indicators(data.drop(columns=["debt_ratio", "revenue"]), fw, source="d.csv")
    assert [p.where for p in err.value.problems] == [
        "d.csv, column debt_ratio",
        "d.csv, column revenue",
    ]


# --- temporal validation --------------------------------------------------------------------


def test_temporal_splits_never_train_on_test_years():
    years = np.repeat(np.arange(2016, 2024), 5)
    for horizon in (1, 2, 3):
        splits = temporal_splits(years, min_train_years=2, horizon=horizon)
        assert splits
        for s in splits:
            train_years = set(years[s.train].tolist())
            assert set(years[s.test].tolist()) == {s.test_year}
            assert train_years == set(s.train_years)
            # every training label window (t+1..t+h) ends before the test year's window starts
            assert max(train_years) + horizon < s.test_year + 1
            assert s.test_year not in train_years
        assert splits[0].test_year == 2016 + 2 + horizon - 1
    first = temporal_splits(years)[0]
    assert first.train_years == (2016, 2017) and first.test_year == 2018
    train, test = first  # unpacks like a CV split
    assert len(train) == 10 and len(test) == 5


def test_temporal_splits_options():
    years = np.repeat(np.arange(2016, 2022), 2)
    rolling = temporal_splits(years, min_train_years=2, max_train_years=2)
    assert [s.train_years for s in rolling] == [
        (2016, 2017),
        (2017, 2018),
        (2018, 2019),
        (2019, 2020),
    ]
    only = temporal_splits(years, test_years=[2021])
    assert len(only) == 1 and only[0].train_years == (2016, 2017, 2018, 2019, 2020)
    with pytest.raises(ValueError, match="no temporal split is possible"):
        temporal_splits(years, min_train_years=6)


def panel_data(seed=0):
    rng = np.random.default_rng(seed)
    n_per_year = 400
    years = np.repeat(np.arange(2018, 2024), n_per_year)
    n = years.shape[0]
    X = pd.DataFrame({"pts_a": rng.uniform(0, 10, n), "pts_b": rng.uniform(0, 10, n)})
    logit = -2 + 0.3 * X["pts_a"] + 0.1 * X["pts_b"]
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-logit))).astype(int).to_numpy()
    groups = years * 10 + rng.integers(0, 3, n)  # 3 ranking groups per year
    return X, y, years, groups


def test_fit_temporal_metrics_equal_direct_metric_calls():
    X, y, years, groups = panel_data()
    est = PointsLogit()
    res = fit_temporal(est, X, y, years, groups, min_train_years=2)
    assert isinstance(res, FitResult)
    assert res.test_years == [2020, 2021, 2022, 2023]
    for s in res.splits:
        model = PointsLogit().fit(X.iloc[s.train], y[s.train])
        prob = model.predict_proba(X.iloc[s.test])[:, 1]
        yt, gt = y[s.test], groups[s.test]
        row = res.by_year.loc[s.test_year]
        assert row["n_train"] == len(s.train)
        assert row["auc_pooled"] == metrics.roc_auc(yt, prob)
        assert row["pr_auc"] == metrics.pr_auc(yt, prob)
        assert row["brier"] == metrics.brier(yt, prob)
        for f, lab in ((0.05, "top5"), (0.1, "top10"), (0.2, "top20")):
            assert row[f"prec_{lab}"] == metrics.precision_at_top(yt, prob, gt, f)
            assert row[f"lift_{lab}"] == metrics.lift_at_top(yt, prob, gt, f)
    # pooled: every held-out prediction, top lists within (year, group)
    pred = res.predictions
    pooled_group = pred["test_year"].to_numpy() * 1000 + pred["group"].to_numpy()
    assert res.overall.loc["pooled", "auc_pooled"] == metrics.roc_auc(pred["y"], pred["prob"])
    assert res.overall.loc["pooled", "prec_top10"] == metrics.precision_at_top(
        pred["y"], pred["prob"], pooled_group, 0.1
    )
    assert res.auc == res.overall.loc["pooled", "auc_pooled"]
    assert res.overall.loc["mean", "brier"] == pytest.approx(res.by_year["brier"].mean())
    assert res.by_year["auc_pooled"].min() > 0.6  # the signal is real
    assert not hasattr(est, "coef_")  # the specification itself is never fitted
    assert set(res.estimators) == {2020, 2021, 2022, 2023}


def test_fit_result_exports():
    X, y, years, groups = panel_data()
    res = fit_temporal(MonotoneGBM(n_estimators=20, n_jobs=1), X, y, years, groups)
    frame = res.to_frame()
    assert frame.index.tolist() == ["2020", "2021", "2022", "2023", "pooled", "mean"]
    assert "auc_pooled" in frame.columns and "note" not in frame.columns
    d = res.to_dict()
    assert d["by_year"][2021]["auc_pooled"] == res.by_year.loc[2021, "auc_pooled"]
    assert d["splits"][0] == {"train_years": [2018, 2019], "test_year": 2020}
    assert d["overall"]["pooled"]["n"] == float(len(res.predictions))
    assert res.metric("brier").index.tolist() == [2020, 2021, 2022, 2023]


def test_fit_temporal_single_class_years():
    X, y, years, groups = panel_data()
    y = y.copy()
    y[years <= 2019] = 0  # the first split trains on one class
    y[years == 2022] = 0  # 2022 has no events to find
    res = fit_temporal(PointsLogit(), X, y, years, groups)
    assert res.by_year.loc[2020, "note"] == "not fitted: the training years hold one class"
    assert math.isnan(res.by_year.loc[2020, "auc_pooled"])
    assert 2020 not in res.estimators
    assert math.isnan(res.by_year.loc[2022, "auc_pooled"]) and math.isnan(
        res.by_year.loc[2022, "pr_auc"]
    )
    assert res.by_year.loc[2022, "brier"] >= 0 and res.by_year.loc[2022, "note"] == ""
    assert res.to_dict()["by_year"][2020]["auc_pooled"] is None


def test_fit_temporal_refuses_unlabelled_rows():
    X, y, years, _ = panel_data()
    y_na = pd.Series(y, dtype="Int8")
    y_na.iloc[3] = pd.NA
    with pytest.raises(ValueError, match="y has 1 missing label"):
        fit_temporal(PointsLogit(), X, y_na, years)
    with pytest.raises(ValueError, match="X has 2400 rows but years has 3"):
        fit_temporal(PointsLogit(), X, y, [2020, 2021, 2022])


# --- helpers --------------------------------------------------------------------------------


def small_framework():
    from calibrate.framework import Framework

    # shared with test_models.py: three core indicators, two stages
    return Framework.load(Path(__file__).parent / "frameworks" / "small_core.yaml")


SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"


@pytest.mark.skipif(
    not (SAMPLE / "events.csv").exists() or "longwan-2022" not in shipped_frameworks(),
    reason="synthetic sample or longwan-2022 framework not available",
)
def test_sample_panel_end_to_end():
    """synth sample → score → labels → out-of-time fit: the points carry signal."""
    ent = pd.read_csv(SAMPLE / "enterprises.csv", dtype={"enterprise_id": str})
    ev = pd.read_csv(SAMPLE / "events.csv", dtype={"enterprise_id": str})
    fw = load_framework("longwan-2022")
    result = score(fw, ent)
    lab = make_labels(ent, ev, "hte_certified")
    m = lab.labelled_mask
    X = features_from_scores(result)[m]
    model = MonotoneGBM.from_framework(fw, n_estimators=50, n_jobs=1)
    res = fit_temporal(model, X, lab.y, ent["year"][m], result.group_code[m])
    for s in res.splits:
        assert ent["year"][m].iloc[s.train].max() < s.test_year
    assert res.auc > 0.7
    assert res.overall.loc["pooled", "n"] == len(res.predictions)


def test_fit_temporal_runs_the_leakage_guard_first():
    from calibrate.exceptions import LeakageError
    from calibrate.outcomes import LeakageGuard

    X, y, years, _ = panel_data()
    est = PointsLogit()
    with pytest.raises(LeakageError, match="'pts_a_lead1'"):
        fit_temporal(
            est, X.rename(columns={"pts_a": "pts_a_lead1"}), y, years, guard=LeakageGuard()
        )
    assert fit_temporal(est, X, y, years, guard=LeakageGuard()).auc > 0.6
