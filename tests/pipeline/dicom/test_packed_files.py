"""A DICOM file gzipped (``.dcm.gz``, as some archives export) or zipped in the folder was
listed as "not a DICOM file", which sends the user looking for a broken file: the message now
says it is a compressed file or archive that radpipe does not read inside."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pipeline.dicom import index_folder


def _dicom_bytes(tmp_path: Path) -> bytes:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P", generate_uid(), generate_uid()
    ds.Modality, ds.Rows, ds.Columns = "OT", 2, 2
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
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
