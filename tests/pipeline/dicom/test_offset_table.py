"""A Basic Offset Table that does not fit the fragments it indexes (PS3.5 A.4).

It was taken at its word: a table of 4 offsets over 3 whole RLE fragments was "4 frames, but
NumberOfFrames says 3", one with an offset past the data or out of order "2 of 3 frames
(truncated file?)", though every fragment was there. ``convert`` and ``inspect`` refuse it
alike, saying what is wrong with the table, where the fragments do not tell the frames apart;
where they do (as many fragments as frames, one each), the frames are read without the table
and a note says so (until 2026-12-03 refused too). The offsets are worked out here from the
fragments' lengths (8 bytes of item header each).
"""

from __future__ import annotations

import csv
import io
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
    [([*STARTS, END + 40], 4, "lists 4 frames but the pixel data holds 3 fragments (a frame "
      "takes at least one)"),
     ([0, END + 40], 2, f"puts frame 2 at offset {END + 40}, past the last fragment")],
    ids=["4-frames-3-fragments", "2-frames-3-rle-fragments"],
)  # fmt: skip
def test_an_offset_table_unlike_its_fragments_is_refused_alike(
    tmp_path: Path, offsets: list[int], frames: int, said: str
) -> None:
    """Fragments that do not tell the frames apart: more frames than fragments, or RLE
    frames (one fragment each, no marker) fewer than the fragments."""
    src = tmp_path / "src"
    _file(src, offsets, frames)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        refused = {r["source"]: r["reason"] for r in csv.DictReader(fh)}
    assert refused == {"x.dcm": f"encapsulated pixel data: its Basic Offset Table {said}{_TOLD}"}
    assert not list((tmp_path / "out").rglob("*.npy"))
    assert {p.where: p.reason for p in index_folder(src).problems} == refused


_IGNORED = ("encapsulated pixel data: frames taken one per fragment, the Basic Offset Table "
            "ignored (")  # fmt: skip


@pytest.mark.parametrize(
    ("offsets", "said"),
    [([*STARTS, END + 40], "lists 4 frames but the pixel data holds 3 fragments (a frame "
      "takes at least one)"),
     ([0, ITEMS[0], END + 100], f"puts frame 3 at offset {END + 100}, past the last fragment"),
     ([0, STARTS[2], STARTS[1]],
      f"'s offsets do not increase (frame 3: {STARTS[1]} after {STARTS[2]})"),
     ([0, 6, STARTS[2]], "puts frame 2 at offset 6, inside a fragment, not at one's start"),
     ([4, STARTS[1], STARTS[2]], "gives the first frame offset 4, not 0"),
     (STARTS[:2], "lists 2 frames, NumberOfFrames (0028,0008) 3, over 3 fragments")],
    ids=["4-of-3-fragments", "past-the-end", "not-increasing", "inside-a-fragment",
         "first-not-0", "fewer-than-the-header"],
)  # fmt: skip
def test_a_wrong_table_over_one_fragment_per_frame_is_ignored_and_said(
    tmp_path: Path, offsets: list[int], said: str
) -> None:
    """3 frames over 3 fragments: a frame takes at least one, so one each (dicom-rs #399
    wrote the 4-of-3 table, its last offset past the data)."""
    src = tmp_path / "src"
    _file(src, offsets, 3)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    sep = "" if said.startswith("'") else " "
    note = f"{_IGNORED}its Basic Offset Table{sep}{said})"
    assert all(note in row["problems"].split("; ") for row in rows)
    got = [np.load(tmp_path / "out" / row["output"]) for row in rows]  # no rescale: stored
    np.testing.assert_array_equal(np.stack(got), np.stack(FRAMES).astype(np.float32))
    (series,) = index_folder(src).series  # inspect says it too
    assert note in series.instances[0].notes


def test_a_table_that_fits_reads_every_frame(tmp_path: Path) -> None:
    image = read_instance(_file(tmp_path / "src", STARTS, 3), "x.dcm")
    np.testing.assert_array_equal(image.stored, np.stack(FRAMES))


def _jpeg_file(path: Path, frames: int, offsets: list[int]) -> list[np.ndarray]:
    """Two 96x96 JPEG Baseline noise frames of 2 fragments each (about 8 KB a frame, so that
    a header read leaves them in the file), under the Basic Offset Table ``offsets``;
    returns each frame as Pillow decodes its stream alone."""
    from PIL import Image
    from pydicom.uid import JPEGBaseline8Bit

    from tests.pipeline.dicom.geometry_cases import image

    rng = np.random.default_rng(0)
    streams = []
    for _ in range(2):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (96, 96), dtype=np.uint8)).save(buf, format="JPEG")
        streams.append(buf.getvalue())
    ds = image(np.zeros((96, 96), np.uint16))
    ds.NumberOfFrames = frames
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    data = encapsulate(streams, fragments_per_frame=2, has_bot=True)
    table = struct.pack(f"<{len(offsets)}I", *offsets)
    ds.PixelData = data[:4] + struct.pack("<I", len(table)) + table + data[8 + 8 :]
    ds["PixelData"].VR = "OB"
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return [np.asarray(Image.open(io.BytesIO(s))) for s in streams]


def test_jpeg_frames_are_told_apart_by_their_start_markers(tmp_path: Path) -> None:
    """4 fragments, 2 frames, a table of one offset past the data: each frame begins with
    the fragment that starts with SOI (FFD8), as pydicom's frame generators find them."""
    src = tmp_path / "src"
    expected = _jpeg_file(src / "x.dcm", 2, [0, 99_999])
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    note = ("encapsulated pixel data: frames taken at the 2 of its 4 fragments that start a "
            "codestream, the Basic Offset Table ignored (its Basic Offset Table puts frame 2 "
            "at offset 99999, past the last fragment)")  # fmt: skip
    assert [note in row["problems"].split("; ") for row in rows] == [True, True]
    got = np.stack([np.load(tmp_path / "out" / row["output"]) for row in rows])
    # IDCTs differ by 1 at most (libjpeg-turbo vs the plugin); the other noise frame by ~85
    np.testing.assert_allclose(got, np.stack(expected).astype(np.float32), rtol=0, atol=1)
    assert (src / "x.dcm").stat().st_size > 8192  # inspect reads the items from the file
    (series,) = index_folder(src).series
    assert note in series.instances[0].notes


def test_jpeg_streams_fewer_than_the_frames_stay_refused(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _jpeg_file(src / "x.dcm", 3, [0, 99_999])  # 3 frames said, 2 streams in 4 fragments
    refused = {p.where: p.reason for p in index_folder(src).problems}
    assert refused == {
        "x.dcm": "encapsulated pixel data: its Basic Offset Table lists 2 frames, "
        f"NumberOfFrames (0028,0008) 3, over 4 fragments{_TOLD}"
    }
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        assert {r["source"]: r["reason"] for r in csv.DictReader(fh)} == refused
