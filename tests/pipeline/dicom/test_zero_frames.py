"""NumberOfFrames 0 (the attribute counts the frames, at least 1; PS3.3 C.7.6.6) over one
frame of pixel data: read as 1 frame, as before, and now said (it was read unsaid)."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from tests.pipeline.dicom import geometry_cases as G
from workflows.cli import main

SAID = (
    "NumberOfFrames (0028,0008) is 0 (it counts the frames, at least 1, PS3.3 C.7.6.6): "
    "read as 1 frame"
)


def test_zero_frames_over_one_frame_is_read_as_one_and_said(tmp_path: Path) -> None:
    pixels = np.arange(12, dtype=np.uint16).reshape(3, 4)
    ds = G.image(pixels, NumberOfFrames=0)
    src = G.save(tmp_path / "src", [ds], names=["zero"])
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--window", "none",
                 "--quiet"]) == 0  # fmt: skip
    with (out / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert SAID in row["problems"]
    np.testing.assert_array_equal(np.load(out / row["output"]), pixels.astype(np.float32))
