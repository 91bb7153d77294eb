"""A classic file's frame facts (pipeline.dicom.frame_info) are made without
``dataclasses.replace`` and, with nothing to choose, not copied at all: the values must be
those of the header, worked out by hand, frame after frame of a series."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.dicom.frame_info import FrameInfo, frame_infos
from pipeline.dicom.plain import read_plain
from tests.pipeline.dicom.plain_files import ct_dataset, nothing_kept, save


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    yield from nothing_kept()


@pytest.mark.parametrize("windowed", [True, False], ids=["window", "no-window"])
def test_each_slice_has_its_own_position_and_the_series_window(
    tmp_path: Path, windowed: bool
) -> None:
    found = []
    for k in range(3):  # the second and third from what the first kept
        ds = ct_dataset(ImagePositionPatient=["-125.5", "-130", str(k * 1.25)],
                        SOPInstanceUID=f"1.2.3.4.5.{k}")  # fmt: skip
        if not windowed:
            del ds.WindowCenter, ds.WindowWidth
        plain = read_plain(save(ds, tmp_path / f"{k}.dcm"), pixels=True)
        assert plain is not None
        notes: list[str] = []
        (info,) = frame_infos(plain, f"{k}.dcm", notes)
        assert type(info) is FrameInfo and notes == []
        found.append(info)
    for k, info in enumerate(found):
        assert (info.slope, info.intercept, info.voi_function) == (1.0, -1024.0, "LINEAR")
        assert info.position == (-125.5, -130.0, k * 1.25)
        assert info.orientation == (1.0, 0.0, 0.0, 0.0, 0.9961947, -0.0871557)
        assert info.pixel_spacing == (0.703125, 0.703125) and info.voi_lut is None
        # the first of two windows (PS3.3 C.11.2.1.2), and which it is
        assert info.window == ((40.0, 400.0) if windowed else None)
        assert info.voi_choice == ("WindowCenter/WindowWidth 1 of 2" if windowed else "")
