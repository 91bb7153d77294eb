"""NumberOfFrames against what encapsulated pixel data can hold.

Found by the fuzz benchmark: an RLE file whose NumberOfFrames was forged to 65,535 over 634
bytes of pixel data took 8 s (every frame's geometry worked out before the decoder failed)
and was then refused as ``StopIteration``. Every encapsulated frame needs at least one
fragment, an 8-byte item (PS3.5 A.4), so a count past ``length // 8`` is refused at once;
RLE frames are counted against their fragments as JPEG frames are.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from pipeline.dicom.decode import check_pixel_size
from pipeline.dicom.index import index_folder
from pipeline.errors import DicomError
from workflows.convert.batch import ConvertOptions, convert_folder


def _rle(folder: Path, name: str, frames: int) -> tuple[Path, int]:
    """pydicom's one-frame RLE MR with NumberOfFrames set; returns the file and its data size."""
    ds = pydicom.dcmread(get_testdata_file("MR_small_RLE.dcm"))
    ds.NumberOfFrames = frames
    folder.mkdir(exist_ok=True)
    path = folder / name
    ds.save_as(path)
    return path, len(ds.PixelData)


def _errors(out: Path) -> dict[str, str]:
    with (out / "errors.csv").open() as fh:
        return {row["source"]: row["reason"] for row in csv.DictReader(fh)}


def test_convert_refuses_a_count_the_fragments_cannot_hold(tmp_path: Path) -> None:
    src = tmp_path / "src"
    _, length = _rle(src, "two.dcm", 2)
    _rle(src, "many.dcm", 60_000)
    _rle(src, "one.dcm", 1)
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    errors = _errors(tmp_path / "out")
    assert result.converted == 1 and set(errors) == {"two.dcm", "many.dcm"}
    # one fragment for two frames: said as JPEG's are (it was "StopIteration")
    assert errors["two.dcm"].endswith("pixel data holds 1 of 2 frames (truncated file?).")
    room = length // 8  # 6,128 bytes: at most 766 items of 8 bytes
    assert room == 766
    assert errors["many.dcm"].endswith(
        f"NumberOfFrames (0028,0008) says 60,000 frames but the pixel data holds {length:,} "
        f"bytes, room for at most {room:,} encapsulated frames (truncated file or wrong header)."
    )


def test_inspect_bounds_the_count_by_the_file_size(tmp_path: Path) -> None:
    path, _ = _rle(tmp_path / "src", "many.dcm", 60_000)
    size = os.path.getsize(path)
    index = index_folder(tmp_path / "src")
    assert [p.where for p in index.problems] == ["many.dcm"]
    assert index.problems[0].reason.endswith(
        f"says 60,000 frames but the file holds {size:,} bytes, room for at most "
        f"{size // 8:,} encapsulated frames (truncated file or wrong header)."
    )


def test_video_syntaxes_hold_every_frame_in_one_stream(tmp_path: Path) -> None:
    ds = pydicom.dcmread(get_testdata_file("MR_small_RLE.dcm"))
    ds.NumberOfFrames = 60_000
    for uid, refused in (("1.2.840.10008.1.2.4.102", False), ("1.2.840.10008.1.2.4.90", True)):
        ds.file_meta.TransferSyntaxUID = uid  # H.264 High Profile; JPEG 2000 lossless
        if refused:
            with pytest.raises(DicomError, match="room for at most 766 encapsulated frames"):
                check_pixel_size(ds, "x.dcm")
        else:
            assert check_pixel_size(ds, "x.dcm") == 64 * 64 * 60_000


def _jpeg_frames(path: Path, frames: int | None, fragments: int) -> None:
    """A JPEG Baseline file of ``fragments`` 96x96 noise frames (about 8 KB each, so that
    a header read leaves the pixel data in the file), no Basic Offset Table, and
    NumberOfFrames ``frames`` (absent: ``None``)."""
    import io

    import numpy as np
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    from tests.pipeline.dicom.geometry_cases import image

    rng = np.random.default_rng(0)
    streams = []
    for _ in range(fragments):
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 256, (96, 96), dtype=np.uint8)).save(buf, format="JPEG")
        streams.append(buf.getvalue())
    ds = image(np.zeros((96, 96), np.uint16))
    if frames is not None:
        ds.NumberOfFrames = frames
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = encapsulate(streams, has_bot=False)
    ds["PixelData"].VR = "OB"
    path.parent.mkdir(exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def test_inspect_counts_the_fragments_left_in_the_file_as_convert_does(tmp_path: Path) -> None:
    """Pixel data over 4 KiB stays in the file on a header read: ``inspect`` passed these
    three files clean (no count) while ``convert`` refused each. Counts by construction."""
    src = tmp_path / "src"
    _jpeg_frames(src / "short.dcm", 3, 2)  # 3 frames said, 2 streams
    _jpeg_frames(src / "more.dcm", None, 2)  # 1 frame said, 2 streams (pydicom #1666)
    _, length = _rle(src, "rle.dcm", 2)  # 2 frames said, 1 RLE fragment
    assert length > 4096 and all(os.path.getsize(p) > 8192 for p in src.glob("[ms]*.dcm"))
    expected = {
        "short.dcm": "encapsulated pixel data holds 2 of 3 frames (truncated file?).",
        "more.dcm": "encapsulated pixel data holds 2 frames (by its fragments that start a "
        "codestream) but NumberOfFrames (0028,0008) is absent (1 frame): which of them the "
        "header describes is unknown.",
        "rle.dcm": "encapsulated pixel data holds 1 of 2 frames (truncated file?).",
    }
    found = index_folder(src)
    assert found.series == []
    assert {p.where: p.reason for p in found.problems} == expected
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    assert _errors(tmp_path / "out") == expected
