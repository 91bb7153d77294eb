"""An Enhanced object with fewer Per-frame Functional Groups items than frames.

PS3.3 C.7.6.16.1 wants one item per frame. An Enhanced CT of 3 frames with 2 items had its
last frame written in stored values (200), not HU (-824: its Pixel Value Transformation item
missing), noted only as "slice geometry missing on 1 of 3 images"; ``inspect`` passed the
file. Both commands now refuse it naming the counts; extra items are noted.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.dicom import read_instance
from pipeline.dicom.index import index_folder
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups, write_folder

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"


def _enhanced(src: Path, items: int) -> Path:
    ds = image_dataset(ENHANCED_CT, "CT", 2, 2)
    ds.NumberOfFrames, ds.SharedFunctionalGroupsSequence = 3, shared_plane_groups()
    groups = []
    for k in range(items):
        plane = item(ImagePositionPatient=[0.0, 0.0, 2.0 * k])
        rescale = item(RescaleSlope=1, RescaleIntercept=-1024, RescaleType="HU")
        groups.append(
            item(
                PlanePositionSequence=pydicom.Sequence([plane]),
                PixelValueTransformationSequence=pydicom.Sequence([rescale]),
            )
        )
    ds.PerFrameFunctionalGroupsSequence = pydicom.Sequence(groups)
    ds.PixelData = np.stack([np.full((2, 2), 100 * k) for k in range(3)]).astype("<u2").tobytes()
    return write_folder(src, x=ds)


def test_fewer_items_than_frames_are_refused_alike(tmp_path: Path) -> None:
    src = _enhanced(tmp_path / "src", 2)
    reason = ("PerFrameFunctionalGroupsSequence (5200,9230) holds 2 items but NumberOfFrames "
              "(0028,0008) says 3: frame 2 has no position, rescale or window of its own (one "
              "item per frame, PS3.3 C.7.6.16).")  # fmt: skip
    with pytest.raises(DicomError) as caught:
        read_instance(src / "x.dcm", "x.dcm")
    assert caught.value.reason == reason
    assert [p.reason for p in index_folder(src).problems] == [reason]


def test_one_item_per_frame_reads_in_hu(tmp_path: Path) -> None:
    src = _enhanced(tmp_path / "src", 3)
    image = read_instance(src / "x.dcm", "x.dcm")
    assert [float(image.modality(f)[0, 0]) for f in range(3)] == [-1024.0, -924.0, -824.0]
