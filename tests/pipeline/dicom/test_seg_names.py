"""A DICOM SEG written by ``radpipe predict`` quotes no source person name in a warning."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pipeline.dicom.seg import write_segmentations

US_IMAGE = "1.2.840.10008.5.1.4.1.1.6.1"


def _us_image(path: Path) -> None:
    ds = Dataset()
    ds.PatientID, ds.PatientName = "P1", "ROEJANE"  # one component: highdicom's advice
    ds.ReferringPhysicianName = "HOUSEGREG"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.SOPInstanceUID, ds.SOPClassUID = generate_uid(), US_IMAGE
    ds.Modality, ds.SeriesNumber, ds.InstanceNumber = "US", 1, 1
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 6, 8, 1
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit, ds.PixelRepresentation = 7, 0
    ds.PixelData = np.zeros((6, 8), np.uint8).tobytes()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = US_IMAGE
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)


def test_seg_of_a_one_component_name_warns_nothing_that_names_the_patient(
    tmp_path: Path,
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _us_image(src / "a.dcm")
    row = {"patient_key": "pk", "series_key": "sk", "instance_key": "ik", "num_slices": "1",
           "frame": "0", "slice_index": "0", "source": "a.dcm"}  # fmt: skip
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 3:6] = 1
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        written = write_segmentations(tmp_path / "seg", src, [(row, mask)], ["bg", "head"])
    said = [str(w.message) for w in caught]
    assert not [m for m in said if "ROEJANE" in m or "HOUSEGREG" in m], said
    assert written == [tmp_path / "seg" / "pk" / "sk.dcm"]
    seg = pydicom.dcmread(written[0])
    assert str(seg.PatientName) == "ROEJANE"  # the SEG itself carries it, as the standard asks
    assert int(seg.NumberOfFrames) == 1
