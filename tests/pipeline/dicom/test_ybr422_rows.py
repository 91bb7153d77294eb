"""Native YBR_FULL_422 with an odd Columns, each row stored as whole pixel pairs (fo-dicom
#471 / PR #479): pydicom reads one stream of pairs, calls the extra Rows x 2 bytes excess
padding and shifts the second row (its first pixel came out (0, 43, 0), garbage). Expected
values: the hand-built YCbCr pixels, chroma repeated over each pair (PS3.3 C.7.6.3.1.2),
converted by pydicom's own ``convert_color_space``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import convert_color_space
from pydicom.uid import SecondaryCaptureImageStorage

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset

_YCC = np.array(
    [[[100, 90, 200], [150, 90, 200], [200, 60, 100]],
     [[50, 128, 128], [60, 128, 128], [250, 200, 30]]], np.uint8,
)  # fmt: skip


def _ybr(frames: int, data: bytes) -> Dataset:
    ds = image_dataset(SecondaryCaptureImageStorage, "OT", 2, 3, bits=8, samples=3,
                       photometric="YBR_FULL_422")  # fmt: skip
    ds.PlanarConfiguration, ds.NumberOfFrames, ds.PixelData = 0, frames, data
    return ds


def _padded_rows() -> bytes:
    out = []
    for row in _YCC:  # Y0 Y1 Cb Cr, Y2 (unused Y) Cb Cr
        out += [row[0, 0], row[1, 0], row[0, 1], row[0, 2], row[2, 0], 0, row[2, 1], row[2, 2]]
    return bytes(int(v) for v in out)


def test_rows_of_whole_pairs_are_read_row_by_row(tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    _ybr(2, _padded_rows() * 2).save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    want = convert_color_space(_YCC, "YBR_FULL", "RGB")  # chroma equal within each pair
    assert np.asarray(image.stored).tolist() == [want.tolist()] * 2
    assert [p for p in image.problems if "excess" in p or "more than" in p] == []
    # by hand: 3 columns stored as 2 whole pairs are 4 columns, the fourth dropped
    assert any("odd Columns (0028,0011) 3 holds each row as 2 whole pixel pairs" in p
               and p.endswith("read as 4 columns, the last one dropped")
               for p in image.problems)  # fmt: skip


def test_the_standards_length_stays_one_stream_of_pairs(tmp_path: Path) -> None:
    path = tmp_path / "a.dcm"
    _ybr(1, bytes(range(10, 22))).save_as(path, enforce_file_format=True)  # 2 x 3 x 2 values
    image = read_instance(path, "a.dcm")
    assert np.asarray(image.stored)[0].tolist() == pydicom.dcmread(path).pixel_array.tolist()
    assert image.problems == ()


@pytest.mark.parametrize("frames", [None, "", 0], ids=["absent", "empty", "zero"])
def test_one_frame_without_a_frame_count_is_read_row_by_row(tmp_path: Path, frames: object) -> None:
    """NumberOfFrames (0028,0008) absent (the usual single frame), empty or 0: one frame."""
    path = tmp_path / "a.dcm"
    ds = _ybr(1, _padded_rows())
    if frames is None:
        del ds.NumberOfFrames
    else:
        ds.NumberOfFrames = frames
    ds.save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    want = convert_color_space(_YCC, "YBR_FULL", "RGB")
    assert np.asarray(image.stored).tolist() == [want.tolist()]
    assert any(p.endswith("read as 4 columns, the last one dropped") for p in image.problems)
