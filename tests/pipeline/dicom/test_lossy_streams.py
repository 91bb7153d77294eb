"""Lossy streams filed under a lossless transfer syntax (dcmtk PR #33, openjpeg #967).

A JPEG-LS stream of NEAR 3 labelled JPEG-LS Lossless, a JPEG 2000 codestream of the
irreversible 9/7 wavelet labelled JPEG 2000 Lossless Only, a baseline JPEG labelled JPEG
Lossless: each decodes without complaint, so inspect and convert passed the values for the
original's (inspect even named the lossless syntax). The streams' own markers say otherwise
(the JPEG-LS SOS NEAR byte, the COD transformation, the SOF marker); now both commands say
so. The values written stay the decoded ones: expected values are pydicom's ``pixel_array``
of the same file, and their distance to the original shows the loss.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import (
    JPEG2000,
    JPEG2000Lossless,
    JPEGLosslessSV1,
    JPEGLSLossless,
    JPEGLSNearLossless,
)

from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

OT = "1.2.840.10008.5.1.4.1.1.7"
#: 128 x 128 noise: every stream is over 4 KiB, so inspect leaves the pixel data in the file.
ORIGINAL = np.random.default_rng(0).integers(0, 4000, (128, 128)).astype(np.uint16)


def _jpeg_ls(near: int) -> Dataset:
    ds = image_dataset(OT, "OT", 128, 128, bits=16, stored=12)
    ds.PixelData = ORIGINAL.tobytes()
    if near:
        ds.compress(JPEGLSNearLossless, jls_error=near)
    else:
        ds.compress(JPEGLSLossless)
    return ds


def _j2k_97() -> Dataset:
    ds = image_dataset(OT, "OT", 128, 128, bits=16, stored=12)
    ds.PixelData = ORIGINAL.tobytes()
    ds.compress(JPEG2000, j2k_cr=[2])  # openjpeg's lossy path: the 9/7 wavelet
    return ds


def _baseline() -> Dataset:
    ds = image_dataset(OT, "OT", 128, 128, bits=8, syntax=JPEGLosslessSV1)
    buffer = io.BytesIO()
    Image.fromarray((ORIGINAL // 16).astype(np.uint8)).save(buffer, "JPEG", quality=90)
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    return ds


def _relabelled(ds: Dataset, syntax: str) -> Dataset:
    ds.file_meta.TransferSyntaxUID = syntax
    return ds


CASES = {
    "jpeg-ls-near-3": (lambda: _relabelled(_jpeg_ls(3), JPEGLSLossless), "JPEG-LS Lossy"),
    "j2k-9-7": (lambda: _relabelled(_j2k_97(), JPEG2000Lossless), "JPEG 2000 Image Compression "),
    "baseline": (_baseline, "JPEG Baseline"),
}


@pytest.mark.parametrize("name", CASES)
def test_a_lossy_stream_under_a_lossless_syntax_is_said_by_inspect_and_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
) -> None:
    make, stream = CASES[name]
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    make().save_as(src / "a.dcm", enforce_file_format=True)
    expected = pydicom.dcmread(src / "a.dcm").pixel_array.astype(np.float32)
    assert (expected != (ORIGINAL if expected.max() > 255 else ORIGINAL // 16)).any()  # lossy
    capsys.readouterr()
    main(["inspect", str(src)])
    shown = capsys.readouterr().out
    assert "a.dcm: note: lossy pixel data: TransferSyntaxUID (0002,0010) says" in shown
    assert f"but the stream is {stream}" in shown
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        [row] = list(csv.DictReader(f))
    assert row["problems"].startswith("lossy pixel data: TransferSyntaxUID (0002,0010) says")
    np.testing.assert_array_equal(np.load(out / row["output"]), expected)


def test_lossless_streams_and_lossy_syntaxes_say_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _jpeg_ls(0).save_as(src / "lossless.dcm", enforce_file_format=True)  # NEAR 0 under .80
    _jpeg_ls(3).save_as(src / "labelled.dcm", enforce_file_format=True)  # NEAR 3 under .81
    capsys.readouterr()
    main(["inspect", str(src)])
    assert "lossy pixel data" not in capsys.readouterr().out
    np.testing.assert_array_equal(pydicom.dcmread(src / "lossless.dcm").pixel_array, ORIGINAL)
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", "npy", "--quiet"]) == 0
    assert "lossy pixel data" not in (tmp_path / "out" / "manifest.csv").read_text()
