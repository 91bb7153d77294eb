"""HighBit (0028,0102) other than BitsStored - 1 (allowed by older editions of PS3.5 8.1.1:
12 stored bits in bits 4-15). pydicom ignores HighBit, so its values are the low 12 bits of
the shifted words (250 << 4 = 4000 & 0xFFF = 4000, 500 << 4 = 8000 -> 3904: garbage); the
stored values by construction are 0, 250, 500, ... (signed: -1000, -750, ...).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, RLELossless

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset


def _ct(words: np.ndarray, high_bit: int, signed: bool) -> Dataset:
    ds = image_dataset(CTImageStorage, "CT", 4, 4, stored=12, signed=signed)
    ds.HighBit = high_bit
    ds.PixelData = words.astype("<u2").tobytes()
    return ds


@pytest.mark.parametrize("signed", [False, True])
def test_values_in_the_high_bits_are_shifted_down(tmp_path: Path, signed: bool) -> None:
    values = np.arange(16) * 250 - (2000 if signed else 0)  # within 12 bits either way
    words = (values.astype(np.int64) & 0xFFF) << 4
    path = tmp_path / "a.dcm"
    _ct(words, 15, signed).save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    assert image.stored.ravel().tolist() == values.tolist()
    assert any("HighBit (0028,0102) 15 is not BitsStored - 1 (11): values read from bits 4-15"
               in p for p in image.problems)  # fmt: skip


def test_low_aligned_values_with_a_wrong_high_bit_are_kept_and_noted(tmp_path: Path) -> None:
    values = np.arange(16) * 250 + 1  # odd values: low bits set, so not shifted data
    path = tmp_path / "a.dcm"
    _ct(values, 15, False).save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    assert image.stored.ravel().tolist() == values.tolist()
    assert any("values read from the low 12 bits" in p for p in image.problems)


def test_a_high_bit_past_bits_allocated_is_noted(tmp_path: Path) -> None:
    # HighBit 16 names a bit a 16-bit cell does not have (PS3.5 8.1.1: HighBit < BitsAllocated)
    values = np.arange(16) * 250
    path = tmp_path / "a.dcm"
    _ct(values, 16, False).save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    assert image.stored.ravel().tolist() == values.tolist()
    want = ("HighBit (0028,0102) 16 is not BitsStored - 1 (11) and not below BitsAllocated "
            "(16): values read from the low 12 bits")  # fmt: skip
    assert list(image.problems) == [want]


def test_a_wrong_high_bit_is_noted_on_the_decoders_path_too(tmp_path: Path) -> None:
    # RLE goes through pydicom, which reads the low BitsStored bits whatever HighBit says
    values = (np.arange(16) * 250).astype("<u2").reshape(4, 4)
    ds = _ct(values, 15, False)
    ds.compress(RLELossless, values)
    path = tmp_path / "a.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    assert image.stored.ravel().tolist() == values.ravel().tolist()
    assert any("HighBit (0028,0102) 15 is not BitsStored - 1 (11): values read from the low "
               "12 bits" in p for p in image.problems)  # fmt: skip
