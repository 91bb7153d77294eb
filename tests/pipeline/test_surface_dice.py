"""Normalized surface dice (NSD) against MONAI's ``compute_surface_dice`` and by hand, and the
single-slice volume scored as the 2-D image it is."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from pipeline.metrics import hausdorff_distance, mean_surface_distance
from pipeline.metrics.surface_dice import normalized_surface_dice, surface_dice_per_class


def _monai_nsd(true: np.ndarray, pred: np.ndarray, tol: list[float], spacing: tuple) -> list:
    torch = pytest.importorskip("torch")
    monai_metrics = pytest.importorskip("monai.metrics")
    k = len(tol) + 1
    onehot = lambda m: torch.nn.functional.one_hot(torch.from_numpy(m), k).movedim(-1, 0)[None]  # noqa: E731
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # MONAI warns of the empty class
        out = monai_metrics.compute_surface_dice(
            onehot(pred).float(), onehot(true).float(), tol, spacing=spacing
        )
    return [float(v) for v in out[0]]


@pytest.mark.parametrize("seed", range(6))
def test_nsd_is_monais_on_random_anisotropic_label_maps(seed: int) -> None:
    from scipy import ndimage

    rng = np.random.default_rng(seed)
    shape = tuple(int(n) for n in rng.integers(6, 16, size=3))
    spacing = tuple(float(s) for s in rng.uniform(0.3, 3.0, size=3))
    true = ndimage.median_filter(rng.integers(0, 3, size=shape), size=3)
    pred = np.where(rng.random(shape) < 0.1, rng.integers(0, 3, size=shape), true)
    pred = np.roll(pred, 1, axis=int(rng.integers(0, 3)))
    if seed == 0:
        pred[pred == 2] = 0  # class 2 missed: NSD 0, as MONAI
    tol = [float(v) for v in rng.uniform(0.2, 4.0, size=2)]
    ours = surface_dice_per_class(true, pred, 3, tol, spacing)
    assert ours == pytest.approx(_monai_nsd(true, pred, tol, spacing), abs=1e-6)
    if seed == 0:
        assert ours[1] == 0.0


def test_nsd_by_hand_and_empty_masks() -> None:
    """A 4x4 square and the same shifted one column, spacing 2 mm across: every one of the
    12 + 12 boundary pixels is within 2 mm of the other boundary, not all within 1 mm: the
    square's left column (4) and the shifted one's right column (4) are 2 mm away."""
    a = np.zeros((8, 8), bool)
    a[2:6, 1:5] = True
    b = np.roll(a, 1, axis=1)
    assert normalized_surface_dice(a, b, 2.0, spacing=(1.0, 2.0)) == 1.0
    assert normalized_surface_dice(a, b, 1.0, spacing=(1.0, 2.0)) == pytest.approx(16 / 24)
    assert np.isnan(normalized_surface_dice(np.zeros_like(a), np.zeros_like(a), 1.0))
    assert normalized_surface_dice(a, np.zeros_like(a), 5.0) == 0.0
    with pytest.raises(ValueError, match="'tolerance' parameter must be finite and >= 0"):
        normalized_surface_dice(a, b, -1.0)
    with pytest.raises(ValueError, match="one value or one per scored class"):
        surface_dice_per_class(a.astype(int), b.astype(int), 2, [1.0, 2.0])


def test_a_single_slice_volume_is_scored_as_its_image() -> None:
    """(1, H, W): in 3-D the layers above and below the slab made every foreground pixel
    surface (MSD 0.39, NSD 0.89 where the 2-D contours give 1.41 and 0.53)."""
    a = np.zeros((20, 20), bool)
    a[4:14, 4:14] = True
    b = np.zeros((20, 20), bool)
    b[6:16, 5:15] = True
    spacing = (0.7, 1.3)
    for metric in (mean_surface_distance, hausdorff_distance):
        flat = metric(a[None], b[None], spacing=(5.0, *spacing))
        assert flat == pytest.approx(metric(a, b, spacing=spacing))
    flat_nsd = normalized_surface_dice(a[None], b[None], 1.0, spacing=(5.0, *spacing))
    assert flat_nsd == pytest.approx(normalized_surface_dice(a, b, 1.0, spacing=spacing))
    # MONAI on the 2-D image (its 3-D definition of the slab gave 0.89)
    monai_2d = _monai_nsd(a.astype(np.int64), b.astype(np.int64), [1.0], (1.0, 1.0))
    assert normalized_surface_dice(a[None], b[None], 1.0) == pytest.approx(monai_2d[0], abs=1e-6)
    assert monai_2d[0] == pytest.approx(0.5277777777777778, abs=1e-6)
