"""A data set without File Meta in Implicit VR Big Endian (ACR-NEMA byte order) is read.

pydicom guesses a bare data set's encoding among DICOM's three and read such a file as
garbage; radpipe said "not a DICOM file (no DICM prefix, no DICOM header)" and ``inspect``
listed it unusable. GDCM (ImplicitVRBigEndianACRNEMA) and dcmtk (EXS_BigEndianImplicit) read
it. Expected values by hand from the stored values written.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset
from pydicom.uid import CTImageStorage

from pipeline.dicom.byte_order import IMPLICIT_BIG_ENDIAN, implicit_big_endian
from pipeline.dicom.files import read_dataset
from tests.pipeline.dicom.builders import convert_one, image_dataset

STORED = np.array([[0, 100], [1000, 2000]])


def _bare(path: Path, *, implicit: bool) -> Path:
    """A 2 x 2 CT (intercept -1024), big-endian, no preamble, no File Meta."""
    ds = image_dataset(CTImageStorage, "CT", 2, 2)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.WindowCenter, ds.WindowWidth = 0, 2001
    ds.PixelData = STORED.astype(">u2").tobytes()
    del ds.file_meta
    fp = DicomBytesIO()
    fp.is_little_endian, fp.is_implicit_VR = False, implicit
    write_dataset(fp, ds)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(fp.getvalue())
    return path


def test_it_is_converted_with_a_note(tmp_path: Path) -> None:
    src = _bare(tmp_path / "src" / "IM0001", implicit=True).parent
    row, hu = convert_one(src, tmp_path / "npy", "--format", "npy")
    np.testing.assert_array_equal(hu, STORED - 1024)
    assert IMPLICIT_BIG_ENDIAN in row["problems"]
    row, grey = convert_one(src, tmp_path / "png", "--format", "png")
    # LINEAR window 0, 2001 (PS3.3 C.11.2.1.2): (HU + 0.5) / 2000 + 0.5, clipped
    by_hand = np.clip((STORED - 1024 + 0.5) / 2000 + 0.5, 0, 1)
    np.testing.assert_array_equal(grey, np.rint(by_hand * 255))


def test_inspect_reads_it(tmp_path: Path) -> None:
    path = _bare(tmp_path / "IM0001", implicit=True)
    ds = read_dataset(path, "IM0001")
    assert ds.Modality == "CT" and ds.Rows == 2  # a data set, not a Problem
    assert ds.radpipe_notes == [IMPLICIT_BIG_ENDIAN]


def test_other_heads_are_not_taken_for_it(tmp_path: Path) -> None:
    explicit = _bare(tmp_path / "explicit", implicit=False).read_bytes()
    assert not implicit_big_endian(explicit[:2048])  # read as Explicit VR Big Endian already
    little = b"\x08\x00\x00\x00\x04\x00\x00\x00" + bytes(8)
    assert not implicit_big_endian(little)
    text = tmp_path / "notes.txt"
    text.write_bytes(b"\x00\x08\x00\x00\x00\x00\x00\x04not dicom at all")
    assert "not a DICOM file" in read_dataset(text, "notes.txt").reason
