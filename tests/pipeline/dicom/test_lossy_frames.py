"""A lossy frame after a lossless first frame, under a lossless-only syntax.

Only the first frame's markers were read, so a JPEG-LS Lossless file whose second frame is
near-lossless (NEAR 3, a frame re-encoded alone) passed ``inspect`` and ``convert`` as
lossless. Every frame's markers are read now. Expected: which frames are lossy is known from
how they were built; the values are pydicom's ``pixel_array`` of the same file.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate, generate_frames
from pydicom.uid import JPEGLSLossless

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset
from tests.pipeline.dicom.test_lossy_streams import ORIGINAL, _jpeg_ls  # streams over 4 KiB
from workflows.cli import main

OT = "1.2.840.10008.5.1.4.1.1.7"
SAID = (
    "lossy pixel data: TransferSyntaxUID (0002,0010) says JPEG-LS Lossless Image Compression, "
    "but the stream of 1 of 3 frames (frame {k}) is JPEG-LS Lossy (Near-Lossless) Image "
    "Compression (its own markers say so): values differ from the original by the "
    "compression error"
)


def _frame(near: int) -> bytes:
    """One JPEG-LS stream of ``ORIGINAL``: lossless (NEAR 0) or near-lossless."""
    return next(generate_frames(_jpeg_ls(near).PixelData, number_of_frames=1))


@pytest.mark.parametrize("lossy", [1, 2], ids=["middle", "last"])
def test_a_lossy_later_frame_is_said_by_inspect_and_convert(tmp_path: Path, lossy: int) -> None:
    ds = image_dataset(OT, "OT", 128, 128, bits=16, stored=12, syntax=JPEGLSLossless)
    ds.NumberOfFrames = 3
    ds.PixelData = encapsulate([_frame(3 if k == lossy else 0) for k in range(3)])
    ds["PixelData"].VR = "OB"
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    ds.save_as(src / "a.dcm", enforce_file_format=True)
    decoded = pydicom.dcmread(src / "a.dcm").pixel_array
    assert [(decoded[k] != ORIGINAL).any() for k in range(3)] == [k == lossy for k in range(3)]
    notes = {p.reason for p in index_folder(src).all_problems() if "lossy" in p.reason}
    assert notes == {f"note: {SAID.format(k=lossy)}"}
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert {r["problems"].split("; ")[0] for r in rows} == {SAID.format(k=lossy)}
    for row in rows:
        np.testing.assert_array_equal(np.load(out / row["output"]), decoded[int(row["frame"])])
