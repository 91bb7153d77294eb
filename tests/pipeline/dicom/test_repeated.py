"""A tag written twice in a header: pydicom keeps the last copy, dcmtk the first; radpipe read
it as pydicom does without a word (found by ``benchmarks/fuzz_oracle.py``'s duplicate
mutation). The expected values are the stored values plus the last intercept, by hand.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import CTImageStorage, ImplicitVRLittleEndian

from pipeline.dicom.files import read_dataset
from pipeline.dicom.index import index_folder
from pipeline.dicom.repeated import repeated_elements
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

STORED = [0, 1, 2, 3]


def _ct_bytes(syntax: str = "1.2.840.10008.1.2.1") -> bytes:
    ds = image_dataset(CTImageStorage, "CT", 2, 2, signed=True, syntax=syntax)
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0, 0, 0], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [1, 1], "1", "0"
    ds.PixelData = np.array(STORED, "<i2").tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def _twice(data: bytes, head: bytes, copy: bytes) -> bytes:
    """``copy`` (a whole element) written right after the element whose first bytes are
    ``head``."""
    at = data.index(head, 132)
    explicit = head[4:6].isalpha()
    length = int.from_bytes(data[at + 6 : at + 8] if explicit else data[at + 4 : at + 8], "little")
    end = at + 8 + length
    return data[:end] + copy + data[end:]


def _explicit_intercept_twice() -> bytes:
    # RescaleIntercept (0028,1052) DS "0 " then "-1024 "
    return _twice(_ct_bytes(), b"\x28\x00\x52\x10DS", b"\x28\x00\x52\x10DS\x06\x00-1024 ")


def test_the_last_copy_is_read_and_said(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "ct.dcm").write_bytes(_explicit_intercept_twice())
    assert float(pydicom.dcmread(src / "ct.dcm").RescaleIntercept) == -1024  # pydicom: the last
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert np.load(out / row["output"]).ravel().tolist() == [-1024, -1023, -1022, -1021]
    said = ("RescaleIntercept (0028,1052) is written twice in the header ('0', then '-1024'): "
            "the last is read, as pydicom reads it (dcmtk keeps the first)")  # fmt: skip
    assert said in row["problems"].split("; ")
    index = index_folder(src)  # inspect says it too
    assert said in {n for s in index.series for i in s.instances for n in i.notes}


def test_implicit_vr_binary_values_are_shown(tmp_path: Path) -> None:
    # Rows (0028,0010) US 2 written twice, in an Implicit VR header: 4-byte lengths
    data = _ct_bytes(ImplicitVRLittleEndian)
    copy = b"\x28\x00\x10\x00\x02\x00\x00\x00\x02\x00"
    path = tmp_path / "ct.dcm"
    path.write_bytes(_twice(data, b"\x28\x00\x10\x00\x02\x00\x00\x00", copy))
    ds = read_dataset(path, "ct.dcm")
    assert repeated_elements(ds, path) == [
        "Rows (0028,0010) is written twice in the header (2, then 2): the last is read, as "
        "pydicom reads it (dcmtk keeps the first)"
    ]


@pytest.mark.parametrize("syntax", ["1.2.840.10008.1.2.1", "1.2.840.10008.1.2"])
def test_a_clean_header_says_nothing(tmp_path: Path, syntax: str) -> None:
    path = tmp_path / "ct.dcm"
    path.write_bytes(_ct_bytes(syntax))
    ds = read_dataset(path, "ct.dcm")
    assert repeated_elements(ds, path) == []
    assert not any("written twice" in n for n in getattr(ds, "radpipe_notes", []))
