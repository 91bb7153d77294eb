"""An overlay embedded in the unused high bits, in a JPEG 2000 or JPEG-LS codestream.

pydicom #2260: a CR whose overlay lives in the bits above BitsStored (Overlay Bit Position
(60xx,0102) >= BitsStored, no Overlay Data; PS3.5 8.1.2, retired but still written) decodes
from JPEG 2000 lossless with the overlay bits in its values (4096 added where the overlay is
drawn), where the native file and GDCM give the image alone. radpipe keeps a codestream's
samples wider than BitsStored (tests/pipeline/dicom/test_j2k_sign.py) unless the header says
those bits are an overlay's: then they are masked. Expected values by construction.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.encaps import encapsulate
from pydicom.uid import JPEG2000Lossless, JPEGLSLossless

from pipeline.dicom import read_instance
from tests.pipeline.dicom.builders import image_dataset

CR = "1.2.840.10008.5.1.4.1.1.1"
IMAGE = (np.arange(32 * 32).reshape(32, 32) * 4).astype(np.uint16)  # 0 .. 4092: 12 bits
OVERLAY = np.zeros((32, 32), np.uint16)
OVERLAY[1, 4:8] = 1


def _encode(syntax: str, words: np.ndarray) -> bytes:
    if syntax == JPEG2000Lossless:
        openjpeg = pytest.importorskip("openjpeg")
        return bytes(openjpeg.encode(words, bits_stored=16, use_mct=False))
    jpeg_ls = pytest.importorskip("jpeg_ls")
    return bytes(jpeg_ls.encode(words))


def _cr(tmp_path: Path, syntax: str, *, overlay: bool) -> tuple[np.ndarray, tuple[str, ...]]:
    ds: Dataset = image_dataset(CR, "CR", 32, 32, stored=12, syntax=syntax)
    if overlay:  # Overlay Rows/Columns, Type, Origin, Bits Allocated, Bit Position 12
        for elem, vr, value in ((0x0010, "US", 32), (0x0011, "US", 32), (0x0040, "CS", "G"),
                                (0x0050, "SS", [1, 1]), (0x0100, "US", 16),
                                (0x0102, "US", 12)):  # fmt: skip
            ds.add_new(0x60000000 | elem, vr, value)
    ds.PixelData = encapsulate([_encode(syntax, IMAGE | (OVERLAY << 12))])
    ds["PixelData"].is_undefined_length = True
    path = tmp_path / "cr.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_instance(path, "cr.dcm")
    return image.stored[0], image.problems


@pytest.mark.parametrize("syntax", [JPEG2000Lossless, JPEGLSLossless], ids=["j2k", "jpeg-ls"])
def test_overlay_bits_above_bits_stored_are_masked(tmp_path: Path, syntax: str) -> None:
    stored, problems = _cr(tmp_path, syntax, overlay=True)
    # kept as decoded, the overlay's 4 pixels read 4096 + 144 .. 4096 + 156
    assert stored[1, 2:10].tolist() == [136, 140, 144, 148, 152, 156, 160, 164]
    assert np.array_equal(stored, IMAGE)
    (said,) = [p for p in problems if "OverlayBitPosition 12" in p]
    assert "(6000,0102)" in said and "masked to 12 bits" in said and "4 of 1,024" in said
    assert "; " not in said  # the convert summary splits problems on it


def test_without_an_overlay_wider_samples_stay_kept(tmp_path: Path) -> None:
    # no overlay in the header: the wider samples are the image's, kept and noted as before
    stored, problems = _cr(tmp_path, JPEG2000Lossless, overlay=False)
    assert stored[1, 4:8].tolist() == [4240, 4244, 4248, 4252]
    assert any("samples need 13 bits" in p for p in problems)
