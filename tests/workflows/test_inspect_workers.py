"""``inspect --workers N``: headers read in chunks that grow, the same index as one process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.dicom.index import index_folder
from workflows.convert.pool import HEADER_CHUNK, _chunks, header_mapper


def test_chunks_double_up_to_the_largest() -> None:
    # 16 + 32 + 64 + 128 = 240 tasks, then 128 each, the rest last: worked out by hand
    assert [len(c) for c in _chunks(range(600), 16, 128)] == [16, 32, 64, 128, 128, 128, 104]
    assert [len(c) for c in _chunks(range(40), 16)] == [16, 16, 8]  # no largest: fixed
    assert [len(c) for c in _chunks(range(5), 16, 128)] == [5]
    assert [x for c in _chunks(range(300), 1, 7) for x in c] == list(range(300))  # in order


def _ct(path: Path, series: int, z: int, implicit: bool) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"1.2.3.{series}.{z}"
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.2.3", f"1.2.3.{series}"
    ds.Modality, ds.Rows, ds.Columns, ds.InstanceNumber = "CT", 4, 4, z + 1
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 2 * z]
    ds.PixelSpacing, ds.SliceThickness = [1, 1], 2.0
    ds.PixelData = np.full((4, 4), z, dtype="<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)


def test_workers_give_the_index_of_one_process(tmp_path: Path) -> None:
    """300 files of 3 interleaved series (past the largest chunk), one implicit-VR series
    (read by pydicom, not the plain reader), a file that is no DICOM amid them."""
    series, per = 3, 100
    names = {}
    for k in range(series * per):
        s, z = k % series, k // series
        names[(s, z)] = f"{(k * 7919) % 1000:04d}.dcm"  # shuffled: series interleave
        _ct(tmp_path / names[(s, z)], s, z, implicit=s == 2)
    (tmp_path / "0500.txt").write_text("not DICOM")
    assert series * per > 16 + 32 + 64 + HEADER_CHUNK  # the largest chunk was sent, and more
    one = index_folder(tmp_path)
    two = index_folder(tmp_path, mapper=header_mapper(tmp_path, 2))
    assert two.to_dict() == one.to_dict()
    assert list(two.rows()) == list(one.rows())
    assert two.files_scanned == one.files_scanned == series * per + 1
    for s in two.series:  # each series in slice order, 2 mm apart (as written)
        z = int(s.uid.rsplit(".", 1)[1])
        assert [i.path for i in s.instances] == [names[(z, k)] for k in range(per)]
        assert s.spacing == 2.0
    assert [p.where for p in two.problems] == ["0500.txt"]
    assert two.problems[0].reason.startswith("not a DICOM file")
