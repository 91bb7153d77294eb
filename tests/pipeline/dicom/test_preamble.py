"""A 'DICM' prefix that is not where it seems (dcm4che #981).

pydicom takes bytes 128-131 spelling 'DICM' for the Part 10 prefix. A data set written
without preamble (which radpipe reads, noted) whose own bytes there spell it, inside a value,
was read as a preamble and a File Meta that is not one, and refused as a truncated file; a
file with the prefix at offset 0 and no preamble before it was refused as "not a DICOM
file (no DICM prefix ...)". Expected values are the pixels written.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset

from pipeline.dicom import read_instance
from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset

CT = "1.2.840.10008.5.1.4.1.1.2"
PIXELS = np.arange(12, dtype=np.uint16).reshape(3, 4) * 7


def _dataset() -> pydicom.Dataset:
    ds = image_dataset(CT, "CT", 3, 4)
    ds.PixelData = PIXELS.tobytes()
    return ds


def _check(src: Path, said: str) -> None:
    image = read_instance(src / "x.dcm", "x.dcm")
    np.testing.assert_array_equal(image.stored[0], PIXELS)
    assert any(said in p for p in image.problems)
    index = index_folder(src)  # inspect: an image, with the same note
    (series,) = index.series
    assert not index.problems and any(said in n for n in series.first.notes)


def test_dicm_inside_a_data_set_without_preamble_is_no_prefix(tmp_path: Path) -> None:
    ds = _dataset()
    # (0008,0008) comes first: its 8-byte implicit header, then 17 + 103 characters, so the
    # value's 'DICM' lands at bytes 128-131 of the file (any value there would do)
    with warnings.catch_warnings():  # a CS value longer than 16 characters: pydicom warns
        warnings.simplefilter("ignore")
        ds.ImageType = ["ORIGINAL", "PRIMARY", "X" * 103 + "DICM" + "Z"]
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, True
    plain = pydicom.Dataset()
    plain.update(ds)
    write_dataset(body, plain)
    data = body.getvalue()
    assert data[128:132] == b"DICM" and data[:4] == b"\x08\x00\x08\x00"
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.dcm").write_bytes(data)
    _check(tmp_path / "src", "bytes 128-131 of the data set spell 'DICM' (a value")


def test_prefix_at_offset_zero_without_preamble_is_read(tmp_path: Path) -> None:
    full = tmp_path / "full.dcm"
    _dataset().save_as(full, enforce_file_format=True)
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "x.dcm").write_bytes(full.read_bytes()[128:])  # 'DICM' first
    _check(tmp_path / "src", "the 'DICM' prefix is at offset 0, without the 128-byte preamble")
