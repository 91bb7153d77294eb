"""``radpipe evaluate RUN SRC`` says external images of a modality the run never trained on,
or of another pixel size after preprocessing than its training images, as ``radpipe predict``
does: they were scored without a word, and their figures stood for the model on its own kind
of image."""

from __future__ import annotations

import shutil
from pathlib import Path

import pydicom
import pytest

from tests.runner.conftest import evaluate_external


def test_evaluate_says_other_modalities_and_pixel_sizes(
    cr16: Path, cr_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    study = tmp_path / "ext"
    shutil.copytree(cr16 / "dicom", study / "dicom")
    shutil.copyfile(cr16 / "labels.csv", study / "labels.csv")
    files = sorted((study / "dicom").rglob("*.dcm"))
    trained = float(pydicom.dcmread(files[0]).PixelSpacing[0])  # every synthetic CR: one size
    for path in files[:3]:  # scanned at half the resolution
        ds = pydicom.dcmread(path)
        ds.PixelSpacing = [2 * float(v) for v in ds.PixelSpacing]
        ds.save_as(path)
    for path in files[3:5]:  # the same pixels said to be MR: a kind the model never saw
        ds = pydicom.dcmread(path)
        ds.Modality = "MR"
        ds.save_as(path)
    with caplog.at_level("WARNING", logger="radpipe"):
        metrics, _ = evaluate_external(cr_run, study, tmp_path / "out")
    said = [r.getMessage() for r in caplog.records]
    mr = [m for m in said if "modality MR" in m]
    assert len(mr) == 1 and mr[0].startswith(
        "2 images of modality MR were scored by a model trained on CR only"
    )
    scale = [m for m in said if "another scale" in m]
    size = f"{2 * trained:.4g}"
    assert len(scale) == 1 and scale[0].startswith(
        f"3 images of {len(files)} have a pixel size after preprocessing outside that of the "
        f"run's training images ({trained:.4g} mm; e.g. "
    )
    assert f": {size} x {size} mm)" in scale[0]
    assert metrics["unlike_training"] == {
        "other_modality": {"MR": 2},
        "other_pixel_size": 3,
        "other_slice_step": 0,
        "other_plane": {},
    }
    assert metrics["evaluated"].startswith(  # the run's own series also said (seen_by_run)
        f"the run's checkpoint on {len(files)} series, NOT an external test set: "
    )
    assert metrics["evaluated"].endswith(
        "; unlike the training images: 2 images of modality MR, 3 images of another pixel size"
    )


def test_evaluate_on_images_like_the_training_ones_says_nothing(
    cr16: Path, cr_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="radpipe"):
        metrics, _ = evaluate_external(cr_run, cr16, tmp_path / "out")
    said = [r.getMessage() for r in caplog.records]
    assert not [m for m in said if "by a model trained on" in m or "another scale" in m]
    assert metrics["unlike_training"] == {
        "other_modality": {},
        "other_pixel_size": 0,
        "other_slice_step": 0,
        "other_plane": {},
    }
    assert "unlike" not in metrics["evaluated"]
