"""Edges of the pure ops that a plausible slip would change without any other test noticing.

Each expected value is worked out by hand in the comment beside it (found by mutating the
ops: a constant image rescaled to the top, the upper percentile mirrored from the lower one,
noise mean subtracted, PCA signs left to LAPACK, filters smoothing across channels, the two
zoom factors swapped, the rounded spacing claimed as requested, the odd pad at the start).
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.ops.filters import denoise_gaussian, denoise_median
from pipeline.ops.geometry import (
    affine_matrix,
    crop_or_pad,
    resample_to_spacing,
    warp_affine,
)
from pipeline.ops.intensity import add_gaussian_noise, rescale_intensity, scale_percentiles
from pipeline.ops.pca import fit_pca
from pipeline.sample import Sample
from pipeline.stages import PCA

GRID = np.arange(25, dtype=np.float32).reshape(1, 5, 5)


def test_a_constant_image_rescales_to_the_bottom_of_out_range() -> None:
    out = rescale_intensity(np.full((1, 2, 2), 7.0), out_range=(-1.0, 1.0))
    np.testing.assert_array_equal(out, np.full((1, 2, 2), -1.0, np.float32))


def test_percentiles_need_not_be_symmetric() -> None:
    # 0..100: the 10th percentile is 10 and the 80th is 80, so 45 maps to (45 - 10) / 70 = 0.5.
    x = np.arange(101, dtype=np.float32).reshape(1, 1, 101)
    out = scale_percentiles(x, 10, 80)[0, 0]
    assert out[[10, 45, 80]].tolist() == pytest.approx([0.0, 0.5, 1.0])


def test_gaussian_noise_mean_is_added() -> None:
    out = add_gaussian_noise(np.zeros((1, 2, 3)), std=0.0, seed=1, mean=2.5)
    np.testing.assert_array_equal(out, np.full((1, 2, 3), 2.5, np.float32))


def test_pca_component_signs_are_fixed_by_the_largest_loading() -> None:
    for seed in range(8):
        data = np.random.default_rng(seed).normal(size=(12, 6))
        comps = fit_pca(data, n_components=4).components
        largest = comps[np.arange(4), np.abs(comps).argmax(axis=1)]
        assert (largest > 0).all(), seed
        # the same subspace for -data, and so the same components once signs are fixed
        np.testing.assert_allclose(fit_pca(-data, n_components=4).components, comps, atol=1e-9)


def test_pca_stage_output_has_no_pixel_spacing() -> None:
    images = [np.random.default_rng(k).random((1, 4, 4)).astype(np.float32) for k in range(5)]
    meta = [{"id": str(k), "spacing": (0.5, 0.5)} for k in range(5)]
    samples = [Sample(im, meta=m) for im, m in zip(images, meta)]
    stage = PCA(n_components=2).fit(samples)
    out = stage(samples[0])
    assert out.image.shape == (2, 1, 1)
    assert "spacing" not in out.meta and out.meta["id"] == "0"


def test_filters_act_on_each_channel_alone() -> None:
    img = np.stack([np.zeros((5, 5)), np.ones((5, 5))]).astype(np.float32)
    np.testing.assert_array_equal(denoise_gaussian(img, 1.0), img)  # each channel constant
    # channels 1, 0, 1: across channels the middle one's window would be {1, 0, 1} -> 1
    img3 = np.stack([np.ones((4, 4)), np.zeros((4, 4)), np.ones((4, 4))]).astype(np.float32)
    np.testing.assert_array_equal(denoise_median(img3, 3), img3)


def test_zoom_factors_follow_their_axes() -> None:
    # zoom (rows 2, columns 1) about the centre (2, 2): output (3, 2) samples input (2.5, 2),
    # value 2.5 * 5 + 2 = 14.5; output (2, 3) samples input (2, 3) = 13.
    out = warp_affine(GRID, affine_matrix((5, 5), scale=(2.0, 1.0)))
    assert out[0, 3, 2] == pytest.approx(14.5)
    assert out[0, 2, 3] == pytest.approx(13.0)


def test_resampled_spacing_is_the_one_reached_after_rounding() -> None:
    # 10 pixels of 1 mm at 3 mm: round(10 / 3) = 3 pixels, each 10 / 3 mm
    out, spacing = resample_to_spacing(np.zeros((1, 10, 10), np.float32), (1.0, 1.0), (3.0, 3.0))
    assert out.shape == (1, 3, 3)
    assert spacing == pytest.approx((10 / 3, 10 / 3))


def test_odd_padding_puts_the_extra_pixel_at_the_end() -> None:
    # 2 -> 5 columns: 3 to add, 1 before and 2 after
    out = crop_or_pad(np.array([[7, 8]]), (5,))
    assert out.tolist() == [[0, 7, 8, 0, 0]]
