"""PNG images read as the values they show: palette colours, not palette indices."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data.io import load_image, load_mask
from pipeline.errors import RadpipeError

GREY = np.arange(16, dtype=np.uint8).reshape(4, 4) * 16  # 0, 16, ..., 240


def _palette_png(path: Path, colours: np.ndarray, indices: np.ndarray) -> Path:
    """A palette PNG whose index i shows ``colours[i]`` (RGB)."""
    im = Image.fromarray(indices.astype(np.uint8), "P")
    im.putpalette(colours.astype(np.uint8).ravel().tolist())
    im.save(path)
    return path


def test_grey_palette_png_gives_its_grey_values(tmp_path: Path) -> None:
    # index i shows grey 240 - 16 i: the picture is GREY, stored as indices 15 - GREY / 16
    colours = np.repeat((240 - 16 * np.arange(16))[:, None], 3, axis=1)
    path = _palette_png(tmp_path / "p.png", colours, 15 - GREY // 16)
    assert Image.open(path).mode == "P"
    image = load_image(path)
    assert image.shape == (1, 4, 4)
    # it gave the indices [15, 14, 13, ...] for [0, 16, 32, ...]
    np.testing.assert_array_equal(image[0], GREY.astype(np.float32))


def test_colour_palette_png_gives_rgb(tmp_path: Path) -> None:
    colours = np.array([[0, 0, 0], [255, 0, 0], [0, 128, 255]])
    indices = np.array([[0, 1], [2, 1]])
    image = load_image(_palette_png(tmp_path / "c.png", colours, indices))
    assert image.shape == (3, 2, 2)
    np.testing.assert_array_equal(image[:, 1, 0], [0, 128, 255])
    np.testing.assert_array_equal(image[:, 0, 1], [255, 0, 0])


def test_one_bit_and_grey_alpha_png(tmp_path: Path) -> None:
    Image.fromarray(GREY > 100).save(tmp_path / "b.png")  # mode "1"
    np.testing.assert_array_equal(load_image(tmp_path / "b.png")[0], np.where(GREY > 100, 255, 0))
    Image.fromarray(np.stack([GREY, np.full_like(GREY, 7)], -1), "LA").save(tmp_path / "la.png")
    image = load_image(tmp_path / "la.png")  # it was (2, 4, 4): grey and alpha as channels
    assert image.shape == (1, 4, 4)
    np.testing.assert_array_equal(image[0], GREY)


def test_palette_mask_keeps_its_indices_as_classes(tmp_path: Path) -> None:
    # VOC-style label PNG: index = class, the palette only colours it for display
    colours = np.array([[0, 0, 0], [128, 0, 0], [0, 128, 0]])
    indices = np.array([[0, 1], [2, 1]])
    mask = load_mask(_palette_png(tmp_path / "m.png", colours, indices))
    np.testing.assert_array_equal(mask, indices)


def test_palette_mask_with_white_at_index_0_is_refused(tmp_path: Path) -> None:
    # a white lesion on black, quantized with white first (PIL ADAPTIVE): lesion = index 0;
    # read as indices it was class 0 and the background class 1, without a word
    lesion = np.zeros((4, 4), bool)
    lesion[1:3, 1:3] = True
    path = _palette_png(tmp_path / "m.png", np.array([[255] * 3, [0] * 3]), np.where(lesion, 0, 1))
    with pytest.raises(RadpipeError, match=r"m\.png: a palette PNG mask.*0 -> 255, 1 -> 0"):
        load_mask(path)
    # the user's explicit map of the indices is what it says
    np.testing.assert_array_equal(load_mask(path, {0: 1, 1: 0}), lesion.astype(np.uint8))


@pytest.mark.parametrize(
    "greys, indices, expected",
    [
        ([0, 255], [[0, 1], [1, 0]], [[0, 1], [1, 0]]),  # black/white at 0/1: both readings agree
        ([0, 128, 255], [[0, 1], [2, 1]], [[0, 1], [2, 1]]),  # greys for display only: indices
    ],
    ids=["black-white", "display-greys"],
)
def test_grey_palette_masks_that_agree_or_only_display(
    tmp_path: Path, greys: list[int], indices: list[list[int]], expected: list[list[int]]
) -> None:
    colours = np.repeat(np.array(greys)[:, None], 3, axis=1)
    mask = load_mask(_palette_png(tmp_path / "g.png", colours, np.array(indices)))
    np.testing.assert_array_equal(mask, expected)


def _png16(path: Path, samples: np.ndarray, colour_type: int) -> Path:
    """A 16-bit PNG written by hand (Pillow cannot write 16-bit colour)."""
    import struct
    import zlib

    height, width = samples.shape[:2]
    rows = b"".join(b"\x00" + samples[y].astype(">u2").tobytes() for y in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 16, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )  # fmt: skip
    return path


@pytest.mark.parametrize(
    "colour_type, channels", [(2, 3), (4, 2), (6, 4)], ids=["rgb", "la", "rgba"]
)
def test_16_bit_colour_png_is_refused(tmp_path: Path, colour_type: int, channels: int) -> None:
    samples = np.full((2, 3, channels), 1000, np.uint16)
    path = _png16(tmp_path / "c16.png", samples, colour_type)
    # Pillow gives the high bytes: 1000 -> 3, which were used as the image without a word
    assert np.asarray(Image.open(path)).max() == 3
    with pytest.raises(
        RadpipeError, match=r"c16\.png: a 16-bit .* PNG, which Pillow reads as 8-bit"
    ):
        load_image(path)
    with pytest.raises(RadpipeError, match="16-bit"):
        load_mask(path)


def test_16_bit_grey_png_keeps_its_values(tmp_path: Path) -> None:
    path = _png16(tmp_path / "g16.png", np.array([[0, 1000], [30000, 65535]]), 0)
    np.testing.assert_array_equal(load_image(path)[0], [[0, 1000], [30000, 65535]])
