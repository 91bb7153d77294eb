"""Which number goes where in the report: a card's interval and count, a table's bar, and the
curves and legends of the ROC, precision-recall and reliability figures (the figure is caught
before it is saved; expected values from scikit-learn or by hand)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve

from workflows.report import plots
from workflows.report.sections import cards, html_table

TRUE = np.array([0, 0, 0, 1, 1, 0, 1, 0])
P1 = np.array([0.1, 0.35, 0.4, 0.8, 0.3, 0.7, 0.9, 0.2])
PROBS = np.stack([1 - P1, P1], axis=1)


def test_a_card_shows_its_interval_low_to_high_and_the_cases_evaluated() -> None:
    metrics = {
        "summary": {"accuracy": 0.8},
        "intervals": {"accuracy": {"low": 0.6, "high": 0.9, "level": 0.95}},
        "num_cases": 10,
        "num_patients": 7,
    }
    shown = cards("classification", metrics)
    assert "Accuracy</div><div class='v'>0.800</div>" in shown
    assert "95% CI 0.600–0.900" in shown
    assert "Evaluated</div><div class='v'>10</div>" in shown
    assert "10 cases, 7 patients" in shown


def test_only_the_bar_columns_show_bars() -> None:
    table = html_table(["a", "b"], [[0.5, 0.25]], bars={1})
    assert "<td>0.500</td><td class='bar' style='--w:25%'>0.250</td>" in table


@pytest.fixture
def figures(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    caught: list[Any] = []

    def keep(fig: Any, path: str | Path) -> Path:
        caught.append(fig)
        return Path(path)

    monkeypatch.setattr(plots, "_save", keep)
    return caught


def _curves(fig: Any) -> list[Any]:
    return [line for line in fig.axes[0].get_lines() if not line.get_label().startswith("_")]


@pytest.mark.parametrize("positive", [1, 0])
def test_the_roc_figure_draws_the_positive_class_s_curve(figures: list[Any], positive: int) -> None:
    plots.plot_roc_curves(TRUE, PROBS, ["neg", "pos"], "roc.png", positive=positive)
    (line,) = _curves(figures[0])
    is_c, score = np.equal(TRUE, positive), PROBS[:, positive]
    fpr, tpr, _ = roc_curve(is_c, score, drop_intermediate=False)
    np.testing.assert_allclose(line.get_xdata(), fpr)
    np.testing.assert_allclose(line.get_ydata(), tpr)
    name = ["neg", "pos"][positive]
    assert line.get_label() == f"{name} (AUC {roc_auc_score(is_c, score):.3f})"


def test_the_precision_recall_legend_gives_ap_and_prevalence(figures: list[Any]) -> None:
    plots.plot_precision_recall(TRUE, PROBS, ["neg", "pos"], "pr.png")
    (line,) = _curves(figures[0])
    ap = average_precision_score(TRUE == 1, P1)
    assert line.get_label() == f"pos (AP {ap:.3f}, prevalence 0.38)"  # 3 of 8


def test_the_reliability_legend_names_the_curve_s_own_ece(figures: list[Any]) -> None:
    calibration = {
        "bins": {"confidence": [0.2, 0.8], "observed": [0.25, 0.75], "count": [4, 4]},
        "ece": 0.1,
        "ece_curve": 0.05,
        "brier": 0.2,
        "target": "positive class probability",
    }
    plots.plot_reliability(calibration, "rel.png")
    labels = [line.get_label() for line in figures[0].axes[0].get_lines()]
    assert "model (ECE of this curve 0.050; top-class ECE 0.100; Brier 0.200)" in labels
