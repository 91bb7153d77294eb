"""A binary evaluation gives the positive class's own sensitivity, specificity, PPV, NPV and
F1 in its summary, with intervals. For two classes the macro sensitivity and the macro
specificity are the same number, the balanced accuracy, which was all the summary held: a
reader took 0.708 for both where the sensitivity is 0.75 and the specificity 0.667
(scikit-learn scores the positive class for binary input, ``pos_label=1``)."""

from __future__ import annotations

import numpy as np
import pytest

from workflows.report.results import evaluate_classification
from workflows.report.sections import cards
from workflows.run.runner import headline


def test_binary_summary_has_the_positive_class_rates() -> None:
    # 4 positives (3 called positive), 6 negatives (2 called positive): TP 3 FN 1 TN 4 FP 2
    true = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p1 = np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.55, 0.1, 0.2, 0.3, 0.4])
    m = evaluate_classification(
        true, np.stack([1 - p1, p1], axis=1), ["benign", "malignant"], n_resamples=50
    )
    s = m["summary"]
    assert s["sensitivity"] == pytest.approx(3 / 4)
    assert s["specificity"] == pytest.approx(4 / 6)
    assert s["precision"] == pytest.approx(3 / 5)
    assert s["npv"] == pytest.approx(4 / 5)
    assert s["f1"] == pytest.approx(6 / 9)
    # the macro figures stay, and say why they are not these
    assert s["sensitivity_macro"] == s["specificity_macro"] == pytest.approx((3 / 4 + 4 / 6) / 2)
    assert "class malignant (by default: class 1, not benign;" in m["policy"]["binary"]
    assert m["intervals"]["sensitivity"]["estimate"] == pytest.approx(3 / 4)
    assert m["intervals"]["specificity"]["estimate"] == pytest.approx(4 / 6)
    printed = headline(m)  # what radpipe run prints
    assert (printed["sensitivity"], printed["specificity"]) == pytest.approx((3 / 4, 4 / 6))
    shown = cards("classification", m)
    assert "Sensitivity</div><div class='v'>0.750" in shown
    assert "Specificity</div><div class='v'>0.667" in shown


def test_three_classes_keep_macro_rates_only() -> None:
    probs = np.eye(3)[[0, 1, 2, 2]] * 0.8 + 0.2 / 3
    m = evaluate_classification([0, 1, 2, 1], probs, ["a", "b", "c"], n_resamples=0)
    assert "sensitivity" not in m["summary"] and "binary" not in m["policy"]


def test_intervals_follow_the_positive_class() -> None:
    """The same cases with class 0 (benign) positive: its sensitivity is the 4 of 6 benign
    cases called benign, its specificity the 3 of 4 malignant ones. Mutants: the bootstrap's
    figures of class 1 whatever the positive class (the intervals said 3/4 for the
    sensitivity the summary gave as 4/6); DeLong's AUC of class 1's ranks against class 0's
    truth (1 - AUC). AUC by hand: of the 24 malignant-benign pairs, malignant ranks higher in
    18 (0.9, 0.8, 0.7 above all six) + 1 (0.2 above 0.1) + 1/2 (0.2 tied with 0.2): 19.5/24."""
    true = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    p1 = np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.55, 0.1, 0.2, 0.3, 0.4])
    m = evaluate_classification(
        true, np.stack([1 - p1, p1], axis=1), ["benign", "malignant"], n_resamples=50,
        positive=0,
    )  # fmt: skip
    s, ci = m["summary"], m["intervals"]
    assert (s["sensitivity"], s["specificity"]) == pytest.approx((4 / 6, 3 / 4))
    assert ci["sensitivity"]["estimate"] == pytest.approx(4 / 6)
    assert ci["specificity"]["estimate"] == pytest.approx(3 / 4)
    assert ci["roc_auc_delong"]["estimate"] == pytest.approx(19.5 / 24)
    # the reliability bins and the average precision are class 0's as well: the bins'
    # case-weighted confidence is the mean benign probability, 1 - 4.75 / 10
    bins = m["calibration"]["bins"]
    weighted = sum(c * n for c, n in zip(bins["confidence"], bins["count"])) / len(true)
    assert weighted == pytest.approx(0.525)
    assert "average_precision" in m["per_class"]["benign"]
    assert "average_precision" not in m["per_class"]["malignant"]


def test_a_figure_every_case_agrees_on_shows_no_interval_and_why() -> None:
    """All 3 positives found and the classes' scores apart (AUC 1): the intervals were
    sensitivity [1, 1] and DeLong [1, 1]; now null with a note, on the card too. The
    specificity (2 of 3 negatives) keeps an interval."""
    true = np.array([1, 1, 1, 0, 0, 0])
    p1 = np.array([0.9, 0.8, 0.7, 0.6, 0.2, 0.1])
    m = evaluate_classification(
        true, np.stack([1 - p1, p1], axis=1), ["benign", "malignant"], n_resamples=200
    )
    sens, delong = m["intervals"]["sensitivity"], m["intervals"]["roc_auc_delong"]
    assert m["summary"]["sensitivity"] == 1.0 and m["summary"]["specificity"] == pytest.approx(
        2 / 3
    )
    # every resample gave 1: Clopper-Pearson's exact interval of 3 of 3 patients, by hand
    # [0.025 ** (1 / 3), 1] (it was none; before that [1, 1])
    assert (sens["low"], sens["high"]) == pytest.approx((0.025 ** (1 / 3), 1.0))
    assert "every resample gave 1 (3 of 3 patients)" in sens["note"] and sens["trials"] == 3
    assert np.isnan(delong["low"]) and "variance is 0" in delong["note"]
    assert m["intervals"]["specificity"]["low"] < 2 / 3 < m["intervals"]["specificity"]["high"]
    from workflows.report.results import to_json_safe

    shown = cards("classification", to_json_safe(m))
    assert "Sensitivity</div><div class='v'>1.000" in shown
    assert "no interval (see the intervals)" in shown  # the ROC AUC's
    assert "95% CI 0.292–1.000 (Clopper-Pearson)" in shown
