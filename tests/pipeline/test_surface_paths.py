"""The fast paths inside the surface distances (k-d tree, shifted-array boundary) give what
the plain definitions give: scipy's erosion and Euclidean distance transform."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from scipy import ndimage

from pipeline.metrics import hausdorff_distance, surface_metrics_per_class
from pipeline.metrics import surface as surf


@pytest.mark.parametrize("shape", [(9,), (7, 9), (6, 7, 8), (3, 4, 5, 6)])
def test_boundary_is_mask_xor_erosion(shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(len(shape))
    for _ in range(10):
        m = np.pad(rng.random(shape) < 0.6, 1)
        assert np.array_equal(surf._boundary(m), m ^ ndimage.binary_erosion(m))


def _edt_reference(source: np.ndarray, target: np.ndarray, spacing: tuple[float, ...]) -> Any:
    return ndimage.distance_transform_edt(~target, sampling=spacing)[source]


@pytest.mark.parametrize("tree_cost", [0, 10**9], ids=["k-d tree", "transform"])
def test_both_distance_paths_match_the_transform(
    tree_cost: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(surf, "_TREE_COST", tree_cost)
    rng = np.random.default_rng(0)
    spacing = (2.5, 0.8, 0.6)
    grid = np.indices((20, 30, 30))
    a = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, (10, 14, 15), (6, 9, 8))) <= 1
    b = sum(((g - c) / r) ** 2 for g, c, r in zip(grid, (11, 16, 13), (5, 10, 7))) <= 1
    b |= rng.random(b.shape) < 0.002  # scattered outliers
    ea, eb = a ^ ndimage.binary_erosion(a), b ^ ndimage.binary_erosion(b)
    got = surf._directed(ea, eb, spacing)
    np.testing.assert_allclose(got, _edt_reference(ea, eb, spacing), rtol=1e-12)
    want = max(np.percentile(_edt_reference(ea, eb, spacing), 95),
               np.percentile(_edt_reference(eb, ea, spacing), 95))  # fmt: skip
    assert hausdorff_distance(a, b, spacing) == pytest.approx(want, rel=1e-12)
    labels_a, labels_b = a.astype(np.uint8), b.astype(np.uint8) * 2
    per_class = surface_metrics_per_class(labels_a, labels_b, 3, spacing)
    assert per_class["hd95"][0] == float("inf")  # class 1 absent from the prediction
