"""Augmentation values pinned by a mutation sweep (mut119): each test went red on a hand-made
mutant that every covering test let through.

An elastic field moves output pixel ``(r, c)`` to sample the input at ``(r + dr, c + dc)``
(row offsets first). On the plane ``f(r, c) = c + 10 r`` linear interpolation is exact, so
the image there is ``c + dc + 10 (r + dr)``; the mask is read at the nearest pixel.
"""

from __future__ import annotations

import numpy as np

from pipeline.ops.warp import elastic_displacement
from pipeline.sample import Sample
from pipeline.stages import RandomElastic


def test_elastic_interpolates_the_image_linearly_and_the_mask_by_nearest() -> None:
    h, w = 24, 20
    rows, cols = np.mgrid[0:h, 0:w].astype(np.float64)
    image = (cols + 10 * rows).astype(np.float32)[None]  # (1, H, W)
    mask = (cols >= 10).astype(np.int64) + 2 * (rows >= 12)  # four labelled quadrants
    stage = RandomElastic(p=1.0, sigma=3.0, magnitude=2.5)
    sample = Sample(image, mask=mask)
    params = stage.draw(sample, np.random.default_rng(7))
    out = stage.apply(sample, params)
    dr, dc = elastic_displacement((h, w), 3.0, 2.5, params["seed"]).astype(np.float64)
    r, c = rows + dr, cols + dc
    inside = (r >= 0) & (r <= h - 1) & (c >= 0) & (c <= w - 1)
    assert inside.sum() > 300 and np.abs(dc).max() > 1.0  # moved, mostly within the plane
    np.testing.assert_allclose(out.image[0][inside], (c + 10 * r)[inside], atol=1e-3)
    # nearest neighbour, away from the .5 ties: the label of the pixel sampled
    clear = inside & (np.abs(r - np.round(r)) < 0.45) & (np.abs(c - np.round(c)) < 0.45)
    ri, ci = np.round(r[clear]).astype(int), np.round(c[clear]).astype(int)
    np.testing.assert_array_equal(out.mask[clear], mask[ri, ci])
    assert set(np.unique(out.mask)) <= {0, 1, 2, 3}
