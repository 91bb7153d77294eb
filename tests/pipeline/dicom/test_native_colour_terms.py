"""Colour terms outside a codestream that nothing turns into RGB (PS3.3 C.7.6.3.1.2).

pydicom converts only YBR_FULL and YBR_FULL_422 to RGB; the samples of an uncompressed (or
RLE) HSV, YBR_PARTIAL_422 or YBR_PARTIAL_420 image came back as stored and were written as
RGB: a red pixel in partial-range YCbCr, (Y, Cb, Cr) = (81, 90, 240) by ITU-R BT.601
(Y = 16 + 219 * 0.299, Cb = 128 - 112 * 0.299 / 0.886, Cr = 128 + 112), came out as the
colour (81, 90, 240), unsaid. Now refused, by ``inspect`` and ``convert`` alike. YBR_ICT /
YBR_RCT name a JPEG 2000 stream's transform (PS3.5 8.2.4), which its decoder undoes: outside
one, the samples are a decompressed stream's RGB, read so and noted.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import ExplicitVRLittleEndian, JPEG2000Lossless, JPEGLSLossless, RLELossless

from pipeline.dicom.index import index_folder
from pipeline.dicom.read import read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset

SC = "1.2.840.10008.5.1.4.1.1.7"
RED_PARTIAL = [81, 90, 240]


def _save(folder: Path, name: str, term: str, samples: list[int], syntax: str) -> Path:
    ds = image_dataset(SC, "OT", 2, 2, bits=8, samples=3, photometric=term, syntax=syntax)
    ds.PlanarConfiguration = 0
    if syntax == RLELossless:
        ds.PhotometricInterpretation = "RGB"  # pydicom encodes RGB/YBR_FULL only
        ds.compress(RLELossless, np.array(samples * 4, np.uint8).reshape(2, 2, 3))
        ds.PhotometricInterpretation = term
    else:
        ds.PixelData = bytes(samples * 4)
    path = folder / f"{name}.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("term", ["YBR_PARTIAL_422", "YBR_PARTIAL_420", "HSV"])
@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, RLELossless], ids=["native", "rle"])
def test_colour_no_decoder_converts_is_refused_by_read_and_index(
    tmp_path: Path, term: str, syntax: str
) -> None:
    _save(tmp_path, "colour", term, RED_PARTIAL, syntax)
    with pytest.raises(DicomError, match=f"{term} in (uncompressed|RLE) pixel data is not read"):
        read_instance(tmp_path / "colour.dcm", "colour.dcm")
    index = index_folder(tmp_path)
    assert [p.where for p in index.problems] == ["colour.dcm"]
    assert f"{term} in" in index.problems[0].reason and not index.series


def test_subsampled_partial_422_is_refused_for_its_term_not_its_length(tmp_path: Path) -> None:
    ds = image_dataset(SC, "OT", 2, 2, bits=8, samples=3, photometric="YBR_PARTIAL_422")
    ds.PlanarConfiguration = 0
    ds.PixelData = bytes([81, 81, 90, 240] * 2)  # 4:2:2: two luma samples share Cb, Cr
    ds.save_as(tmp_path / "sub.dcm", enforce_file_format=True)
    with pytest.raises(DicomError, match="YBR_PARTIAL_422 in uncompressed") as err:
        read_instance(tmp_path / "sub.dcm", "sub.dcm")
    assert "truncated" not in str(err.value)  # was: "needs 12 bytes (truncated file ...)"


@pytest.mark.parametrize("term", ["YBR_ICT", "YBR_RCT"])
def test_uncompressed_ict_rct_samples_are_read_as_rgb_and_noted(tmp_path: Path, term: str) -> None:
    _save(tmp_path, "j2k_out", term, [200, 30, 30], ExplicitVRLittleEndian)
    image = read_instance(tmp_path / "j2k_out.dcm", "j2k_out.dcm")
    assert image.stored.reshape(-1, 3).tolist() == [[200, 30, 30]] * 4
    assert any(f"{term} outside a JPEG 2000 stream" in p for p in image.problems)


def test_ybr_full_is_still_converted_without_a_note(tmp_path: Path) -> None:
    # BT.601 full range: red (254, 0, 0) is (Y, Cb, Cr) = (76, 85, 255) (pydicom agrees)
    _save(tmp_path, "full", "YBR_FULL", [76, 85, 255], ExplicitVRLittleEndian)
    image = read_instance(tmp_path / "full.dcm", "full.dcm")
    assert image.stored.reshape(-1, 3)[0].tolist() == [254, 0, 0]
    assert not image.problems


@pytest.mark.parametrize(
    ("bits", "ybr", "rgb"),
    [(8, [76, 85, 255], [254, 0, 0]), (12, [1215, 1362, 4080], [4064, 0, 0])],
    ids=["8-bit", "12-bit"],
)
def test_rle_ybr_full_422_is_read_as_ybr_full_and_noted(
    tmp_path: Path, bits: int, ybr: list[int], rgb: list[int]
) -> None:
    """PS3.5 G.2: RLE holds one segment per sample, each Rows x Columns: nothing subsampled,
    so a YBR_FULL_422 term over it is wrong. Read as YBR_FULL (pydicom, dcm2niix and GDCM do),
    as before, but said now. Red by BT.601 full range, centred on 2**(bits - 1): 12 bits give
    Y = .299 * 4064 = 1215, Cb = -.1687 * 4064 + 2048 = 1362, Cr = .5 * 4064 + 2048 = 4080."""
    wide = bits > 8
    ds = image_dataset(SC, "OT", 2, 2, bits=16 if wide else 8, stored=bits, samples=3,
                       photometric="RGB", syntax=RLELossless)  # fmt: skip
    ds.PlanarConfiguration = 0  # pydicom encodes RGB only at 16 bits
    ds.compress(RLELossless, np.array(ybr * 4, np.uint16 if wide else np.uint8).reshape(2, 2, 3))
    ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.save_as(tmp_path / "rle.dcm", enforce_file_format=True)
    note = (
        "PhotometricInterpretation (0028,0004) is YBR_FULL_422, but RLE Lossless holds every "
        "sample of every pixel, one segment per sample (PS3.5 G.2): nothing is subsampled, so "
        "the term is wrong: read as YBR_FULL (as pydicom, dcm2niix and GDCM read it) and "
        "converted to RGB"
    )
    image = read_instance(tmp_path / "rle.dcm", "rle.dcm")
    assert image.stored.reshape(-1, 3).tolist() == [rgb] * 4
    assert note in image.problems
    assert [p.reason for p in index_folder(tmp_path).all_problems()] == [f"note: {note}"]


def _stream(folder: Path, term: str, syntax: str) -> Path:
    """32 x 32 partial-range red (openjpeg's least size) in ``syntax``, under ``term``."""
    ds = image_dataset(SC, "OT", 32, 32, bits=8, samples=3, photometric="RGB", syntax=syntax)
    ds.PlanarConfiguration = 0  # pydicom encodes RGB only: the samples are the same bytes
    ds.compress(syntax, np.resize(np.array(RED_PARTIAL, np.uint8), (32, 32, 3)))
    ds.PhotometricInterpretation = term
    ds.save_as(folder / "colour.dcm", enforce_file_format=True)
    return folder / "colour.dcm"


@pytest.mark.parametrize("term", ["YBR_PARTIAL_422", "YBR_PARTIAL_420", "HSV"])
@pytest.mark.parametrize(
    ("syntax", "name"),
    [(JPEGLSLossless, "JPEG-LS Lossless Image Compression"),
     (JPEG2000Lossless, "JPEG 2000 Image Compression (Lossless Only)")],
    ids=["jpeg-ls", "j2k"],
)  # fmt: skip
def test_colour_no_decoder_converts_in_a_lossless_stream_is_refused(
    tmp_path: Path, term: str, syntax: str, name: str
) -> None:
    """The decoders give such samples as stored: (81, 90, 240) was written as that colour."""
    _stream(tmp_path, term, syntax)
    said = f"PhotometricInterpretation (0028,0004) {term} in {name} pixel data is not read"
    with pytest.raises(DicomError, match=re.escape(said)):
        read_instance(tmp_path / "colour.dcm", "colour.dcm")
    index = index_folder(tmp_path)
    assert [p.where for p in index.problems] == ["colour.dcm"]
    assert said in index.problems[0].reason and not index.series


@pytest.mark.parametrize("term", ["YBR_ICT", "YBR_RCT"])
def test_ict_rct_in_jpeg_ls_are_read_as_rgb_and_noted(tmp_path: Path, term: str) -> None:
    image = read_instance(_stream(tmp_path, term, JPEGLSLossless), "colour.dcm")
    assert image.stored.reshape(-1, 3)[0].tolist() == RED_PARTIAL
    assert any(f"{term} outside a JPEG 2000 stream" in p for p in image.problems)
