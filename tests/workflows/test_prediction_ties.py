"""A case whose classes tie on the top probability (0.5 / 0.5) is called the first of them, as
numpy's and scikit-learn's argmax call it (``predict_proba(X).argmax(1)``), and the evaluation
says how many cases that rule decided instead of deciding them silently."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.metrics._arrays import tied_top
from workflows.report.classification import evaluate_classification
from workflows.report.results import to_json_safe
from workflows.report.sections import cards


def test_a_tie_is_the_first_class_and_is_counted() -> None:
    true = np.array([1, 1, 0, 0])
    p1 = np.array([0.5, 0.9, 0.2, 0.5])  # cases 0 and 3 tie
    m = evaluate_classification(
        true, np.stack([1 - p1, p1], axis=1), ["benign", "malignant"], n_resamples=0
    )
    # by hand: both ties called benign: case 0 a missed positive, case 3 a true negative
    assert m["confusion_matrix"] == [[2, 0], [1, 1]]
    assert [c["pred"] for c in m["per_case"]] == [0, 1, 0, 0]
    assert m["prediction_ties"] == 2
    shown = cards("classification", to_json_safe(m))  # the sensitivity card says it too
    assert "called by the higher probability (argmax, 0.5); 2 tied at 0.5 called benign" in shown
    rule = m["policy"]["prediction"]
    assert rule.endswith("as numpy, torch and scikit-learn predict_proba argmax: 2 of 4 cases")


def test_no_tie_is_no_count_and_three_class_ties() -> None:
    probs = np.array([[0.2, 0.4, 0.4], [0.1, 0.3, 0.6], [1 / 3, 1 / 3, 1 / 3]])
    assert tied_top(probs) == 2  # a tie of the top two, and of all three
    assert tied_top(np.array([[0.4, 0.4, 0.2 + 1e-9]])) == 1
    assert tied_top(np.array([[0.2, 0.4, 0.4 + 1e-12]])) == 0
    m = evaluate_classification([0, 1], np.array([[0.6, 0.4], [0.3, 0.7]]), ["a", "b"],
                                n_resamples=0)  # fmt: skip
    assert m["prediction_ties"] == 0 and m["policy"]["prediction"].endswith("argmax")


def test_predict_warns_of_tied_rows_and_tied_mask_voxels(caplog: Any) -> None:
    """``radpipe predict``: two of three rows tie (classification); a segmentation's masks
    with 2 tied voxels in the first and none in the second are said (they went unsaid)."""
    import logging

    from workflows.run.predict import warn_ties

    rows = [np.array([0.5, 0.5]), np.array([0.2, 0.8]), np.array([0.4, 0.4, 0.2])[:2] / 0.8]
    first = np.stack([np.full((2, 3), 0.3), np.full((2, 3), 0.7)])
    first[:, 0, :2] = 0.5  # two voxels 0.5 / 0.5
    second = np.stack([np.full((2, 3), 0.9), np.full((2, 3), 0.1)])
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert warn_ties("classification", rows, ["a", "b"]) == 2
        assert warn_ties("segmentation", [first, second], ["background", "lesion"]) == 2
        assert warn_ties("segmentation", [second], ["background", "lesion"]) == 0
    said = [r.getMessage() for r in caplog.records]
    assert said[0].startswith("2 of 3 rows tie on their top probability")
    assert said[1].startswith("2 voxels in 1 of 2 masks tie on their top probability: each is "
                              "the first of the tied classes (background first)")  # fmt: skip
    assert len(said) == 2


def test_the_rule_says_a_tie_of_its_own_number_of_classes() -> None:
    """policy.prediction said "a tie (0.5 / 0.5)" for 3 classes too, where 0.4 / 0.4 / 0.2
    is one (case 0 here: called a, the first of the tied a and b)."""
    probs = np.array([[0.4, 0.4, 0.2], [0.1, 0.2, 0.7], [0.7, 0.2, 0.1]])
    m = evaluate_classification([1, 2, 0], probs, ["a", "b", "c"], n_resamples=0)
    assert [c["pred"] for c in m["per_case"]] == [0, 2, 0]
    assert m["policy"]["prediction"] == (
        "argmax of probabilities; a tie (2 or more of the 3 classes at the top, e.g. 0.4 / 0.4 / "
        "0.2) is the lower class index, as numpy, torch and scikit-learn predict_proba argmax: "
        "1 of 3 cases"
    )
