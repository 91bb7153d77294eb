"""Overlays of multi-channel images: an RGB or multi-sequence segmentation run drew them.

Until 2026-12-02 a segmentation run on RGB images trained, then stopped while drawing the
overlays (matplotlib's ``Invalid shape (3, 16, 16) for image data``), and a volume with two
channels showed a slice of the wrong axis.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from workflows.report import plots


def test_an_rgb_image_is_shown_in_colour_scaled_together() -> None:
    image = np.arange(3 * 2 * 4, dtype=np.float32).reshape(3, 2, 4)  # values 0..23
    mask = np.zeros((2, 4), np.uint8)
    shown, _, _, note = plots._pick_slice(image, mask, mask)
    assert shown.shape == (2, 4, 3) and note == ""
    assert shown[0, 0].tolist() == [0.0, 8 / 23, 16 / 23]  # channel c at (0, 0) is 8 c
    assert shown[1, 3].tolist() == [7 / 23, 15 / 23, 1.0]


def test_a_two_channel_volume_shows_channel_0_of_the_slice_with_most_truth() -> None:
    image = np.random.default_rng(0).normal(size=(2, 3, 4, 4))
    true = np.zeros((3, 4, 4), np.uint8)
    true[2, 1:3, 1:3] = 1
    shown, t, _, note = plots._pick_slice(image, true, np.zeros_like(true))
    assert np.array_equal(shown, image[0, 2]) and np.array_equal(t, true[2])
    assert note == "  (channel 0 of 2)"
    grey, *_ = plots._pick_slice(image[:1], true, true)
    assert np.array_equal(grey, image[0, 2])
    plain, *_ = plots._pick_slice(image[0], true, true)  # no channel axis at all
    assert np.array_equal(plain, image[0, 2])


def test_overlays_of_rgb_cases_are_drawn(tmp_path: Path) -> None:
    true = np.zeros((8, 8), np.uint8)
    true[2:5, 2:5] = 1
    rgb = np.random.default_rng(1).random((3, 8, 8)) * 255
    out = plots.plot_overlays([("c0", rgb, true, np.roll(true, 1, 0), 0.67)], tmp_path / "o.png")
    assert Image.open(out).size[0] > 100


def test_thumbnails_and_saliency_show_colour_not_the_middle_channel(tmp_path: Path) -> None:
    """Thumbnails showed channel 1 of an RGB image in grey (the 'middle slice' of axis 0),
    saliency maps channel 0, neither said."""
    rgb = np.arange(3 * 2 * 4, dtype=np.float32).reshape(3, 2, 4)
    shown, note = plots._plane(rgb)
    assert shown.shape == (2, 4, 3) and note == "" and shown[1, 3].tolist()[2] == 1.0
    volume = np.random.default_rng(2).normal(size=(4, 5, 3, 3))  # 4 channels, 5 slices
    shown, note = plots._plane(volume)
    assert np.array_equal(shown, volume[0, 2]) and note == "  (channel 0 of 4)"
    plots.plot_thumbnails([("c0", rgb, "x"), ("c1", volume, "y")], tmp_path / "t.png", title="t")
    rows = [("c0", rgb, {"occlusion": np.ones((2, 4))}, "evidence for: organ")]
    assert Image.open(plots.plot_saliency(rows, tmp_path / "s.png")).size[0] > 100
