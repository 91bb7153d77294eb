"""A data set in the other byte order than its File Meta's TransferSyntaxUID says (a meta copied
from elsewhere, or converted alone): pydicom read (0008,0005) as (0800,0500) and radpipe
refused the file as "truncated or incomplete file: the data set ends at (0800,1600)", which
pointed at the file's end. Now it is read in its data's byte order and noted.

Expected values by hand: stored 10 k (k = 0..15) with RescaleIntercept -1024 are -1024 + 10 k.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

CT = "1.2.840.10008.5.1.4.1.1.2"
EXPECTED = -1024.0 + 10 * np.arange(16).reshape(4, 4)


def _mislabelled(path: Path, written: str, said: str) -> Path:
    """A CT slice whose data set is encoded in ``written`` and whose File Meta says ``said``."""
    ds = image_dataset(CT, "CT", 4, 4, signed=True, syntax=said)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    little = written != ExplicitVRBigEndian
    ds.PixelData = (np.arange(16) * 10).astype("<i2" if little else ">i2").tobytes()
    meta = DicomBytesIO()
    meta.is_little_endian, meta.is_implicit_VR = True, False
    write_file_meta_info(meta, ds.file_meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = little, written == ImplicitVRLittleEndian
    write_dataset(body, ds)
    path.write_bytes(bytes(128) + b"DICM" + meta.getvalue() + body.getvalue())
    return path


@pytest.mark.parametrize(
    ("written", "said", "note"),
    [
        (ExplicitVRLittleEndian, ExplicitVRBigEndian,
         "TransferSyntaxUID (0002,0010) is Explicit VR Big Endian but the data set is little "
         "endian (its first group, 0008, reads 0800 the other way): read as little endian "
         "(Explicit VR Little Endian)"),
        (ExplicitVRBigEndian, ExplicitVRLittleEndian,
         "TransferSyntaxUID (0002,0010) is Explicit VR Little Endian but the data set is big "
         "endian (its first group, 0008, reads 0800 the other way): read as big endian "
         "(Explicit VR Big Endian)"),
        (ExplicitVRBigEndian, ImplicitVRLittleEndian,
         "TransferSyntaxUID (0002,0010) is Implicit VR Little Endian but the data set is big "
         "endian (its first group, 0008, reads 0800 the other way): read as big endian "
         "(Explicit VR Big Endian)"),
        (ImplicitVRLittleEndian, ExplicitVRBigEndian,
         "TransferSyntaxUID (0002,0010) is Explicit VR Big Endian but the data set is little "
         "endian (its first group, 0008, reads 0800 the other way): read as little endian "
         "(Implicit VR Little Endian)"),
    ],
    ids=["le-said-be", "be-said-le", "be-said-implicit", "implicit-said-be"],
)  # fmt: skip
def test_data_set_is_read_in_its_own_byte_order(
    tmp_path: Path, written: str, said: str, note: str
) -> None:
    image = read_instance(_mislabelled(tmp_path / "a.dcm", written, said), "a.dcm")
    assert np.array_equal(image.modality(0), EXPECTED)
    assert image.problems[0] == note


def test_convert_writes_it_with_the_note_not_a_truncation(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _mislabelled(src / "a.dcm", ExplicitVRLittleEndian, ExplicitVRBigEndian)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert np.array_equal(np.load(out / row["output"]), EXPECTED)
    assert row["problems"].startswith("TransferSyntaxUID (0002,0010) is Explicit VR Big Endian")
    assert "truncated" not in row["problems"]


def test_agreeing_files_are_read_as_said(tmp_path: Path) -> None:
    for syntax in (ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian):
        image = read_instance(_mislabelled(tmp_path / "a.dcm", syntax, syntax), "a.dcm")
        assert np.array_equal(image.modality(0), EXPECTED) and image.problems == ()
