"""``evaluate.positive_class``: which of two classes is "positive" (scikit-learn's
``pos_label``). BreastMNIST, for example, labels malignant 0: its sensitivity is class 0's.

Ten cases worked out by hand. Class 0's probabilities: positives (true 0) 0.9, 0.8, 0.4, 0.6;
negatives (true 1) 0.3, 0.55, 0.2, 0.1, 0.45, 0.7. The argmax calls class 0 above 0.5:
TP 3 (0.9, 0.8, 0.6), FN 1 (0.4), FP 2 (0.55, 0.7), TN 4.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.errors import RadpipeError
from tests.runner.conftest import main_in
from workflows.report.classification import evaluate_classification
from workflows.report.positive import positive_index

ROOT = Path(__file__).resolve().parents[2]
_P0 = np.array([0.9, 0.8, 0.4, 0.6, 0.3, 0.55, 0.2, 0.1, 0.45, 0.7])
_TRUE = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 1])
_PROBS = np.stack([_P0, 1 - _P0], axis=1)
_NAMES = ["malignant", "benign"]


def test_the_summary_rates_are_the_positive_class_s() -> None:
    m = evaluate_classification(_TRUE, _PROBS, _NAMES, n_resamples=0, positive=0)
    s = m["summary"]
    assert m["positive_class"] == "malignant"
    assert (s["sensitivity"], s["specificity"]) == pytest.approx((3 / 4, 4 / 6))
    assert (s["precision"], s["npv"], s["f1"]) == pytest.approx((3 / 5, 4 / 5, 2 / 3))
    assert "(class 0, malignant; evaluate.positive_class)" in m["policy"]["binary"]
    assert m["positive_class_chosen_by"] == "evaluate.positive_class"
    default = evaluate_classification(_TRUE, _PROBS, _NAMES, n_resamples=0)  # class 1
    assert default["positive_class"] == "benign"
    assert default["positive_class_chosen_by"] == (
        "default: class 1 (evaluate.positive_class not set)"
    )
    assert default["policy"]["binary"].startswith(
        "sensitivity, specificity, precision, npv and f1 are those of the positive class "
        "benign (by default: class 1, not malignant; evaluate.positive_class chooses)"
    )
    assert (default["summary"]["sensitivity"], default["summary"]["specificity"]) == (
        pytest.approx((4 / 6, 3 / 4))
    )


def test_the_operating_point_thresholds_the_positive_class_s_probability() -> None:
    """Youden's J on class 0's probability (the validation split is these cases): 0.25 at 0.9,
    0.5 at 0.8, 1/3 at 0.7, 7/12 at 0.6 (the maximum), 5/12 at 0.55, ... At 0.6 the test
    cases (the same ten) call class 0 for 0.9, 0.8, 0.6 and 0.7."""
    m = evaluate_classification(_TRUE, _PROBS, _NAMES, n_resamples=0, positive=0,
                                validation=(_TRUE, _PROBS))  # fmt: skip
    op = m["operating_point"]
    assert op["positive_class"] == "malignant"
    assert op["threshold"] == pytest.approx(0.6)
    assert op["test_confusion_matrix"] == [[3, 1], [1, 5]]
    assert (op["test_sensitivity"], op["test_specificity"]) == pytest.approx((3 / 4, 5 / 6))


def test_the_delong_interval_is_of_the_positive_class() -> None:
    """The AUC is the same number for either class; DeLong's interval gets the same truth."""
    m = evaluate_classification(_TRUE, _PROBS, _NAMES, n_resamples=10, positive=0)
    from sklearn.metrics import roc_auc_score

    assert m["intervals"]["roc_auc_delong"]["estimate"] == pytest.approx(
        roc_auc_score(_TRUE == 0, _P0)
    )


@pytest.mark.parametrize(
    ("value", "names", "expected"),
    [(None, ["a", "b"], 1), ("a", ["a", "b"], 0), ("b", ["a", "b"], 1), (0, ["a", "b"], 0)],
)
def test_positive_index(value: str | int | None, names: list[str], expected: int) -> None:
    assert positive_index(value, names) == expected


@pytest.mark.parametrize(
    ("value", "names", "message"),
    [
        ("malign", ["malignant", "benign"], "is neither class: give 'malignant' or 'benign'"),
        (2, ["malignant", "benign"], "is neither class"),
        ("a", ["a", "b", "c"], "only a run with two classes has a positive class; this one has 3"),
    ],
)
def test_positive_index_refuses(value: str | int, names: list[str], message: str) -> None:
    with pytest.raises(RadpipeError, match=message):
        positive_index(value, names)


