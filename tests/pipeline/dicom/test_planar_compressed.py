"""PlanarConfiguration (0028,0006) of compressed colour pixel data: irrelevant, read as 0.

PS3.5 8.2.1-8.2.4: in a JPEG, JPEG-LS or JPEG 2000 stream the codestream orders the colour
components and Planar Configuration "shall be 0". A T.81 JPEG or JPEG 2000 decoder gives
interleaved samples; told 1 (a writer's slip), pydicom read them as planes and the colours
came out scrambled, unsaid (cornerstone3D PR #2778, JPEGLosslessDecoderJS #8 report such
files). A missing one refused a decodable file. Expected values: pydicom's decode of each
bundled file as published (Planar Configuration 0).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

from pipeline.dicom.index import index_folder
from pipeline.dicom.read import image_from_dataset
from pipeline.errors import DicomError

ONE = (
    "PlanarConfiguration (0028,0006) is 1, but this compressed stream's decoder gives "
    "interleaved samples (PS3.5 8.2: irrelevant to compressed data, shall be 0): read as 0"
)
MISSING = ("PlanarConfiguration (0028,0006) is missing: irrelevant to compressed pixel data "
           "(PS3.5 8.2), read as 0")  # fmt: skip
#: JPEG baseline (YBR_FULL), JPEG lossless SV1 (RGB), JPEG 2000 (YBR_RCT)
INTERLEAVED = ["SC_rgb_jpeg_dcmtk.dcm", "SC_rgb_jpeg_gdcm.dcm", "GDCMJ2K_TextGBR.dcm"]


def _bundled(name: str, planar: int | None) -> tuple[pydicom.Dataset, np.ndarray]:
    ds = pydicom.dcmread(get_testdata_file(name))
    expected = ds.pixel_array  # as published: PlanarConfiguration 0
    assert ds.PlanarConfiguration == 0
    if planar is None:
        del ds.PlanarConfiguration
    else:
        ds.PlanarConfiguration = planar
    return ds, expected


@pytest.mark.parametrize("name", INTERLEAVED)
def test_planar_1_over_a_jpeg_or_jpeg2000_stream_is_read_as_0_and_said(name: str) -> None:
    ds, expected = _bundled(name, 1)
    image = image_from_dataset(ds, name)
    assert np.array_equal(image.stored[0], expected)
    assert image.problems == (ONE,)


@pytest.mark.parametrize("name", [*INTERLEAVED, "SC_rgb_rle.dcm", "SC_rgb_jls_lossy_line.dcm"])
def test_a_missing_one_is_read_as_0_and_said(name: str) -> None:
    ds, expected = _bundled(name, None)
    image = image_from_dataset(ds, name)
    assert np.array_equal(image.stored[0], expected) and image.problems == (MISSING,)


@pytest.mark.parametrize("name", ["SC_rgb_rle.dcm", "SC_rgb_jls_lossy_line.dcm"])
def test_rle_and_jpeg_ls_read_as_before_under_1(name: str) -> None:
    ds, expected = _bundled(name, 1)
    image = image_from_dataset(ds, name)
    assert np.array_equal(image.stored[0], expected) and image.problems == ()


def test_native_colour_without_it_is_still_refused(tmp_path: Path) -> None:
    ds, _ = _bundled("SC_rgb_small_odd.dcm", None)
    with pytest.raises(DicomError, match=r"PlanarConfiguration \(0028,0006\) is missing: colour"):
        image_from_dataset(ds, "odd.dcm")
    ds, _ = _bundled("SC_rgb_jpeg_dcmtk.dcm", 1)
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "j.dcm")
    index = index_folder(tmp_path / "src")  # inspect says it too
    assert not index.problems and index.series[0].first.notes == (ONE,)
