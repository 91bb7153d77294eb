"""Pixel-operation edges a mutation sweep of ``pipeline.ops`` / ``pipeline.stages`` found
untested (a ``<`` turned ``<=``, a default moved, a per-plane reshape widened to the volume):
expected values by hand, or from scikit-image / torch called directly."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.ops.filters import denoise_median, denoise_tv
from pipeline.ops.geometry import foreground_bbox
from pipeline.ops.intensity import add_gaussian_noise, clip_intensity, scale_percentiles
from pipeline.sample import Sample
from pipeline.stages import ClipIntensity, RescaleIntensity


def test_equal_percentiles_are_refused() -> None:
    with pytest.raises(ValueError, match="lower < upper"):
        scale_percentiles(np.zeros((1, 4, 4), np.float32), 50, 50)


def test_a_median_of_one_pixel_is_the_image() -> None:
    image = np.random.default_rng(0).normal(size=(1, 6, 6)).astype(np.float32)
    np.testing.assert_array_equal(denoise_median(image, size=1), image)


def test_total_variation_is_per_plane() -> None:
    """Two planes of different ranges ([0, 1] and [0, 1000]): each is scaled to [0, 1] by its
    own range, denoised by scikit-image and scaled back, as each plane alone would be."""
    from skimage.restoration import denoise_tv_chambolle

    rng = np.random.default_rng(1)
    planes = [rng.random((16, 16)), rng.random((16, 16)) * 1000]
    image = np.stack(planes).astype(np.float32)
    expected = []
    for p in image:
        lo, hi = float(p.min()), float(p.max())
        expected.append(denoise_tv_chambolle((p - lo) / (hi - lo), weight=0.1) * (hi - lo) + lo)
    np.testing.assert_allclose(denoise_tv(image, 0.1), np.stack(expected), rtol=1e-5, atol=1e-4)


def test_equal_clip_bounds_give_that_value() -> None:
    image = np.array([[[-3.0, 5.0, 9.0]]], np.float32)
    assert clip_intensity(image, 5.0, 5.0).tolist() == [[[5.0, 5.0, 5.0]]]
    out = ClipIntensity(low=5.0, high=5.0)(Sample(image=image), np.random.default_rng(0))
    assert out.image.tolist() == [[[5.0, 5.0, 5.0]]]


def test_the_box_of_one_pixel() -> None:
    array = np.zeros((5, 6))
    array[2, 3] = 1
    assert foreground_bbox(array) == ((2, 3), (1, 1))
    assert foreground_bbox(array, margin=1) == ((1, 2), (3, 3))
    assert foreground_bbox(np.zeros((5, 6))) == ((0, 0), (5, 6))


def test_gaussian_noise_is_torchs_seeded_draw_of_mean_zero() -> None:
    """The noise is ``torch.randn`` of a generator seeded ``seed``, times ``std``; with no
    ``mean`` nothing else is added."""
    import torch

    image = np.full((1, 8, 8), 3.0, np.float32)
    noise = torch.randn((1, 8, 8), generator=torch.Generator().manual_seed(7)).numpy()
    np.testing.assert_allclose(add_gaussian_noise(image, 2.0, seed=7), 3.0 + 2.0 * noise, rtol=1e-6)
    shifted = add_gaussian_noise(image, 2.0, seed=7, mean=0.5)
    np.testing.assert_allclose(shifted, 3.5 + 2.0 * noise, rtol=1e-6)


def test_rescale_without_an_output_range_maps_to_0_1() -> None:
    """``out_range: null`` in a config is [0, 1]: 0..10 becomes 0, 0.1, ..., 1."""
    image = np.arange(11, dtype=np.float32).reshape(1, 1, 11)
    out = RescaleIntensity(out_range=None)(Sample(image=image), np.random.default_rng(0))  # type: ignore[arg-type]
    np.testing.assert_allclose(out.image[0, 0], np.arange(11) / 10, atol=1e-6)


def test_the_largest_component_is_kept_when_it_is_not_the_first() -> None:
    """Two pieces of class 1: 2 pixels at the top left (labelled first) and 6 at the bottom
    right: the 6 stay."""
    from pipeline.ops.labels import keep_largest_component

    mask = np.zeros((5, 5), np.uint8)
    mask[0, 0:2] = 1
    mask[3:5, 2:5] = 1
    expected = mask.copy()
    expected[0, 0:2] = 0
    np.testing.assert_array_equal(keep_largest_component(mask), expected)


def test_crop_to_the_mask_box() -> None:
    """``source="mask"``: the box of the mask's non-zero pixels (rows 1-2, columns 2-4) with
    margin 0, from image and mask alike."""
    from pipeline.stages import CropForeground

    image = np.arange(30, dtype=np.float32).reshape(1, 5, 6)
    mask = np.zeros((5, 6), np.uint8)
    mask[1, 2] = mask[2, 4] = 1
    out = CropForeground(source="mask", margin=0)(
        Sample(image=image, mask=mask), np.random.default_rng(0)
    )
    assert out.image.tolist() == [[[8.0, 9.0, 10.0], [14.0, 15.0, 16.0]]]
    assert out.mask.tolist() == [[1, 0, 0], [0, 0, 1]]


def test_pad_value_defaults_to_zero_and_depth_one_is_a_depth() -> None:
    from pipeline.stages import CropOrPad, FitDepth

    padded = CropOrPad(shape=[1, 3])(
        Sample(image=np.full((1, 1, 1), 7, np.float32)), np.random.default_rng(0)
    )
    assert padded.image.tolist() == [[[0.0, 7.0, 0.0]]]
    series = np.arange(3, dtype=np.float32).reshape(1, 3, 1, 1)
    one = FitDepth(depth=1)(Sample(image=series), np.random.default_rng(0))
    assert one.image.shape == (1, 1, 1, 1) and float(one.image[0, 0, 0, 0]) == 1.0  # the centre


def test_a_four_axis_shape_is_refused() -> None:
    from pipeline.stages import Resize

    with pytest.raises(ValueError, match="2 or 3 positive sizes"):
        Resize(shape=[2, 2, 2, 2])


@pytest.mark.parametrize("shape", [64, "64", None, [64, "x"]])
def test_a_shape_that_is_not_a_list_of_sizes_is_refused_in_words(shape: object) -> None:
    """``--set preprocess.0.shape=64`` gave ``'int' object is not iterable``."""
    from pipeline.stages import Resize

    with pytest.raises(ValueError, match="must be 2 or 3 positive sizes; got"):
        Resize(shape=shape)  # type: ignore[arg-type]


def test_percentile_scaling_without_an_output_range_maps_to_0_1() -> None:
    """``ScalePercentiles(lower=0, upper=100, out_range=None)``: min and max to 0 and 1."""
    from pipeline.stages import ScalePercentiles

    image = np.arange(11, dtype=np.float32).reshape(1, 1, 11)
    stage = ScalePercentiles(lower=0, upper=100, out_range=None)  # type: ignore[arg-type]
    out = stage(Sample(image=image), np.random.default_rng(0))
    np.testing.assert_allclose(out.image[0, 0], np.arange(11) / 10, atol=1e-6)
