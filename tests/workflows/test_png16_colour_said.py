"""``--format png16`` writes colour as 8-bit PNG, and the problems cell now says so.

Pillow writes RGB PNGs with 8 bits per sample only (no 16-bit RGB PNG writer is installed),
so a 16-bit RGB file came out as 8-bit under png16 without a word: the low bits of each
sample lost where the user asked for 16. Expected values by hand: 16-bit samples scaled by
255 / 65535 (multiples of 257 map exactly; 25701 is 100.004, written 100).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.pipeline.dicom.builders import convert_one, image_dataset, write_folder

NOTE = ("colour written as 8-bit PNG: --format png16 writes 16 bits for grey images only (no "
        "PNG writer here takes 16-bit RGB), ")  # fmt: skip


def _rgb(folder: Path, bits: int, samples: list[int]) -> Path:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 2, 2, bits=bits, samples=3,
                       photometric="RGB")  # fmt: skip
    ds.PlanarConfiguration = 0
    ds.PixelData = np.array(samples, f"<u{bits // 8}").tobytes()  # (2, 2, 3), pixel by pixel
    return write_folder(folder, rgb=ds)


def test_16_bit_colour_is_said_scaled_to_8_bits(tmp_path: Path) -> None:
    samples = [0, 257, 25700, 65535, 25701, 514, 0, 0, 0, 65535, 65535, 65535]
    row, png = convert_one(_rgb(tmp_path / "src", 16, samples), tmp_path / "out", "--format",
                           "png16")  # fmt: skip
    assert row["problems"] == NOTE + "its 16-bit samples scaled to 8 bits (--format npy keeps them)"
    assert png.dtype == np.uint8
    assert png.reshape(-1).tolist() == [0, 1, 100, 255, 100, 2, 0, 0, 0, 255, 255, 255]


def test_8_bit_colour_is_said_written_as_it_is(tmp_path: Path) -> None:
    samples = [0, 1, 100, 255, 7, 2, 0, 0, 0, 255, 254, 253]
    row, png = convert_one(_rgb(tmp_path / "src", 8, samples), tmp_path / "out", "--format",
                           "png16")  # fmt: skip
    assert row["problems"] == NOTE + "its 8-bit values as they are"
    assert png.reshape(-1).tolist() == samples


def test_plain_png_and_grey_png16_say_nothing(tmp_path: Path) -> None:
    row, _ = convert_one(_rgb(tmp_path / "src", 16, [0] * 12), tmp_path / "out", "--format", "png")
    assert row["problems"] == ""  # 8 bits asked for
    grey = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 2, 2)
    grey.PixelData = np.array([0, 1, 2, 65535], "<u2").tobytes()
    row, png = convert_one(write_folder(tmp_path / "g", g=grey), tmp_path / "o2", "--format",
                           "png16")  # fmt: skip
    assert row["problems"] == "" and png.tolist() == [[0, 1], [2, 65535]]
