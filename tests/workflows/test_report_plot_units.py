"""The confusion matrix says what it counts and the learning curves step in whole epochs.

A segmentation run's confusion-matrix figure showed pooled pixel counts (``1677865``) under
the bare title "Confusion matrix", as a classification's cases are shown; a 3-epoch run's
learning curves were ticked at epochs 1.25, 1.5, ... and the validation metrics had no axis
label."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workflows.report import run_plots
from workflows.report.results import evaluate_segmentation, write_metrics, write_report


def _square(shape: tuple[int, ...]) -> np.ndarray:
    t = np.zeros(shape, np.int64)
    t[..., 2:6, 2:6] = 1
    return t


def test_segmentation_metrics_say_pixels_for_images_and_voxels_for_volumes() -> None:
    names = ["background", "lesion"]
    flat = evaluate_segmentation([("a", _square((10, 10)), _square((10, 10)), None)], 2, names,
                                 n_resamples=0)  # fmt: skip
    deep = evaluate_segmentation([("a", _square((3, 10, 10)), _square((3, 10, 10)), None)], 2,
                                 names, n_resamples=0)  # fmt: skip
    assert flat["dataset"]["confusion_matrix_unit"] == "pixels"
    assert deep["dataset"]["confusion_matrix_unit"] == "voxels"
    # by hand: 16 lesion pixels of 100, all found; 3 slices of them in the volume
    assert flat["dataset"]["confusion_matrix"] == [[84, 0], [0, 16]]
    assert deep["dataset"]["confusion_matrix"] == [[252, 0], [0, 48]]
    assert run_plots.confusion_unit(flat) == "pixels"
    assert run_plots.confusion_unit(deep) == "voxels"
    assert run_plots.confusion_unit({"task": "segmentation", "dataset": {}}) == "voxels"
    assert run_plots.confusion_unit({"task": "classification"}) == "cases"


def test_confusion_figure_title_names_the_unit() -> None:
    fig = run_plots.confusion_figure([[84, 0], [0, 16]], ["background", "lesion"], "pixels")
    assert fig.axes[0].get_title() == "Confusion matrix (counts of pixels)"
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert texts == ["84\n100%", "0\n0%", "0\n0%", "16\n100%"]


def test_report_draws_the_unit_of_a_segmentation_run(tmp_path: Path) -> None:
    m = evaluate_segmentation([("a", _square((10, 10)), _square((10, 10)), None)], 2,
                              ["background", "lesion"], n_resamples=0)  # fmt: skip
    write_metrics(tmp_path, m)
    write_report(tmp_path, title="t")
    assert (tmp_path / "plots" / "confusion_matrix.png").is_file()
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert run_plots.confusion_unit(saved) == "pixels"


def test_learning_curves_tick_whole_epochs_and_label_the_metrics() -> None:
    log = [{"epoch": e, "train_loss": 1.0 / e, "val_loss": 1.1 / e, "val_dice": 0.2 * e}
           for e in (1, 2, 3)]  # fmt: skip
    fig = run_plots.learning_curves_figure(log)
    loss_ax, metric_ax = fig.axes
    for ax in (loss_ax, metric_ax):
        ticks = [t for t in ax.get_xticks() if 1 <= t <= 3]
        assert ticks == [1.0, 2.0, 3.0]
        assert ax.get_xlabel() == "epoch"
    assert metric_ax.get_ylabel() == "fraction (0-1)"
    assert loss_ax.get_ylabel() == "loss"
