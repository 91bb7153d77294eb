"""Non-finite scores, DeLong and bootstrap intervals (with coverage by simulation),
calibration, operating points and the surface-distance failure policies."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy.stats import norm

from pipeline.metrics import (
    bootstrap_ci,
    calibration_summary,
    choose_threshold,
    delong_roc_ci,
    expected_calibration_error,
    image_diagonal,
    precision_recall,
    roc_auc_score,
    summarize_distances,
)

sk = pytest.importorskip("sklearn.metrics")

# --- reproduction 09: NaN scores are an error, naming how many samples ------------------------
NAN = np.nan
Y3 = np.array([0, 1, 2, 0, 2, 1])
S3 = np.array(
    [
        [0.7, 0.2, 0.1],
        [0.1, 0.8, 0.1],
        [0.2, 0.2, NAN],
        [0.6, 0.3, 0.1],
        [0.1, 0.1, 0.8],
        [0.3, 0.3, 0.4],
    ]
)


def _nan_row() -> np.ndarray:
    row = S3.copy()
    row[2] = [0.2, 0.2, 0.6]
    row[5] = [NAN, NAN, NAN]
    return row


@pytest.mark.parametrize(
    ("true", "scores", "message"),
    [
        (np.array([0, 0, 1, 1]), np.full(4, NAN), "4 of 4 samples"),
        (Y3, S3, "1 of 6 samples"),
        (Y3, _nan_row(), "1 of 6 samples"),
        (np.array([0, 1]), np.array([0.1, np.inf]), "1 of 2 samples"),
    ],
    ids=["binary-all-nan", "one-nan-score", "nan-row", "inf"],
)
def test_non_finite_scores_are_an_error(true: np.ndarray, scores: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        roc_auc_score(true, scores)
    with pytest.raises(ValueError, match=message):
        delong_roc_ci(true != 0, scores if scores.ndim == 1 else scores[:, 2])
    # scikit-learn refuses them too (scikit-learn #5735)
    with pytest.raises(ValueError, match=r"NaN|infinity"):
        if scores.ndim == 1:
            sk.roc_auc_score(true, scores)
        else:
            sk.roc_auc_score(true, scores, multi_class="ovr")


def test_finite_columns_of_reproduction_09_are_right() -> None:
    # class 1 positives {0.8, 0.3} vs negatives {0.2, 0.2, 0.3, 0.1}: 7.5 of 8 pairs
    assert roc_auc_score(Y3 == 1, S3[:, 1]) == 0.9375
    assert roc_auc_score(Y3 == 0, S3[:, 0]) == 1.0


# --- DeLong ------------------------------------------------------------------------------------
def _delong_brute_force(true: np.ndarray, scores: np.ndarray) -> tuple[float, float]:
    """DeLong et al. 1988 from the pairwise kernel psi, straight from the paper."""
    x, y = scores[true == 1], scores[true == 0]
    psi = (x[:, None] > y[None, :]) + 0.5 * (x[:, None] == y[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    auc = psi.mean()
    var = v10.var(ddof=1) / x.size + v01.var(ddof=1) / y.size
    return float(auc), float(math.sqrt(var))


def test_delong_hand_computed_and_against_the_pairwise_definition() -> None:
    # positives {0.35, 0.8}, negatives {0.1, 0.4}: V10 = (0.5, 1), V01 = (1, 0.5);
    # var = 0.125 / 2 + 0.125 / 2 -> se = sqrt(0.125)
    ci = delong_roc_ci([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])
    assert ci["estimate"] == 0.75 and ci["se"] == pytest.approx(math.sqrt(0.125))
    assert ci["low"] == pytest.approx(0.75 - 1.959964 * math.sqrt(0.125))
    assert ci["high"] == 1.0  # clipped
    rng = np.random.default_rng(3)
    true = rng.integers(0, 2, 80)
    scores = np.round(rng.normal(true * 0.8, 1.0), 1)  # rounded: many ties
    ci = delong_roc_ci(true, scores)
    auc, se = _delong_brute_force(true, scores)
    assert ci["estimate"] == pytest.approx(auc) == pytest.approx(sk.roc_auc_score(true, scores))
    assert ci["se"] == pytest.approx(se)
    assert ci["low"] == pytest.approx(auc - 1.959964 * se, abs=1e-5)


def test_delong_interval_covers_a_known_auc() -> None:
    # binormal model: positives N(d, 1), negatives N(0, 1) -> AUC = Phi(d / sqrt(2))
    d = 1.0
    truth = float(norm.cdf(d / math.sqrt(2)))
    rng = np.random.default_rng(0)
    hits = 0
    for _ in range(300):
        scores = np.r_[rng.normal(d, 1, 50), rng.normal(0, 1, 70)]
        ci = delong_roc_ci(np.r_[np.ones(50), np.zeros(70)], scores)
        hits += ci["low"] <= truth <= ci["high"]
    assert 0.90 <= hits / 300 <= 0.99


# --- bootstrap over patients -----------------------------------------------------------------
def _clustered_dice(rng: np.random.Generator, patients: int) -> tuple[np.ndarray, np.ndarray]:
    """4 volumes per patient; Dice = patient effect u ~ Beta(8, 2) times w ~ U(0.97, 1).
    True mean Dice = 0.8 * 0.985 = 0.788."""
    u = rng.beta(8, 2, patients)
    dice = np.repeat(u, 4) * rng.uniform(0.97, 1.0, patients * 4)
    return dice, np.repeat(np.arange(patients), 4)


def test_bootstrap_over_patients_covers_a_known_mean_dice() -> None:
    truth = 0.8 * 0.985
    rng = np.random.default_rng(1)
    hits = naive_hits = 0
    sims = 150
    for s in range(sims):
        dice, patient = _clustered_dice(rng, 30)
        mean = lambda idx, d=dice: float(d[idx].mean())  # noqa: E731
        ci = bootstrap_ci(mean, patient, n_resamples=300, seed=s)
        hits += ci["low"] <= truth <= ci["high"]
        naive = bootstrap_ci(mean, np.arange(dice.size), n_resamples=300, seed=s)
        naive_hits += naive["low"] <= truth <= naive["high"]
        assert ci["n_groups"] == 30 and ci["n_resamples"] == 300 and ci["seed"] == s
    assert 0.90 <= hits / sims <= 0.99
    # resampling volumes as if independent ignores the clustering: the interval is too narrow
    assert naive_hits / sims < 0.80


def test_bootstrap_records_undefined_resamples_and_is_seeded() -> None:
    labels = np.array([0, 1, 0, 1, 1])
    scores = np.array([0.1, 0.9, 0.3, 0.6, 0.8])
    auc = lambda idx: float(roc_auc_score(labels[idx], scores[idx]))  # noqa: E731
    patients = ["a", "b", "c", "d", "e"]
    first = bootstrap_ci(auc, patients, n_resamples=200, seed=7)
    np.testing.assert_equal(first, bootstrap_ci(auc, patients, n_resamples=200, seed=7))
    # a resample of one class only has no AUC: left out and counted
    assert 0 < first["n_valid"] < 200 and first["estimate"] == 1.0
    # the classes never overlap, so every defined resample has AUC 1: no interval, said
    assert np.isnan(first["low"]) and np.isnan(first["high"])
    assert first["note"].startswith("no interval: every resample gave 1 ")
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci(auc, [], n_resamples=10)


# --- calibration, precision-recall, operating point ------------------------------------------
def test_calibration_agrees_with_sklearn() -> None:
    from sklearn.calibration import calibration_curve

    rng = np.random.default_rng(5)
    p1 = rng.random(200)
    true = (rng.random(200) < p1).astype(int)
    probs = np.stack([1 - p1, p1], axis=1)
    cal = calibration_summary(true, probs, n_bins=5)
    assert cal["brier"] == pytest.approx(float(np.mean((p1 - true) ** 2)))
    observed, _ = calibration_curve(true, p1, n_bins=5)
    np.testing.assert_allclose(cal["bins"]["observed"], observed)
    assert sum(cal["bins"]["count"]) == 200 and len(cal["bins"]["count"]) == len(observed)
    # three classes: multi-class Brier = mean over cases of the squared error summed over classes
    p3 = rng.dirichlet([1, 1, 1], 50)
    t3 = rng.integers(0, 3, 50)
    cal3 = calibration_summary(t3, p3)
    assert cal3["brier"] == pytest.approx(float(((p3 - np.eye(3)[t3]) ** 2).sum(1).mean()))


def test_calibration_of_float32_softmax_is_silent_and_non_probabilities_refused() -> None:
    """A float32 softmax sums to 1 within ~1e-7, which scikit-learn's multi-class Brier warns
    about ("y_prob values do not sum to one"): renormalised, no warning, same figure; scores
    that are no probabilities (rows summing to 2) are refused, not scored."""
    import warnings

    rng = np.random.default_rng(3)
    logits = rng.normal(size=(400, 4)).astype(np.float32) * 3
    e = np.exp(logits - logits.max(1, keepdims=True))
    p32 = (e / e.sum(1, keepdims=True)).astype(np.float32)
    assert np.abs(p32.astype(np.float64).sum(1) - 1).max() > 0  # not exactly 1
    t = rng.integers(0, 4, 400)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        cal = calibration_summary(t, p32)
    p = p32.astype(np.float64) / p32.astype(np.float64).sum(1, keepdims=True)
    assert cal["brier"] == pytest.approx(float(((p - np.eye(4)[t]) ** 2).sum(1).mean()))
    with pytest.raises(ValueError, match="400 of 400 rows sum to between 2 and 2"):
        calibration_summary(t, p * 2)


def test_ece_hand_computed() -> None:
    probs = np.array([[0.9, 0.1], [0.85, 0.15], [0.3, 0.7], [0.35, 0.65]])
    # bin [0.8, 0.9]: confidence 0.875, accuracy 1/2; bin [0.6, 0.7]: 0.675, accuracy 1
    ece = expected_calibration_error(np.array([0, 1, 1, 1]), probs)
    assert ece == pytest.approx(0.5 * 0.375 + 0.5 * 0.325)


def test_average_precision_agrees_with_sklearn() -> None:
    rng = np.random.default_rng(2)
    p = rng.dirichlet([1, 1, 1], 40)
    t = rng.integers(0, 3, 40)
    ap = precision_recall(t, p)
    for c in range(3):
        assert ap["average_precision"][c] == pytest.approx(
            sk.average_precision_score(t == c, p[:, c])
        )
    assert ap["average_precision_macro"] == pytest.approx(
        sk.average_precision_score(np.eye(3)[t], p, average="macro")
    )


def test_average_precision_macro_is_nan_when_a_class_has_no_positive_case() -> None:
    """As ``roc_auc_macro``: never the mean of the defined classes (it was 0.8625 here, and
    scikit-learn's macro counts the absent class as 0: 0.575)."""
    t = np.array([0, 0, 0, 1, 1, 0, 1, 0, 0, 1])  # class 2 never true
    p = np.array([[0.8, 0.1, 0.1], [0.6, 0.1, 0.3], [0.2, 0.1, 0.7], [0.5, 0.3, 0.2],
                  [0.4, 0.2, 0.4], [0.9, 0.05, 0.05], [0.3, 0.3, 0.4], [0.7, 0.2, 0.1],
                  [0.6, 0.3, 0.1], [0.45, 0.35, 0.2]])  # fmt: skip
    with pytest.warns(RuntimeWarning, match=r"undefined for class \[2\]"):
        ap = precision_recall(t, p)
    assert np.isnan(ap["average_precision_macro"]) and np.isnan(ap["average_precision"][2])
    for c in (0, 1):  # the defined classes as scikit-learn gives them
        assert ap["average_precision"][c] == pytest.approx(
            sk.average_precision_score(t == c, p[:, c])
        )


def test_operating_point_rules() -> None:
    true = np.array([0, 0, 0, 1, 1, 1, 1])
    pos = np.array([0.1, 0.5, 0.7, 0.4, 0.6, 0.8, 0.9])
    # thresholds 0.9 (J .25), .8 (.5), .7 (.17), .6 (.42), .5 (.08), .4 (.33), .1 (0)
    assert choose_threshold(true, pos)["threshold"] == 0.8
    target = choose_threshold(true, pos, rule="sensitivity", target_sensitivity=1.0)
    assert target["threshold"] == 0.4 and target["specificity"] == pytest.approx(1 / 3)
    # what was asked for is recorded with the rule that uses it, and only there
    assert (target["rule"], target["target_sensitivity"]) == ("sensitivity", 1.0)
    assert "target_sensitivity" not in choose_threshold(true, pos)
    with pytest.raises(ValueError, match="both classes"):
        choose_threshold(np.ones(3), np.array([0.1, 0.2, 0.3]))


# --- surface-distance failures -----------------------------------------------------------------
def test_failures_counted_and_diagonal_policy() -> None:
    # reproduction 10: HD95 per case 1.0, missed (inf), false positive on empty truth (inf)
    diag = image_diagonal((32, 32))
    assert diag == pytest.approx(math.hypot(32, 32))
    excluded = summarize_distances([1.0, math.inf, math.inf])
    assert (excluded["mean"], excluded["n"], excluded["failed"]) == (1.0, 1, 2)
    penalised = summarize_distances(
        [1.0, math.inf, math.inf], failures="diagonal", worst=[diag] * 3
    )
    assert penalised["mean"] == pytest.approx((1 + 2 * 45.2548) / 3, abs=1e-3)
    assert round(penalised["mean"], 2) == 30.50
    assert image_diagonal((6, 32, 32), (4.0, 0.5, 0.5)) == pytest.approx(
        math.sqrt(24**2 + 16**2 + 16**2)
    )
    with pytest.raises(ValueError, match="worst"):
        summarize_distances([math.inf], failures="diagonal")


def test_bootstrap_over_one_patient_gives_no_interval() -> None:
    # three volumes of one patient: every resample is that patient again, so the percentile
    # "interval" was [0.7, 0.7], a certainty the data cannot give
    values = np.array([0.5, 0.7, 0.9])
    ci = bootstrap_ci(lambda idx: float(values[idx].mean()), ["p", "p", "p"], n_resamples=50)
    assert ci["estimate"] == pytest.approx(0.7)
    assert np.isnan(ci["low"]) and np.isnan(ci["high"])
    assert ci["n_groups"] == 1 and ci["n_valid"] == 50
    two = bootstrap_ci(lambda idx: float(values[idx].mean()), ["p", "p", "q"], n_resamples=50)
    # two patients: means of {0.6 (p), 0.9 (q)} drawn twice -> 0.6, 0.7 (p+q: 0.5,0.7,0.9), 0.9
    assert two["low"] == pytest.approx(0.6) and two["high"] == pytest.approx(0.9)


def test_delong_with_a_single_case_of_a_class_has_no_interval() -> None:
    """Mutation: the "fewer than 2 cases of a class" guard weakened (``and`` for ``or``): one
    positive among three cases has an AUC (0.35 outranks 0.1 of the negatives 0.1, 0.4: 1/2)
    but no variance, so no interval (not [0, 1])."""
    for true, scores in (([0, 0, 1], [0.1, 0.4, 0.35]), ([1, 1, 0], [0.1, 0.4, 0.35])):
        ci = delong_roc_ci(true, scores)
        assert ci["estimate"] == 0.5
        assert all(math.isnan(ci[k]) for k in ("se", "low", "high")), ci


def test_three_class_reliability_bins_are_of_the_top_class_by_hand() -> None:
    """Mutation: the K > 2 reliability curve built on another class than the predicted one.
    Top-class confidences 0.65 (wrong), 0.72 (right), 0.78 (wrong), 0.85 (right) fall in the
    default 10 bins [0.6, 0.7), [0.7, 0.8) twice, [0.8, 0.9): observed 0, 1/2, 1 at mean
    confidences 0.65, 0.75, 0.85; ECE = (0.65 + 2 x 0.25 + 0.15) / 4."""
    probs = np.array(
        [[0.65, 0.25, 0.10], [0.10, 0.72, 0.18], [0.12, 0.10, 0.78], [0.05, 0.10, 0.85]]
    )
    true = np.array([1, 1, 0, 2])
    cal = calibration_summary(true, probs)
    assert cal["n_bins"] == 10 and cal["bins"]["count"] == [1, 2, 1]
    np.testing.assert_allclose(cal["bins"]["observed"], [0.0, 0.5, 1.0])
    np.testing.assert_allclose(cal["bins"]["confidence"], [0.65, 0.75, 0.85])
    assert cal["ece"] == pytest.approx(1.3 / 4)


def test_roc_auc_refuses_an_unknown_average() -> None:
    """Mutation: the check of ``average`` removed (``"micro"`` scored as ``"macro"``)."""
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7]])
    with pytest.raises(ValueError, match="'average' parameter must be 'macro' or 'none'"):
        roc_auc_score([0, 1, 2], probs, average="micro")  # type: ignore[arg-type]


