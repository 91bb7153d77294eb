"""What the report's figures and tables hold, where a mutation sweep of workflows/report
(70 mutants against the report, runner and metric tests) found no test; each test is red on
the mutant its docstring names. Expected values by hand, scipy and matplotlib's own objects."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import binomtest

from workflows.report.classification import evaluate_classification
from workflows.report.html import _data_section
from workflows.report.run_plots import learning_curves_figure
from workflows.report.sections import describe_postprocess, segmentation_tables
from workflows.report.segmentation import SegmentationCase, evaluate_segmentation


def _slices() -> list[SegmentationCase]:
    """A 4x4 square on two consecutive slices (0.5 mm pixels, 2 mm apart); the prediction
    finds it on the first slice only."""
    truth = np.zeros((8, 8), np.uint8)
    truth[2:6, 2:6] = 1
    empty = np.zeros((8, 8), np.uint8)
    common = {"spacing": (0.5, 0.5), "patient": "p", "series": "s", "slice_spacing": 2.0}
    return [SegmentationCase("a", truth, truth, slice_index=0, **common),  # type: ignore[arg-type]
            SegmentationCase("b", truth, empty, slice_index=1, **common)]  # type: ignore[arg-type]  # fmt: skip


def test_stacked_slices_are_measured_in_mm() -> None:
    """Stacked, the slices make one (2, 8, 8) volume of spacing (2, 0.5, 0.5) mm. Every
    voxel of the thin truth is on its surface: 16 at distance 0 from the prediction and 16
    at the 2 mm slice step, so HD95 = 2.0 mm; the symmetric mean surface distance is
    (16 x 2) / (32 + 16) = 2/3 mm (in voxels, as when the 3-D spacing was lost: 1 and 1/3)."""
    metrics = evaluate_segmentation(_slices(), 2, ["background", "head"], n_resamples=0)
    assert metrics["distance_unit"] == "mm"
    (case,) = metrics["per_case"]
    assert case["hd95"]["head"] == pytest.approx(2.0)
    assert case["msd"]["head"] == pytest.approx(2 / 3)


def test_stacked_slices_keep_a_slice_table() -> None:
    """Both slices listed (Dice 1 and 0; mean 0.5) beside the volume; a lone 2-D image,
    its own case, has no slice table (``if sliced`` negated swapped the two)."""
    metrics = evaluate_segmentation(_slices(), 2, ["background", "head"], n_resamples=0)
    assert metrics["num_slices"] == 2
    assert [(s["id"], s["dice_macro"]) for s in metrics["per_slice"]] == [("a", 1.0), ("b", 0.0)]
    assert metrics["slices"]["dice_slice_mean"] == 0.5
    lone = evaluate_segmentation([_slices()[0]], 2, ["background", "head"], n_resamples=0)
    assert "per_slice" not in lone and lone["num_slices"] == 0


def test_an_accuracy_every_resample_agrees_on_gets_the_exact_interval_of_all_cases() -> None:
    """10 of 10 cases right (5 of each class): every bootstrap resample gives 1, so the
    interval is Clopper-Pearson's for 10 of 10 (scipy: 0.6915..1), the trials being every
    case (``labels >= 1`` counted the 5 positives: 0.4782..1, sensitivity's interval)."""
    labels = np.array([0] * 5 + [1] * 5)
    probs = np.where(labels[:, None] == np.arange(2), 0.9, 0.1)
    out = evaluate_classification(labels, probs, ["negative", "positive"], n_resamples=200)
    accuracy = out["intervals"]["accuracy"]
    exact = binomtest(10, 10).proportion_ci(method="exact")
    assert accuracy["trials"] == 10
    assert accuracy["low"] == pytest.approx(exact.low) and accuracy["high"] == 1.0


def test_learning_curves_plot_the_validation_metrics_beside_the_losses() -> None:
    """Left: train_loss and val_loss; right: every other ``val_*`` key, sorted
    (``!=`` read as ``==`` put val_loss on the metric panel instead)."""
    log = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1.2 / e, "val_dice": 0.5 + e / 10,
            "val_accuracy": 0.8} for e in (1, 2, 3)]  # fmt: skip
    fig = learning_curves_figure(log)
    losses, metrics = fig.axes[:2]
    assert [line.get_label() for line in losses.get_lines()] == ["train_loss", "val_loss"]
    assert [line.get_label() for line in metrics.get_lines()] == ["val_accuracy", "val_dice"]
    assert np.asarray(metrics.get_lines()[1].get_ydata()).tolist() == pytest.approx([0.6, 0.7, 0.8])


def test_the_data_section_counts_distinct_patients_and_series(tmp_path: Path) -> None:
    """index.csv of 3 rows, 2 patients, 3 series, one modality: each distinct count shown
    (the key test negated dropped them, or failed on a missing column)."""
    rows = [{"patient_key": "p1", "series_key": "s1", "modality": "CT"},
            {"patient_key": "p1", "series_key": "s2", "modality": "CT"},
            {"patient_key": "p2", "series_key": "s3", "modality": "CT"}]  # fmt: skip
    with (tmp_path / "index.csv").open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    html = _data_section(tmp_path, {})
    assert "<dt>indexed rows (index.csv)</dt><dd>3</dd>" in html
    assert "<dt>distinct patient_key</dt><dd>2</dd>" in html
    assert "<dt>distinct series_key</dt><dd>3</dd>" in html
    assert "<dt>distinct modality</dt><dd>1</dd>" in html


def test_post_processing_is_described_in_words() -> None:
    assert describe_postprocess({}) == "none (the argmax of the class probabilities)"
    said = describe_postprocess({"steps": [{"type": "largest_component"}, {"type": "fill_holes"}],
                                 "maps_changed": 3, "maps": 10})  # fmt: skip
    assert said.startswith("largest_component, then fill_holes: changed 3 of 10 predicted")


def test_the_per_patient_table_lists_the_worst_first() -> None:
    """Patients sorted by Dice, lowest first; no table without patients."""
    metrics = {"per_patient": [{"id": "good", "num_volumes": 1, "dice_macro": 0.9},
                               {"id": "bad", "num_volumes": 2, "dice_macro": 0.4}]}  # fmt: skip
    html = segmentation_tables(metrics)
    assert "<h2>Per patient</h2>" in html
    assert html.index("bad") < html.index("good")
    assert segmentation_tables({}) == ""
