"""A Basic Offset Table that does not fit the fragments it indexes (PS3.5 A.4).

It was taken at its word: a table of 4 offsets over 3 whole RLE fragments was "4 frames, but
NumberOfFrames says 3", one with an offset past the data or out of order "2 of 3 frames
(truncated file?)", though every fragment was there. ``convert`` and ``inspect`` now refuse
it alike, saying what is wrong with the table. The offsets are worked out here from the
fragments' lengths (8 bytes of item header each).
"""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless

from pipeline.dicom import read_instance
from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset
from tests.pipeline.dicom.test_frames_held import CT, FRAMES, _rle_frame
from workflows.convert.batch import ConvertOptions, convert_folder

FRAGMENTS = [_rle_frame(f) for f in FRAMES]
ITEMS = [len(f) + 8 for f in FRAGMENTS]  # each fragment's item: 8 bytes of header, its data
STARTS = [0, ITEMS[0], ITEMS[0] + ITEMS[1]]  # the table a writer gives
END = sum(ITEMS)


def _file(src: Path, offsets: list[int], frames: int) -> Path:
    ds = image_dataset(CT, "CT", 4, 4, syntax=RLELossless)
    ds.NumberOfFrames = frames
    data = encapsulate(FRAGMENTS, has_bot=False)  # an empty table item, then the fragments
    table = struct.pack(f"<{len(offsets)}I", *offsets)
    ds.PixelData = data[:4] + struct.pack("<I", len(table)) + table + data[8:]
    ds["PixelData"].is_undefined_length = True
    src.mkdir(parents=True, exist_ok=True)
    ds.save_as(src / "x.dcm", enforce_file_format=True)
    return src / "x.dcm"


_TOLD = (", so its frames cannot be told apart by it (the table is wrong, or the file was cut "
         "and patched); rewrite the file with a correct table or none.")  # fmt: skip


@pytest.mark.parametrize(
    ("offsets", "frames", "said"),
    [([*STARTS, END + 40], 3, "lists 4 frames but the pixel data holds 3 fragments (a frame "
      "takes at least one)"),
     ([*STARTS, END + 40], 4, "lists 4 frames but the pixel data holds 3 fragments (a frame "
      "takes at least one)"),
     ([0, ITEMS[0], END + 100], 3, f"puts frame 3 at offset {END + 100}, past the last fragment"),
     ([0, STARTS[2], STARTS[1]], 3,
      f"'s offsets do not increase (frame 3: {STARTS[1]} after {STARTS[2]})"),
     ([0, 6, STARTS[2]], 3, "puts frame 2 at offset 6, inside a fragment, not at one's start"),
     ([4, STARTS[1], STARTS[2]], 3, "gives the first frame offset 4, not 0"),
     (STARTS[:2], 3, "lists 2 frames, NumberOfFrames (0028,0008) 3, over 3 fragments")],
    ids=["4-of-3-fragments", "4-frames-3-fragments", "past-the-end", "not-increasing",
         "inside-a-fragment", "first-not-0", "fewer-than-the-header"],
)  # fmt: skip
def test_an_offset_table_unlike_its_fragments_is_refused_alike(
    tmp_path: Path, offsets: list[int], frames: int, said: str
) -> None:
    src = tmp_path / "src"
    _file(src, offsets, frames)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        refused = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    sep = "" if said.startswith("'") else " "
    assert refused == {
        "x.dcm": f"encapsulated pixel data: its Basic Offset Table{sep}{said}{_TOLD}"
    }
    assert not list((tmp_path / "out").rglob("*.npy"))
    assert {p.where: p.reason for p in index_folder(src).problems} == refused


def test_a_table_that_fits_reads_every_frame(tmp_path: Path) -> None:
    image = read_instance(_file(tmp_path / "src", STARTS, 3), "x.dcm")
    np.testing.assert_array_equal(image.stored, np.stack(FRAMES))
