"""An undefined ROC AUC (a class absent from the test cases) was a bare ``null`` in
``metrics.json``, a dash in the report and ``roc_auc_macro undefined`` on the closing line,
with no Python warning and no word of which class was missing. As scikit-learn does
(``UndefinedMetricWarning``, NaN), it is now warned once, and ``metrics.json``
(``undefined_metrics``), the report card and the closing line say which class is absent.
Expected reasons are written by hand from the cases."""

from __future__ import annotations

import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import roc_auc_score

from workflows.commands.run import print_outcome
from workflows.report.results import evaluate_classification
from workflows.report.sections import cards, esc
from workflows.run.summary import headline, undefined_reasons

BINARY = "ROC AUC is undefined: only one class is present in the test cases (class 1, malignant); class 0 (benign) has no case"  # noqa: E501
#: the headline's specificity of the same cases, a dash since 2026-12-02, now said why
SPECIFICITY = (
    "specificity is undefined: no test case is of the negative class (benign), 0 of 0 to clear"
)


def test_one_class_in_a_binary_test_set_is_warned_and_said(
    capsys: pytest.CaptureFixture[str],
) -> None:
    true = np.array([1, 1, 1])
    probs = np.array([[0.2, 0.8], [0.6, 0.4], [0.1, 0.9]])
    with pytest.warns(UndefinedMetricWarning) as caught:
        metrics = evaluate_classification(true, probs, ["benign", "malignant"], n_resamples=20)
    assert [str(w.message) for w in caught if w.category is UndefinedMetricWarning] == [BINARY]
    # scikit-learn: the same warning category and NaN for the same cases
    with pytest.warns(UndefinedMetricWarning, match="Only one class is present in y_true"):
        assert np.isnan(roc_auc_score(true, probs[:, 1]))
    assert np.isnan(metrics["summary"]["roc_auc_macro"])
    assert metrics["undefined_metrics"] == {"roc_auc": BINARY, "specificity": SPECIFICITY}
    assert undefined_reasons(metrics) == [BINARY, SPECIFICITY]
    assert esc(BINARY) in cards("classification", metrics)
    assert esc(SPECIFICITY) in cards("classification", metrics)
    outcome = SimpleNamespace(run_dir=Path("runs/x"), reused_conversion=False, metrics=metrics,
                              headline=headline(metrics), failed_files=0)  # fmt: skip
    print_outcome(outcome)
    lines = capsys.readouterr().out.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("test metrics:"))
    assert "roc_auc_macro undefined" in lines[at]
    assert lines[at + 1] == f"               {BINARY}"
    assert lines[at + 2] == f"               {SPECIFICITY}"


def test_a_class_absent_from_three_is_named() -> None:
    true = np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.05, 0.05], [0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.3, 0.6, 0.1]])
    with pytest.warns(UndefinedMetricWarning) as caught:
        metrics = evaluate_classification(true, probs, ["a", "b", "c"], n_resamples=0)
    reason = (
        "ROC AUC (one-vs-rest) is undefined for 1 class: class 2 (c) has no case in "
        "the test cases, so roc_auc_macro is null"
    )
    # average precision's RuntimeWarning leaked as a raw warning; now it is said beside
    assert [str(w.message) for w in caught] == [reason]
    ap = (
        "average precision (one-vs-rest) is undefined for class 2 (c): no test case of it, so "
        "average_precision_macro is null"
    )
    assert metrics["undefined_metrics"] == {"roc_auc": reason, "average_precision": ap}
    assert np.isnan(metrics["per_class"]["c"]["roc_auc"])
    with pytest.warns(UndefinedMetricWarning):  # scikit-learn, class 2 against the rest
        assert np.isnan(roc_auc_score(true == 2, probs[:, 2]))


def test_a_defined_auc_says_nothing() -> None:
    true = np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    with warnings.catch_warnings():
        warnings.simplefilter("error", UndefinedMetricWarning)
        metrics = evaluate_classification(true, probs, ["benign", "malignant"], n_resamples=0)
    assert metrics["summary"]["roc_auc_macro"] == 1.0
    assert "undefined_metrics" not in metrics and undefined_reasons(metrics) == []


def test_two_absent_classes_are_counted_in_the_plural() -> None:
    """It said ``undefined for 1 class(es): class(es) 2 (c) have no case`` whatever the count."""
    true = np.array([0, 1, 0, 1])
    probs = np.array([[0.7, 0.1, 0.1, 0.1], [0.1, 0.7, 0.1, 0.1], [0.6, 0.2, 0.1, 0.1],
                      [0.2, 0.6, 0.1, 0.1]])  # fmt: skip
    with pytest.warns(UndefinedMetricWarning):
        metrics = evaluate_classification(true, probs, ["a", "b", "c", "d"], n_resamples=0)
    assert metrics["undefined_metrics"]["roc_auc"] == (
        "ROC AUC (one-vs-rest) is undefined for 2 classes: classes 2 (c), 3 (d) have no case in "
        "the test cases, so roc_auc_macro is null"
    )


def test_no_positive_case_says_why_sensitivity_is_undefined() -> None:
    """Two classes, no test case of the positive class (malignant): sensitivity is 0 of 0, as
    scikit-learn's recall_score (zero_division=nan) gives NaN; said, not a bare dash."""
    from sklearn.metrics import recall_score

    true = np.array([0, 0, 0, 0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.7, 0.3]])
    with pytest.warns(UndefinedMetricWarning):
        metrics = evaluate_classification(true, probs, ["benign", "malignant"], n_resamples=0)
    assert np.isnan(recall_score(true, probs.argmax(1), zero_division=np.nan))
    assert np.isnan(metrics["summary"]["sensitivity"])
    assert metrics["summary"]["specificity"] == pytest.approx(3 / 4)
    why = (
        "sensitivity is undefined: no test case is of the positive class (malignant), 0 of 0 "
        "to find"
    )
    assert metrics["undefined_metrics"]["sensitivity"] == why
    assert "specificity" not in metrics["undefined_metrics"]
    assert esc(why) in cards("classification", metrics)
