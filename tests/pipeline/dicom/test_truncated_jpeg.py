"""A JPEG or JPEG-LS frame cut short is refused naming the file; one that lost only its end
marker is read, with a note.

pydicom decodes JPEG with libjpeg (and falls back to it for JPEG-LS when CharLS refuses a cut
stream), which decodes a cut stream without a word: the pixels past the cut were made up
(half of a 32 x 32 frame cut off: values unlike the stored ones), and radpipe only noted the
missing end marker.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEGBaseline8Bit, JPEGLSLossless

from pipeline.dicom.index import Problem, read_header
from pipeline.dicom.read import read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder

STORED = np.random.default_rng(0).integers(0, 4000, (32, 32)).astype(np.uint16)
GREY8 = np.add.outer(np.arange(32), np.arange(32)).astype(np.uint8) * 4  # a smooth ramp


def _jpeg_ls() -> tuple[Dataset, bytes]:
    ds = G.image(STORED)
    ds.compress(JPEGLSLossless)
    return ds, next(generate_frames(ds.PixelData, number_of_frames=1)).rstrip(b"\x00")


def _jpeg() -> tuple[Dataset, bytes]:
    ds = G.image(GREY8.astype(np.uint16))
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    buf = io.BytesIO()
    Image.fromarray(GREY8).save(buf, "JPEG", quality=95)
    return ds, buf.getvalue()


def _cut(folder: Path, make: object, cut: int) -> Path:
    """The file ``make`` builds, its frame without its last ``cut`` bytes."""
    ds, frame = make()  # type: ignore[operator]
    assert frame.endswith(b"\xff\xd9")
    ds.PixelData = encapsulate([frame[:-cut]])
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / "cut.dcm", enforce_file_format=True)
    return folder / "cut.dcm"


@pytest.mark.parametrize(
    ("make", "cut", "decoder"), [(_jpeg_ls, 800, "CharLS"), (_jpeg, 200, "libjpeg"),
                                 (_jpeg, 3, "libjpeg")], ids=["jpeg_ls", "jpeg", "jpeg_1_byte"],
)  # fmt: skip
def test_a_frame_missing_scan_data_is_refused_naming_the_file(
    tmp_path: Path, make: object, cut: int, decoder: str
) -> None:
    path = _cut(tmp_path / "src", make, cut)
    with pytest.raises(DicomError) as caught:
        read_instance(path, "cut.dcm")
    assert str(caught.value).startswith(
        f"cut.dcm: frame 0: the compressed stream is cut short, scan data missing ({decoder}: "
    )
    found = read_header(path, tmp_path / "src")  # inspect says the same
    assert isinstance(found, Problem) and "stream is cut short" in found.reason
    result = convert_folder(tmp_path / "src", tmp_path / "out", ConvertOptions(format="npy"),
                            progress=False)  # fmt: skip
    assert result.exit_code != 0 and result.outputs == 0
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert row["source"] == "cut.dcm" and "stream is cut short" in row["reason"]


@pytest.mark.parametrize("make", [_jpeg_ls, _jpeg], ids=["jpeg_ls", "jpeg"])
def test_a_frame_missing_only_its_end_marker_is_read_with_a_note(
    tmp_path: Path, make: object
) -> None:
    whole = read_instance(_whole(tmp_path, make), "whole.dcm").stored[0]
    image = read_instance(_cut(tmp_path, make, 2), "cut.dcm")
    np.testing.assert_array_equal(image.stored[0], whole)
    if make is _jpeg_ls:
        np.testing.assert_array_equal(whole, STORED)  # lossless
    assert image.problems == (
        "frame 0: the compressed stream has no end marker (EOI/EOC): truncated or damaged",
    )


def _whole(tmp_path: Path, make: object) -> Path:
    ds, frame = make()  # type: ignore[operator]
    ds.PixelData = encapsulate([frame])
    ds.save_as(tmp_path / "whole.dcm", enforce_file_format=True)
    return tmp_path / "whole.dcm"
