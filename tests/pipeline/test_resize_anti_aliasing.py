"""``anti_aliasing`` of the resize and resample stages: a Gaussian before downsampling.

The expected values are worked out by hand: stripes one pixel wide every third pixel,
downsampled by 3 with pixel centres aligned, land every output pixel on a 0 of the input
(the stripes vanish: aliasing), while the Gaussian of sigma (3 - 1) / 2 = 1 px that
scikit-image (and MONAI's ``Resize(anti_aliasing=True)``) puts before it keeps their local
mean, about 1/3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from pipeline.ops.geometry import resample_to_spacing, resize
from pipeline.sample import Sample
from pipeline.stages import Resample, Resize

# (1, 12, 30): columns 0, 3, 6, ... are 1, the rest 0.
STRIPES = np.zeros((1, 12, 30), np.float32)
STRIPES[..., ::3] = 1.0


def _smoothed_zero() -> float:
    """The Gaussian (sigma 1 px, cut at 4 sigma) of the stripes at a 0 right after a 1.

    Output column j's centre is input column 3j + 1 (a 0): the 1s lie at offsets -1, +2, -4
    (+5 is past the cut), so the value is (g(1) + g(2) + g(4)) / sum of g(d), |d| <= 4.
    """
    g = {d: math.exp(-(d**2) / 2) for d in range(-4, 5)}
    return (g[-1] + g[2] + g[-4]) / sum(g.values())


def test_downsampling_without_anti_aliasing_loses_the_stripes() -> None:
    out = resize(STRIPES, (12, 10))
    assert out.shape == (1, 12, 10)
    np.testing.assert_array_equal(out, 0.0)  # each output centre falls on a 0


def test_anti_aliasing_keeps_the_stripes_local_mean() -> None:
    out = resize(STRIPES, (12, 10), anti_aliasing=True)
    expected = _smoothed_zero()  # 0.2961, near the mean 1/3
    assert expected == pytest.approx(0.2961, abs=1e-4)
    np.testing.assert_allclose(out[:, :, 2:-2], expected, atol=1e-5)
    # the rows keep their size, so nothing is smoothed along them: stripes across the rows
    # (every third row 1) come through unchanged while the columns are downsampled
    rows = np.zeros((1, 12, 30), np.float32)
    rows[:, ::3, :] = 1.0
    expected_rows = np.zeros((1, 12, 10), np.float32)
    expected_rows[:, ::3, :] = 1.0
    np.testing.assert_allclose(resize(rows, (12, 10), anti_aliasing=True), expected_rows, atol=1e-6)


def test_anti_aliasing_changes_nothing_when_upsampling() -> None:
    x = np.arange(12, dtype=np.float32).reshape(1, 3, 4)
    np.testing.assert_array_equal(resize(x, (6, 8), anti_aliasing=True), resize(x, (6, 8)))


def test_resize_stage_smooths_the_image_never_the_mask() -> None:
    mask = np.zeros((12, 30), np.uint8)
    mask[:, ::3] = 2
    sample = Sample(STRIPES.copy(), mask=mask, meta={"id": "s", "spacing": (1.0, 1.0)})
    plain = Resize(shape=[12, 10])(sample)
    smooth = Resize(shape=[12, 10], anti_aliasing=True)(sample)
    assert plain.mask is not None and smooth.mask is not None
    np.testing.assert_array_equal(smooth.mask, plain.mask)  # nearest neighbour either way
    assert smooth.mask.dtype == np.uint8 and set(np.unique(smooth.mask)) <= {0, 2}
    np.testing.assert_allclose(smooth.image[:, :, 2:-2], _smoothed_zero(), atol=1e-5)
    assert smooth.meta["spacing"] == (1.0, 3.0)
    assert Resize(shape=[4, 4], anti_aliasing=True).get_params()["anti_aliasing"] is True


def test_resample_stage_and_op_take_anti_aliasing() -> None:
    sample = Sample(STRIPES.copy(), meta={"id": "s", "spacing": (1.0, 1.0)})
    out = Resample(spacing=[1.0, 3.0], anti_aliasing=True)(sample)
    assert out.image.shape == (1, 12, 10) and out.meta["spacing"] == (1.0, 3.0)
    np.testing.assert_allclose(out.image[:, :, 2:-2], _smoothed_zero(), atol=1e-5)
    plain, spacing = resample_to_spacing(STRIPES, (1.0, 1.0), (1.0, 3.0))
    assert spacing == (1.0, 3.0)
    np.testing.assert_array_equal(plain, 0.0)
