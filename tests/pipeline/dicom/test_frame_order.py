"""The order of a multi-frame file's frames along the slice normal (``--per instance`` ranks)."""

from __future__ import annotations

from pipeline.dicom.read import frame_order, image_from_dataset
from tests.pipeline.dicom import geometry_cases as G


def test_frame_order_sorts_frames_along_the_normal() -> None:
    # frames at z 10, 0, 15, 5 (frame k holds 100 + k): along the normal (+z) they are
    # frames 1, 3, 0, 2; against a normal of -z (columns flipped), 2, 0, 3, 1
    zs = [(0.0, 0.0, 5.0 * k) for k in (2, 0, 3, 1)]
    assert frame_order(image_from_dataset(G.enhanced(zs), "e.dcm")) == [1, 3, 0, 2]
    flipped = G.enhanced(zs, iop=(1.0, 0.0, 0.0, 0.0, -1.0, 0.0))
    assert frame_order(image_from_dataset(flipped, "f.dcm")) == [2, 0, 3, 1]
