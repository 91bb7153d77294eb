"""A JPEG 2000 codestream whose signedness is not PixelRepresentation's (PS3.5 8.2.4 requires
them to agree). pydicom reads the values as the header says, which is right for encoders that
write an unsigned codestream of signed words and a guess the other way round; either way the
disagreement was unsaid. Now inspect and convert note it. Samples wider than BitsStored in a
JPEG 2000 or JPEG-LS codestream are kept as decoded and noted; RLE's are masked (native words)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import CTImageStorage, JPEG2000Lossless

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main

openjpeg = pytest.importorskip("openjpeg")

STORED = np.zeros((64, 64), np.int16)
STORED[0, :4] = [-1000, -1, 0, 2047]


def _ct(signed_header: bool, words: np.ndarray) -> object:
    ds = image_dataset(CTImageStorage, "CT", 64, 64, stored=12, signed=signed_header,
                       syntax=JPEG2000Lossless)  # fmt: skip
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024 if not signed_header else 0
    ds.PixelData = encapsulate([openjpeg.encode(words, bits_stored=12, use_mct=False)])
    ds["PixelData"].is_undefined_length = True
    return ds


@pytest.mark.parametrize(
    ("signed_header", "words", "first", "said"),
    [
        # a signed codestream under PixelRepresentation 0: -1000 is read as the 12-bit
        # unsigned 3096 (4096 - 1000), plus the intercept -1024
        (False, STORED, [3096 - 1024, 4095 - 1024, -1024, 2047 - 1024], "is signed (12 bits)"),
        # two's complement words in an unsigned codestream under PixelRepresentation 1
        (
            True,
            (STORED.astype(np.int32) & 0xFFF).astype(np.uint16),
            [-1000, -1, 0, 2047],
            "is unsigned (12 bits)",
        ),
        (True, STORED, [-1000, -1, 0, 2047], ""),  # they agree: nothing to say
    ],
    ids=["signed-stream", "unsigned-stream", "agree"],
)
def test_codestream_sign_against_pixel_representation(
    tmp_path: Path, signed_header: bool, words: np.ndarray, first: list[int], said: str
) -> None:
    src = write_folder(tmp_path / "src", a=_ct(signed_header, words))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert np.load(out / row["output"])[0, :4].tolist() == first
    if said:
        assert f"the JPEG 2000 codestream {said} but PixelRepresentation" in row["problems"]
    else:
        assert row["problems"] == ""


#: 16-bit samples under BitsStored 12: masked to 12 bits, 5000 is 904 and 65535 is 4095.
WIDE = np.zeros((64, 64), np.uint16)
WIDE[0, :4] = [100, 4095, 5000, 65535]


def _wide(tmp_path: Path, syntax: str, frame: bytes) -> tuple[list[int], str, Path]:
    """:data:`WIDE` as one ``frame`` of ``syntax`` under BitsStored 12, converted to NPY:
    its first four values, its manifest problems and its source folder."""
    ds = image_dataset(CTImageStorage, "CT", 64, 64, stored=12, syntax=syntax)
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.PixelData = encapsulate([frame])
    ds["PixelData"].is_undefined_length = True
    src = write_folder(tmp_path / "src", a=ds)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    return np.load(out / row["output"])[0, :4].tolist(), row["problems"], src


def test_codestream_samples_wider_than_bits_stored_are_kept(tmp_path: Path) -> None:
    # a 16-bit codestream under BitsStored 12: masked to 12 bits, 5000 was 904 (5000 - 4096)
    # and 65535 was 4095, unsaid; pydicom keeps the decoded samples
    frame = openjpeg.encode(WIDE, bits_stored=16, use_mct=False)
    first, problems, _ = _wide(tmp_path, JPEG2000Lossless, frame)
    assert first == [100, 4095, 5000, 65535]
    assert "JPEG 2000 samples need 16 bits (up to 65535) but BitsStored" in problems


def test_jpeg_ls_samples_wider_than_bits_stored_are_kept(tmp_path: Path) -> None:
    # the same for JPEG-LS, which pydicom does not mask either: they were masked, unsaid
    jpeg_ls = pytest.importorskip("jpeg_ls")
    from pydicom.uid import JPEGLSLossless

    first, problems, _ = _wide(tmp_path, JPEGLSLossless, bytes(jpeg_ls.encode(WIDE)))
    assert first == [100, 4095, 5000, 65535]
    said = "JPEG-LS samples need 16 bits (up to 65535) but BitsStored (0028,0101) says 12"
    assert said in problems


def test_rle_samples_above_high_bit_are_masked_as_pydicom_does(tmp_path: Path) -> None:
    # RLE holds the native words (PS3.5 G): bits above HighBit are undefined (PS3.5 8.1.1)
    # and pydicom masks them, as radpipe does for native data: 5000 & 0xFFF = 904
    import pydicom
    from pydicom.pixels.encoders.base import RLELosslessEncoder
    from pydicom.uid import RLELossless

    frame = RLELosslessEncoder.encode(
        WIDE, rows=64, columns=64, samples_per_pixel=1, bits_allocated=16, bits_stored=16,
        pixel_representation=0, photometric_interpretation="MONOCHROME2", number_of_frames=1,
    )  # fmt: skip
    first, problems, src = _wide(tmp_path, RLELossless, frame)
    assert first == [100, 4095, 904, 4095]
    assert pydicom.dcmread(src / "a.dcm").pixel_array[0, :4].tolist() == first
    # masked as before, and since 2026-12-03 said (tests/pipeline/dicom/test_unused_bits.py)
    assert problems.startswith("stored values use bits above BitsStored (0028,0101) 12")
