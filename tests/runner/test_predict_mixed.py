"""``radpipe predict`` on a folder mixing grey images with a colour one and one of another
size (issue 13, item 9): the usable images are predicted, the others listed with the reason,
and the command exits non-zero."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import generate_uid

from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import read_rows
from workflows.cli import main


def _colour_copy(path: Path, out: Path) -> None:
    """The grey CR image as an 8-bit RGB image of a new series."""
    ds = pydicom.dcmread(path)
    grey = ds.pixel_array.astype(np.float64)
    rgb = np.repeat(((grey - grey.min()) / max(np.ptp(grey), 1) * 255).astype(np.uint8)[..., None],
                    3, axis=-1)  # fmt: skip
    rgb[..., 0] = 255 - rgb[..., 0]
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    for keyword in ("WindowCenter", "WindowWidth", "RescaleSlope", "RescaleIntercept"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PixelData = rgb.tobytes()
    ds.SOPInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(out)


def test_predict_lists_the_images_it_cannot_use_and_writes_the_rest(
    cr_run: Path, tmp_path: Path, capsys: object
) -> None:
    grey = tmp_path / "grey"
    write_study(grey, StudySpec(patients=3, modality="CR", size=16, series_per_patient=1, seed=7))
    bigger = tmp_path / "bigger"
    write_study(bigger, StudySpec(patients=1, modality="CR", size=20, series_per_patient=1,
                                  seed=8))  # fmt: skip
    new = grey / "dicom"
    _colour_copy(sorted(new.rglob("*.dcm"))[0], new / "colour.dcm")
    (other,) = bigger.joinpath("dicom").rglob("*.dcm")
    other.rename(new / "bigger.dcm")
    out = tmp_path / "pred"
    assert main(["predict", str(cr_run), str(new), "--out", str(out), "--quiet"]) == 1
    assert len(read_rows(out / "predictions.csv")) == 3
    reasons = sorted(r["reason"] for r in read_rows(out / "skipped.csv"))
    assert len(reasons) == 2
    assert reasons[0].startswith("3 channels (colour); the run's model takes 1")
    assert reasons[1].startswith("shape (1, 20, 20) after preprocessing; the run's model takes "
                                 "(1, 16, 16)")  # fmt: skip


def test_predict_says_which_images_are_of_a_modality_the_run_never_saw(
    cr_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # An MR image of the right size went through the radiograph model unnoticed before (a
    # prediction with no meaning, nothing said); it is predicted, and a warning says so. A DX
    # copy of a radiograph is the same kind of image: nothing said.
    new = tmp_path / "cr"
    write_study(new, StudySpec(patients=2, modality="CR", size=16, series_per_patient=1, seed=7))
    src = new / "dicom"
    ds = pydicom.dcmread(sorted(src.rglob("*.dcm"))[0])
    ds.Modality, ds.SOPInstanceUID, ds.SeriesInstanceUID = "DX", generate_uid(), generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(src / "dx.dcm")
    mr = tmp_path / "mr"
    write_study(mr, StudySpec(patients=1, modality="MR", size=16, slices=1,
                              series_per_patient=1, seed=8))  # fmt: skip
    (image,) = mr.joinpath("dicom").rglob("*.dcm")
    image.rename(src / "mr.dcm")
    out = tmp_path / "pred"
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["predict", str(cr_run), str(src), "--out", str(out), "--quiet"]) == 0
    rows = read_rows(out / "predictions.csv")
    assert {"dx.dcm", "mr.dcm"} <= {r["source"] for r in rows} and len(rows) == 4
    said = [r.getMessage() for r in caplog.records if "modality" in r.getMessage()]
    assert len(said) == 1
    assert said[0].startswith("1 image of modality MR was predicted by a model trained on CR")
