"""A bootstrap resample that lacks a class of the test cases gives no balanced accuracy or
macro F1, as it gives no ROC AUC: with one positive in eight cases, a third of the resamples
hold no positive, and their "balanced accuracy" was the specificity alone (scikit-learn
averages the recall of the classes present), pulled into the interval as if the same figure.
Expected intervals from scikit-learn on the resamples that hold both classes (the draws are
those of ``bootstrap_cis``: ``default_rng(seed).integers(0, groups, (R, groups))``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import balanced_accuracy_score, f1_score

from workflows.report.results import evaluate_classification

TRUE = np.array([0, 0, 0, 0, 1, 0, 0, 0])
P1 = np.array([0.1, 0.2, 0.3, 0.6, 0.7, 0.2, 0.4, 0.1])
R, SEED = 300, 4


def _expected(score: object) -> tuple[int, float, float]:
    draws = np.random.default_rng(SEED).integers(0, TRUE.size, size=(R, TRUE.size))
    pred = (P1 >= 0.5).astype(int)
    values = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for draw in draws:
            if np.unique(TRUE[draw]).size == 2:
                values.append(score(TRUE[draw], pred[draw]))  # type: ignore[operator]
    return len(values), float(np.quantile(values, 0.025)), float(np.quantile(values, 0.975))


def test_resamples_without_a_class_give_no_balanced_accuracy_or_macro_f1() -> None:
    ids = [f"c{i}" for i in range(TRUE.size)]  # each its own patient, in sorted order
    m = evaluate_classification(TRUE, np.stack([1 - P1, P1], axis=1), ["neg", "pos"], ids=ids,
                                n_resamples=R, seed=SEED)  # fmt: skip
    macro_f1 = lambda t, p: f1_score(t, p, average="macro", labels=[0, 1], zero_division=0)  # noqa: E731
    for key, score in (("balanced_accuracy", balanced_accuracy_score), ("f1_macro", macro_f1)):
        n, low, high = _expected(score)
        ci = m["intervals"][key]
        assert (ci["n_valid"], ci["low"], ci["high"]) == (
            n,
            pytest.approx(low),
            pytest.approx(high),
        )
        assert n < R  # some resamples held no positive
    assert m["intervals"]["roc_auc_macro"]["n_valid"] == n  # the same resamples
    assert m["intervals"]["accuracy"]["n_valid"] == R  # defined on every resample
    assert (
        "a resample lacking a class of the test cases gives no balanced accuracy"
        in (m["policy"]["intervals"])
    )
