"""The report shows the numbers ``metrics.json`` holds: every figure of its Summary and Metrics by
class tables, read back from ``report.html``, is the figure of ``metrics.json`` to the 3 decimals
shown (a dash where the figure is null), for a binary and a 3-class classification and a
segmentation. The figures themselves are checked against scikit-learn here too, so a figure
wrong in both places is caught as well."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, roc_auc_score

from workflows.report.results import (
    SegmentationCase,
    evaluate_classification,
    evaluate_segmentation,
    write_metrics,
    write_report,
)


class _Tables(HTMLParser):
    """Every table of a page as rows of cell texts, keyed by the ``<h2>`` before it."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._heading, self._title, self._cell = False, "", None
        self._row: list[str] = []

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        if tag == "h2":
            self._heading, self._title = True, ""
        elif tag == "table":
            self.tables.setdefault(self._title, [])
        elif tag in ("td", "th"):
            self._cell = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "h2":
            self._heading = False
        elif tag in ("td", "th") and self._cell is not None:
            self._row.append(self._cell)
            self._cell = None
        elif tag == "tr":
            self.tables.setdefault(self._title, []).append(self._row)
            self._row = []

    def handle_data(self, data: str) -> None:
        if self._heading:
            self._title += data
        elif self._cell is not None:
            self._cell += data


def _read_back(path: Path) -> tuple[dict[str, Any], dict[str, list[list[str]]]]:
    parser = _Tables()
    parser.feed((path / "report.html").read_text(encoding="utf-8"))
    return json.loads((path / "metrics.json").read_text()), parser.tables


def _same(shown: str, value: Any) -> bool:
    """A cell shows ``value`` of metrics.json: a dash for null, else the number to 3 decimals
    (3 significant digits below 0.001)."""
    if value is None:  # a summary figure: n/a with its reason, if any
        return shown == "–" or shown.startswith("n/a")
    if isinstance(value, bool) or not isinstance(value, int | float):
        return True  # words: not a figure
    number = float(shown.replace(",", ""))
    return abs(number - value) <= max(5e-4, abs(value) * 5e-3)


def _check(run: Path) -> dict[str, Any]:
    metrics, tables = _read_back(run)
    summary = {row[0].split(" (")[0]: row[1] for row in tables["Summary"][1:]}
    assert set(summary) == set(metrics["summary"])  # every figure shown, none added
    for key, value in metrics["summary"].items():
        assert _same(summary[key], value), (key, summary[key], value)
    header, *rows = tables["Metrics by class"]
    keys = [h.split(" (")[0] for h in header[1:]]
    assert [r[0] for r in rows] == metrics["class_names"][-len(rows) :]  # in class order
    for row in rows:
        for key, shown in zip(keys, row[1:], strict=True):
            value = metrics["per_class"][row[0]].get(key)
            assert _same(shown, value), (row[0], key, shown, value)
    return metrics


@pytest.mark.parametrize("k", [2, 3], ids=["binary", "three_classes"])
def test_classification_report_shows_the_metrics_json_figures(tmp_path: Path, k: int) -> None:
    rng = np.random.default_rng(97 + k)
    true = np.arange(30) % k
    probs = rng.dirichlet(np.ones(k), size=30)
    probs[np.arange(30), true] += 0.3  # a model better than chance
    probs /= probs.sum(axis=1, keepdims=True)
    names = ["normal", "benign", "malignant"][:k]  # not in alphabetical order
    write_metrics(tmp_path, evaluate_classification(true, probs, names, n_resamples=0))
    write_report(tmp_path)
    metrics = _check(tmp_path)
    s = metrics["summary"]
    assert s["accuracy"] == pytest.approx(accuracy_score(true, probs.argmax(1)))
    assert s["balanced_accuracy"] == pytest.approx(balanced_accuracy_score(true, probs.argmax(1)))
    expected = (roc_auc_score(true, probs[:, 1]) if k == 2
                else roc_auc_score(true, probs, multi_class="ovr", average="macro"))  # fmt: skip
    assert s["roc_auc_macro"] == pytest.approx(expected)


def test_segmentation_report_shows_the_metrics_json_figures(tmp_path: Path) -> None:
    empty = np.zeros((6, 8, 8), np.int64)
    cases = []
    for i in range(4):
        true, pred = empty.copy(), empty.copy()
        true[1:4, 2:6, 2:6] = 1
        pred[1 + i % 2 : 4, 2 + i : 6, 2:6] = 1
        true[4, 0, 0] = 2 if i < 3 else 0  # a class absent from one volume
        cases.append(SegmentationCase(f"v{i}", true, pred, (2.5, 0.7, 0.7), f"p{i // 2}"))
    metrics = evaluate_segmentation(cases, 3, ["background", "organ", "lesion"],
                                    n_resamples=0)  # fmt: skip
    write_metrics(tmp_path, metrics)
    write_report(tmp_path)
    _check(tmp_path)
