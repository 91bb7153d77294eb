"""An XA cine that asks for mask subtraction (PS3.3 C.7.6.10) is written native, and says so.

A digital subtraction angiography stores native frames and a Mask Subtraction Sequence
(0028,6100); with RecommendedViewingMode (0028,1090) SUB a viewer shows every contrast frame
minus the mask (the vessels alone). radpipe, like pydicom and dcm2niix, writes the native
frames; that was unsaid. The frames are checked against the stored values (no subtraction:
frame 3 stays 40, not 40 - 10 = 30), the note word for word.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.dicom.read import read_instance
from pipeline.dicom.subtraction import subtraction_note
from tests.pipeline.dicom.builders import image_dataset, item

XA = "1.2.840.10008.5.1.4.1.1.12.1"


def _dsa(path: Path, mode: str | None) -> np.ndarray:
    ds = image_dataset(XA, "XA", 2, 2, bits=16, stored=10)
    frames = np.stack([np.full((2, 2), v, np.uint16) for v in (10, 10, 40, 60)])
    ds.NumberOfFrames = 4
    mask = item(MaskOperation="AVG_SUB", MaskFrameNumbers=[1, 2], ApplicableFrameRange=[3, 4])
    ds.MaskSubtractionSequence = Sequence([mask])
    if mode is not None:
        ds.RecommendedViewingMode = mode
    ds.PixelData = frames.tobytes()
    ds.save_as(path, enforce_file_format=True)
    return frames


def test_a_subtraction_asked_for_is_not_applied_and_said(tmp_path: Path) -> None:
    frames = _dsa(tmp_path / "dsa.dcm", "SUB")
    image = read_instance(tmp_path / "dsa.dcm", "dsa.dcm")
    assert np.array_equal(image.stored, frames)  # native: frame 3 is 40, not 30
    assert image.problems == (
        "mask subtraction not applied: RecommendedViewingMode (0028,1090) is SUB, "
        "MaskSubtractionSequence (0028,6100) AVG_SUB of frame(s) 1, 2 from frames 3-4: a viewer "
        "shows the frames with the mask subtracted (digital subtraction angiography, PS3.3 "
        "C.7.6.10), written as the native frames stored",
    )


def test_a_native_view_recommended_says_nothing(tmp_path: Path) -> None:
    _dsa(tmp_path / "nat.dcm", "NAT")
    assert read_instance(tmp_path / "nat.dcm", "nat.dcm").problems == ()


def test_without_a_viewing_mode_the_subtraction_is_one_a_viewer_may_show() -> None:
    ds = Dataset()
    ds.MaskSubtractionSequence = Sequence([item(MaskOperation="TID", TIDOffset=2)])
    assert subtraction_note(ds) == (
        "mask subtraction not applied: MaskSubtractionSequence (0028,6100) TID (TIDOffset 2): a "
        "viewer may show the frames with the mask subtracted (digital subtraction angiography, "
        "PS3.3 C.7.6.10), written as the native frames stored"
    )
