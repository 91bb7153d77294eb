"""An Enhanced object is one with either functional group sequence (PS3.3 C.7.6.16): Per-frame
(Type 1) or Shared (Type 2, which some writers leave out). A one-frame Enhanced MR whose
ImageType still says MOSAIC (Siemens XA30, dcm2niix #553) written with only one of the two is
read by its frames, as with both; taken for a classic mosaic it was refused for want of a CSA
header (``mosaic not supported``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.sequence import Sequence

from pipeline.dicom.frame_layout import frame_layout
from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups, write_folder

ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


@pytest.mark.parametrize("kept", ["PerFrameFunctionalGroupsSequence",
                                  "SharedFunctionalGroupsSequence"])  # fmt: skip
def test_either_group_sequence_makes_an_enhanced_object(tmp_path: Path, kept: str) -> None:
    ds = image_dataset(ENHANCED_MR, "MR", 4, 4)
    ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", "1.2.3.4"
    ds.ImageType, ds.NumberOfFrames = ["ORIGINAL", "PRIMARY", "M", "ND", "MOSAIC"], 1
    ds.PixelData = np.full((4, 4), 100, "<u2").tobytes()
    plane = item(ImagePositionPatient=[0, 0, 0])
    groups = shared_plane_groups()
    groups[0].PlanePositionSequence = Sequence([plane])
    if kept == "PerFrameFunctionalGroupsSequence":
        ds.PerFrameFunctionalGroupsSequence = groups
    else:
        ds.SharedFunctionalGroupsSequence = groups
    layout = frame_layout(ds)
    assert (layout["mosaic"], layout["enhanced"]) == (False, True)
    write_folder(tmp_path, e=ds)
    assert not [p for p in index_folder(tmp_path).all_problems() if "mosaic" in p.reason]
