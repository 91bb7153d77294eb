"""Classification summaries worked out by hand: the macro ROC AUC with a class that has no
case, and the bootstrap over patients. Each test names the mutation it kills."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning

from workflows.report.classification import evaluate_classification


def test_macro_auc_is_null_when_a_class_has_no_case() -> None:
    """Mutation: the macro ROC AUC averaged over the classes whose AUC is defined (here
    classes 0 and 1 ranked perfectly: 1.0), a figure over fewer classes than it names.
    Class 2 has no test case: its one-vs-rest AUC is undefined, and so is the macro."""
    true = np.array([0, 0, 1, 1])
    probs = np.array([[0.8, 0.1, 0.1], [0.7, 0.2, 0.1], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
    with pytest.warns(UndefinedMetricWarning):  # average precision's: said, not warned
        m = evaluate_classification(true, probs, ["a", "b", "c"], n_resamples=0)
    assert m["undefined_metrics"]["average_precision"].startswith(
        "average precision (one-vs-rest) is undefined for class 2 (c)"
    )
    assert m["per_class"]["a"]["roc_auc"] == 1.0 and m["per_class"]["b"]["roc_auc"] == 1.0
    assert math.isnan(m["per_class"]["c"]["roc_auc"])
    assert math.isnan(m["summary"]["roc_auc_macro"])


def test_intervals_resample_the_patients_of_the_cases() -> None:
    """Mutation: the bootstrap statistic computed on all cases whatever the resample drew (a
    zero-width interval at the estimate 0.5). Patient p1's two cases are right, p2's two
    wrong: the three resamples {p1, p1}, {p1, p2}, {p2, p2} (each drawn with probability 1/4
    or more in 400) have accuracy 1, 0.5 and 0; the 95% interval runs from 0 to 1."""
    true = np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    m = evaluate_classification(true, probs, ["a", "b"], patients=["p1", "p1", "p2", "p2"],
                                n_resamples=400)  # fmt: skip
    ci = m["intervals"]["accuracy"]
    assert m["summary"]["accuracy"] == 0.5 and ci["n_groups"] == 2
    assert (ci["low"], ci["high"]) == (0.0, 1.0)