def _run(cr16: Path, out: Path, positive: str | None) -> Any:
    """``radpipe run`` through :func:`main_in` (in this process; until 2026-12-04 a subprocess,
    an interpreter and torch's import per run, not what is tested)."""
    config = out / "config.yaml"
    out.mkdir(parents=True, exist_ok=True)
    config.write_text(json.dumps({
        "task": "classification", "output": str(out / "runs"),
        "data": {"source": str(cr16 / "dicom"), "labels": str(cr16 / "labels.csv")},
        "convert": {"workers": 1}, "split": {"test": 0.25, "val": 0.25},
        "model": {"type": "mlp_classifier", "hidden": [8]},
        "train": {"epochs": 1, "batch_size": 8, "device": "cpu"},
        "evaluate": {"bootstrap": 0} | ({} if positive is None else {"positive_class": positive}),
        "report": {"enabled": False},
    }))  # fmt: skip
    return main_in(ROOT, "run", str(config), "--quiet")


def test_radpipe_run_reports_the_configured_positive_class(cr16: Path, tmp_path: Path) -> None:
    """Through the CLI: metrics.json's summary rates are per_class's rates of the class named
    (no_lesion is class 0 of this study); a name of neither class stops before training."""
    done = _run(cr16, tmp_path / "ok", "no_lesion")
    assert done.returncode == 0, done.stderr[-2000:]
    run = next((tmp_path / "ok" / "runs").glob("run-*"))
    m = json.loads((run / "metrics.json").read_text())
    assert m["class_names"][0] == "no_lesion" and m["positive_class"] == "no_lesion"
    for rate in ("sensitivity", "specificity", "precision", "npv", "f1"):  # NaN equals NaN here
        np.testing.assert_equal(m["summary"][rate], m["per_class"]["no_lesion"][rate])
    assert m["positive_class_chosen_by"] == "evaluate.positive_class"
    assert "(positive class: no_lesion; called by argmax)" in done.stdout
    bad = _run(cr16, tmp_path / "bad", "lesion")
    assert bad.returncode != 0
    assert "evaluate.positive_class 'lesion' is neither class" in bad.stderr
    runs = list((tmp_path / "bad" / "runs").glob("run-*"))
    assert not runs or not any(runs[0].glob("checkpoints/*.pt"))  # refused before training


def test_average_precision_and_the_reliability_curve_are_the_positive_class_s() -> None:
    """AP (the summary's, and the PR plot's) and the reliability diagram describe the positive
    class too: they were class 1's whatever evaluate.positive_class said."""
    from sklearn.calibration import calibration_curve
    from sklearn.metrics import average_precision_score

    m = evaluate_classification(_TRUE, _PROBS, _NAMES, n_resamples=0, positive=0)
    ap = average_precision_score(_TRUE == 0, _P0)
    assert m["summary"]["average_precision_macro"] == pytest.approx(ap)
    assert m["per_class"]["malignant"]["average_precision"] == pytest.approx(ap)
    assert "average_precision" not in m["per_class"]["benign"]
    observed, confidence = calibration_curve(_TRUE == 0, _P0, n_bins=10)
    assert m["calibration"]["bins"]["confidence"] == pytest.approx(confidence.tolist())
    assert m["calibration"]["bins"]["observed"] == pytest.approx(observed.tolist())


def test_radpipe_run_says_a_positive_class_nothing_chose(cr16: Path, tmp_path: Path) -> None:
    """Without evaluate.positive_class, class 1 (round_lesion) is positive: the printed line and
    metrics.json say it is the default and name class 0 as not positive. A bare
    ``(positive class: benign)`` was read as the disease's rates with BreastMNIST, whose
    disease (malignant) is class 0."""
    done = _run(cr16, tmp_path / "default", None)
    assert done.returncode == 0, done.stderr[-2000:]
    m = json.loads(next((tmp_path / "default" / "runs").glob("run-*/metrics.json")).read_text())
    assert m["class_names"] == ["no_lesion", "round_lesion"]
    assert m["positive_class"] == "round_lesion"
    assert m["positive_class_chosen_by"] == "default: class 1 (evaluate.positive_class not set)"
    assert (
        "(positive class: round_lesion (by default: class 1, not no_lesion; "
        "evaluate.positive_class chooses); called by argmax)"
    ) in done.stdout
