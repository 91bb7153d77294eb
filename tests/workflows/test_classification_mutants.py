"""Classification figures of ``metrics.json`` that hand-made mutants (mutation sweep eval126)
changed without a test noticing: the patients an exact (Clopper-Pearson) interval counts, the
number of most confident mistakes listed, and the classes balanced accuracy leaves out.

Eight cases, each its own patient: 3 positives (all found) and 5 negatives (one called
positive). The sensitivity is 1.0 on every resample that holds a positive, so its bootstrap
interval has no spread and Clopper-Pearson's exact interval on the 3 positive patients takes
its place: 3 of 3 gives [(alpha / 2) ** (1 / 3), 1] = [0.025 ** (1/3), 1] = [0.2924, 1].
"""

from __future__ import annotations

import numpy as np
import pytest

from workflows.report.results import evaluate_classification
from workflows.report.undefined import macro_averages


def test_exact_sensitivity_interval_counts_the_positive_patients() -> None:
    labels = np.array([1, 1, 1, 0, 0, 0, 0, 0])
    p1 = np.array([0.9, 0.8, 0.7, 0.2, 0.6, 0.1, 0.3, 0.4])
    m = evaluate_classification(labels, np.stack([1 - p1, p1], axis=1), ["neg", "pos"],
                                n_resamples=200, seed=1)  # fmt: skip
    assert m["summary"]["sensitivity"] == 1.0 and m["summary"]["specificity"] == 0.8
    ci = m["intervals"]["sensitivity"]
    # Mutation: the negatives' patients (5) taken as the sensitivity's trials (0.025 ** 0.2).
    assert ci["trials"] == 3
    assert ci["low"] == pytest.approx(0.025 ** (1 / 3))
    assert ci["high"] == 1.0


def test_exact_accuracy_interval_counts_every_patient() -> None:
    # 4 cases of 4 patients, all right: accuracy 1.0 on every resample, so the exact interval
    # of 4 of 4 patients: [0.025 ** (1/4), 1] = [0.3976, 1].
    labels = np.array([0, 0, 1, 1])
    p1 = np.array([0.1, 0.3, 0.7, 0.9])
    m = evaluate_classification(labels, np.stack([1 - p1, p1], axis=1), ["neg", "pos"],
                                n_resamples=100, seed=0)  # fmt: skip
    ci = m["intervals"]["accuracy"]
    # Mutation: the trials taken as the patients of class 1 only (2: 0.025 ** 0.5).
    assert ci["trials"] == 4
    assert ci["low"] == pytest.approx(0.025 ** (1 / 4))


def test_most_confident_mistakes_lists_as_many_as_asked_most_confident_first() -> None:
    # wrong: case 1 (true 0, p(1) 0.6), case 2 (true 1, p(0) 0.9), case 4 (true 0, p(1) 0.8)
    labels = np.array([0, 0, 1, 1, 0])
    p1 = np.array([0.2, 0.6, 0.1, 0.7, 0.8])
    m = evaluate_classification(labels, np.stack([1 - p1, p1], axis=1), ["neg", "pos"],
                                n_resamples=0, mistakes=2)  # fmt: skip
    shown = [(c["index"], c["probability"]) for c in m["most_confident_mistakes"]]
    # Mutation: one fewer than asked.
    assert shown == [(2, pytest.approx(0.9)), (4, pytest.approx(0.8))]


def test_balanced_accuracy_leaves_out_the_classes_with_no_test_case() -> None:
    # rows = truth: a 3 cases (1 called c), b 1 case (called a, b never predicted), c no
    # case (predicted once): the mean recall is over a and b; c is left out.
    cm = np.array([[2, 0, 1], [1, 0, 0], [0, 0, 0]])
    out = macro_averages(cm, ["a", "b", "c"])["balanced_accuracy"]
    assert out["classes"] == ["a", "b"]
    # Mutation: the class never predicted (b) left out instead.
    assert list(out["left_out"]) == ["c"]
    assert out["left_out"]["c"].startswith("no test case of it (predicted 1 ")
