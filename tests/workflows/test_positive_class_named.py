"""Every place of the report that shows a figure of a two-class run's positive class names that
class: the ROC, precision-recall and reliability titles, the Summary, interval and
cross-validation tables, and the ROC AUC card (the tables said a bare ``sensitivity``, the ROC
title a bare ``ROC``; BreastMNIST's class 1 is benign, so a bare figure reads as the disease's
when it is not). Expected values from scikit-learn."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, recall_score, roc_auc_score

from workflows.report import plots
from workflows.report.results import evaluate_classification, write_metrics, write_report
from workflows.run.evaluate import Predictions, _classification_plots

NAMES = ["malignant", "benign"]
TRUE = np.array([0, 0, 0, 1, 1, 0, 1, 0, 1, 1])
P0 = np.array([0.9, 0.65, 0.3, 0.2, 0.6, 0.8, 0.1, 0.7, 0.55, 0.35])  # P(malignant)
PROBS = np.stack([P0, 1 - P0], axis=1)


def _metrics(positive: int | None) -> dict[str, Any]:
    ids = [f"c{i}" for i in range(TRUE.size)]
    return evaluate_classification(
        TRUE, PROBS, NAMES, ids=ids, positive=positive, n_resamples=200, seed=0
    )


@pytest.mark.parametrize(
    "positive, said",
    [(0, "positive class: malignant"), (None, "positive class: benign (class 1 by default)")],
    ids=["chosen", "default"],
)
def test_the_curve_titles_name_the_positive_class(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, positive: int | None, said: str
) -> None:
    caught: list[Any] = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: caught.append(fig) or Path(path))
    pred = Predictions(PROBS, TRUE, [f"c{i}" for i in range(10)], [])
    _classification_plots(_metrics(positive), pred, NAMES, tmp_path, images=False)
    titles = [fig.axes[0].get_title() for fig in caught]
    assert titles == [f"ROC\n{said}", f"Precision-recall\n{said}",
                      f"Reliability diagram (numbers: cases per bin)\n{said}"]  # fmt: skip
    (roc,) = [line for line in caught[0].axes[0].get_lines() if line.get_label()[0] != "_"]
    index = 0 if positive == 0 else 1
    auc = roc_auc_score(np.equal(TRUE, index), PROBS[:, index])
    assert roc.get_label() == f"{NAMES[index]} (AUC {auc:.3f})"


def test_three_classes_keep_a_bare_title(monkeypatch: pytest.MonkeyPatch) -> None:
    caught: list[Any] = []
    monkeypatch.setattr(plots, "_save", lambda fig, path: caught.append(fig) or Path(path))
    probs = np.array([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.2, 0.7]])
    plots.plot_roc_curves([0, 1, 2], probs, ["a", "b", "c"], "roc.png")
    assert caught[0].axes[0].get_title() == "ROC"


def _text(page: Path) -> str:
    html = re.sub(r"<img[^>]*>", "", page.read_text())
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_the_report_tables_and_cards_name_the_positive_class(tmp_path: Path) -> None:
    metrics = _metrics(0)
    run = tmp_path / "runs" / "breast-20261202-1800"
    write_metrics(run, metrics)
    text = _text(write_report(run, title="Positive class"))
    sensitivity = recall_score(TRUE, PROBS.argmax(1), pos_label=0)  # 4 of 5 malignant found
    specificity = recall_score(TRUE, PROBS.argmax(1), pos_label=1)
    assert (sensitivity, specificity) == (0.8, 0.6)
    assert "sensitivity (positive class: malignant) 0.800" in text  # Summary table
    assert "specificity (positive class: malignant) 0.600" in text
    auc = roc_auc_score(TRUE == 0, P0)
    assert f"roc_auc_macro (positive class: malignant) {auc:.3f}" in text
    assert re.search(r"sensitivity \(positive class: malignant\) 0\.800 0\.\d+ ", text)  # CI
    card = re.search(r"ROC AUC (\S+) (.*?) Average precision", text)
    assert card is not None and card.group(1) == f"{auc:.3f}"
    assert "positive class: malignant" in card.group(2)
    assert "f1_macro (positive" not in text  # a macro figure is of no one class


def test_cross_validation_rows_name_it() -> None:
    from workflows.report.sections import cross_validation_section

    metrics = {
        "positive_class": "malignant",
        "class_names": NAMES,
        "positive_class_chosen_by": "evaluate.positive_class",
        "folds": [{"sensitivity": 0.8}, {"sensitivity": 0.6}],
        "cross_validation": {"sensitivity": {"mean": 0.7, "std": 0.1, "min": 0.6, "max": 0.8}},
    }
    assert "<td>sensitivity (positive class: malignant)</td>" in cross_validation_section(metrics)


@pytest.mark.parametrize("positive", [0, None], ids=["chosen", "default"])
def test_the_per_class_table_names_no_positive_class(tmp_path: Path, positive: int | None) -> None:
    """Each row of Metrics by class holds its own class's one-vs-rest rates: benign's
    sensitivity (0.6, the malignant class's specificity) stood under "sensitivity (positive
    class: malignant)". And a two-class run's average precision (of the positive class only)
    has its column whichever class is positive: it was missing when class 1 was."""
    run = tmp_path / "runs" / "breast-20261202-1800"
    write_metrics(run, _metrics(positive))
    text = _text(write_report(run, title="Positive class"))
    table = text[text.index("Metrics by class") : text.index("Summary metric value")]
    pred = PROBS.argmax(1)
    own = [recall_score(TRUE, pred, pos_label=c) for c in (0, 1)]  # each class's sensitivity
    assert own == [0.8, 0.6]
    index = 1 if positive is None else 0
    ap = f"{average_precision_score(np.equal(TRUE, index), PROBS[:, index]):.3f}"
    assert "support sensitivity specificity precision npv f1 roc_auc average_precision" in table
    assert "(positive class" not in table
    rows = {name: table.split(f" {name} ")[1].split()[:8] for name in NAMES}
    assert rows["malignant"][1] == "0.800" and rows["benign"][1] == "0.600"
    assert rows[NAMES[index]][7] == ap and rows[NAMES[1 - index]][7] == "–"
