"""A JPEG-LS frame cut short is refused naming the file; one that lost only its end marker
is read, with a note.

pydicom tries CharLS (pyjpegls) first, which refuses a cut stream, then falls back to libjpeg,
which decodes it without a word: the pixels past the cut were made up (half of a 32 x 32
frame cut off: values unlike the stored ones), and radpipe only noted the missing end marker.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEGLSLossless

from pipeline.dicom.index import Problem, read_header
from pipeline.dicom.read import read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder

STORED = np.random.default_rng(0).integers(0, 4000, (32, 32)).astype(np.uint16)


def _cut(folder: Path, name: str, cut: int) -> Path:
    """A JPEG-LS lossless file of STORED whose frame lost its last ``cut`` bytes."""
    ds = G.image(STORED)
    ds.compress(JPEGLSLossless)
    frame = next(generate_frames(ds.PixelData, number_of_frames=1)).rstrip(b"\x00")  # pad byte
    assert frame.endswith(b"\xff\xd9")
    ds.PixelData = encapsulate([frame[:-cut]])
    folder.mkdir(parents=True, exist_ok=True)
    ds.save_as(folder / name, enforce_file_format=True)
    return folder / name


def test_a_jpeg_ls_frame_missing_scan_data_is_refused_naming_the_file(tmp_path: Path) -> None:
    path = _cut(tmp_path / "src", "cut.dcm", 800)
    with pytest.raises(DicomError) as caught:
        read_instance(path, "cut.dcm")
    assert str(caught.value).startswith(
        "cut.dcm: frame 0: the JPEG-LS stream is cut short, scan data missing ("
    )
    found = read_header(path, tmp_path / "src")  # inspect says the same
    assert isinstance(found, Problem) and "JPEG-LS stream is cut short" in found.reason
    result = convert_folder(tmp_path / "src", tmp_path / "out", ConvertOptions(format="npy"),
                            progress=False)  # fmt: skip
    assert result.exit_code != 0 and result.outputs == 0
    with (tmp_path / "out" / "errors.csv").open(newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert row["source"] == "cut.dcm" and "JPEG-LS stream is cut short" in row["reason"]


def test_a_jpeg_ls_frame_missing_only_its_end_marker_is_read_with_a_note(
    tmp_path: Path,
) -> None:
    image = read_instance(_cut(tmp_path, "eoi.dcm", 2), "eoi.dcm")
    np.testing.assert_array_equal(image.stored[0], STORED)
    assert image.problems == (
        "frame 0: the compressed stream has no end marker (EOI/EOC): truncated or damaged",
    )
