"""Tests for calibrate.metrics.

References: scikit-learn / scipy on random data with many ties, brute-force O(n^2) versions of
the documented rules, and tiny cases whose expected numbers are worked out by hand in comments.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from sklearn.metrics import average_precision_score, roc_auc_score
from sklearn.metrics import brier_score_loss as sk_brier
from sklearn.metrics import log_loss as sk_log_loss

from calibrate import metrics as m

# --- helpers ------------------------------------------------------------------------------


def brute_auc(y: np.ndarray, s: np.ndarray) -> float:
    """Mann-Whitney by counting every (positive, negative) pair; ties count 1/2."""
    sp, sn = s[y == 1][:, None], s[y == 0][None, :]
    twice_u = 2 * np.count_nonzero(sp > sn) + np.count_nonzero(sp == sn)
    return twice_u / (2 * sp.size * sn.size)


def brute_top_k(s: np.ndarray, g: np.ndarray | None, fraction: float) -> np.ndarray:
    """The documented list rule, pair by pair: rank = 1 + #(same group, strictly higher)."""
    g = np.zeros(s.shape[0], dtype=int) if g is None else np.asarray(g)
    same = g[:, None] == g[None, :]
    rank = 1 + np.count_nonzero(same & (s[None, :] > s[:, None]), axis=1)
    size = same.sum(axis=1)
    return rank <= np.floor(fraction * size + 1e-9)


