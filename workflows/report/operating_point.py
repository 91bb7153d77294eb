"""A two-class evaluation's positive class and its operating point: a threshold on the positive
class's probability chosen on the validation split (:func:`pipeline.metrics.choose_threshold`)
and applied unchanged to the test cases.

Validation probabilities that are not finite leave no threshold to choose: the operating point
says why (``error``, also ``undefined_metrics.operating_point``) and none is put in its place,
while every test figure that needs no threshold stands.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.metrics import (
    NonFiniteScoresError,
    check_finite_scores,
    choose_threshold,
    confusion_matrix,
    rates_from_confusion,
)
from pipeline.metrics.calibration import OperatingRule
from workflows.report.positive import DEFAULT_POSITIVE

#: Why a binary run has no operating point when its validation probabilities are not finite.
_NO_THRESHOLD = (
    "{why}: no threshold is chosen on them, and none is put in its place (the test "
    "figures at a threshold, test_sensitivity and test_specificity, are not given); every "
    "other test figure stands, the headline sensitivity and specificity at argmax (0.5) "
    "included"
)


def binary_figures(
    labels: np.ndarray,
    scores: np.ndarray,
    positive_class: tuple[str, bool],
    validation: tuple[np.ndarray, np.ndarray] | None,
    choice: tuple[OperatingRule, float],
    positive: int,
) -> dict[str, Any]:
    """A two-class evaluation's positive class (``positive_class``: its name, and whether the
    caller chose it), how it was chosen (class 1 by default: BreastMNIST's benign, whose
    sensitivity a reader took for that of the disease) and, with validation predictions, its
    operating point."""
    name, chosen = positive_class
    out: dict[str, Any] = {
        "positive_class": name,
        "positive_class_chosen_by": "evaluate.positive_class" if chosen else DEFAULT_POSITIVE,
    }
    if validation is not None:
        op = _operating_point(labels, scores, validation, choice, positive)
        out["operating_point"] = {"positive_class": name} | op
    return out


def _operating_point(
    labels: np.ndarray,
    scores: np.ndarray,
    validation: tuple[np.ndarray, np.ndarray],
    choice: tuple[OperatingRule, float],
    positive: int,
) -> dict[str, Any]:
    """The threshold on the positive class's probability chosen on ``validation`` (rule,
    target sensitivity), and the test figures at it (cases below it are the other class)."""
    rule, target_sensitivity = choice
    val_true, val_probs = (np.asarray(v) for v in validation)
    try:  # a NaN validation probability leaves the test figures standing, the threshold out
        check_finite_scores(np.asarray(val_probs, dtype=np.float64), "validation probabilities")
    except NonFiniteScoresError as err:
        return {"error": _NO_THRESHOLD.format(why=str(err).split(";")[0])}
    try:
        chosen = choose_threshold(
            val_true == positive,
            val_probs[:, positive],
            rule=rule,
            target_sensitivity=target_sensitivity,
        )
    except ValueError as err:
        return {"error": str(err)}
    called = np.where(scores[:, positive] >= chosen["threshold"], positive, 1 - positive)
    cm = confusion_matrix(labels, called, 2)
    rates = rates_from_confusion(cm)
    test = {f"test_{k}": float(np.asarray(rates[k])[positive]) for k in _AT_THRESHOLD}
    return {
        "chosen_on": "validation split",
        "validation_cases": len(val_true),
        **{
            f"validation_{k}" if k in ("sensitivity", "specificity") else k: v
            for k, v in chosen.items()
        },
        "test_confusion_matrix": cm.tolist(),
        **test,
    } | _undefined_at_threshold(test)


#: The test figures at the threshold, and why each is undefined (0 of 0 cases).
_AT_THRESHOLD = {
    "sensitivity": "no test case is of the positive class, 0 of 0 to find",
    "specificity": "no test case is of the negative class, 0 of 0 to clear",
    "precision": "no test case is at or above the threshold, 0 of 0 called positive",
}


def _undefined_at_threshold(test: dict[str, float]) -> dict[str, Any]:
    """``{"undefined": {key: why}}`` for each null test figure at the threshold (the report
    shows ``n/a (why)``; it was a bare dash), else ``{}``."""
    why = {key: f"{key} is undefined: {_AT_THRESHOLD[key.removeprefix('test_')]}"
           for key, value in test.items() if np.isnan(value)}  # fmt: skip
    return {"undefined": why} if why else {}
