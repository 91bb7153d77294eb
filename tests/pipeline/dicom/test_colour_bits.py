"""Colour samples wider than 8 bits: unused high bits said as grey ones are; 16-bit YBR read.

Grey values with bits above BitsStored were noted; colour samples were masked by pydicom
unsaid (an RGB sample of 5000 under BitsStored 12 read as 904, by hand 5000 - 4096). A
16-bit YBR_FULL image was refused in pydicom 3.0's words (``Invalid ndarray.dtype 'uint16'
for color space conversion``; pydicom PR #2068 restricted the conversion to 8 bits, PR #2212
extended it to 16). The YBR samples here come from the PS3.3 C.7.6.3.1.2 equations written
out below, with CB and CR centred on 2048 for 12 bits (128 for 8).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, RLELossless

from pipeline.dicom import read_instance
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

SC = "1.2.840.10008.5.1.4.1.1.7"
RGB = np.array(
    [[[4095, 0, 0], [0, 4095, 0], [0, 0, 4095], [1000, 2000, 3000]],
     [[2048, 2048, 2048], [4000, 3000, 100], [0, 0, 0], [4095, 4095, 4095]]],
    np.uint16,
)  # fmt: skip


def _ybr(rgb: np.ndarray, centre: float) -> np.ndarray:
    """PS3.3 C.7.6.3.1.2, YBR_FULL from RGB, rounded to whole samples within 12 bits."""
    r, g, b = (rgb[..., i].astype(float) for i in range(3))
    y = 0.2990 * r + 0.5870 * g + 0.1140 * b
    cb = -0.1687 * r - 0.3313 * g + 0.5000 * b + centre
    cr = 0.5000 * r - 0.4187 * g - 0.0813 * b + centre
    return np.clip(np.rint(np.stack([y, cb, cr], axis=-1)), 0, 4095).astype(np.uint16)


def _colour(samples: np.ndarray, photometric: str, planar: int = 0, syntax: str = "") -> Dataset:
    ds = image_dataset(SC, "OT", 2, 4, stored=12, samples=3, photometric=photometric)
    ds.PlanarConfiguration = planar
    ds.PixelData = (samples.transpose(2, 0, 1) if planar else samples).astype("<u2").tobytes()
    if syntax == RLELossless:  # pydicom's encoder checks BitsStored: encode the 16-bit words
        ds.BitsStored, ds.HighBit = 16, 15
        ds.compress(RLELossless, encoding_plugin="pydicom")
        ds.BitsStored, ds.HighBit = 12, 11
    return ds


def _read(tmp_path: Path, ds: Dataset) -> tuple[np.ndarray, list[str]]:
    ds.save_as(tmp_path / "sc.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "sc.dcm", "sc.dcm")
    return np.asarray(image.stored[0]), [p for p in image.problems if "BitsStored" in p]


@pytest.mark.parametrize("syntax", ["", RLELossless], ids=["native", "rle"])
def test_colour_samples_past_bits_stored_are_masked_and_said(tmp_path: Path, syntax: str) -> None:
    words = RGB.copy()
    words[0, 3, 1], words[1, 2, 0] = 5000, 0xF000  # 5000 & 4095 = 904; junk 0xF000 & 4095 = 0
    stored, (said,) = _read(tmp_path, _colour(words, "RGB", syntax=syntax))
    expected = RGB.copy()
    expected[0, 3, 1] = 904
    assert stored.tolist() == expected.tolist()
    assert "2 of 24 values have bits 12-15 set (read whole: 5000 to 61440)" in said


def test_clean_colour_samples_stay_unsaid(tmp_path: Path) -> None:
    stored, said = _read(tmp_path, _colour(RGB, "RGB", planar=1))
    assert stored.tolist() == RGB.tolist() and said == []


@pytest.mark.parametrize("planar", [0, 1])
def test_sixteen_bit_ybr_full_is_read_as_rgb(tmp_path: Path, planar: int) -> None:
    stored, said = _read(tmp_path, _colour(_ybr(RGB, 2048.0), "YBR_FULL", planar))
    assert said == [] and stored.shape == (2, 4, 3)
    assert np.abs(stored.astype(int) - RGB.astype(int)).max() <= 2  # rounding both ways


def test_sixteen_bit_ybr_full_converts(tmp_path: Path) -> None:
    (tmp_path / "src").mkdir()
    _colour(_ybr(RGB, 2048.0), "YBR_FULL").save_as(tmp_path / "src" / "a.dcm")
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "png", "--quiet"]) == 0
    assert len(list(out.rglob("*.png"))) == 1


#: 2 x 4 RGB whose pixels pair up (columns 0-1 and 2-3 share their chroma, as YBR_FULL_422
#: stores it): a grey pair, whose CB and CR are the centre (R = G = B = Y exactly), and pairs
#: of one colour each.
PAIRED = np.array(
    [[[1000, 1000, 1000], [3000, 3000, 3000], [4095, 0, 0], [4095, 0, 0]],
     [[1000, 2000, 3000], [1000, 2000, 3000], [0, 4095, 0], [0, 4095, 0]]],
    np.uint16,
)  # fmt: skip


def _pairs(ybr: np.ndarray) -> np.ndarray:
    """YBR_FULL_422 words (PS3.3 C.7.6.3.1.2): Y Y CB CR per pair of pixels along each row.

    A row of an odd Columns ends with a whole pair, its second Y unused (0; fo-dicom #471).
    """
    out = []
    for row in ybr:
        for j in range(0, row.shape[0], 2):
            second = row[j + 1, 0] if j + 1 < row.shape[0] else 0
            out += [row[j, 0], second, row[j, 1], row[j, 2]]
    return np.array(out, np.uint16)


@pytest.mark.parametrize(
    ("columns", "planar", "syntax"),
    [(4, 0, ExplicitVRLittleEndian), (4, 1, ExplicitVRLittleEndian),
     (3, 0, ExplicitVRLittleEndian), (4, 0, ExplicitVRBigEndian)],
    ids=["pairs", "planar-1-read-as-0", "odd-columns-padded-rows", "big-endian"],
)  # fmt: skip
def test_sixteen_bit_ybr_full_422_pairs_are_upsampled_then_made_rgb(
    tmp_path: Path, columns: int, planar: int, syntax: str
) -> None:
    """Native 16-bit YBR_FULL_422 (12 stored bits): each pair's CB and CR serve both its
    pixels, then YBR_FULL becomes RGB centred on 2048; in pydicom 3.0's words it was refused
    ('Invalid ndarray.dtype uint16 for color space conversion')."""
    ds = image_dataset(SC, "OT", 2, columns, stored=12, samples=3, syntax=syntax,
                       photometric="YBR_FULL_422")  # fmt: skip
    ds.PlanarConfiguration = planar
    words = _pairs(_ybr(PAIRED[:, :columns], 2048.0))
    ds.PixelData = words.astype(">u2" if syntax == ExplicitVRBigEndian else "<u2").tobytes()
    stored, _ = _read(tmp_path, ds)
    assert stored.shape == (2, columns, 3)
    assert stored[0, :2].tolist() == [[1000] * 3, [3000] * 3]  # the grey pair, exactly
    assert np.abs(stored.astype(int) - PAIRED[:, :columns].astype(int)).max() <= 1  # rounding
