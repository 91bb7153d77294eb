"""Native pixel data holding more whole frames than the header says (found by fuzzing).

Little-endian grey data read the header's frames and noted the rest as ignored; big-endian,
colour and palette data go through pydicom, which decoded every frame the bytes hold, and
the file was refused ("the decoder gave 4,096 values ..."). They now keep the header's
frames too, with the same note. Expected values: the first frame's bytes, by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ExplicitVRBigEndian, SecondaryCaptureImageStorage

from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti


def _big_endian() -> tuple[Dataset, list[list[list[int]]], int]:
    ds = image_dataset(CTImageStorage, "CT", 2, 2, syntax=ExplicitVRBigEndian)
    ds.PixelData = np.array([1, 2, 300, 4000, 5, 6, 7, 8], ">u2").tobytes()  # two frames
    return ds, [[1, 2], [300, 4000]], 8


def _rgb() -> tuple[Dataset, list[list[list[int]]], int]:
    ds = image_dataset(SecondaryCaptureImageStorage, "OT", 1, 2, bits=8, samples=3,
                       photometric="RGB")  # fmt: skip
    ds.PlanarConfiguration = 0
    ds.PixelData = bytes([200, 10, 130, 0, 255, 127, 1, 2, 3, 4, 5, 6])  # two frames
    return ds, [[[200, 10, 130], [0, 255, 127]]], 6


@pytest.mark.parametrize("build", [_big_endian, _rgb], ids=["big-endian", "rgb"])
def test_excess_native_frames_are_ignored_and_noted(tmp_path: Path, build: object) -> None:
    ds, first, extra = build()  # type: ignore[operator]
    src = write_folder(tmp_path / "src", x=ds)
    rows, errors, code = convert_nifti(src, tmp_path / "out", format="npy", per="instance")
    assert code == 0 and not errors and len(rows) == 1
    assert np.load(tmp_path / "out" / rows[0]["output"]).tolist() == first
    problems = rows[0]["problems"].split("; ")
    assert (
        f"{extra} more than the header needs ({extra}): the extra bytes are ignored"
        in (problems[0])
    )
    # pydicom's own words ("sufficient to contain 2 frames ... will include these extra
    # frames", "excess padding") said the opposite of what is done: not passed on
    assert not [p for p in problems if p.startswith("decoder:")]
