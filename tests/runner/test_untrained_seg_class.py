"""A segmentation class drawn only in validation and test masks: the model has an output for
it (the classes are those of every mask of the data) and the run says no training mask holds
it. The number of classes came from the training masks alone, and validation stopped training
with torch's ``IndexError: Target 2 is out of bounds``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from tests.runner.conftest import write_rows
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def _study(folder: Path) -> Path:
    """10 PNG images 16x16 with masks: class 1 in all, class 2 only outside training."""
    rows = []
    for i in range(10):
        part = "train" if i < 6 else ("val" if i < 8 else "test")
        mask = np.zeros((16, 16), np.uint8)
        mask[2 : 8 + i % 3, 2:8] = 1
        if part != "train":
            mask[10:14, 9 + i % 3 : 13 + i % 3] = 2
        image = (20 + 100 * mask + i).astype(np.uint8)
        Image.fromarray(image).save(folder / f"i{i}.png")
        Image.fromarray(mask).save(folder / f"m{i}.png")
        rows.append({"image": f"i{i}.png", "mask": f"m{i}.png", "patient_id": f"p{i}",
                     "part": part})  # fmt: skip
    return write_rows(folder / "list.csv", rows)


def test_a_class_in_no_training_mask_keeps_its_output_and_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    listed = _study(tmp_path)
    raw = {
        "task": "segmentation",
        "output": str(tmp_path / "runs"),
        "data": {"kind": "images", "source": str(tmp_path), "labels": str(listed)},
        "split": {"column": "part"},
        "preprocess": [],
        "model": {"type": "mlp_segmenter", "hidden": [4], "context": 0},
        "train": {"epochs": 1, "batch_size": 4, "device": "cpu"},
        "report": {"enabled": False},
    }
    with caplog.at_level("WARNING", logger="radpipe"):
        outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    said = [r.getMessage() for r in caplog.records]
    info = json.loads((outcome.run_dir / "stages" / "data.json").read_text())
    assert info["num_classes"] == 3  # background, 1, 2: every mask's classes
    (line,) = [m for m in said if m.startswith("no mask of the training split")]
    assert line.startswith("no mask of the training split holds class 2 ('class2'), which other "
                           "masks of the data hold: its model cannot learn it")  # fmt: skip
    metrics = json.loads((outcome.run_dir / "metrics.json").read_text())
    assert sorted(metrics["per_class"]) == ["class1", "class2"]
    assert metrics["data"]["classes"]["class2"]["samples_containing"] == 2  # the test images