def tied_data(seed: int, n: int = 400, levels: int = 7, rate: float = 0.3):
    """Outcome, a coarse score (heavy ties) and ranking groups of uneven size."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < rate).astype(int)
    s = rng.integers(0, levels, n).astype(float) + y * rng.integers(0, 2, n)
    g = rng.choice([3, 8, 11, 20, 42], size=n, p=[0.02, 0.08, 0.2, 0.3, 0.4])
    return y, s, g


SEEDS = [0, 1, 2, 3, 4]


# --- roc_auc --------------------------------------------------------------------------------


def test_roc_auc_hand_case():
    # positives 2, 3; negatives 1, 2. Pairs: (2>1)=1, (2=2)=1/2, (3>1)=1, (3>2)=1 -> 3.5 / 4.
    assert m.roc_auc([0, 0, 1, 1], [1, 2, 2, 3]) == 0.875


def test_roc_auc_all_tied_is_half():
    # every pair is a tie -> 1/2 each
    assert m.roc_auc([0, 1, 0, 1, 1], [4, 4, 4, 4, 4]) == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_matches_sklearn_and_brute_force_with_ties(seed):
    y, s, _ = tied_data(seed)
    assert m.roc_auc(y, s) == brute_auc(y, s)  # exact: both are integer counts / same divisor
    assert m.roc_auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-12)


@pytest.mark.parametrize("seed", SEEDS)
def test_roc_auc_weighted_matches_sklearn(seed):
    y, s, _ = tied_data(seed)
    w = np.random.default_rng(seed + 100).random(y.size) * 3
    expected = roc_auc_score(y, s, sample_weight=w)
    assert m.roc_auc(y, s, sample_weight=w) == pytest.approx(expected, abs=1e-12)


def test_roc_auc_unit_weights_equal_unweighted():
    y, s, _ = tied_data(7)
    assert m.roc_auc(y, s, sample_weight=np.ones(y.size)) == pytest.approx(m.roc_auc(y, s))


def test_roc_auc_accepts_bool_and_series():
    y = pd.Series([False, False, True, True])
    assert m.roc_auc(y, pd.Series([1.0, 2.0, 2.0, 3.0])) == 0.875


def test_roc_auc_single_class_message():
    with pytest.raises(m.SingleClassError) as err:
        m.roc_auc([1, 1, 1], [0.1, 0.2, 0.3])
    assert isinstance(err.value, ValueError)
    assert str(err.value) == (
        "y has a single class (1 in all 3 rows); AUC needs at least one positive (1) "
        "and one negative (0). Evaluate on a sample with both classes, or use by_group(), which "
        "returns NaN for single-class groups."
    )


def test_roc_auc_zero_weight_class_message():
    with pytest.raises(m.SingleClassError) as err:
        m.roc_auc([0, 1, 1], [1, 2, 3], sample_weight=[1, 0, 0])
    assert str(err.value) == (
        "all positives (1) in y have sample_weight 0; AUC needs positive weight on both classes."
    )


def test_non_binary_y_message():
    with pytest.raises(ValueError) as err:
        m.roc_auc([0, 1, 2, np.nan], [1, 2, 3, 4])
    assert str(err.value) == (
        "y must hold only 0/1 (or False/True); found 2.0, nan. "
        "Encode the outcome as 1 = event happened, 0 = it did not."
    )


def test_nonfinite_score_message():
    with pytest.raises(ValueError) as err:
        m.roc_auc([0, 1, 0, 1], [1.0, np.nan, np.inf, 2.0])
    assert str(err.value) == (
        "score has 2 NaN or infinite value(s), the first at row 1; "
        "give every firm a finite value, or drop those rows first."
    )


def test_length_mismatch_message():
    with pytest.raises(ValueError) as err:
        m.roc_auc([0, 1, 1], [1, 2])
    assert str(err.value) == (
        "y has 3 rows but score has 2; pass one value per firm in the same order."
    )


def test_empty_input_message():
    with pytest.raises(ValueError, match=r"^y is empty; pass at least one firm\.$"):
        m.roc_auc([], [])


# --- pr_auc, brier, log_loss --------------------------------------------------------------


def test_pr_auc_hand_case():
    # Descending: 0.9 (pos) P=1 R=1/2; 0.8 (neg); 0.3 (pos) P=2/3 R=1; 0.1 (neg).
    # AP = (1/2 - 0) * 1 + (1 - 1/2) * 2/3 = 5/6.
    assert m.pr_auc([0, 1, 0, 1], [0.1, 0.9, 0.8, 0.3]) == pytest.approx(5 / 6, abs=1e-15)


def test_pr_auc_tied_hand_case():
    # All four tied: one threshold, P = 2/4 at R = 1 -> AP = 1/2.
    assert m.pr_auc([0, 1, 0, 1], [5, 5, 5, 5]) == 0.5


@pytest.mark.parametrize("seed", SEEDS)
def test_pr_auc_matches_sklearn(seed):
    y, s, _ = tied_data(seed)
    w = np.random.default_rng(seed).random(y.size)
    assert m.pr_auc(y, s) == pytest.approx(average_precision_score(y, s), abs=1e-12)
    assert m.pr_auc(y, s, sample_weight=w) == pytest.approx(
        average_precision_score(y, s, sample_weight=w), abs=1e-12
    )


def test_pr_auc_no_positive_message():
    with pytest.raises(m.SingleClassError) as err:
        m.pr_auc([0, 0], [1, 2])
    assert str(err.value) == (
        "y has no positive (1) rows; average precision is undefined without positives. "
        "Evaluate on a sample with at least one event."
    )


def test_brier_hand_case():
    # ((0.25 - 0)^2 + (0.5 - 1)^2) / 2 = (0.0625 + 0.25) / 2
    assert m.brier([0, 1], [0.25, 0.5]) == 0.15625


def test_log_loss_hand_case():
    # -(log(1 - 0.5) + log(0.5)) / 2 = log 2
    assert m.log_loss([0, 1], [0.5, 0.5]) == pytest.approx(math.log(2), abs=1e-15)


@pytest.mark.parametrize("seed", SEEDS)
def test_brier_and_log_loss_match_sklearn(seed):
    rng = np.random.default_rng(seed)
    y = (rng.random(300) < 0.3).astype(int)
    p = np.round(rng.random(300), 2)  # includes exact 0.0 and 1.0 now and then
    p[:3] = [0.0, 1.0, 1.0]  # a confident miss or two: clipping must keep the loss finite
    w = rng.random(300)
    assert m.brier(y, p) == pytest.approx(sk_brier(y, p), abs=1e-14)
    assert m.brier(y, p, sample_weight=w) == pytest.approx(
        sk_brier(y, p, sample_weight=w), abs=1e-14
    )
    assert m.log_loss(y, p) == pytest.approx(sk_log_loss(y, p), rel=1e-12)
    assert m.log_loss(y, p, sample_weight=w) == pytest.approx(
        sk_log_loss(y, p, sample_weight=w), rel=1e-12
    )


def test_probability_range_message():
    with pytest.raises(ValueError) as err:
        m.brier([0, 1], [-0.5, 2.0])
    assert str(err.value) == (
        "prob must be probabilities in [0, 1]; found values from -0.5 to 2.0. "
        "Pass predicted probabilities, not scores or logits."
    )


# --- top-k within ranking groups ----------------------------------------------------------


def test_top_k_tie_at_cut_off_keeps_all_tied():
    # 2 places; ranks 1, 2, 2, 4 -> both firms tied at 2nd place stay on the list.
    assert m.top_k_mask([5, 4, 4, 1], None, 0.5).tolist() == [True, True, True, False]


def test_top_k_tie_including_everyone():
    # 1 place (floor(0.25 * 4)); all tied at rank 1 -> all four are listed.
    assert m.top_k_mask([3, 3, 3, 3], None, 0.25).all()


def test_top_k_one_firm_per_group():
    g = [10, 20, 30]
    # floor(0.5 * 1) = 0 places in every group -> nobody listed
    assert not m.top_k_mask([1, 2, 3], g, 0.5).any()
    # floor(1.0 * 1) = 1 place -> everybody listed
    assert m.top_k_mask([1, 2, 3], g, 1.0).all()


def test_top_k_fraction_rounding_guard():
    # 0.3 * 10 = 2.9999999999999996 in floating point; the rule means 3 places.
    assert m.top_k_mask(np.arange(10.0), None, 0.3).sum() == 3
    # 0.1 * 30 = 3.0000000000000004 -> still 3 places
    assert m.top_k_mask(np.arange(30.0), None, 0.1).sum() == 3


def test_top_k_two_groups_hand_case():
    # group a: scores 9, 7, 7, 1 -> floor(0.5*4) = 2 places; ranks 1, 2, 2, 4 -> 3 listed
    # group b: scores 2, 8, 5     -> floor(0.5*3) = 1 place;  ranks 3, 1, 2    -> only the 8
    score = [9, 7, 7, 1, 2, 8, 5]
    group = ["a", "a", "a", "a", "b", "b", "b"]
    assert m.top_k_mask(score, group, 0.5).tolist() == [1, 1, 1, 0, 0, 1, 0]


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("fraction", [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0])
def test_top_k_matches_brute_force(seed, fraction):
    _, s, g = tied_data(seed)
    np.testing.assert_array_equal(m.top_k_mask(s, g, fraction), brute_top_k(s, g, fraction))
    np.testing.assert_array_equal(m.top_k_mask(s, None, fraction), brute_top_k(s, None, fraction))


def test_top_k_fraction_message():
    with pytest.raises(ValueError) as err:
        m.top_k_mask([1, 2], None, 1.5)
    assert str(err.value) == "fraction must be a number in [0, 1] (0.1 = top 10 %); got 1.5."


def test_group_missing_message():
    with pytest.raises(ValueError) as err:
        m.top_k_mask([1, 2, 3], [1.0, np.nan, 2.0], 0.5)
    assert str(err.value) == (
        "group has 1 missing value(s), the first at row 1; every firm needs a ranking "
        "group (use one code for 'no group')."
    )


def test_precision_and_lift_hand_case():
    # 2 places, tie at 2nd -> firms 0, 1, 2 listed, events at 0 and 2 -> precision 2/3.
    # base rate 2/4 -> lift (2/3) / (1/2) = 4/3.
    y, s = [1, 0, 1, 0], [9, 8, 8, 1]
    assert m.precision_at_top(y, s, None, 0.5) == 2 / 3
    assert m.lift_at_top(y, s, None, 0.5) == pytest.approx(4 / 3, abs=1e-15)


def test_precision_empty_list_is_nan():
    # floor(0.1 * 5) = 0 places -> no list -> NaN, without a RuntimeWarning (warnings = errors)
    assert math.isnan(m.precision_at_top([0, 1, 0, 1, 0], [1, 2, 3, 4, 5], None, 0.1))
    assert math.isnan(m.lift_at_top([0, 1, 0, 1, 0], [1, 2, 3, 4, 5], None, 0.1))


def test_lift_without_events_is_nan():
    # precision 0 / base rate 0
    assert m.precision_at_top([0, 0, 0, 0], [1, 2, 3, 4], None, 0.5) == 0.0
    assert math.isnan(m.lift_at_top([0, 0, 0, 0], [1, 2, 3, 4], None, 0.5))


# --- rank agreement and churn -------------------------------------------------------------


@pytest.mark.parametrize("seed", SEEDS)
def test_spearman_and_kendall_match_scipy(seed):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 6, 300).astype(float)
    b = a + rng.integers(-2, 3, 300)
    assert m.spearman(a, b) == pytest.approx(stats.spearmanr(a, b).statistic, abs=1e-12)
    assert m.kendall_tau(a, b) == pytest.approx(stats.kendalltau(a, b).statistic, abs=1e-12)


def test_rank_correlations_per_group():
    rng = np.random.default_rng(11)
    g = rng.choice([5, 7, 9], 200)
    a = rng.integers(0, 5, 200).astype(float)
    b = a + rng.integers(-2, 3, 200)
    sp = m.spearman(a, b, g)
    kt = m.kendall_tau(a, b, g)
    assert isinstance(sp, pd.Series) and isinstance(kt, pd.Series)
    assert sp.index.tolist() == [5, 7, 9] == kt.index.tolist()
    for code in [5, 7, 9]:
        sel = g == code
        assert sp[code] == pytest.approx(stats.spearmanr(a[sel], b[sel]).statistic, abs=1e-12)
        assert kt[code] == pytest.approx(stats.kendalltau(a[sel], b[sel]).statistic, abs=1e-12)


def test_rank_correlations_constant_or_singleton_group_is_nan():
    # group 1: b is constant; group 2: a single firm; group 3: perfect agreement
    a = [1, 2, 3, 7, 1, 2, 3]
    b = [4, 4, 4, 5, 10, 20, 30]
    g = [1, 1, 1, 2, 3, 3, 3]
    for result in (m.spearman(a, b, g), m.kendall_tau(a, b, g)):
        assert math.isnan(result[1]) and math.isnan(result[2])
        assert result[3] == pytest.approx(1.0)
    assert math.isnan(m.spearman([1, 1, 1], [1, 2, 3]))
    assert math.isnan(m.kendall_tau([1, 1, 1], [1, 2, 3]))


def test_rank_moves_hand_case():
    # moves b - a: +1, -1, 0, +3, -3 -> |moves| 1, 1, 0, 3, 3
    r = m.rank_moves([1, 2, 3, 4, 5], [2, 1, 3, 7, 2])
    assert r.n == 5
    assert r.n_moved == 4
    assert r.mean_abs_move == 8 / 5
    assert r.median_abs_move == 1.0
    assert r.max_move == 3.0
    assert r.mean_move == 0.0
    assert r.share_moved == 0.8
    assert r.to_dict()["share_moved"] == 0.8


def test_rank_moves_rejects_missing_ranks():
    with pytest.raises(ValueError, match=r"^rank_b has 1 NaN or infinite value"):
        m.rank_moves([1, 2], [1, np.nan])


def test_churn_hand_case():
    # a lists firms 0, 1; b lists 0, 2, 3 -> entered 2 (2, 3), left 1 (1), stayed 1 (0)
    c = m.churn([1, 1, 0, 0], [True, False, True, True])
    assert (c.n_a, c.n_b, c.entered, c.left, c.stayed) == (2, 3, 2, 1, 1)
    assert c.churn == 0.5
    assert c.to_dict() == {"n_a": 2, "n_b": 3, "entered": 2, "left": 1, "stayed": 1, "churn": 0.5}
    with pytest.raises(AttributeError):
        c.left = 0  # type: ignore[misc]  # frozen


def test_churn_empty_list_is_nan_and_bad_mask_message():
    assert math.isnan(m.churn([0, 0], [1, 0]).churn)
    with pytest.raises(ValueError) as err:
        m.churn([0, 2], [1, 0])
    assert str(err.value) == "mask_a must be boolean (or 0/1); found 0, 2."


# --- by_group ---------------------------------------------------------------------------------


def test_by_group_auc_with_single_class_group():
    y = [0, 1, 0, 1, 1, 1]
    s = [1, 2, 2, 1, 5, 6]
    g = ["x", "x", "y", "y", "z", "z"]
    out = m.by_group("roc_auc", y, s, g)
    # x: pos 2 > neg 1 -> 1.0; y: pos 1 < neg 2 -> 0.0; z: only positives -> NaN
    assert out.name == "roc_auc"
    assert out.index.tolist() == ["x", "y", "z"]
    assert out["x"] == 1.0 and out["y"] == 0.0 and math.isnan(out["z"])


def test_by_group_third_party_metric_and_kwargs():
    y, s, g = tied_data(3)
    out = m.by_group(roc_auc_score, y, s, g, skip_single_class=True)
    for code, value in out.items():
        sel = g == code
        assert value == pytest.approx(roc_auc_score(y[sel], s[sel]), abs=1e-12)
    prec = m.by_group("precision_at_top", y, s, g, fraction=0.2)
    for code, value in prec.items():
        sel = g == code
        expected = m.precision_at_top(y[sel], s[sel], None, 0.2)
        assert value == expected or (math.isnan(value) and math.isnan(expected))


def test_by_group_unknown_metric_message():
    with pytest.raises(ValueError) as err:
        m.by_group("auc", [0, 1], [1, 2], [0, 0])
    assert str(err.value) == (
        "unknown metric 'auc'; use one of brier, lift_at_top, log_loss, pr_auc, "
        "precision_at_top, roc_auc or pass a callable."
    )


# --- batch evaluation -------------------------------------------------------------------------

FRACTIONS = (0.0, 0.05, 0.1, 0.2, 0.5, 1.0)


def loop_evaluate(y, S, group, fractions):
    """The single-column functions, one column at a time (the reference for the batch path)."""
    rows = []
    for j in range(S.shape[1]):
        row = {"auc_pooled": m.roc_auc(y, S[:, j])}
        for f in fractions:
            row[f"prec_top{f * 100:g}"] = m.precision_at_top(y, S[:, j], group, f)
        for f in fractions:
            row[f"lift_top{f * 100:g}"] = m.lift_at_top(y, S[:, j], group, f)
        rows.append(row)
    return pd.DataFrame(rows)


def tied_matrix(seed: int, n: int = 500, n_cols: int = 23):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < 0.2).astype(int)
    # coarse grid: heavy ties within and across groups; one column entirely tied
    S = rng.integers(0, 6, size=(n, n_cols)).astype(float) + y[:, None] * rng.integers(
        0, 2, size=(n, n_cols)
    )
    S[:, 0] = 3.0
    # uneven groups: one singleton, a few tiny ones, some large; labels are not 0..G-1
    g = rng.choice([101, 7, 55, 3, 900], size=n, p=[0.01, 0.04, 0.15, 0.3, 0.5])
    g[0] = -1  # singleton group
    return y, S, g


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("with_group", [True, False])
def test_batch_evaluate_equals_single_column_functions(seed, with_group):
    y, S, g = tied_matrix(seed)
    group = g if with_group else None
    got = m.batch_evaluate(y, S, group, FRACTIONS, chunk_size=4)
    expected = loop_evaluate(y, S, group, FRACTIONS)
    assert got.index.name == "weighting"
    assert list(got.columns) == list(expected.columns)
    # exact, not approximate: same integer counts, same divisions
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


def test_batch_evaluate_equals_loop_for_scores_that_need_float64():
    # Blocks whose scores all fit float32 exactly are ranked in float32; these do not: decimal
    # fractions, near-ties one ulp apart, and huge values that overflow float32.
    y, S, g = tied_matrix(6, n_cols=6)
    S[:, 1] = S[:, 1] / 10
    S[:, 2] = S[:, 2] * (1 + 2.0**-40)
    S[::7, 2] = np.nextafter(S[::7, 2], np.inf)  # one-ulp differences must not tie
    S[:, 3] = S[:, 3] * 1e300
    for chunk_size in (1, 2, 6):
        got = m.batch_evaluate(y, S, g, FRACTIONS, chunk_size=chunk_size)
        np.testing.assert_array_equal(got.to_numpy(), loop_evaluate(y, S, g, FRACTIONS).to_numpy())


def test_batch_evaluate_chunking_and_threads_do_not_change_results():
    y, S, g = tied_matrix(9, n_cols=17)
    ref = m.batch_evaluate(y, S, g, chunk_size=17)
    for chunk_size, n_jobs in [(1, 1), (5, 2), (None, None), (3, -1)]:
        out = m.batch_evaluate(y, S, g, chunk_size=chunk_size, n_jobs=n_jobs)
        pd.testing.assert_frame_equal(out, ref)


def test_batch_evaluate_default_columns_and_dataframe_labels():
    y, S, g = tied_matrix(2, n_cols=3)
    frame = pd.DataFrame(S, columns=["base", "cand_a", "cand_b"])
    out = m.batch_evaluate(y, frame, g)
    assert list(out.columns) == [
        "auc_pooled",
        "prec_top5",
        "prec_top10",
        "prec_top20",
        "lift_top5",
        "lift_top10",
        "lift_top20",
    ]
    assert out.index.tolist() == ["base", "cand_a", "cand_b"]
    assert list(m.batch_evaluate(y, S, g, (0.025,), auc=False).columns) == [
        "prec_top2.5",
        "lift_top2.5",
    ]


def test_batch_auc_and_batch_precision_wrappers():
    y, S, g = tied_matrix(4)
    np.testing.assert_array_equal(
        m.batch_auc(y, S), [m.roc_auc(y, S[:, j]) for j in range(S.shape[1])]
    )
    np.testing.assert_array_equal(
        m.batch_precision_at_top(y, S, g, 0.1),
        [m.precision_at_top(y, S[:, j], g, 0.1) for j in range(S.shape[1])],
    )


def test_batch_evaluate_hand_case():
    # Column 0: scores 4 3 2 1 with y 1 0 1 0 -> AUC pairs (4>3, 4>1, 2<3, 2>1) = 3/4.
    #   top 50 %: 2 places -> firms 0, 1 -> precision 1/2, lift (1/2)/(1/2) = 1.
    # Column 1: all tied -> AUC 1/2; top 50 % lists everybody -> precision 1/2.
    y = [1, 0, 1, 0]
    S = np.array([[4, 1], [3, 1], [2, 1], [1, 1]], dtype=float)
    out = m.batch_evaluate(y, S, None, (0.5,))
    assert out["auc_pooled"].tolist() == [0.75, 0.5]
    assert out["prec_top50"].tolist() == [0.5, 0.5]
    assert out["lift_top50"].tolist() == [1.0, 1.0]


def test_batch_empty_lists_are_nan_without_warning():
    y, S, g = tied_matrix(5)
    out = m.batch_evaluate(y, S, np.arange(y.size), (0.5,))  # one firm per group -> no places
    assert out["prec_top50"].isna().all() and out["lift_top50"].isna().all()


def test_batch_single_class():
    S = np.arange(12.0).reshape(4, 3)
    with pytest.raises(m.SingleClassError):
        m.batch_evaluate([0, 0, 0, 0], S)
    out = m.batch_evaluate([0, 0, 0, 0], S, None, (0.5,), auc=False)
    assert out["prec_top50"].tolist() == [0.0, 0.0, 0.0]
    assert out["lift_top50"].isna().all()


def test_batch_nonfinite_message_names_the_column():
    y, S, _ = tied_matrix(1, n_cols=30)
    S[17, 25] = np.nan
    S[40, 25] = np.inf
    with pytest.raises(ValueError) as err:
        m.batch_evaluate(y, S, chunk_size=8)
    assert str(err.value) == (
        "S column 25 has 2 NaN or infinite value(s), the first at row 17; "
        "give every firm a finite score (check for missing indicator values)."
    )


def test_batch_rejects_duplicate_fractions_and_bad_n_jobs():
    y, S, _ = tied_matrix(1, n_cols=2)
    with pytest.raises(ValueError, match="fractions must be distinct"):
        m.batch_evaluate(y, S, None, (0.1, 0.1))
    with pytest.raises(ValueError, match="n_jobs must be a positive integer"):
        m.batch_evaluate(y, S, n_jobs=0)


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_evaluate_weights_equals_loop_over_products(seed):
    rng = np.random.default_rng(seed)
    n, k, n_w = 600, 6, 13
    y = (rng.random(n) < 0.15).astype(int)
    F = rng.integers(0, 5, size=(n, k)) / 4  # quarter grid: exact in binary floating point
    W = rng.integers(0, 4, size=(k, n_w)).astype(float)  # whole points -> exact products
    g = rng.integers(0, 9, n)
    got = m.batch_evaluate_weights(y, F, W, g, FRACTIONS, chunk_size=5)
    expected = loop_evaluate(y, F @ W, g, FRACTIONS)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())
    pd.testing.assert_frame_equal(got, m.batch_evaluate(y, F @ W, g, FRACTIONS))


def test_batch_evaluate_weights_decimals_makes_paper_ties_tie():
    # 0.1 + 0.2 != 0.3 in floating point; with decimals=9 the two firms tie as on paper.
    y = [1, 0, 0, 1]
    F = np.array([[0.1, 0.2], [0.3, 0.0], [0.0, 0.0], [0.0, 0.1]])
    W = np.array([[1.0], [1.0]])
    raw = m.batch_evaluate_weights(y, F, W, fractions=(0.25,))
    tied = m.batch_evaluate_weights(y, F, W, fractions=(0.25,), decimals=9)
    # raw: firm 0 (0.30000000000000004) alone on top; AUC pairs 1 + 1 + 0 + 1 = 3/4
    assert raw["auc_pooled"].tolist() == [0.75] and raw["prec_top25"].tolist() == [1.0]
    # rounded: firms 0 and 1 tie at 0.3 -> both listed; AUC (1/2 + 1 + 0 + 1) / 4 = 5/8
    assert tied["auc_pooled"].tolist() == [0.625] and tied["prec_top25"].tolist() == [0.5]


def test_batch_length_mismatch_message():
    with pytest.raises(ValueError) as err:
        m.batch_evaluate([1, 0], [[1.0], [2.0], [3.0]])
    assert str(err.value) == (
        "y has 2 rows but S has 3; pass one value per firm in the same order."
    )


def test_batch_evaluate_weights_shape_message():
    with pytest.raises(ValueError) as err:
        m.batch_evaluate_weights([0, 1], np.ones((2, 3)), np.ones((4, 2)))
    assert str(err.value) == (
        "F has 3 indicator columns but W has 4 rows; W must be (n_indicators, "
        "n_weightings) with rows in the order of F's columns."
    )


# --- properties -----------------------------------------------------------------------------


@st.composite
def scored_panel(draw):
    n = draw(st.integers(2, 60))
    n_cols = draw(st.integers(1, 6))
    y = np.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)))
    if y.min() == y.max():
        y[0] = 1 - y[0]  # both classes present
    levels = draw(st.integers(1, 5))  # few levels -> many ties
    S = np.array(
        draw(st.lists(st.integers(0, levels), min_size=n * n_cols, max_size=n * n_cols)),
        dtype=float,
    ).reshape(n, n_cols)
    g = np.array(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    fractions = tuple(
        draw(st.lists(st.sampled_from([0.05, 0.1, 0.2, 0.25, 0.5, 1.0]), unique=True, max_size=3))
    )
    return y, S, g, fractions


@settings(max_examples=150, deadline=None)
@given(scored_panel(), st.integers(1, 4))
def test_property_batch_equals_loop(panel, chunk_size):
    y, S, g, fractions = panel
    got = m.batch_evaluate(y, S, g, fractions, chunk_size=chunk_size)
    expected = loop_evaluate(y, S, g, fractions)
    np.testing.assert_array_equal(got.to_numpy(), expected.to_numpy())


@settings(max_examples=150, deadline=None)
@given(scored_panel())
def test_property_auc_of_negated_score_and_brute_force(panel):
    y, S, g, fractions = panel
    s = S[:, 0]
    auc = m.roc_auc(y, s)
    assert auc == brute_auc(y, s)
    assert m.roc_auc(y, -s) == pytest.approx(1.0 - auc, abs=1e-12)
    for f in fractions:
        np.testing.assert_array_equal(m.top_k_mask(s, g, f), brute_top_k(s, g, f))


# --- grouped_auc: pairs only within a ranking group --------------------------------------------


def test_grouped_auc_hand_case() -> None:
    # group a: the event (0.9) beats the non-event (0.1) → U = 1 of 1 pair
    # group b: the event (0.2) loses to the non-event (0.8) → U = 0 of 1 pair
    # group c: tie 0.5 vs 0.5 → U = ½ of 1 pair; pooled (1 + 0 + ½) / 3 = 0.5
    y = [1, 0, 1, 0, 1, 0]
    s = [0.9, 0.1, 0.2, 0.8, 0.5, 0.5]
    assert m.grouped_auc(y, s, ["a", "a", "b", "b", "c", "c"]) == 0.5
    # the cross-group pair that a pooled AUC would count is ignored: a's 0.1 < b's 0.2 does not matter
    assert m.grouped_auc([1, 0, 1, 0], [0.9, 0.1, 0.95, 0.92], ["a", "a", "b", "b"]) == 1.0


def test_grouped_auc_equals_pair_weighted_per_group_auc() -> None:
    rng = np.random.default_rng(4)
    n = 3000
    y = rng.binomial(1, 0.15, n)
    s = rng.integers(0, 8, n).astype(float)  # many ties
    g = rng.integers(0, 9, n)
    num = den = 0.0
    for k in range(9):
        in_k = g == k
        pos = y[in_k].sum()
        neg = in_k.sum() - pos
        num += m.roc_auc(y[in_k], s[in_k]) * pos * neg
        den += pos * neg
    assert m.grouped_auc(y, s, g) == pytest.approx(num / den, abs=1e-12)
    assert m.grouped_auc(y, s, None) == m.roc_auc(y, s)


def test_grouped_auc_without_pairs_is_nan() -> None:
    assert np.isnan(m.grouped_auc([1, 0], [0.3, 0.2], ["a", "b"]))


# --- fractional ties: lists of exactly k seats ---------------------------------------------------


def test_fractional_ties_hand_case() -> None:
    # one group of 4, top 50 % = 2 seats: score 9 takes a seat; 8 and 8 tie for the last seat,
    # each counting ½ → (1·1 + ½·0 + ½·1) / 2 = 0.75 (inclusive would list 3 firms: 2/3)
    assert m.precision_at_top([1, 0, 1, 0], [9, 8, 8, 1], None, 0.5, ties="fractional") == 0.75
    assert m.precision_at_top([1, 0, 1, 0], [9, 8, 8, 1], None, 0.5) == pytest.approx(2 / 3)


def test_fractional_equals_inclusive_without_a_tie_at_the_cut_off() -> None:
    rng = np.random.default_rng(7)
    y = rng.binomial(1, 0.2, 500)
    s = rng.permutation(500).astype(float)  # no ties at all
    g = rng.integers(0, 5, 500)
    for f in (0.05, 0.1, 0.2):
        assert m.precision_at_top(y, s, g, f, ties="fractional") == m.precision_at_top(y, s, g, f)


def test_fractional_ties_equal_the_expected_precision_of_random_tie_breaking() -> None:
    rng = np.random.default_rng(3)
    n = 60
    y = rng.binomial(1, 0.3, n)
    s = rng.integers(0, 4, n).astype(float)  # heavy ties
    g = rng.integers(0, 2, n)
    exact = m.precision_at_top(y, s, g, 0.2, ties="fractional")
    # brute force: break ties by a random jitter many times, average the precision of k-seat lists
    draws = [m.precision_at_top(y, s + rng.uniform(0, 1e-3, n), g, 0.2) for _ in range(4000)]
    assert exact == pytest.approx(float(np.mean(draws)), abs=0.01)


def test_ties_argument_is_checked() -> None:
    with pytest.raises(ValueError, match="ties must be 'inclusive' or 'fractional'"):
        m.precision_at_top([1, 0], [1, 0], None, 0.5, ties="random")


def test_ranking_metrics_bundle_the_same_definitions() -> None:
    rng = np.random.default_rng(11)
    y = rng.binomial(1, 0.1, 800)
    s = np.where(
        rng.random(800) < 0.95, 0.0, rng.random(800)
    )  # a probability that is mostly exactly 0
    g = rng.integers(0, 6, 800)
    out = m.ranking_metrics(y, s, g, (0.1,))
    assert out["n"] == 800 and out["events"] == y.sum() and out["base_rate"] == y.mean()
    assert out["auc_within_group"] == m.grouped_auc(y, s, g) and out["auc_pooled"] == m.roc_auc(
        y, s
    )
    assert out["prec_top10"] == m.precision_at_top(y, s, g, 0.1, ties="fractional")
    assert out["lift_top10"] == pytest.approx(out["prec_top10"] / y.mean())
    # the inclusive rule would list most of each group here (95 % tied at 0): not what is compared
    assert m.top_k_mask(s, g, 0.1).sum() > 0.5 * 800
