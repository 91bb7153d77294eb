"""The report's Metrics by class table: each row holds its own class's figures (one-vs-rest),
so its columns are named bare, not for the positive class (the column read "sensitivity
(positive class: benign ...)" over malignant's own sensitivity, the positive class's
specificity), and a figure kept for one class only (a two-class run's average precision, of
its positive class) has its column (it was left out, the columns being the first class's).
Expected values from scikit-learn."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import numpy as np
from sklearn.metrics import average_precision_score, recall_score

from workflows.report.results import evaluate_classification, write_metrics, write_report

NAMES = ["malignant", "benign"]
TRUE = np.array([0, 0, 0, 1, 1, 0, 1, 0, 1, 1])
P0 = np.array([0.9, 0.65, 0.3, 0.2, 0.6, 0.8, 0.1, 0.7, 0.55, 0.35])  # P(malignant)
PROBS = np.stack([P0, 1 - P0], axis=1)


def _table(tmp_path: Path) -> str:
    metrics = evaluate_classification(
        TRUE, PROBS, NAMES, ids=[f"c{i}" for i in range(10)], n_resamples=0, seed=0
    )  # positive class: benign, by default
    run = tmp_path / "runs" / "breast-20261203-1040"
    write_metrics(run, metrics)
    html = re.sub(r"<img[^>]*>", "", write_report(run, title="By class").read_text())
    text = " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())
    return text.split("Metrics by class", 1)[1].split("Summary", 1)[0]


def test_the_per_class_columns_are_not_named_for_the_positive_class(tmp_path: Path) -> None:
    table = _table(tmp_path)
    assert "positive class" not in table
    assert table.startswith(" class support sensitivity specificity precision npv f1 roc_auc")
    pred = PROBS.argmax(1)
    malignant_sensitivity = recall_score(TRUE, pred, pos_label=0)  # 4 of 5 malignant found
    assert malignant_sensitivity == 0.8
    assert " malignant 5 0.800 " in table


def test_the_positive_class_average_precision_has_its_column(tmp_path: Path) -> None:
    table = _table(tmp_path)
    ap = average_precision_score(TRUE == 1, PROBS[:, 1])
    assert "roc_auc average_precision malignant" in table
    assert table.rstrip().endswith(f"{ap:.3f}")  # benign's row, last cell
