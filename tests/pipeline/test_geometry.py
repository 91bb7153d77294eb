"""Geometric ops and deterministic geometric stages."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from pipeline.errors import StageError
from pipeline.ops.geometry import (
    affine_matrix,
    crop_or_pad,
    fit_depth,
    flip,
    foreground_bbox,
    resize,
    rotate90,
    warp_affine,
)
from pipeline.sample import Sample
from pipeline.stages import CropForeground, CropOrPad, FitDepth, Resample, Resize

GRID = np.arange(25, dtype=np.float32).reshape(1, 5, 5)


def test_affine_quarter_turn_equals_rot90() -> None:
    m = affine_matrix((5, 5), rotation=90)
    np.testing.assert_allclose(warp_affine(GRID, m), rotate90(GRID, 1), atol=1e-4)
    # Counter-clockwise as displayed: the top-right corner moves to the top-left.
    assert rotate90(GRID, 1)[0, 0, 0] == GRID[0, 0, 4]


def test_affine_translation_and_scale_hand_computed() -> None:
    shifted = warp_affine(GRID, affine_matrix((5, 5), translate=(0, 1)))
    np.testing.assert_array_equal(shifted[0, :, 1:], GRID[0, :, :4])
    assert np.all(shifted[0, :, 0] == 0)
    # Zoom x2 about the centre (2, 2): output (2, 3) samples input (2, 2.5) = 12.5.
    zoomed = warp_affine(GRID, affine_matrix((5, 5), scale=(2, 2)))
    assert zoomed[0, 2, 3] == pytest.approx(12.5)


def test_affine_matches_scipy_rotate() -> None:
    rng = np.random.default_rng(0)
    img = ndimage.gaussian_filter(rng.random((1, 33, 33)), 2).astype(np.float32)
    ours = warp_affine(img, affine_matrix((33, 33), rotation=30), order=1)
    ref = ndimage.rotate(img[0], 30, reshape=False, order=1, mode="grid-constant")
    np.testing.assert_allclose(ours[0], ref, atol=1e-4)


def test_flip_and_mask_dtype_kept() -> None:
    mask = np.array([[0, 1, 2]], np.uint8)
    out = warp_affine(mask, affine_matrix((1, 3), rotation=180), order=0)
    assert out.dtype == np.uint8 and out.tolist() == [[2, 1, 0]]
    assert flip(mask, [-1]).tolist() == [[2, 1, 0]]
    with pytest.raises(ValueError, match="counted from the end"):
        flip(mask, [1])


def test_resize_nearest_keeps_classes() -> None:
    mask = np.array([[0, 3], [5, 1]], np.uint8)
    out = resize(mask, (5, 7), order=0)
    assert out.dtype == np.uint8 and set(np.unique(out)) == {0, 1, 3, 5}
    img = resize(np.ones((2, 4, 4), np.float32), (2, 2))
    assert img.shape == (2, 2, 2) and np.allclose(img, 1)


def test_crop_or_pad_and_bbox() -> None:
    x = np.arange(12).reshape(3, 4)
    assert crop_or_pad(x, (1, 2)).tolist() == [[5, 6]]
    assert crop_or_pad(x, (3, 6), value=-1)[0].tolist() == [-1, 0, 1, 2, 3, -1]
    m = np.zeros((6, 6))
    m[2:4, 1:3] = 1
    assert foreground_bbox(m) == ((2, 1), (2, 2))
    assert foreground_bbox(m, margin=1) == ((1, 0), (4, 4))


def test_fit_depth_crop_pad_and_resample() -> None:
    vol = np.arange(4, dtype=np.float32).reshape(1, 4, 1, 1)
    assert fit_depth(vol, 2)[0, :, 0, 0].tolist() == [1, 2]
    assert fit_depth(vol, 6)[0, :, 0, 0].tolist() == [0, 0, 1, 2, 3, 0]
    mask = np.array([0, 1, 2, 3], np.uint8).reshape(4, 1, 1)
    assert fit_depth(mask, 8, "resample", order=0, axis=0).ravel().tolist() == [
        0, 0, 1, 1, 2, 2, 3, 3,
    ]  # fmt: skip


def _sample3d(d: int = 5) -> Sample:
    rng = np.random.default_rng(1)
    img = rng.random((1, d, 12, 16)).astype(np.float32)
    mask = (img[0] > 0.5).astype(np.uint8)
    return Sample(image=img, mask=mask, meta={"id": "v", "spacing": (3.0, 1.0, 1.0)})


def test_resize_in_plane_on_series_and_spacing() -> None:
    s = _sample3d()
    out = Resize(shape=[6, 8])(s)
    assert out.image.shape == (1, 5, 6, 8) and out.mask is not None
    assert out.mask.shape == (5, 6, 8) and out.meta["spacing"] == (3.0, 2.0, 2.0)
    for k in range(5):  # same in-plane transform on every slice
        np.testing.assert_allclose(out.image[0, k], resize(s.image[0, k], (6, 8)), atol=1e-6)


@pytest.mark.parametrize(
    ("stage", "spacing"),
    [
        (Resize(shape=[6, 8]), (1.0, 1.0)),  # in-plane only, on a (D, H, W) series
        (Resize(shape=[6, 8]), (9.0, 3.0, 1.0, 1.0)),  # one value too many
        (FitDepth(depth=10, method="resample"), (1.0, 1.0)),
    ],
    ids=["resize-short", "resize-long", "fit_depth-short"],
)
def test_spacing_of_another_length_is_dropped(stage: Resize | FitDepth,
                                              spacing: tuple[float, ...]) -> None:  # fmt: skip
    """A spacing not one value per spatial axis was kept unchanged while the pixel size
    changed (12x16 -> 6x8 pixels: 2 mm pixels still said to be 1 mm); now it is dropped."""
    sample = _sample3d()
    out = stage(sample.replace(meta={**sample.meta, "spacing": spacing}))
    assert out.meta["spacing"] is None


def test_fit_depth_resample_scales_the_slice_spacing() -> None:
    out = FitDepth(depth=10, method="resample")(_sample3d(5))  # 5 slices of 3 mm -> 10
    assert out.meta["spacing"] == (1.5, 1.0, 1.0)  # 5 * 3 / 10
    same = FitDepth(depth=5, method="resample")(_sample3d(5))
    assert same.meta["spacing"] == (3.0, 1.0, 1.0)


def test_resample_to_spacing_and_errors() -> None:
    s = Sample(np.zeros((1, 10, 20), np.float32), meta={"id": "a", "spacing": (0.5, 0.5)})
    out = Resample(spacing=[1.0, 2.0])(s)
    assert out.image.shape == (1, 5, 5) and out.meta["spacing"] == (1.0, 2.0)
    with pytest.raises(StageError, match="spacing"):
        Resample(spacing=[1.0, 1.0])(Sample(np.zeros((1, 4, 4), np.float32)))


def test_crop_foreground_and_crop_or_pad_move_mask_too() -> None:
    img = np.zeros((1, 10, 10), np.float32)
    img[0, 3:6, 4:8] = 5
    s = Sample(img, mask=(img[0] > 0).astype(np.uint8))
    out = CropForeground(threshold=0, margin=1)(s)
    assert out.image.shape == (1, 5, 6) and out.mask is not None
    assert np.array_equal(out.mask, out.image[0] > 0)
    padded = CropOrPad(shape=[12, 8], value=-1)(s)
    assert padded.image.shape == (1, 12, 8) and padded.image[0, 0, 0] == -1
    assert padded.mask is not None and padded.mask[0, 0] == 0 and padded.mask.sum() == 12


def test_fit_depth_stage_batches_series() -> None:
    a, b = FitDepth(depth=4)(_sample3d(3)), FitDepth(depth=4)(_sample3d(7))
    assert a.image.shape == b.image.shape == (1, 4, 12, 16)
    assert a.mask is not None and a.mask.shape == (4, 12, 16)
    r = FitDepth(depth=10, method="resample")(_sample3d(5))
    assert r.meta["spacing"] == (1.5, 1.0, 1.0)


# A 2x2 label map and its nearest-neighbour doubling (each label a 2x2 block), by numpy alone.
LABELS = np.array([[0, 1], [2, 3]], np.int64)
DOUBLED = np.kron(LABELS, np.ones((2, 2), np.int64))


@pytest.mark.parametrize(
    "stage",
    [Resize(shape=[4, 4]), Resample(spacing=[1.0, 1.0])],
    ids=["resize", "resample"],
)
def test_geometric_stages_resize_the_mask_with_nearest_neighbour(
    stage: Resize | Resample,
) -> None:
    """Mutation: a stage interpolating the mask linearly (blended class indices, floats)."""
    image = LABELS[None].astype(np.float32)
    out = stage(Sample(image, mask=LABELS.copy(), meta={"id": "a", "spacing": (2.0, 2.0)}))
    assert out.mask is not None and out.mask.dtype == np.int64
    np.testing.assert_array_equal(out.mask, DOUBLED)
    assert not np.array_equal(out.image[0], DOUBLED)  # the image is interpolated (order 1)


@pytest.mark.parametrize(
    "stage",
    [Resize(shape=[4, 4], order=0), Resample(spacing=[1.0, 1.0], order=0)],
    ids=["resize", "resample"],
)
def test_geometric_stages_interpolate_the_image_with_the_configured_order(
    stage: Resize | Resample,
) -> None:
    """Mutation: the stage's ``order`` ignored for the image (always linear): ``order: 0``
    doubles a 2x2 image into 2x2 blocks, as numpy's ``kron`` does."""
    image = LABELS[None].astype(np.float32)
    out = stage(Sample(image, meta={"id": "a", "spacing": (2.0, 2.0)}))
    np.testing.assert_array_equal(out.image[0], DOUBLED.astype(np.float32))


