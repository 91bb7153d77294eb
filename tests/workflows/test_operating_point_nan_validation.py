"""NaN validation probabilities with finite test probabilities: the operating point (chosen on
validation) cannot be chosen. Until 2026-12-03 the whole evaluation stopped
(NonFiniteScoresError), the test figures lost with it. Now every test figure that needs no
threshold is given (checked against scikit-learn), the operating point says why it is missing,
no fallback threshold is put in its place, and the reason is printed under the headline."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, brier_score_loss, roc_auc_score

from workflows.report.results import evaluate_classification
from workflows.report.sections import operating_point_section
from workflows.run.summary import printed_notes

TRUE = np.array([0, 1, 0, 1, 1, 0])
P1 = np.array([0.1, 0.8, 0.6, 0.7, 0.4, 0.2])
VAL_TRUE = np.array([0, 1, 0, 1])
VAL = np.array([[0.8, 0.2], [np.nan, np.nan], [0.6, 0.4], [0.3, 0.7]])


def test_nan_validation_leaves_the_test_figures_and_says_why_no_threshold() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning either: the reason is in the metrics
        m = evaluate_classification(TRUE, np.c_[1 - P1, P1], ["neg", "pos"],
                                    validation=(VAL_TRUE, VAL), n_resamples=0)  # fmt: skip
    s = m["summary"]
    assert s["roc_auc_macro"] == pytest.approx(roc_auc_score(TRUE, P1))
    assert s["accuracy"] == pytest.approx(accuracy_score(TRUE, P1 >= 0.5))
    assert s["brier"] == pytest.approx(brier_score_loss(TRUE, P1))
    op = m["operating_point"]
    assert "threshold" not in op and "test_sensitivity" not in op  # no fallback threshold
    assert op["error"].startswith("1 of 4 samples have non-finite validation probabilities")
    assert "none is put in its place" in op["error"]
    assert printed_notes(m) == [f"no operating point: {op['error']}"]
    assert "Not chosen: 1 of 4 samples" in operating_point_section(m)


def test_finite_validation_still_chooses_a_threshold() -> None:
    val = np.array([[0.8, 0.2], [0.1, 0.9], [0.6, 0.4], [0.3, 0.7]])
    m = evaluate_classification(TRUE, np.c_[1 - P1, P1], ["neg", "pos"],
                                validation=(VAL_TRUE, val), n_resamples=0)  # fmt: skip
    # Youden on validation: 0.7 separates 0.2, 0.4 from 0.7, 0.9 (J = 1), the highest such
    assert m["operating_point"]["threshold"] == pytest.approx(0.7)
    assert "undefined_metrics" not in m
