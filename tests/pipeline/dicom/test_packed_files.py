"""A DICOM file gzipped (``.dcm.gz``, as some archives export) or zipped in the folder was
listed as "not a DICOM file", which sends the user looking for a broken file: the message now
says it is a compressed file or archive that radpipe does not read inside."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np

from pipeline.dicom import index_folder
from tests.pipeline.dicom.builders import image_dataset


def _dicom_bytes(tmp_path: Path) -> bytes:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 2, 2, bits=8, patient="P")
    ds.PixelData = np.arange(4, dtype=np.uint8).tobytes()
    path = tmp_path / "plain.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path.read_bytes()


def test_gzipped_and_zipped_dicom_are_named_as_archives(tmp_path: Path) -> None:
    data = _dicom_bytes(tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.dcm.gz").write_bytes(gzip.compress(data))
    with zipfile.ZipFile(src / "b.zip", "w") as z:
        z.writestr("b.dcm", data)
    (src / "c.txt").write_text("hello\n")
    problems = {p.where: p.reason for p in index_folder(src).problems}
    assert problems["a.dcm.gz"].endswith(
        ": a gzip archive or compressed file, not read inside; unpack it first"
    )
    assert "a ZIP archive" in problems["b.zip"]
    assert problems["c.txt"] == "not a DICOM file (no DICM prefix, no DICOM header)"
