"""An RGB screen capture without ImageType or geometry filed in a CT series.

It made the whole series refused for "slice geometry missing on 1 of 3 images" (the CT
volume was lost for one picture); a colour image among grey slices is no damaged slice, so it
is written apart, said. Expected: the CT volume's values by hand (stored 1064, intercept
-1024: 40 HU), the picture's RGB bytes as written.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.uid import CTImageStorage, generate_uid

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main

SAID = (
    "split: 1 colour image(s) without slice geometry (a screen capture?) among the grey "
    "slices, written apart"
)


def _series(tmp_path: Path) -> Path:
    series, study, found = generate_uid(), generate_uid(), {}
    for k in range(2):
        ds = image_dataset(CTImageStorage, "CT", 4, 4, signed=True)
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 2 * k], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [1, 1], 1, -1024
        ds.PixelData = np.full(16, 1064, "<i2").tobytes()
        found[f"ct{k}"] = ds
    shot = image_dataset(CTImageStorage, "CT", 4, 4, bits=8, samples=3, photometric="RGB")
    shot.PlanarConfiguration, shot.PixelData = 0, bytes(range(48))
    found["shot"] = shot
    for ds in found.values():
        ds.SeriesInstanceUID, ds.StudyInstanceUID = series, study
    return write_folder(tmp_path / "src", **found)


def test_a_colour_capture_is_written_apart_from_the_ct_volume(tmp_path: Path) -> None:
    src, out = _series(tmp_path), tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with (out / "manifest.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [r["problems"].split("; ")[0] for r in rows] == [SAID, SAID]
    ct, shot = (np.asarray(nib.load(out / r["output"]).dataobj) for r in rows)
    assert ct.shape == (4, 4, 2) and (ct == 40).all()
    assert sorted(np.asarray(shot).tobytes()) == sorted(bytes(range(48)))  # its RGB bytes
    notes = [p.reason for p in index_folder(src).all_problems()]
    assert SAID in "; ".join(notes) and "missing on" not in "; ".join(notes)
