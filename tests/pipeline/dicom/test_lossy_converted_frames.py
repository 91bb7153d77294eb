"""LossyImageCompression in a frame's Unassigned Converted Attributes (Legacy Converted).

A Legacy Converted Enhanced object (PS3.3 A.70-A.72) keeps its source images' attributes
that no functional group holds in its Unassigned Per-frame / Shared Converted Attributes
(0020,9171 / 0020,9170). A source that was lossy, the others not, leaves "01" in that
frame's item; only the top level was read, so the file's ``lossy`` cell was empty. Expected
values: the items' own values, as built here.
"""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.dicom.lossy import lossy_history
from tests.pipeline.dicom.builders import item


def _converted(top: str | None, flags: list[str | None], shared: str | None = None) -> Dataset:
    ds = Dataset()
    if top is not None:
        ds.LossyImageCompression = top
    frames = []
    for flag in flags:
        sub = item(AcquisitionNumber=1)
        if flag is not None:
            sub.LossyImageCompression, sub.LossyImageCompressionRatio = flag, 8
        frames.append(item(UnassignedPerFrameConvertedAttributesSequence=Sequence([sub])))
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    sub = item() if shared is None else item(LossyImageCompression=shared)
    ds.SharedFunctionalGroupsSequence = Sequence(
        [item(UnassignedSharedConvertedAttributesSequence=Sequence([sub]))]
    )
    return ds


@pytest.mark.parametrize(
    ("ds", "said"),
    [
        (_converted("00", [None, "01", "00"]), "LossyImageCompression (0028,2110) 01 in frame "
         "2's UnassignedPerFrameConvertedAttributesSequence (0020,9171), ratio 8:1"),
        (_converted(None, [None, None], shared="01"), "LossyImageCompression (0028,2110) 01 "
         "in all frames' UnassignedSharedConvertedAttributesSequence (0020,9170)"),
        (_converted("01", [None, "01"]), "LossyImageCompression (0028,2110) 01"),
        (_converted("00", ["00", None]), ""),
    ],
    ids=["one-frame", "shared", "top-level", "none"],
)  # fmt: skip
def test_a_frames_lossy_flag_is_said(ds: Dataset, said: str) -> None:
    assert lossy_history(ds) == said
