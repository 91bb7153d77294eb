"""PixelSpacing with one number, and geometry values past float32's range.

PixelSpacing (0028,0030) and ImagerPixelSpacing (0018,1164) have VM 2; a file holding one
number (``0.7``) was refused whole (``must hold 2 numbers``). It is now read as square pixels,
as GDCM/ITK read it (``ImageHelper::GetSpacingValue``), with a note. A value past float32's
range (``1e308``) gave an infinite NIfTI affine, said only as numpy's "overflow encountered
in cast": it is refused naming the tag. Expected values by hand; the NIfTI read by nibabel.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, generate_uid

from pipeline.data.io import read_manifest
from pipeline.dicom.index import index_folder
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

NOTE = ("PixelSpacing (0028,0030) holds one number (0.7), not two: read as 0.7x0.7 mm "
        "(square pixels)")  # fmt: skip


def _series(spacing: object, n: int = 3, **extra: object) -> dict[str, Dataset]:
    series, study = generate_uid(), generate_uid()
    out = {}
    for k in range(n):
        ds = image_dataset(CTImageStorage, "CT", 4, 6)
        ds.SeriesInstanceUID, ds.StudyInstanceUID = series, study
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [0, 0, 2.5 * k]
        ds.PixelSpacing, ds.InstanceNumber = spacing, k + 1
        for key, value in extra.items():
            setattr(ds, key, value)
        ds.PixelData = (np.arange(24, dtype="<u2") + k).tobytes()
        out[f"s{k}"] = ds
    return out


def test_one_number_is_read_as_square_pixels_and_said(tmp_path: Path) -> None:
    src = write_folder(tmp_path / "src", **_series("0.7"))
    image = read_instance(src / "s0.dcm", "s0.dcm")
    assert image.frames[0].pixel_spacing == (0.7, 0.7) and image.problems == (NOTE,)
    index = index_folder(src)
    assert [len(s.instances) for s in index.series] == [3] and not index.problems
    out = tmp_path / "out"
    convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    (row,) = read_manifest(out / "manifest.csv")
    assert NOTE in row["problems"] and row["spacing"] == (2.5, 0.7, 0.7)
    img = nib.load(out / row["output"])
    assert np.allclose(img.header.get_zooms(), (0.7, 0.7, 2.5))
    # LPS -> RAS: columns run along -x, rows along -y, slices along +z (by hand)
    assert np.allclose(img.affine[:3, :3], np.diag([-0.7, -0.7, 2.5]), atol=1e-6)


def test_one_imager_pixel_spacing_number_is_read_as_square_too(tmp_path: Path) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.1.1", "DX", 4, 4)
    ds.ImagerPixelSpacing = "0.2"
    ds.PixelData = np.arange(16, dtype="<u2").tobytes()
    src = write_folder(tmp_path / "src", dx=ds)
    image = read_instance(src / "dx.dcm", "dx.dcm")
    assert image.frames[0].pixel_spacing == (0.2, 0.2)
    assert image.problems[0] == ("ImagerPixelSpacing (0018,1164) holds one number (0.2), not "
                                 "two: read as 0.2x0.2 mm (square pixels)")  # fmt: skip


def test_three_numbers_are_still_refused(tmp_path: Path) -> None:
    src = write_folder(tmp_path / "src", **_series("0.7\\0.7\\0.7", n=1))
    (problem,) = index_folder(src).problems
    assert problem.reason.startswith("PixelSpacing (0028,0030) must hold 2 numbers; got ")


@pytest.mark.parametrize(
    ("extra", "said"),
    [
        ({"PixelSpacing": "1e308\\1e308"}, "PixelSpacing (0028,0030) holds 1e+308\\1e+308"),
        (
            {"ImagePositionPatient": "1e300\\0\\0"},
            "ImagePositionPatient (0020,0032) holds 1e+300\\0\\0",
        ),
        ({"RescaleSlope": "1e300"}, "RescaleSlope (0028,1053) holds 1e+300"),
    ],
    ids=["spacing", "position", "slope"],
)
def test_values_past_float32_are_refused_by_both_commands(
    tmp_path: Path, extra: dict[str, str], said: str
) -> None:
    """Before: a NIfTI of infinite affine (or infinite values), 'overflow encountered in cast'."""
    datasets = _series("1\\1", n=1)
    for key, value in extra.items():
        setattr(datasets["s0"], key, value)
    src = write_folder(tmp_path / "src", **datasets)
    reason = f"{said}: past float32's range (3.4e38), which the outputs hold; a damaged value."
    assert [p.reason for p in index_folder(src).problems] == [reason]
    out = tmp_path / "out"
    convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    with (out / "errors.csv").open(newline="") as fh:
        assert [r["reason"] for r in csv.DictReader(fh)] == [reason]
