"""Encapsulated pixel data holding more frames than NumberOfFrames says (pydicom #1666).

With a Basic Offset Table pydicom decoded every frame it lists, and the read failed later in
a decoder's words ("the decoder gave 48 values (3x4x4) but ...") while ``inspect`` passed the
file; without one, pydicom joined all fragments into the one frame asked for and the first
frame was written alone, two dropped unsaid. Both commands now refuse it with the counts.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEGLSLossless, RLELossless

from pipeline.dicom import read_instance
from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset
from workflows.convert.batch import ConvertOptions, convert_folder

CT = "1.2.840.10008.5.1.4.1.1.2"
FRAMES = [(np.arange(16).reshape(4, 4) + 100 * k).astype(np.uint16) for k in range(3)]


def _rle_frame(pixels: np.ndarray) -> bytes:
    ds = image_dataset(CT, "CT", 4, 4)
    ds.PixelData = pixels.tobytes()
    ds.compress(RLELossless)
    return next(generate_frames(ds.PixelData, number_of_frames=1))


def _file(src: Path, fragments: list[bytes], frames: int | None, *, bot: bool,
          syntax: str = RLELossless, size: int = 4) -> Path:  # fmt: skip
    ds = image_dataset(CT, "CT", size, size, syntax=syntax)
    if frames is not None:
        ds.NumberOfFrames = frames
    ds.PixelData = encapsulate(fragments, has_bot=bot)
    ds["PixelData"].is_undefined_length = True
    src.mkdir(parents=True, exist_ok=True)
    ds.save_as(src / "x.dcm", enforce_file_format=True)
    return src / "x.dcm"


_BOT, _RLE = "by its Basic Offset Table", "by its fragments, one per RLE frame"


@pytest.mark.parametrize(
    ("frames", "bot", "said"),
    [(1, True, f"({_BOT}) but NumberOfFrames (0028,0008) says 1"),
     (1, False, f"({_RLE}) but NumberOfFrames (0028,0008) says 1"),
     (None, False, f"({_RLE}) but NumberOfFrames (0028,0008) is absent (1 frame)"),
     (2, True, f"({_BOT}) but NumberOfFrames (0028,0008) says 2")],
    ids=["offset-table", "no-offset-table", "no-number-of-frames", "two-of-three"],
)  # fmt: skip
def test_more_frames_than_the_header_says_are_refused_alike(
    tmp_path: Path, frames: int | None, bot: bool, said: str
) -> None:
    src = tmp_path / "src"
    _file(src, [_rle_frame(f) for f in FRAMES], frames, bot=bot)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        converted = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    assert converted == {"x.dcm": f"encapsulated pixel data holds 3 frames {said}: which of "
                                  "them the header describes is unknown."}  # fmt: skip
    assert not list((tmp_path / "out").rglob("*.npy"))  # frame 0 alone was written
    assert {p.where: p.reason for p in index_folder(src).problems} == converted


def test_a_frame_in_two_fragments_is_one_frame(tmp_path: Path) -> None:
    jpeg_ls = pytest.importorskip("jpeg_ls")
    frames = [(np.arange(256).reshape(16, 16) * 3 + 7 * k).astype(np.uint16) for k in range(2)]
    first, second = (bytes(jpeg_ls.encode(f)) for f in frames)
    cut = len(first) // 2 & ~1  # fragments have even lengths
    path = _file(tmp_path / "src", [first[:cut], first[cut:], second], 2, bot=False,
                 syntax=JPEGLSLossless, size=16)  # fmt: skip
    image = read_instance(path, "x.dcm")
    np.testing.assert_array_equal(image.stored, np.stack(frames))
    assert pydicom.dcmread(path).pixel_array.shape == (2, 16, 16)
