"""Defaults and bounds of the preprocessing stages that a mutation sweep (80 mutants of
pipeline/stages/{basic,features,_fit,intensity,filters,geometry}.py) left untested; each
test is red on the mutant its docstring names. Expected values worked out by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.sample import Sample
from pipeline.stages import PCA, FitDepth, Resample
from pipeline.stages.filters import NonLocalMeans
from pipeline.stages.intensity import ScalePercentiles

RNG = np.random.default_rng(0)


def test_resample_interpolates_linearly_by_default() -> None:
    """A row [0, 0, 1, 0] at 1 mm resampled to 0.5 mm: output pixel i sits at input
    coordinate i / 2 - 0.25 (pixel centres), the border reflected (x[-1] = x[1], x[4] =
    x[2]); linear interpolation gives [0, 0, 0, 0.25, 0.75, 0.75, 0.25, 0.25]. A spline of
    order 2 (the mutant's default) overshoots past 0.75."""
    image = np.zeros((1, 4, 4), np.float32)
    image[0, :, 2] = 1
    out = Resample(spacing=[0.5, 0.5])(Sample(image, meta={"spacing": [1.0, 1.0]}), RNG)
    assert out.image.shape == (1, 8, 8) and tuple(out.meta["spacing"]) == (0.5, 0.5)
    expected = [0, 0, 0, 0.25, 0.75, 0.75, 0.25, 0.25]
    assert out.image[0, 0].tolist() == pytest.approx(expected)


def test_fit_depth_resamples_the_image_linearly() -> None:
    """Depth [0, 0, 1, 0] resampled to 7 slices: slice i at input depth (i + 0.5) * 4 / 7 -
    0.5, reflected past the last; linear: [0, 0, 0, 0.5, 13/14, 5/14, 3/14] (a spline of
    order 2 leaves [0, 1] and differs)."""
    volume = np.zeros((1, 4, 3, 3), np.float32)
    volume[0, 2] = 1
    out = FitDepth(depth=7, method="resample")(Sample(volume), RNG)
    assert out.image.shape == (1, 7, 3, 3)
    expected = [0, 0, 0, 0.5, 13 / 14, 5 / 14, 3 / 14]
    assert out.image[0, :, 1, 1].tolist() == pytest.approx(expected, abs=1e-6)


def test_percentiles_past_100_are_refused() -> None:
    """upper 100 is the maximum and taken; 100.5 is no percentile (``<= 101`` took it)."""
    assert ScalePercentiles(lower=0.0, upper=100.0).upper == 100.0
    with pytest.raises(ValueError, match=r"0 <= lower < upper <= 100; got 1.0, 100.5"):
        ScalePercentiles(upper=100.5)


def test_non_local_means_takes_a_patch_distance_of_1() -> None:
    """patch_distance 1 (a 3x3 search window) is valid (``low=2`` refused it); 0 is not."""
    assert NonLocalMeans(patch_distance=1).patch_distance == 1
    with pytest.raises(ValueError, match=r"patch_distance"):
        NonLocalMeans(patch_distance=0)


def test_pca_scores_drop_the_pixel_spacing_and_keep_the_rest() -> None:
    """PCA scores (K, 1, 1) have no pixels, so no pixel spacing; the other metadata stays
    (``!=`` read as ``==`` kept the spacing alone). Scores by hand: 4 images 1x2x1 on the
    line x1 = x0, centred at (1.5, 1.5); one component (1, 1) / sqrt(2), up to its sign."""
    images = [np.full((1, 2, 1), v, np.float32) for v in (0.0, 1.0, 2.0, 3.0)]
    meta = {"spacing": [0.7, 0.7], "id": "case-1"}
    stage = PCA(n_components=1).fit(Sample(im, meta=meta) for im in images)
    out = stage(Sample(images[3], meta=meta), RNG)
    assert out.meta == {"id": "case-1"}
    assert out.image.shape == (1, 1, 1)
    assert abs(float(out.image[0, 0, 0])) == pytest.approx(1.5 * np.sqrt(2), rel=1e-5)
