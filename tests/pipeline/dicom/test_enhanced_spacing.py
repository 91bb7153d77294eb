"""An enhanced CT whose frames change PixelSpacing half way (per-frame Pixel Measures, as a
reconstruction with two fields of view stored in one object): one volume per spacing, and
the note says that spacing is what differs (it said "orientations or image sizes")."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main


def _item(**values: object) -> Dataset:
    item = Dataset()
    for key, value in values.items():
        setattr(item, key, value)
    return item


def test_per_frame_pixel_spacing_change_splits_the_volume(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.2.1", "CT", 4, 5, signed=True, patient="P")
    ds.NumberOfFrames = 4
    orientation = _item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
    ds.SharedFunctionalGroupsSequence = Sequence(
        [_item(PlaneOrientationSequence=Sequence([orientation]))]
    )
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        _item(
            PlanePositionSequence=Sequence([_item(ImagePositionPatient=[0, 0, float(f)])]),
            PixelMeasuresSequence=Sequence(
                [_item(PixelSpacing=[0.5, 0.5] if f < 2 else [0.7, 0.7], SliceThickness=1.0)]
            ),
        )
        for f in range(4)
    )
    ds.PixelData = np.arange(80, dtype="<i2").tobytes()
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["spacing"] for r in rows] == [(1.0, 0.5, 0.5), (1.0, 0.7, 0.7)]
    assert all(
        "split: 2 orientations, image sizes or pixel spacings in one series" in r["problems"]
        for r in rows
    )
    first = nib.load(out / rows[0]["output"])
    assert first.shape == (5, 4, 2)  # (columns, rows, frames 0-1)
    assert np.array_equal(np.asarray(first.dataobj)[:, :, 1].T, np.arange(20, 40).reshape(4, 5))
