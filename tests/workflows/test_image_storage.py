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


def test_floats_of_another_width_are_the_same_scale(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """float64 holds the numbers float32 does: nothing said; an 8-bit PNG for a run of
    float NPYs (values 0..255 against, say, 0..1) is said."""
    np.save(tmp_path / "a.npy", np.zeros((4, 4), np.float64))
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "b.png")
    trained = Counter({"NPY float32": 5})
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert say_other_storage(trained, [tmp_path / "a.npy"], "predicted") == {}
        assert not caplog.records
        assert say_other_storage(trained, [tmp_path / "b.png"], "predicted") == {"8-bit PNG": 1}


def test_a_training_list_mixing_8_and_16_bit_pngs_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The pass that loads every listed image before a run also says a list whose images
    span different value ranges (2 8-bit PNGs, 1 16-bit): nothing was said; the run goes on.
    8-bit PNGs of grey and of colour are one range: nothing said."""
    from workflows.run.image_reads import unreadable_images

    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(np.zeros((4, 4, 3), np.uint8)).save(tmp_path / "b.png")
    Image.fromarray(np.full((4, 4), 1000, np.uint16)).save(tmp_path / "c.png")
    listed = tmp_path / "list.csv"
    listed.write_text("image,label\na.png,0\nb.png,1\n")
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert unreadable_images(listed, tmp_path, ["image", "label"]) == []
        assert not caplog.records
        listed.write_text("image,label\na.png,0\nb.png,1\nc.png,1\n")
        assert unreadable_images(listed, tmp_path, ["image", "label"]) == []
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith("data.labels: the images named in list.csv are stored in ways whose "
                           "values span different ranges (1 16-bit PNG (e.g. c.png), 2 8-bit "
                           "PNG (e.g. a.png); an 8-bit PNG holds 0..255")  # fmt: skip
