"""The storage kind of image files (their header only) and the warning about new images
stored unlike every training image; the CLI case is in test_images_predict."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from workflows.run.image_storage import say_other_storage, storage_kind


def test_kinds_from_the_headers(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((4, 4), np.uint16)).save(tmp_path / "b.png")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "c.png")
    np.save(tmp_path / "d.npy", np.zeros((4, 4), np.float32))
    nib.save(nib.Nifti1Image(np.zeros((4, 4, 2), np.int16), np.eye(4)), tmp_path / "e.nii.gz")
    (tmp_path / "f.png").write_bytes(b"not a png")
    kinds = [storage_kind(tmp_path / n) for n in ("a.png", "b.png", "c.png", "d.npy",
                                                  "e.nii.gz", "f.png")]  # fmt: skip
    assert kinds == ["8-bit PNG", "16-bit PNG", "8-bit PNG", "NPY float32", "NIfTI int16", ""]


def test_only_kinds_no_training_image_had_are_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((4, 4), np.uint16)).save(tmp_path / "b.png")
    new = [tmp_path / "a.png", tmp_path / "b.png", tmp_path / "b.png"]
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert say_other_storage(Counter({"8-bit PNG": 18}), new, "predicted") == {"16-bit PNG": 2}
        assert say_other_storage(Counter({"8-bit PNG": 1, "16-bit PNG": 1}), new, "scored") == {}
        assert say_other_storage(Counter(), new, "scored") == {}  # the run's images are gone
    (said,) = [r.getMessage() for r in caplog.records]
    expected = ("2 of the 3 images predicted are stored unlike every training image of the "
                "run (2 as 16-bit PNG; the training images: 8-bit PNG: 18)")  # fmt: skip
    assert said.startswith(expected)