def test_a_figure_every_case_agrees_on_gets_no_zero_width_interval() -> None:
    """5 of 5 positives found, AUC 1 on 2 + 2 cases: the percentile bootstrap gave [1, 1] and
    DeLong's normal interval [1, 1] (its variance is 0), a certainty no 5 cases give: the
    exact (Clopper-Pearson) 95% interval of 5 of 5 starts at 0.025 ** (1 / 5) = 0.478."""
    found = np.ones(5)
    ci = bootstrap_ci(lambda idx: float(found[idx].mean()), list("abcde"), n_resamples=200)
    assert ci["estimate"] == 1.0 and np.isnan(ci["low"]) and np.isnan(ci["high"])
    assert "every resample gave 1 " in ci["note"]
    delong = delong_roc_ci([0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9])
    assert delong["estimate"] == 1.0 and delong["se"] == 0.0
    assert np.isnan(delong["low"]) and np.isnan(delong["high"])
    assert "variance is 0" in delong["note"]
    # one that varies keeps its interval and no note (by hand: 4 of 5 found)
    found[0] = 0.0
    ci = bootstrap_ci(lambda idx: float(found[idx].mean()), list("abcde"), n_resamples=200)
    assert ci["low"] < 0.8 <= ci["high"] and "note" not in ci


def test_a_figure_alike_within_rounding_gets_no_interval_either() -> None:
    """Every volume's Dice 0.1: means over resamples of other sizes are 0.1,
    0.10000000000000002 and 0.09999999999999999, a zero-width interval in all but the last
    bit, which the exact comparison let through."""
    dice = np.full(7, 0.1)
    patients = ["a", "a", "a", "b", "c", "c", "d"]  # resamples of 4 to 12 volumes
    ci = bootstrap_ci(lambda idx: float(dice[idx].mean()), patients, n_resamples=200)
    assert np.isnan(ci["low"]) and np.isnan(ci["high"]) and "gave 0.1 " in ci["note"]
