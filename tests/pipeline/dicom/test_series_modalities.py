"""Images of two modalities filed under one SeriesInstanceUID (a series holds one, PS3.3
C.7.3.1.1.1; SlicerRT #272, orthanc-gdt #3: devices and tools that reuse the series UID).

A CT and a PET stack over the same positions were told apart by acquisition order, tied at
every position, then by file name: a volume took CT slices at some positions and PET ones at
others, and both volumes were labelled with the first file's modality. Now each modality is
its own volume, labelled with its own modality, and the split is said.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
from pydicom.uid import generate_uid

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main

CT, PT = "1.2.840.10008.5.1.4.1.1.2", "1.2.840.10008.5.1.4.1.1.128"
NOTE = "split: 2 modalities in one SeriesInstanceUID (CT, PT, a series holds one), one volume each"


def _image(sop_class: str, modality: str, z: int, series: str, study: str) -> pydicom.Dataset:
    ds = image_dataset(sop_class, modality, 3, 4)
    ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.SeriesNumber = series, study, 2
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 2.0 * z], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.InstanceNumber = [1.0, 1.0], z + 1
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0  # Type 1 in CT and PET images
    base = 100 if modality == "CT" else 5000
    ds.PixelData = np.full((3, 4), base + z, np.uint16).tobytes()
    return ds


def _folder(src: Path) -> Path:
    """At each position a CT and a PET image, their names ordering them CT, PET, CT by turns."""
    series, study, files = generate_uid(), generate_uid(), {}
    for z in range(3):
        first, second = ("a", "b") if z % 2 == 0 else ("b", "a")
        files[f"{z}{first}"] = _image(CT, "CT", z, series, study)
        files[f"{z}{second}"] = _image(PT, "PT", z, series, study)
    return write_folder(src, **files)


def test_two_modalities_in_one_series_make_one_volume_each(tmp_path: Path) -> None:
    src, out = _folder(tmp_path / "src"), tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with (out / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["modality"] for r in rows] == ["CT", "PT"]
    for row in rows:
        assert row["problems"] == NOTE
        volume = np.asarray(nib.load(out / row["output"]).dataobj)  # (columns, rows, slices)
        files = sorted(src.glob("*.dcm"), key=lambda p: p.name[0])
        want = [pydicom.dcmread(p) for p in files if pydicom.dcmread(p).Modality == row["modality"]]
        for k, ds in enumerate(want):  # each slice its own modality's pixels, by hand: base + z
            np.testing.assert_array_equal(volume[:, :, k].T, ds.pixel_array)
    (series,) = index_folder(src).series  # inspect says the same
    assert NOTE in series.problems
