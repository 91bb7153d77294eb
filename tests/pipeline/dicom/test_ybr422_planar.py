"""Native YBR_FULL_422 whose header says PlanarConfiguration (0028,0006) 1, or none.

YBR_FULL_422 has one layout, Y0 Y1 Cb Cr for each pair of pixels along a row, and its Planar
Configuration shall be 0 (PS3.3 C.7.6.3.1.2-3); fo-dicom refuses a 1 (fo-dicom #1049).
radpipe passed the 1 to pydicom, which read the pairs as three planes: every colour
scrambled, unsaid; a missing value refused the file. Expected values by hand with PS3.3
C.7.6.3.1.2's YBR_FULL equations: Y 100, Cb 128, Cr 200 is R = 100 + 1.402 x 72 = 200.9,
G = 100 - 0.714136 x 72 = 48.6, B = 100, so (201, 49, 100); Y 110 gives (211, 59, 110).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import SecondaryCaptureImageStorage

from pipeline.data.io import read_manifest
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

_WANT = [[[201, 49, 100], [211, 59, 110]] * 2] * 2  # 2 rows of 2 pairs, by hand above


def _pairs(planar: int | None) -> Dataset:
    ds = image_dataset(SecondaryCaptureImageStorage, "OT", 2, 4, bits=8, samples=3,
                       photometric="YBR_FULL_422")  # fmt: skip
    if planar is not None:
        ds.PlanarConfiguration = planar
    ds.PixelData = bytes([100, 110, 128, 200] * 4)  # Y0 Y1 Cb Cr per pair, 4 pairs
    return ds


@pytest.mark.parametrize("planar", [1, None], ids=["one", "missing"])
def test_pairs_are_read_as_pairs_whatever_the_header_says(tmp_path: Path, planar: object) -> None:
    path = tmp_path / "a.dcm"
    _pairs(planar).save_as(path, enforce_file_format=True)  # type: ignore[arg-type]
    image = read_instance(path, "a.dcm")
    assert np.asarray(image.stored)[0].tolist() == _WANT
    said = "is missing" if planar is None else "is 1"
    assert [p for p in image.problems if p.startswith("PlanarConfiguration")] == [
        f"PlanarConfiguration (0028,0006) {said}, but YBR_FULL_422 has one layout, two Y then "
        "Cb and Cr for each pair of pixels (PS3.3 C.7.6.3.1.2: it shall be 0, no planes of "
        "subsampled colour are defined): read as 0"
    ]


def test_a_zero_is_read_without_a_note(tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    _pairs(0).save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    assert np.asarray(image.stored)[0].tolist() == _WANT
    assert image.problems == ()


def test_convert_writes_the_colours_and_the_note(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    _pairs(1).save_as(tmp_path / "src" / "a.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "npy", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert np.load(out / row["output"]).reshape(2, 4, 3).tolist() == _WANT
    assert "YBR_FULL_422 has one layout" in row["problems"]
