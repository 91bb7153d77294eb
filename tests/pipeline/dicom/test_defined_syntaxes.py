"""Transfer syntaxes DICOM defines but nothing installed decodes: named, refused alike.

JPEG XL (1.2.840.10008.1.2.4.110-112, Supplement 232) and Deflated Image Frame Compression
(1.2.840.10008.1.2.8.1, PS3.5 8.2.16; highdicom writes binary SEGs with it) are newer than
pydicom 3.0's table, so they were refused as "no transfer syntax DICOM defines", the words for
a damaged or private UID. SMPTE ST 2110 video and JPIP Referenced objects (pixel data at a
URL, PS3.5 A.4.6) were listed by ``inspect`` as images while ``convert`` failed in pydicom's
words ("cannot decode transfer syntax ...: Unable to decode the pixel data as a (0002,0010)
'Transfer Syntax UID' value of ... is not supported"), and so were JPEG 2000 Part 2
Multi-component and the MPEG-2, MPEG-4 and HEVC video syntaxes (pydicom knows them and has no
decoder) until 2026-12-03.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import encapsulate

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset
from workflows.convert.batch import ConvertOptions, convert_folder

SC = "1.2.840.10008.5.1.4.1.1.7"
#: Stand-ins of the same padded length, written by pydicom and then replaced in the bytes
#: (pydicom 3.0 refuses to write a transfer syntax it does not know).
_STAND_IN = {22: "1.2.840.10008.1.2.4.50", 24: "1.2.840.10008.1.2.4.100"}


def _padded(uid: str) -> bytes:
    return uid.encode() + b"\0" * (len(uid) % 2)


def _file(folder: Path, name: str, uid: str) -> None:
    stand_in = _STAND_IN[len(_padded(uid))]
    ds = image_dataset(SC, "OT", 2, 4, bits=8, syntax=stand_in)
    ds.PixelData = encapsulate([bytes(range(8))])
    ds.save_as(folder / name, enforce_file_format=True)
    data = (folder / name).read_bytes()
    assert data.count(_padded(stand_in)) == 1
    (folder / name).write_bytes(data.replace(_padded(stand_in), _padded(uid)))


@pytest.mark.parametrize(
    ("uid", "name", "why"),
    [
        ("1.2.840.10008.1.2.4.112", "JPEG XL", "no installed decoder reads it"),
        ("1.2.840.10008.1.2.4.110", "JPEG XL Lossless", "no installed decoder reads it"),
        ("1.2.840.10008.1.2.8.1", "Deflated Image Frame Compression", "no installed decoder"),
        ("1.2.840.10008.1.2.7.1", "SMPTE ST 2110-20 Uncompressed Progressive Active Video",
         "no installed decoder reads it"),
        ("1.2.840.10008.1.2.4.94", "JPIP Referenced", "PixelDataProviderURL (0028,7FE0)"),
        ("1.2.840.10008.1.2.4.92",
         "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
         "no installed decoder reads it (pydicom"),
        ("1.2.840.10008.1.2.4.102", "MPEG-4 AVC/H.264 High Profile / Level 4.1",
         "no installed decoder reads it (pydicom"),
    ],
    ids=["jpeg-xl", "jpeg-xl-lossless", "deflated-frames", "smpte-2110", "jpip", "j2k-part2",
         "mpeg4"],
)  # fmt: skip
def test_defined_syntax_without_decoder_is_named_by_inspect_and_convert(
    tmp_path: Path, uid: str, name: str, why: str
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _file(src, "x.dcm", uid)
    inspected = {p.where: p.reason for p in index_folder(src).problems}
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        converted = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    reason = converted["x.dcm"]
    assert inspected == converted  # the same refusal, not an image for inspect
    assert reason.startswith(f"TransferSyntaxUID (0002,0010) is {name} ({uid}), a transfer "
                             "syntax DICOM defines (PS3.6 Table A-1)")  # fmt: skip
    assert why in reason and "no transfer syntax DICOM defines" not in reason


def test_an_undefined_syntax_is_still_called_so(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _file(src, "x.dcm", "1.2.840.10008.1.2.4.199")  # no such transfer syntax
    (problem,) = index_folder(src).problems
    assert problem.reason == ("TransferSyntaxUID (0002,0010) is no transfer syntax DICOM "
                              "defines (got '1.2.840.10008.1.2.4.199'): no decoder can read "
                              "the pixel data.")  # fmt: skip


def _ge_private(folder: Path, name: str, bits: int, values: list[int], **attrs: object) -> None:
    """GE's private syntax as GDCM's test files hold it: an Implicit VR Little Endian data set
    (and File Meta) under UID 1.2.840.113619.5.2, 16-bit pixel words big-endian."""
    ds = image_dataset(SC, "XA", 2, 2, bits=bits, syntax="1.2.840.10008.1.2")
    ds.PixelData = np.array(values, ">u2" if bits == 16 else "u1").tobytes()
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.save_as(folder / name, enforce_file_format=True)
    data = (folder / name).read_bytes()
    assert data.count(b"1.2.840.10008.1.2\0") == 1  # the same length, 18 bytes
    (folder / name).write_bytes(data.replace(b"1.2.840.10008.1.2\0", b"1.2.840.113619.5.2"))


def test_ge_private_big_endian_pixels_are_read_as_gdcm_reads_them(tmp_path: Path) -> None:
    """dicomParser #107, GDCM's GE_DLX-8-MONO2-PrivateSyntax.dcm: refused as "no transfer
    syntax DICOM defines"; GDCM and fo-dicom read it (16-bit words swapped, 8-bit as is)."""
    src = tmp_path / "src"
    src.mkdir()
    _ge_private(src, "w16.dcm", 16, [1, 256, 1000, 4095])
    _ge_private(src, "w8.dcm", 8, [1, 2, 200, 255])
    _ge_private(src, "rgb.dcm", 8, [1, 2, 3] * 4, SamplesPerPixel=3,
                PhotometricInterpretation="RGB", PlanarConfiguration=0)  # fmt: skip
    inspected = index_folder(src)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        rows = {r["source"]: r for r in csv.DictReader(fh)}
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        errors = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    values = {k: np.load(tmp_path / "out" / r["output"]).ravel().tolist() for k, r in rows.items()}
    assert values == {"w16.dcm": [1, 256, 1000, 4095], "w8.dcm": [1, 2, 200, 255]}
    assert "big-endian 16-bit pixel words, as GDCM reads it" in rows["w16.dcm"]["problems"]
    assert "GE's private Implicit VR Big Endian DLX" in rows["w8.dcm"]["problems"]
    assert errors == {"rgb.dcm": "TransferSyntaxUID (0002,0010) is GE's private Implicit VR Big "
                      "Endian DLX (1.2.840.113619.5.2): only grey images of 8 or 16 bits are "
                      "read in it; got RGB, BitsAllocated 8, SamplesPerPixel 3."}  # fmt: skip
    assert {p.where: p.reason for p in inspected.problems} == errors
