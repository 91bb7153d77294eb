"""Figures of 0/0 cases in a classification's ``metrics.json`` and report: each is null with
its reason in ``undefined_metrics`` and shown ``n/a (reason)`` in the report, never 0.000 or
a bare dash; each macro mean names the classes it averages (``macro_averages``); average
precision of a class without a positive case no longer leaks a raw RuntimeWarning. Expected
figures by hand and from scikit-learn (``zero_division=np.nan``)."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
from sklearn.exceptions import UndefinedMetricWarning
from sklearn.metrics import precision_score

from workflows.report.results import evaluate_classification, write_metrics, write_report
from workflows.report.sections import cards, esc

NAMES = ["benign", "malignant"]


def _evaluate(true: list[int], probs: list[list[float]], names: list[str]) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # nothing raw reaches the user's terminal ...
        warnings.simplefilter("ignore", UndefinedMetricWarning)  # ... but ROC AUC's, said
        return evaluate_classification(np.array(true), np.array(probs), names, n_resamples=0)


def test_a_perfect_model_of_one_class_shows_no_macro_specificity(tmp_path: Path) -> None:
    metrics = _evaluate([1, 1, 1, 1], [[0.2, 0.8], [0.3, 0.7], [0.1, 0.9], [0.4, 0.6]], NAMES)
    write_metrics(tmp_path, metrics)
    written = json.loads((tmp_path / "metrics.json").read_text())
    assert written["summary"]["specificity_macro"] is None  # was 0.0
    assert written["summary"]["npv_macro"] is None  # was 0.0
    why = written["undefined_metrics"]["specificity_macro"]
    assert why == (
        "specificity_macro is undefined: no class to average (benign: no test case of it and "
        "never predicted; malignant: every test case is of it: no negative case)"
    )
    assert written["undefined_metrics"]["npv"] == (
        "npv is undefined: no test case was called the negative class (benign), 0 of 0 called"
    )
    assert written["macro_averages"]["specificity_macro"]["classes"] == []
    assert written["macro_averages"]["sensitivity_macro"]["classes"] == ["malignant"]
    html = write_report(tmp_path).read_text(encoding="utf-8")
    assert f"<td>n/a ({esc(why)})</td>" in html
    assert "<td>specificity_macro</td><td>0.000</td>" not in html


def test_a_model_that_never_calls_the_positive_class_has_no_precision() -> None:
    true = [0, 1, 0, 1]
    probs = [[0.9, 0.1], [0.6, 0.4], [0.7, 0.3], [0.8, 0.2]]
    metrics = _evaluate(true, probs, NAMES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert np.isnan(precision_score(true, [0, 0, 0, 0], zero_division=np.nan))
    assert np.isnan(metrics["summary"]["precision"])
    why = ("precision is undefined: no test case was called the positive class (malignant), "
           "0 of 0 called")  # fmt: skip
    assert metrics["undefined_metrics"] == {"precision": why}
    # the macro mean counts the class in the truth never called as 0 (zero_division=0)
    assert metrics["summary"]["precision_macro"] == pytest.approx((2 / 4 + 0) / 2)
    assert metrics["macro_averages"]["precision_macro"]["as_zero"] == ["malignant"]


def test_three_classes_name_what_each_mean_holds_and_ap_is_said(tmp_path: Path) -> None:
    names = ["a", "b", "c"]
    true = [2, 2, 2, 2]
    probs = [[0.1, 0.1, 0.8], [0.2, 0.1, 0.7], [0.6, 0.1, 0.3], [0.1, 0.2, 0.7]]
    metrics = _evaluate(true, probs, names)  # a RuntimeWarning of AP was raised here
    assert metrics["summary"]["specificity_macro"] == pytest.approx(0.75)  # by hand: 3 of 4
    assert metrics["macro_averages"]["specificity_macro"] == {
        "classes": ["a"],
        "as_zero": [],
        "left_out": {"b": "no test case of it and never predicted",
                     "c": "every test case is of it: no negative case"},
    }  # fmt: skip
    assert metrics["undefined_metrics"]["average_precision"] == (
        "average precision (one-vs-rest) is undefined for classes 0 (a), 1 (b): no test case "
        "of them, so average_precision_macro is null"
    )
    write_metrics(tmp_path, metrics)
    html = write_report(tmp_path).read_text(encoding="utf-8")
    note = (
        "specificity_macro: mean over a; left out: b (no test case of it and never predicted); "
        "left out: c (every test case is of it: no negative case)"
    )
    assert esc(note) in html
    card = cards("classification", json.loads((tmp_path / "metrics.json").read_text()))
    assert "<div class='v'>n/a</div>" in card  # average precision's card
    assert esc(metrics["undefined_metrics"]["average_precision"]) in card


def test_the_operating_point_says_why_a_test_figure_is_null() -> None:
    """No positive test case: the test sensitivity at the threshold is 0 of 0 (it was a bare
    dash in the report). Threshold by hand: validation ranks perfectly, Youden's J is 1 at
    0.7, the lowest positive probability; test cases at 0.8, 0.6, 0.9 are called 1, 0, 1."""
    from workflows.report.sections import operating_point_section

    true, probs = [0, 0, 0], [[0.2, 0.8], [0.4, 0.6], [0.1, 0.9]]
    validation = (np.array([0, 1, 0, 1]), np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4],
                                                   [0.2, 0.8]]))  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        metrics = evaluate_classification(np.array(true), np.array(probs), NAMES,
                                          validation=validation, n_resamples=0)  # fmt: skip
    op = metrics["operating_point"]
    assert op["threshold"] == 0.7 and op["test_confusion_matrix"] == [[1, 2], [0, 0]]
    assert np.isnan(op["test_sensitivity"]) and op["test_specificity"] == pytest.approx(1 / 3)
    why = "test_sensitivity is undefined: no test case is of the positive class, 0 of 0 to find"
    assert op["undefined"] == {"test_sensitivity": why}
    assert f"<dd>n/a ({esc(why)})</dd>" in operating_point_section(metrics)
