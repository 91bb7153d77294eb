"""Modality values beyond the plain rescale: RT Dose pixel values are doses, stored value x
Dose Grid Scaling (3004,000E), PS3.3 C.8.8.3 (radpipe wrote the raw integers, 10**6 too large
for pydicom's rtdose.dcm); a RescaleSlope of 0 is ignored with a note.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset
from tests.pipeline.dicom.conftest import bundled
from workflows.cli import main

RT_DOSE = "1.2.840.10008.5.1.4.1.1.481.2"


def test_bundled_rtdose_modality_values_are_gray() -> None:
    path = bundled("rtdose.dcm")
    ds = pydicom.dcmread(path)
    image = read_instance(path)
    assert float(ds.DoseGridScaling) == pytest.approx(1e-6)
    assert np.allclose(image.modality(3), ds.pixel_array[3] * 1e-6, rtol=1e-12)


def _dose(scaling: float) -> Dataset:
    ds = image_dataset(RT_DOSE, "RTDOSE", 2, 3, bits=32)
    ds.NumberOfFrames = 2
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 0.0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.GridFrameOffsetVector = [2.0, 2.0], [0.0, 3.0]
    ds.FrameIncrementPointer = 0x3004000C
    ds.DoseUnits, ds.DoseType, ds.DoseSummationType = "GY", "PHYSICAL", "PLAN"
    ds.DoseGridScaling = scaling
    ds.PixelData = (np.arange(12, dtype="<u4") * 1000).tobytes()
    return ds


def test_convert_writes_doses_in_gray(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _dose(2.5e-4).save_as(src / "dose.dcm", enforce_file_format=True)
    out = tmp_path / "npy"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        rows = sorted(csv.DictReader(f), key=lambda r: int(r["frame"]))
    # frame 1 holds stored 6000..11000 -> 1.5 .. 2.75 Gy
    frame1 = np.load(out / rows[1]["output"])
    assert frame1.ravel().tolist() == pytest.approx([1.5, 1.75, 2.0, 2.25, 2.5, 2.75])
    out = tmp_path / "nii"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    volume = np.asarray(nib.load(out / row["output"]).dataobj)  # (columns, rows, frames)
    assert volume[:, :, 0].T.ravel().tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0, 1.25])


def test_zero_rescale_slope_is_ignored_with_a_note(tmp_path: Path) -> None:
    # GateTools #68: files with RescaleSlope 0 came out as one constant (the intercept)
    ds = _dose(1.0)
    del ds.DoseGridScaling
    ds.Modality, ds.SOPClassUID = "CT", "1.2.840.10008.5.1.4.1.1.2"
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.RescaleSlope, ds.RescaleIntercept = 0, -1024
    path = tmp_path / "ct.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_instance(path, "ct.dcm")
    assert image.modality(0).ravel().tolist() == [-1024, -24, 976, 1976, 2976, 3976]
    assert any(p.startswith("RescaleSlope ignored: (0028,1053) is 0") for p in image.problems)


def test_grid_offsets_that_start_off_zero_are_coordinates() -> None:
    # PS3.3 C.8.8.3.2: a first GridFrameOffsetVector value other than 0 means the values are
    # positions along the normal, the first at ImagePositionPatient: z -50 and -47, by hand
    from pipeline.dicom.frames import frame_refs

    ds = _dose(1.0)
    ds.ImagePositionPatient, ds.GridFrameOffsetVector = [4.0, 6.0, -50.0], [-50.0, -47.0]
    positions = [f.position for f in frame_refs(ds, "dose.dcm")]
    assert positions == [pytest.approx((4.0, 6.0, -50.0)), pytest.approx((4.0, 6.0, -47.0))]


@pytest.mark.parametrize(("slope", "intercept", "noted"), [
    (3.5, None, "3.5 and 0"),  # was applied instead of the dose scaling: 3500 for 2.5e-4 x 1000
    (1.0, -1024.0, "1 and -1024"),
    (2.5e-4, 0.0, ""),  # agrees with the dose scaling: nothing to say
    (1.0, 0.0, ""),  # the identity: nothing to say (the raw integers were written, unsaid)
], ids=["slope", "intercept", "agreeing", "identity"])  # fmt: skip
def test_rescale_beside_dose_grid_scaling_gives_way(
    tmp_path: Path, slope: float, intercept: float | None, noted: str
) -> None:
    # found by benchmarks/fuzz_oracle.py: RescaleSlope won over DoseGridScaling, unsaid
    ds = _dose(2.5e-4)
    ds.RescaleSlope = slope
    if intercept is not None:
        ds.RescaleIntercept = intercept
    path = tmp_path / "dose.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_instance(path, "dose.dcm")
    # stored 0, 1000, ... 5000 x 2.5e-4 Gy, by hand
    assert image.modality(0).ravel().tolist() == pytest.approx([0, 0.25, 0.5, 0.75, 1.0, 1.25])
    said = [p for p in image.problems if "ignored beside DoseGridScaling" in p]
    if not noted:
        assert said == []
        return
    assert said == [
        f"RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) {noted} ignored beside "
        "DoseGridScaling (3004,000E) 0.00025: an RT Dose's values are stored value x "
        "DoseGridScaling (PS3.3 C.8.8.3), which is applied"
    ]
