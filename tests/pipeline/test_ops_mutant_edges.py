"""Ops edges that hand-made mutants (mutation sweep mut99) changed without a test noticing.

Each expected value is worked out by hand in the comment beside it (found by mutating the
ops: flip axis 0 let through, the shear matrix transposed, a mask smoothed before nearest
resizing, a zero size or depth let through, the odd crop taken from the start, the ellipse's
boundary left out, a reversed out_range clipped to nothing).
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.ops.geometry import affine_matrix, crop_or_pad, fit_depth, flip, resize, warp_affine
from pipeline.ops.intensity import adjust_gamma, clip_intensity, rescale_intensity
from pipeline.ops.labels import fit_ellipse


def test_flip_refuses_axis_zero() -> None:
    # axes are counted from the end; 0 is the channel (or first) axis, never a spatial one
    with pytest.raises(ValueError, match="counted from the end"):
        flip(np.zeros((1, 2, 2)), [0])


def test_shear_moves_columns_along_rows() -> None:
    # forward (row, col) -> (row, col + tan(45) * (row - 2)) about the centre (2, 2):
    # the pixel at (0, 2) lands on (0, 0), the one at (4, 2) on (4, 4); row 2 stays put
    image = np.zeros((5, 5), dtype=np.uint8)
    image[0, 2], image[2, 2], image[4, 2] = 1, 2, 3
    out = warp_affine(image, affine_matrix(image.shape, shear=45.0), order=0)
    expected = np.zeros((5, 5), dtype=np.uint8)
    expected[0, 0], expected[2, 2], expected[4, 4] = 1, 2, 3
    assert out.tolist() == expected.tolist()


def test_a_mask_resized_with_anti_aliasing_is_not_smoothed() -> None:
    # 9 -> 3 columns: output column i samples input column 3 i + 1 (centres aligned), i.e.
    # columns 1, 4, 7 -> [0, 2, 2]; a Gaussian (sigma 1) before it would make column 4 ~1.4,
    # a class the mask does not hold
    mask = np.array([[0, 0, 0, 2, 2, 2, 2, 2, 2]], dtype=np.uint8)
    out = resize(mask, (1, 3), order=0, anti_aliasing=True)
    assert out.dtype == np.uint8
    assert out.tolist() == [[0, 2, 2]]


def test_resize_refuses_a_zero_size() -> None:
    with pytest.raises(ValueError, match="positive shape"):
        resize(np.zeros((2, 2), dtype=np.float32), (0, 2))


def test_an_odd_crop_cuts_the_extra_pixel_at_the_end() -> None:
    # 3 -> 2 columns: one pixel goes, and (as an odd pad adds its extra pixel at the end)
    # it is the last one
    assert crop_or_pad(np.array([[1, 2, 3]]), (1, 2)).tolist() == [[1, 2]]
    # 5 -> 2: three go, one at the start and two at the end
    assert crop_or_pad(np.array([[1, 2, 3, 4, 5]]), (1, 2)).tolist() == [[2, 3]]


def test_fit_depth_refuses_zero_slices() -> None:
    with pytest.raises(ValueError, match="depth must be >= 1"):
        fit_depth(np.zeros((1, 3, 2, 2), dtype=np.float32), 0)


def test_a_pixel_on_the_fitted_ellipse_is_inside() -> None:
    # a line (any number of axes is allowed) of pixels 0, 3, 4, 5, 8, 9, 10, 11: mean 50/8 =
    # 6.25, variance 416/8 - 6.25**2 = 12.9375, + 1/12 = 625/48; pixel 0 lies at
    # 6.25**2 / (625/48) = 3.0 = n + 2 exactly, on the boundary, which belongs to the ellipse
    # (every other pixel is nearer): the whole line becomes the class
    labels = np.array([1, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1], dtype=np.uint8)
    assert fit_ellipse(labels).tolist() == [1] * 12


def test_a_reversed_out_range_inverts_and_still_clips() -> None:
    # (0, 10) onto (1, 0): 0 -> 1, 5 -> 0.5, 10 -> 0; 15, past in_range, -0.5 clipped to 0
    image = np.array([[[0.0, 5.0, 10.0, 15.0]]])
    out = rescale_intensity(image, in_range=(0.0, 10.0), out_range=(1.0, 0.0))
    assert out.tolist() == [[[1.0, 0.5, 0.0, 0.0]]]


def test_gamma_zero_is_refused() -> None:
    # x**0 is 1 everywhere: the image would become its maximum, no gamma correction
    with pytest.raises(ValueError, match="gamma must be > 0; got 0"):
        adjust_gamma(np.array([[[0.0, 0.5, 1.0]]]), 0.0)


def test_clip_intensity_refuses_low_above_high() -> None:
    with pytest.raises(ValueError, match="low <= high; got low=2, high=1"):
        clip_intensity(np.zeros((1, 2, 2)), 2, 1)
