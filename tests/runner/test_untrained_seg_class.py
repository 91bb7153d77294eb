"""A segmentation class drawn only in validation and test masks: the model has an output for
it (the classes are those of every mask of the data) and the run says no training mask holds
it. The number of classes came from the training masks alone, and validation stopped training
with torch's ``IndexError: Target 2 is out of bounds``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import RadpipeError
from tests.runner.conftest import write_rows
from workflows.run.config import DataConfig, validate_config
from workflows.run.runner import run_study
from workflows.run.seg_classes import segmentation_classes


def _study(folder: Path, outside: int = 2) -> Path:
    """10 PNG images 16x16 with masks: class 1 in all, class ``outside`` only outside
    training."""
    rows = []
    for i in range(10):
        part = "train" if i < 6 else ("val" if i < 8 else "test")
        mask = np.zeros((16, 16), np.uint8)
        mask[2 : 8 + i % 3, 2:8] = 1
        if part != "train":
            mask[10:14, 9 + i % 3 : 13 + i % 3] = outside
        image = (20 + 100 * mask + i).astype(np.uint8)
        Image.fromarray(image).save(folder / f"i{i}.png")
        Image.fromarray(mask).save(folder / f"m{i}.png")
        rows.append({"image": f"i{i}.png", "mask": f"m{i}.png", "patient_id": f"p{i}",
                     "part": part})  # fmt: skip
    return write_rows(folder / "list.csv", rows)


def _config(tmp_path: Path, listed: Path) -> dict[str, Any]:
    return {
        "task": "segmentation",
        "output": str(tmp_path / "runs"),
        "data": {"kind": "images", "source": str(tmp_path), "labels": str(listed)},
        "split": {"column": "part"},
        "preprocess": [],
        "model": {"type": "mlp_segmenter", "hidden": [4], "context": 0},
        "train": {"epochs": 1, "batch_size": 4, "device": "cpu"},
        "report": {"enabled": False},
    }


def test_a_class_in_no_training_mask_keeps_its_output_and_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = _config(tmp_path, _study(tmp_path))
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


def test_a_bad_value_outside_the_training_masks_is_said_to_be_there(tmp_path: Path) -> None:
    # Values 0, 1 in the training masks and 3 in the validation and test ones: the error said
    # "The training masks hold values [0, 1, 3]", sending the user to the wrong files.
    raw = _config(tmp_path, _study(tmp_path, outside=3))
    with pytest.raises(RadpipeError) as err:
        run_study(validate_config(raw), progress=False)
    # now refused before the run directory is made, naming the masks that hold 3 and lines
    assert str(err.value).startswith(
        "data.labels: the masks named in list.csv hold values [0, 1, 3], and none holds 2: not "
        "consecutive class indices 0..3 (nothing was run); map them with data.mask_values"
    )
    holders = "m6.png (line 8): class 3; m7.png (line 9): class 3; m8.png (line 10): class 3"
    assert str(err.value).endswith(f"Value 3 is in {holders}; m9.png (line 11): class 3")
    assert not (tmp_path / "runs").exists()


def test_a_bad_value_in_the_training_masks_is_said_so() -> None:
    with pytest.raises(RadpipeError, match=r"^The training masks hold values \[0, 2\], not"):
        segmentation_classes({0, 2}, DataConfig(source=Path("x")), trained={0, 2})
    with pytest.raises(
        RadpipeError,
        match=r"^The masks \(value 5 in validation or test masks "
        r"only, in no training mask\) hold class 5, but data.class_names names 3",
    ):
        segmentation_classes({0, 1, 5}, DataConfig(source=Path("x"), class_names=["a", "b", "c"]),
                             trained={0, 1})  # fmt: skip


def test_an_unreadable_mask_of_an_images_run_is_not_said_unconverted(tmp_path: Path) -> None:
    # An images run converts nothing: its error said "(nothing was converted)" all the same.
    raw = _config(tmp_path, _study(tmp_path))
    (tmp_path / "m4.png").write_bytes(b"not a picture")
    with pytest.raises(RadpipeError) as err:
        run_study(validate_config(raw), progress=False)
    text = str(err.value)
    assert text.startswith(  # before the run directory is made, with its line
        "data.labels: 1 of 10 masks named in list.csv cannot be read as class indices (nothing "
        "was run): m4.png (line 6): cannot be read as png"
    )
    assert "m4.png" in text and "converted" not in text


def test_background_is_never_said_to_be_untrained(caplog: pytest.LogCaptureFixture) -> None:
    """Mutation: the untrained-class check counting from class 0. Training masks that hold
    only classes 1 and 2 (every pixel drawn, e.g. tissue types) leave no foreground class
    untrained: nothing is said, nothing returned; class 2 missing is said as before."""
    from workflows.run.seg_classes import note_untrained_classes

    names = ["background", "organ", "lesion"]
    with caplog.at_level("WARNING", logger="radpipe"):
        assert note_untrained_classes({1, 2}, 3, names, None, found={1, 2}) == []
        assert not caplog.messages
        assert note_untrained_classes({0, 1}, 3, names, None, found={0, 1, 2}) == [2]
    (said,) = caplog.messages
    assert said.startswith("no mask of the training split holds class 2 ('lesion')")
