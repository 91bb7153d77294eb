"""Sampling grids, control-point displacement fields, and masks that stay labels."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from pipeline.ops.geometry import affine_matrix
from pipeline.ops.warp import (
    control_grid_shape,
    control_point_displacement,
    control_point_grid,
    sample_planes,
    sampling_grid,
)
from pipeline.sample import Sample
from pipeline.stages import RandomAffine, RandomElasticGrid

LABELS = {0, 3, 7}


@pytest.mark.parametrize(
    ("size", "spacing", "expected"),
    [(256, 32, 12), (255, 32, 11), (48, 12, 8), (7, 1, 9), (1, 5, 3)],
    ids=["256-32", "255-32", "48-12", "7-1", "1-5"],
)
def test_control_grid_shape_hand_computed(size: int, spacing: float, expected: int) -> None:
    # 256: ceil(255 / 64 + 0.5) * 2 + 2 = 5 * 2 + 2; 255: ceil(254 / 64) * 2 + 3 = 4 * 2 + 3.
    assert control_grid_shape(size, spacing) == expected


def test_control_grid_shape_matches_monai() -> None:
    utils = pytest.importorskip("monai.transforms.utils")
    for size in (1, 7, 48, 255, 256):
        for spacing in (1.0, 5.0, 32.0):
            monai = utils.create_control_grid((size,), (spacing,)).shape[1]
            assert control_grid_shape(size, spacing) == monai, (size, spacing)


@pytest.mark.parametrize(
    ("shape", "spacing"), [((256, 256), (32, 32)), ((33, 40), (5, 7.5))], ids=["256", "odd"]
)
def test_control_point_field_is_the_bicubic_upsampling_cropped(
    shape: tuple[int, int], spacing: tuple[float, float]
) -> None:
    """The separable weights equal interpolating the whole field, then centre-cropping it
    (what MONAI's Rand2DElastic does)."""
    n = (control_grid_shape(shape[0], spacing[0]), control_grid_shape(shape[1], spacing[1]))
    offsets = np.random.default_rng(9).standard_normal((2, *n), dtype=np.float32)
    full = F.interpolate(
        torch.from_numpy(offsets * 2.5)[None],
        scale_factor=spacing,
        mode="bicubic",
        align_corners=False,
        recompute_scale_factor=True,
    )[0].numpy()
    r0, c0 = full.shape[1] // 2 - shape[0] // 2, full.shape[2] // 2 - shape[1] // 2
    expected = full[:, r0 : r0 + shape[0], c0 : c0 + shape[1]]
    field = control_point_displacement(shape, spacing, 2.5, seed=9)
    assert field.shape == (2, *shape) and field.dtype == np.float32
    np.testing.assert_allclose(field, expected, atol=1e-5)


def test_field_equals_the_offsets_at_the_control_points() -> None:
    """Spacing 5: control point k sits at upsampled pixel 5k + 2; the crop of a 20-pixel
    axis from 40 starts at 10, so points k = 2..5 land on pixels 2, 7, 12, 17."""
    field = control_point_displacement((20, 20), (5, 5), 2.0, seed=4)
    offsets = np.random.default_rng(4).standard_normal((2, 8, 8), dtype=np.float32)
    at = np.ix_([0, 1], [2, 7, 12, 17], [2, 7, 12, 17])
    np.testing.assert_allclose(field[at], 2.0 * offsets[:, 2:6, 2:6], atol=1e-5)


def test_sampling_grid_matches_the_pixel_formula() -> None:
    h, w = 9, 14
    m = affine_matrix((h, w), rotation=20, scale=(1.1, 0.9), translate=(1.5, -2), shear=5)
    d = np.random.default_rng(0).normal(0, 2, (2, h, w))
    grid = sampling_grid((1, h, w), m, d)[0].numpy()
    r, c = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    rows = m[0, 0] * r + m[0, 1] * c + m[0, 2] + d[0]
    cols = m[1, 0] * r + m[1, 1] * c + m[1, 2] + d[1]
    np.testing.assert_allclose(grid[..., 0], cols * 2 / (w - 1) - 1, atol=1e-6)
    np.testing.assert_allclose(grid[..., 1], rows * 2 / (h - 1) - 1, atol=1e-6)


def _stripes() -> Sample:
    """A smooth image and a mask of labels 0, 3, 7 (far apart, so a blend is visible)."""
    yy, xx = np.mgrid[0:40, 0:40].astype(np.float32)
    mask = np.where((xx // 5) % 3 == 1, 3, np.where((xx // 5) % 3 == 2, 7, 0)).astype(np.uint8)
    return Sample(np.sin(yy / 7 + xx / 5)[None].astype(np.float32), mask=mask)


def _nearest(mask: np.ndarray, rows: np.ndarray, cols: np.ndarray) -> tuple[np.ndarray, ...]:
    """Nearest-neighbour lookup with zeros outside, and where a tie makes it ambiguous."""
    ri, ci = np.rint(rows).astype(int), np.rint(cols).astype(int)
    inside = (ri >= 0) & (ri < mask.shape[0]) & (ci >= 0) & (ci < mask.shape[1])
    out = np.where(inside, mask[np.clip(ri, 0, 39), np.clip(ci, 0, 39)], 0)
    tie = (np.abs(np.abs(rows % 1) - 0.5) < 1e-3) | (np.abs(np.abs(cols % 1) - 0.5) < 1e-3)
    return out, tie


def test_affine_and_elastic_masks_are_nearest_labels_never_blends() -> None:
    s = _stripes()
    r, c = np.meshgrid(np.arange(40.0), np.arange(40.0), indexing="ij")
    affine = RandomAffine(p=1.0, rotation=30.0, scale=0.2, translate=0.1, isotropic=False)
    out = affine(s, np.random.default_rng(3))
    p = out.meta["applied"][-1]
    m = affine_matrix((40, 40), p["rotation"], p["scale"], p["translate"], p["shear"])
    rows, cols = (m[k, 0] * r + m[k, 1] * c + m[k, 2] for k in (0, 1))
    expected, tie = _nearest(s.mask, rows, cols)
    assert out.mask is not None and set(np.unique(out.mask)) == LABELS
    np.testing.assert_array_equal(out.mask[~tie], expected[~tie])
    # The same warp with bilinear interpolation would blend labels: the checks above see it.
    blended = sample_planes(s.mask, sampling_grid((40, 40), m), 1, "constant", 0.0)
    assert not set(np.unique(np.rint(blended))) <= LABELS

    elastic = RandomElasticGrid(p=1.0, spacing=8, magnitude=[3.0, 4.0], padding="constant")
    out = elastic(s, np.random.default_rng(3))
    p = out.meta["applied"][-1]
    d = control_point_displacement((40, 40), (8, 8), p["magnitude"], p["seed"])
    expected, tie = _nearest(s.mask, r + d[0], c + d[1])
    assert out.mask is not None and set(np.unique(out.mask)) == LABELS
    np.testing.assert_array_equal(out.mask[~tie], expected[~tie])
    assert float(np.abs(d).max()) > 3  # it did move the stripes by pixels


def test_elastic_grid_parameters_are_validated() -> None:
    with pytest.raises(ValueError, match="'spacing' parameter of RandomElasticGrid"):
        RandomElasticGrid(spacing=0)
    with pytest.raises(ValueError, match="'magnitude' parameter of RandomElasticGrid"):
        RandomElasticGrid(magnitude=[-1.0, 2.0])
    with pytest.raises(ValueError, match="'padding' parameter of RandomElasticGrid"):
        RandomElasticGrid(padding="wrap")


@pytest.mark.parametrize("with_matrix", [False, True], ids=["field", "field-then-affine"])
def test_control_point_grid_is_the_field_then_the_matrix(with_matrix: bool) -> None:
    """One batched product equals building the field and composing by hand:
    ``p -> M (p + d(p)) = M p + A d(p)`` with ``A`` the matrix's 2x2 part."""
    shape = (30, 44)
    m = affine_matrix(shape, rotation=25, scale=(1.2, 0.8), translate=(3, -4), shear=10)
    m = m if with_matrix else np.eye(3)
    d = control_point_displacement(shape, (6, 9), 2.0, seed=1).astype(np.float64)
    moved = np.einsum("ij,jhw->ihw", m[:2, :2], d)
    expected = sampling_grid(shape, m, moved)
    grid = control_point_grid(shape, (6, 9), 2.0, seed=1, matrix=m if with_matrix else None)
    np.testing.assert_allclose(grid.numpy(), expected.numpy(), atol=2e-6)


def test_elastic_grid_with_affine_equals_affine_then_elastic() -> None:
    """One resampling (field, then the matrix) matches two stages in a row, up to the
    second interpolation: on a smooth image, inside the plane."""
    yy, xx = np.mgrid[0:64, 0:64].astype(np.float32)
    img = np.exp(-((yy - 30) ** 2 + (xx - 36) ** 2) / 200.0)[None]
    s = Sample(img, mask=(img[0] > 0.5).astype(np.uint8) * 3)
    affine = {"rotation": 20.0, "scale": 0.15, "translate": 0.05}
    fused = RandomElasticGrid(p=1.0, spacing=16, magnitude=[2.0, 3.0], padding="constant", **affine)
    out = fused(s, np.random.default_rng(2))
    p = {k: v for k, v in out.meta["applied"][-1].items() if k != "stage"}
    first = RandomAffine(**affine).apply(s, p)
    two = RandomElasticGrid(spacing=16, padding="constant").apply(
        first, {"apply": True, "magnitude": p["magnitude"], "seed": p["seed"]}
    )
    assert p["rotation"] != 0 and p["scale"] != 1  # the affine map was drawn and applied
    inner = (slice(8, -8), slice(8, -8))
    np.testing.assert_allclose(out.image[0][inner], two.image[0][inner], atol=0.02)
    assert out.mask is not None and two.mask is not None
    assert float((out.mask == two.mask).mean()) > 0.99
    assert not np.allclose(out.image, first.image, atol=0.02)  # the field moved it too


def test_elastic_grid_with_affine_mask_is_the_nearest_label_at_m_of_p_plus_d() -> None:
    s = _stripes()
    r, c = np.meshgrid(np.arange(40.0), np.arange(40.0), indexing="ij")
    stage = RandomElasticGrid(
        p=1.0, spacing=8, magnitude=[3.0, 4.0], rotation=30.0, scale=0.2, translate=0.1,
        isotropic=False, padding="constant",
    )  # fmt: skip
    out = stage(s, np.random.default_rng(5))
    p = out.meta["applied"][-1]
    d = control_point_displacement((40, 40), (8, 8), p["magnitude"], p["seed"])
    m = affine_matrix((40, 40), p["rotation"], p["scale"], p["translate"], p["shear"])
    rows, cols = (m[k, 0] * (r + d[0]) + m[k, 1] * (c + d[1]) + m[k, 2] for k in (0, 1))
    expected, tie = _nearest(s.mask, rows, cols)
    assert out.mask is not None and set(np.unique(out.mask)) == LABELS
    np.testing.assert_array_equal(out.mask[~tie], expected[~tie])
