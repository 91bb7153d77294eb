"""Legacy Converted Enhanced objects and Enhanced MR timing: per-frame values outside the
functional groups radpipe read.

A Legacy Converted Enhanced MR/CT image (PS3.3 A.70-A.72; what highdicom and the Imaging
Data Commons make of classic series, OHIF #2193, highdicom PR #388) keeps each source
image's EchoTime, EchoNumbers, InstanceNumber or ConvolutionKernel in its Unassigned
Per-frame Converted Attributes group. They were read at the top level only (absent), so
co-located frames were ranked by their order in the file: each echo's volume took the other
echo's slice where the file stored the second echo first. The files are made by highdicom's
converter from classic slices; the expected volumes are the classic slices' values.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups
from workflows.cli import main

_STUDY = {"PatientName": "Doe^J", "PatientBirthDate": "", "PatientSex": "O",
          "StudyDate": "20200101", "StudyTime": "120000", "AccessionNumber": "",
          "ReferringPhysicianName": "", "StudyID": "1", "SeriesNumber": 1,
          "Manufacturer": "X", "ContentDate": "20200101", "ContentTime": "120000",
          "PositionReferenceIndicator": "", "PatientPosition": "HFS", "Laterality": "",
          "AcquisitionNumber": 1, "SliceThickness": 2.0, "PixelSpacing": [1.0, 1.0],
          "ImageOrientationPatient": [1, 0, 0, 0, 1, 0]}  # fmt: skip


def _classic(sop_class: str, modality: str, s: int, value: int, **attrs: object) -> Dataset:
    """A classic slice at z = 2 s mm holding ``value``, with what highdicom needs."""
    ds = image_dataset(sop_class, modality, 4, 4)
    for key, found in {**_STUDY, **attrs}.items():
        setattr(ds, key, found)
    ds.ImagePositionPatient = [0.0, 0.0, 2.0 * s]
    ds.PixelData = np.full((4, 4), value, "<u2").tobytes()
    return ds


def _legacy(kind: str, tmp_path: Path) -> None:
    """SRC/legacy.dcm: 3 slices x 2 echoes (MR) or kernels (CT), slice s of volume v holding
    100 (v + 1) + s; at slice 1 the second volume's image is numbered (and stored) first."""
    from highdicom.legacy import LegacyConvertedEnhancedCTImage, LegacyConvertedEnhancedMRImage

    uids = {"StudyInstanceUID": generate_uid(), "SeriesInstanceUID": generate_uid(),
            "FrameOfReferenceUID": generate_uid()}  # fmt: skip
    slices = []
    for s in range(3):
        for v in range(2):
            number = 2 * s + (2 - v if s == 1 else v + 1)
            if kind == "mr":
                attrs = {"EchoTime": 5.0 + 7 * v, "EchoNumbers": v + 1, "RepetitionTime": 100.0,
                         "ScanningSequence": "GR", "SequenceVariant": "NONE", "ScanOptions": "",
                         "MRAcquisitionType": "2D", "EchoTrainLength": 1,
                         "ImageType": ["ORIGINAL", "PRIMARY", "M"]}  # fmt: skip
                slices.append(_classic("1.2.840.10008.5.1.4.1.1.4", "MR", s, 100 * (v + 1) + s,
                                       InstanceNumber=number, **uids, **attrs))  # fmt: skip
            else:
                attrs = {"ConvolutionKernel": ("B30f", "B70f")[v], "KVP": 120,
                         "ImageType": ["ORIGINAL", "PRIMARY", "AXIAL"], "RescaleSlope": 1,
                         "RescaleIntercept": 0}  # fmt: skip
                slices.append(_classic("1.2.840.10008.5.1.4.1.1.2", "CT", s, 100 * (v + 1) + s,
                                       InstanceNumber=number, **uids, **attrs))  # fmt: skip
    make = LegacyConvertedEnhancedMRImage if kind == "mr" else LegacyConvertedEnhancedCTImage
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # highdicom: no window to copy into the VOI group
        converted = make(slices, series_instance_uid=generate_uid(), series_number=2,
                         sop_instance_uid=generate_uid(), instance_number=1)  # fmt: skip
    (tmp_path / "src").mkdir()
    converted.save_as(tmp_path / "src" / "legacy.dcm", enforce_file_format=True)


def _volumes(tmp_path: Path, *options: str) -> tuple[list[dict[str, str]], list[nib.Nifti1Image]]:
    out = tmp_path / "out"
    args = ["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]
    assert main([*args, *options]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    return rows, [nib.load(out / r["output"]) for r in rows]


@pytest.mark.parametrize("kind", ["mr", "ct"])
def test_legacy_converted_frames_told_apart_by_their_converted_attributes(
    tmp_path: Path, kind: str
) -> None:
    _legacy(kind, tmp_path)
    rows, images = _volumes(tmp_path)
    assert [r["shape"] for r in rows] == ["3x4x4", "3x4x4"]
    said = "split: 2 ConvolutionKernel values in one series (B30f, B70f), one volume each"
    assert [r["problems"] for r in rows] == [said if kind == "ct" else ""] * 2
    for v, image in enumerate(images):  # echo 1 (kernel B30f), then echo 2 (B70f)
        assert np.asarray(image.dataobj)[0, 0].tolist() == [100 * (v + 1) + s for s in range(3)]


def test_enhanced_mr_time_series_takes_its_tr_from_the_timing_group(tmp_path: Path) -> None:
    # an Enhanced MR keeps RepetitionTime in its MR Timing and Related Parameters group
    # (PS3.3 C.8.13.5.2); read at the top level only, a time series of TemporalPositionIndex
    # frames was 'separate volumes (no RepetitionTime for a 4-D header)'
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    order = [(s, t) for t in range(3) for s in range(2)]
    ds.NumberOfFrames = len(order)
    ds.PixelData = np.stack([np.full((4, 4), 10 * t + s, "<u2") for s, t in order]).tobytes()
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[0, 0, 2.0 * s])]),
              FrameContentSequence=Sequence([item(TemporalPositionIndex=t + 1)]))
         for s, t in order]
    )  # fmt: skip
    ds.SharedFunctionalGroupsSequence = shared_plane_groups()
    timing = item(RepetitionTime=2500.0, FlipAngle=90.0)
    ds.SharedFunctionalGroupsSequence[0].MRTimingAndRelatedParametersSequence = Sequence([timing])
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    rows, images = _volumes(tmp_path)
    assert [r["shape"] for r in rows] == ["3x2x4x4"] and rows[0]["problems"] == ""
    assert images[0].header.get_zooms()[3] == pytest.approx(2.5)
    data = np.asarray(images[0].dataobj)[0, 0]  # (z, t)
    assert data.tolist() == [[10 * t + s for t in range(3)] for s in range(2)]