def test_fit_depth_resamples_the_mask_with_nearest_neighbour() -> None:
    """Mutation: ``FitDepth(method="resample")`` interpolating the mask linearly along D."""
    mask = np.stack([np.zeros((2, 2), np.int64), np.full((2, 2), 3, np.int64)])  # (2, 2, 2)
    sample = Sample(mask[None].astype(np.float32), mask=mask, meta={"spacing": (2.0, 1.0, 1.0)})
    out = FitDepth(depth=4, method="resample")(sample)
    assert out.mask is not None and out.mask.dtype == np.int64
    np.testing.assert_array_equal(out.mask, np.repeat(mask, 2, axis=0))  # slices 0 0 3 3


def test_resample_records_the_spacing_the_whole_pixels_give() -> None:
    # 5 x 7 pixels of 1 mm to 2 mm: round(2.5) = 2 and round(3.5) = 4 pixels, so the pixels
    # are 5 / 2 = 2.5 and 7 / 4 = 1.75 mm (the extent kept), not the 2 mm asked for
    sample = Sample(image=np.zeros((1, 5, 7), np.float32), meta={"id": "r", "spacing": (1.0, 1.0)})
    out = Resample(spacing=[2.0, 2.0])(sample)
    assert out.image.shape == (1, 2, 4)
    assert out.meta["spacing"] == pytest.approx((2.5, 1.75))
