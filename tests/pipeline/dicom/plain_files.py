"""Small Part 10 CT files written with pydicom, for the plain reader's tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, ImplicitVRLittleEndian


def ct_dataset(**changes: object) -> Dataset:
    """A 6x5 CT slice with a realistic header; ``changes`` set (``None``: delete) attributes."""
    ds = Dataset()
    ds.SpecificCharacterSet = "ISO_IR 100"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, "1.2.3.4.5.6"
    ds.AcquisitionTime = "101502.25"
    ds.Modality, ds.SeriesDescription, ds.PatientID = "CT", "Chest 1.0 B30f", "PAT-0001"
    ds.SliceThickness, ds.RepetitionTime = "1.25", "450"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3.4", "1.2.3.4.5"
    ds.SeriesNumber, ds.AcquisitionNumber, ds.InstanceNumber = "3", "1", "12"
    ds.ImagePositionPatient = ["-125.5", "-130", "-87.25"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "0.9961947", "-0.0871557"]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows, ds.Columns = 6, 5
    ds.PixelSpacing = ["0.703125", "0.703125"]
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = ["40", "-600"], ["400", "1500"]
    ds.RescaleIntercept, ds.RescaleSlope = "-1024", "1"
    ds.PixelData = (np.arange(30, dtype="<u2") * 97 % 4096).astype("<u2").tobytes()
    for key, value in changes.items():
        if value is None:
            delattr(ds, key)
        else:
            setattr(ds, key, value)
    return ds


def save(ds: Dataset, path: Path, syntax: str = ExplicitVRLittleEndian) -> Path:
    """``ds`` written as a Part 10 file (File Meta from its SOP values) at ``path``."""
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = syntax
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True, implicit_vr=syntax == ImplicitVRLittleEndian)
    return path


def nothing_kept() -> Iterator[None]:
    """For an autouse fixture: nothing kept before and after; both shortcuts on after."""
    from pipeline.dicom import plain, plain_memo

    plain_memo.clear()
    yield
    plain.ENABLED = plain_memo.ENABLED = True
    plain_memo.clear()


def read_all(paths: list[Path], *, fast: bool) -> list[Any]:
    """``read_header`` of each path with the plain reader and kept results on or off."""
    from pipeline.dicom import plain, plain_memo
    from pipeline.dicom.header import read_header

    plain.ENABLED = plain_memo.ENABLED = fast
    plain_memo.clear()
    try:
        return [read_header(p, p.parent) for p in paths]
    finally:
        plain.ENABLED = plain_memo.ENABLED = True


def counted(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    """Count the calls of ``module.name`` (one item per call) for the rest of the test."""
    calls: list[int] = []
    original = getattr(module, name)

    def counting(*args: Any) -> Any:
        calls.append(1)
        return original(*args)

    monkeypatch.setattr(module, name, counting)
    return calls
