"""Which average a figure is, and which class each confusion-matrix row is.

With more than two classes the ROC AUC and average precision cards read "ROC AUC" as for two
classes; now they say "(macro of one-vs-rest)", the average scikit-learn's
``roc_auc_score(multi_class="ovr", average="macro")`` gives (checked). The confusion matrix's
rows and columns follow ``class_names`` (index order, not alphabetical), which the policy says.
"""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import confusion_matrix, roc_auc_score

from workflows.report.results import evaluate_classification
from workflows.report.sections import cards

NAMES = ["normal", "benign", "malignant"]  # index order, not alphabetical
TRUE = np.array([0, 0, 1, 1, 2, 2, 2, 0])
PROBS = np.array([[0.7, 0.2, 0.1], [0.3, 0.5, 0.2], [0.2, 0.6, 0.2], [0.5, 0.3, 0.2],
                  [0.1, 0.2, 0.7], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8], [0.6, 0.3, 0.1]])  # fmt: skip


def test_three_class_auc_is_macro_one_vs_rest_and_said() -> None:
    m = evaluate_classification(TRUE, PROBS, NAMES, n_resamples=0)
    expected = roc_auc_score(TRUE, PROBS, multi_class="ovr", average="macro")
    assert m["summary"]["roc_auc_macro"] == pytest.approx(expected)
    shown = cards("classification", m)
    assert "ROC AUC (macro of one-vs-rest)</div>" in shown
    assert "Average precision (macro of one-vs-rest)</div>" in shown
    assert "multi_class='ovr', average='macro'" in m["policy"]["roc_auc"]


def test_two_class_cards_name_no_average() -> None:
    m = evaluate_classification(TRUE % 2, np.c_[PROBS[:, 0], 1 - PROBS[:, 0]], NAMES[:2],
                                n_resamples=0)  # fmt: skip
    assert "ROC AUC</div>" in cards("classification", m)


def test_confusion_matrix_rows_are_true_classes_in_class_names_order() -> None:
    m = evaluate_classification(TRUE, PROBS, NAMES, n_resamples=0)
    expected = confusion_matrix(TRUE, PROBS.argmax(1), labels=[0, 1, 2])
    assert m["confusion_matrix"] == expected.tolist()
    assert m["confusion_matrix"][0] == [2, 1, 0]  # normal: 2 called normal, 1 benign
    assert "rows: true class, columns: predicted class" in m["policy"]["confusion_matrix"]
