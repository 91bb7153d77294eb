"""The report's training table names the epoch ``best.pt`` holds; its split table names the
classes.

It showed the last epoch and the lowest val_loss only, whatever the run monitored: with
``val_dice`` (the segmentation default) or a smoothed monitor (``train.monitor_ema``) the
scored model is often another epoch, and the only epoch the table named as best was not it.
The log here is written by hand: val_loss lowest at epoch 2, best.pt at epoch 3."""

from __future__ import annotations

import json
import re
import warnings
from html import unescape
from pathlib import Path

import numpy as np

from workflows.report.results import evaluate_segmentation, write_metrics, write_report


def _text(html: str) -> str:
    html = re.sub(r"<img[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _run(tmp_path: Path, best_epoch: int) -> str:
    run = tmp_path / "runs" / "seg-20261130-2300"
    square = np.zeros((8, 8), np.int64)
    square[2:6, 2:6] = 1
    metrics = evaluate_segmentation(
        [("a", square, square, (1.0, 1.0))], 2, ["background", "organ"], n_resamples=0
    )
    scored = {"fold": None, "checkpoint": "checkpoints/best.pt", "best_epoch": best_epoch}
    metrics["model"] = {"checkpoints": [scored]}
    write_metrics(run, metrics)
    log = [{"epoch": 1, "val_loss": 0.9, "val_dice": 0.2},
           {"epoch": 2, "val_loss": 0.4, "val_dice": 0.5},
           {"epoch": 3, "val_loss": 0.5, "val_dice": 0.7},
           {"epoch": 4, "val_loss": 0.6, "val_dice": 0.6}]  # fmt: skip
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    return _text(write_report(run).read_text())


def test_the_best_pt_epoch_is_named_beside_the_lowest_val_loss(tmp_path: Path) -> None:
    text = _run(tmp_path, best_epoch=3)
    assert (
        "epoch val_loss val_dice last epoch 4 0.600 0.600 best epoch (best.pt) 3 0.500 0.700 "
        "lowest val_loss 2 0.400 0.500"
    ) in text


def test_one_row_when_best_pt_is_the_lowest_val_loss(tmp_path: Path) -> None:
    text = _run(tmp_path, best_epoch=2)
    assert "last epoch 4 0.600 0.600 best epoch (best.pt) 2 0.400 0.500 " in text
    assert "lowest val_loss" not in text


def test_the_split_table_names_the_classes_in_index_order(tmp_path: Path) -> None:
    """The report's split table headed its columns with split.csv's class indices
    (``label 0``, ``label 1``), sorted as text (``label 10`` before ``label 2``): now the class
    names, in index order. 12 classes c0..c11; split.csv: two train cases of class 2, one
    test case of class 10."""
    from workflows.report.results import evaluate_classification

    run = tmp_path / "runs" / "cls-20261130-2300"
    names = [f"c{i}" for i in range(12)]
    probs = np.full((2, 12), 0.5 / 11)
    probs[0, 2] = probs[1, 10] = 0.5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # classes without cases
        metrics = evaluate_classification(np.array([2, 10]), probs, names, n_resamples=0)
    write_metrics(run, metrics)
    (run / "split.csv").write_text(
        "patient_key,series_key,label,split,fold\n"
        "p0,s0,2,train,-1\np1,s1,2,train,-1\np2,s2,10,test,-1\n"
    )
    text = _text(write_report(run).read_text())
    assert "split size c2 c10 train 2 2 0 test 1 0 1" in text


def test_a_segmentation_without_labels_has_no_label_column_in_its_split_table(
    tmp_path: Path,
) -> None:
    """A segmentation run without labels writes the placeholder label 0 in split.csv; the
    report showed it as a column ``label 0`` holding every image (HC18: ``train 22 22 val 8
    8 test 10 10``). Labels that stratified the split (0 and 1) are still shown."""
    run = tmp_path / "runs" / "seg-20261130-2300"
    _run(tmp_path, best_epoch=3)
    (run / "split.csv").write_text(
        "patient_key,series_key,label,split,fold\n"
        "p0,s0,0,train,-1\np1,s1,0,train,-1\np2,s2,0,test,-1\n"
    )
    text = _text(write_report(run).read_text())
    assert "split size train 2 test 1 " in text and "label 0" not in text
    (run / "split.csv").write_text(
        "patient_key,series_key,label,split,fold\n"
        "p0,s0,0,train,-1\np1,s1,1,train,-1\np2,s2,1,test,-1\n"
    )
    text = _text(write_report(run).read_text())
    assert "split size label 0 label 1 train 2 1 1 test 1 0 1" in text


def test_2d_images_are_called_images_not_volumes(tmp_path: Path) -> None:
    """HC18's ultrasound PNGs (each its own case) were reported as "10 evaluated volumes",
    "Dice (mean of volumes)" and "Per volume"; samples of shape C x D x H x W still are
    volumes."""
    run = tmp_path / "runs" / "seg-20261130-2300"
    square = np.zeros((8, 8), np.int64)
    square[2:6, 2:6] = 1
    for shape, word in (("1x8x8", "image"), ("1x3x8x8", "volume")):
        case = square if word == "image" else square[None]  # (H, W) or (D, H, W)
        spacing = (1.0, 1.0) if word == "image" else (1.0, 1.0, 1.0)
        metrics = evaluate_segmentation(
            [("a", case, case, spacing)], 2, ["background", "head"], n_resamples=0
        )
        metrics["data"] = {"num_samples": 1, "image_shapes": {shape: 1}}
        write_metrics(run, metrics)
        text = _text(write_report(run).read_text())
        assert f"1 evaluated {word}s" in text and f"Dice (mean of {word}s)" in text
        assert f"Per {word} Worst 1 of 1 {word}s by macro Dice" in text
        assert f"Per patient patient {word}s Dice (macro)" in text  # it said volumes for both
        other = {"image": "volume", "volume": "image"}[word]
        assert f"evaluated {other}s" not in text and f"Per {other}" not in text


def test_2d_slices_stacked_into_series_are_volumes_not_images(tmp_path: Path) -> None:
    """A ``unit: image`` run scores its 2-D slices stacked into their series' volumes
    (``metrics.json`` ``case_unit`` volume, ``num_slices`` 4): the report called its 2 series
    "2 evaluated images", "Dice (mean of images)" and "Per image", from the samples' 2-D
    shapes alone."""
    from workflows.report.results import SegmentationCase

    run = tmp_path / "runs" / "seg-20261130-2300"
    square = np.zeros((8, 8), np.int64)
    square[2:6, 2:6] = 1
    cases = [SegmentationCase(f"{s}{i}", square, square, (1.0, 1.0), patient=s, series=s,
                              slice_index=i, slice_spacing=2.0)
             for s in ("a", "b") for i in range(2)]  # fmt: skip
    metrics = evaluate_segmentation(cases, 2, ["background", "head"], n_resamples=0)
    assert (metrics["case_unit"], metrics["num_cases"], metrics["num_slices"]) == ("volume", 2, 4)
    metrics["data"] = {"num_samples": 4, "image_shapes": {"1x8x8": 4}}
    write_metrics(run, metrics)
    text = _text(write_report(run).read_text())
    assert "2 evaluated volumes" in text and "Dice (mean of volumes)" in text
    assert "Per volume Worst 2 of 2 volumes by macro Dice" in text
    assert "evaluated images" not in text and "Per image" not in text
