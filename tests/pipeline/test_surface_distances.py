"""Surface distances (HD95, HD100, mean surface distance) against MONAI and by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from pipeline.metrics import hausdorff_distance, mean_surface_distance, surface_metrics_per_class


def _one_hot(labels: np.ndarray, k: int) -> torch.Tensor:
    # (B, *S) -> (B, K, *S)
    return torch.nn.functional.one_hot(torch.from_numpy(labels).long(), k).movedim(-1, 1).float()


def _blob(shape: tuple[int, ...], center: tuple[float, ...], radius: float) -> np.ndarray:
    grid = np.indices(shape, dtype=np.float64)
    dist2 = sum((g - c) ** 2 for g, c in zip(grid, center, strict=True))
    return dist2 <= radius**2


@pytest.mark.filterwarnings("ignore::FutureWarning")  # MONAI's own deprecation notice
@pytest.mark.parametrize(
    "shape, spacing",
    [((32, 32), (1.0, 1.0)), ((32, 32), (0.7, 1.3)), ((10, 24, 24), (2.5, 0.8, 0.8))],
    ids=["2d-iso", "2d-aniso", "3d-aniso"],
)
def test_surface_distances_agree_with_monai(
    shape: tuple[int, ...], spacing: tuple[float, ...]
) -> None:
    from monai.metrics import compute_average_surface_distance, compute_hausdorff_distance

    center = tuple(s / 2 for s in shape)
    shifted = tuple(c + 2.3 for c in center)
    true = _blob(shape, center, 6).astype(np.uint8)
    pred = _blob(shape, shifted, 5).astype(np.uint8)
    pred[(0,) * len(shape)] = 1  # an outlier voxel in a corner: HD95 and HD100 differ
    y_true, y_pred = _one_hot(true[None], 2), _one_hot(pred[None], 2)
    hd = compute_hausdorff_distance(y_pred, y_true, percentile=95, spacing=list(spacing))
    hd100 = compute_hausdorff_distance(y_pred, y_true, spacing=list(spacing))
    asd = compute_average_surface_distance(y_pred, y_true, symmetric=True, spacing=list(spacing))
    assert hausdorff_distance(true, pred, spacing) == pytest.approx(float(hd), rel=1e-5)
    got100 = hausdorff_distance(true, pred, spacing, percentile=100)
    assert got100 == pytest.approx(float(hd100), rel=1e-5)
    assert mean_surface_distance(true, pred, spacing) == pytest.approx(float(asd), rel=1e-5)
    per_class = surface_metrics_per_class(true, pred, 2, spacing)
    assert per_class["hd95"] == [pytest.approx(float(hd), rel=1e-5)]


def test_surface_distance_hand_computed_and_empty() -> None:
    a = np.zeros((5, 5), bool)
    a[1:4, 1:4] = True  # 3x3 square: boundary is its 8 outer cells
    b = np.zeros((5, 5), bool)
    b[1:4, 2:5] = True  # the same square moved one column right
    # every boundary cell is at distance 0 or 1 column (2 mm) from the other boundary
    assert hausdorff_distance(a, b, (1.0, 2.0), percentile=100) == 2.0
    # a -> b: column 1 (3 cells) at 2 mm, a's right-edge middle (2, 3) lies inside b's
    # boundary ring at 1 mm (row above), the other 4 cells are shared: 7 mm over 8 cells;
    # b -> a mirrors it: 7 mm. Symmetric mean: 14 / 16.
    assert mean_surface_distance(a, b, (1.0, 2.0)) == pytest.approx(14 / 16)
    empty = np.zeros((5, 5), bool)
    assert math.isnan(hausdorff_distance(empty, empty))
    assert math.isinf(hausdorff_distance(a, empty)) and math.isinf(mean_surface_distance(empty, b))
    with pytest.raises(ValueError, match="'spacing' parameter must hold 2 finite positive"):
        hausdorff_distance(a, b, (1.0, 0.0))


def test_hd95_is_the_larger_directed_percentile_not_the_pooled_one() -> None:
    # 4x4 square (12 edge pixels) against itself plus one stray pixel at (15, 15): the stray
    # pixel is 1 of 13 prediction edge pixels (over 5%), but 1 of 25 pooled (under 5%).
    # Directed pred -> true: 12 zeros and the stray pixel's distance to (5, 5), sqrt(200)
    # = 14.142; the 95th percentile (linear) at rank 0.95 * 12 = 11.4 is 0.4 * 14.142 = 5.657.
    # MedPy's pooled definition would give 0.
    true = np.zeros((20, 20), bool)
    true[2:6, 2:6] = True
    pred = true.copy()
    pred[15, 15] = True
    assert hausdorff_distance(true, pred) == pytest.approx(0.4 * np.sqrt(200))
    assert hausdorff_distance(true, pred, percentile=100) == pytest.approx(np.sqrt(200))
