"""Pixel data whose encoding contradicts the File Meta's TransferSyntaxUID.

A header rewritten without its pixel data (a router or de-identifier setting Explicit VR
Little Endian over JPEG fragments; a script decompressing the pixels but keeping the JPEG
syntax: pydicom #238, #1942, dicomParser #59) was read by the syntax alone: encapsulated
fragments became an image of item tags and codestream bytes, noted only as "pixel data
longer than the header needs", and native pixels under a compressed syntax were refused
as malformed items. Expected values are pydicom's decoding of the correctly labelled file.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate, generate_frames
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian, RLELossless

from pipeline.dicom import read_instance
from pipeline.dicom.index import index_folder
from pipeline.dicom.pixel_encoding import stream_syntax
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset

CT = "1.2.840.10008.5.1.4.1.1.2"


def _write(path: Path, ds: pydicom.Dataset, syntax: str, *, implicit: bool = False) -> Path:
    """Save ``ds`` as it is, under File Meta saying ``syntax`` (pydicom would not)."""
    ds.file_meta.TransferSyntaxUID = syntax
    meta = DicomBytesIO()
    meta.is_little_endian, meta.is_implicit_VR = True, False
    write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, implicit
    plain = pydicom.Dataset()
    plain.update(ds)
    write_dataset(body, plain)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"\0" * 128 + b"DICM" + meta.getvalue() + body.getvalue())
    return path


def _relabelled(tmp_path: Path, name: str, *, undefined: bool, implicit: bool) -> Path:
    """A bundled compressed file whose File Meta was rewritten to a native syntax."""
    ds = pydicom.dcmread(get_testdata_file(name))
    ds["PixelData"].is_undefined_length = undefined
    ds.SeriesInstanceUID = ds.get("SeriesInstanceUID") or "1.2.3.4"  # JPEGLSNearLossless lacks it
    syntax = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    return _write(tmp_path / "src" / "x.dcm", ds, syntax, implicit=implicit)


@pytest.mark.parametrize(
    ("name", "undefined", "implicit"),
    [
        ("MR_small_RLE.dcm", True, False),
        ("MR_small_jpeg_ls_lossless.dcm", True, True),
        ("MR_small_jp2klossless.dcm", False, False),
        ("JPEGLSNearLossless_16.dcm", False, True),
    ],
    ids=["rle-undefined", "jpeg-ls-implicit", "j2k-defined-length", "jpeg-ls-near-implicit"],
)
def test_encapsulated_pixels_under_a_native_syntax_are_decoded_as_their_stream(
    tmp_path: Path, name: str, undefined: bool, implicit: bool
) -> None:
    original = pydicom.dcmread(get_testdata_file(name))
    want = original.pixel_array.reshape(-1, original.Rows, original.Columns)
    path = _relabelled(tmp_path, name, undefined=undefined, implicit=implicit)
    image = read_instance(path, "x.dcm")
    np.testing.assert_array_equal(image.stored, want)
    uid = original.file_meta.TransferSyntaxUID
    (note,) = [p for p in image.problems if "is encapsulated" in p]
    assert note.startswith("TransferSyntaxUID (0002,0010) says ")
    assert f"read as {uid.name} ({uid})" in note
    index = index_folder(tmp_path / "src")  # inspect: an image, with the same note
    (series,) = index.series
    assert not index.problems and note in series.first.notes
    assert series.first.transfer_syntax == uid


def test_encapsulated_pixels_of_no_known_stream_are_refused_by_name(tmp_path: Path) -> None:
    ds = image_dataset(CT, "CT", 4, 4)
    ds.PixelData = encapsulate([b"not a codestream" * 2])
    ds["PixelData"].is_undefined_length = True
    path = _write(tmp_path / "src" / "x.dcm", ds, ExplicitVRLittleEndian)
    with pytest.raises(DicomError, match=r"is encapsulated .* no JPEG, JPEG-LS, JPEG 2000 or RLE"):
        read_instance(path, "x.dcm")
    (problem,) = index_folder(tmp_path / "src").problems
    assert "the File Meta does not describe the pixel data" in problem.reason


def test_native_pixels_under_a_compressed_syntax_are_read_as_native(tmp_path: Path) -> None:
    ds = image_dataset(CT, "CT", 3, 5)  # 30 bytes: an odd number of pixels is fine
    pixels = np.arange(15, dtype=np.uint16).reshape(3, 5) * 100
    ds.PixelData = pixels.tobytes()
    path = _write(tmp_path / "src" / "x.dcm", ds, RLELossless)
    image = read_instance(path, "x.dcm")
    np.testing.assert_array_equal(image.stored[0], pixels)
    assert any("is not encapsulated (a defined length of 30 bytes" in p and
               "read as Explicit VR Little Endian" in p for p in image.problems)  # fmt: skip
    ds.PixelData = pixels.tobytes()[:20]  # neither items nor the uncompressed image
    path = _write(tmp_path / "src" / "x.dcm", ds, RLELossless)
    with pytest.raises(DicomError, match="not the 30 bytes of the header's uncompressed image"):
        read_instance(path, "x.dcm")


@pytest.mark.parametrize(
    ("name", "uid"),
    [
        ("SC_rgb_jpeg_dcmtk.dcm", "1.2.840.10008.1.2.4.50"),
        ("JPGExtended.dcm", "1.2.840.10008.1.2.4.51"),
        ("SC_rgb_jpeg_gdcm.dcm", "1.2.840.10008.1.2.4.57"),  # .70 (SV1): decoded as .57 is
        ("MR_small_jpeg_ls_lossless.dcm", "1.2.840.10008.1.2.4.80"),
        ("JPEGLSNearLossless_08.dcm", "1.2.840.10008.1.2.4.81"),
        ("MR_small_jp2klossless.dcm", "1.2.840.10008.1.2.4.90"),
        ("JPEG2000.dcm", "1.2.840.10008.1.2.4.91"),
        ("SC_rgb_rle.dcm", "1.2.840.10008.1.2.5"),
    ],
    ids=["baseline", "extended", "lossless", "jls", "jls-near", "j2k-lossless", "j2k", "rle"],
)
def test_stream_syntax_names_what_each_bundled_file_says(name: str, uid: str) -> None:
    ds = pydicom.dcmread(get_testdata_file(name))
    first = next(generate_frames(ds.PixelData, number_of_frames=ds.get("NumberOfFrames", 1)))
    assert stream_syntax(first) == uid
    assert stream_syntax(bytes(64)) is None and stream_syntax(b"\xff\xd8\xff\xd9") is None
