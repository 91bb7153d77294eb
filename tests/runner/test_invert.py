"""Predicted masks go back on the source pixels through every geometric stage (issue 13,
item 2): a mask drawn on the source, sent through the stages (nearest neighbour, as a perfect
model would predict it) and inverted, lands on the same pixels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

import pipeline.stages  # noqa: F401  (registers the stages)
from pipeline.errors import RadpipeError
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from workflows.run.invert import image_region, invert, on_source_pixels, traced


def _blocks(shape: tuple[int, ...], block: int) -> np.ndarray:
    """A mask of ``block``-aligned squares (classes 1 and 2) inside the central half."""
    mask = np.zeros(shape, np.int64)
    h, w = shape[-2:]
    a, b = (h // 4) // block * block + block, (w // 4) // block * block + block
    mask[..., a : a + 2 * block, b : b + 3 * block] = 1
    mask[..., a + 2 * block : a + 3 * block, b + block : b + 2 * block] = 2
    return mask


def _sample(mask: np.ndarray, spacing: tuple[float, ...]) -> Sample:
    image = (mask > 0).astype(np.float32)[None] * 2 + 0.5  # foreground 2.5, elsewhere 0.5
    if mask.ndim == 2:  # a dark border, so that crop_foreground has something to cut
        image[:, :2], image[:, -2:] = 0.0, 0.0
    return Sample(image=image, mask=mask, meta={"id": "x", "spacing": spacing})


CASES = [
    ("resize-down-by-3", (30, 30), 3, [{"type": "resize", "shape": [10, 10]}]),
    ("resize-up-by-2", (16, 16), 1, [{"type": "resize", "shape": [32, 32]}]),
    # landscape images (HC18's 800x540) squeezed into a square, or kept in their aspect
    ("resize-landscape-to-square", (60, 80), 12, [{"type": "resize", "shape": [20, 20]}]),
    ("resize-landscape-by-4", (60, 80), 12, [{"type": "resize", "shape": [15, 20]}]),
    ("resample-3mm", (30, 30), 3, [{"type": "resample", "spacing": [3.0, 3.0]}]),
    ("crop", (30, 30), 1, [{"type": "crop_or_pad", "shape": [17, 20]}]),
    ("pad", (30, 30), 1, [{"type": "crop_or_pad", "shape": [41, 36]}]),
    ("crop-foreground", (30, 30), 1,
     [{"type": "crop_foreground", "threshold": 1.0, "margin": 1}]),
    ("fit-depth-crop", (8, 20, 20), 1, [{"type": "fit_depth", "depth": 6}]),
    ("fit-depth-pad", (4, 20, 20), 1, [{"type": "fit_depth", "depth": 7}]),
    ("fit-depth-resample", (4, 20, 20), 1,
     [{"type": "fit_depth", "depth": 8, "method": "resample"}]),
    ("chain", (30, 30), 1,
     [{"type": "crop_foreground", "threshold": 1.0, "margin": 2},
      {"type": "z_score", "mode": "image"},
      {"type": "resize", "shape": [32, 48]},
      {"type": "crop_or_pad", "shape": [40, 40]}]),
]  # fmt: skip


@pytest.mark.parametrize(("shape", "block", "specs"), [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_a_mask_comes_back_on_the_same_pixels(
    shape: tuple[int, ...], block: int, specs: list[dict[str, Any]]
) -> None:
    mask = _blocks(shape, block)
    if len(shape) == 3:  # a series: the mask on the middle slices only
        mask[:1], mask[-1:] = 0, 0
    sample = _sample(mask, (1.0,) * len(shape))
    pipe = Pipeline.from_config(specs).fit([sample])
    out = traced(pipe, sample)
    assert out.spatial_shape != sample.spatial_shape or specs[0]["type"] == "crop_or_pad"
    assert len(out.meta["spatial"]) == sum(s["type"] != "z_score" for s in specs)
    back = invert(out.mask, out.meta["spatial"])
    assert back.dtype == mask.dtype
    np.testing.assert_array_equal(back, mask)
    # Per-class probabilities (K, *spatial) too: cut-away pixels become background.
    onehot = np.eye(3, dtype=np.float32)[out.mask].transpose(-1, *range(out.mask.ndim))
    probs = invert(onehot, out.meta["spatial"], fill=[1.0, 0.0, 0.0])
    np.testing.assert_array_equal(probs.argmax(axis=0), mask)
    np.testing.assert_array_equal(probs.sum(axis=0), np.ones(mask.shape, np.float32))


def test_a_stage_that_cannot_be_undone_is_refused() -> None:
    sample = _sample(_blocks((12, 12), 1), (1.0, 1.0))
    pipe = Pipeline.from_config([{"type": "random_flip", "p": 1.0}])

    class Shrink(type(pipe[0])):  # type: ignore[misc]
        kind = "geometric"
        random = False

        def apply(self, s: Sample, params: dict[str, Any]) -> Sample:
            return s.replace(image=s.image[:, 1:], mask=None if s.mask is None else s.mask[1:])

    with pytest.raises(RadpipeError, match=r"'shrink' .*cannot undo"):
        traced(Pipeline([("shrink", Shrink())]), sample)


def test_probabilities_can_be_resized_back_linearly() -> None:
    """``order=1`` (``evaluate.upsample: linear``): the argmax of linearly resized class
    probabilities is a smooth region, not the nearest-neighbour block of the model grid."""
    p1 = np.array([[0.0, 0.4], [0.4, 1.0]], dtype=np.float32)  # class 1's probability
    probs = np.stack([1 - p1, p1])
    record = [{"stage": "resize", "op": "resize", "in": [8, 8], "out": [2, 2]}]
    near = invert(probs, record, order=0).argmax(axis=0)
    expected_near = np.zeros((8, 8), np.int64)
    expected_near[4:, 4:] = 1  # only the bottom-right pixel is class 1, blown up to 4x4
    np.testing.assert_array_equal(near, expected_near)
    lin = invert(probs, record, order=1).argmax(axis=0)
    np.testing.assert_array_equal(lin, lin.T)  # symmetric, like the map
    # Inside the map (output pixel i sits at input coordinate (i + 0.5) / 4 - 0.5), worked
    # by hand: p1(y, x) = 0.4 (y (1 - x) + (1 - y) x) + y x
    assert lin[4, 4] == 1  # (0.625, 0.625): 0.578
    assert lin[4, 3] == 0  # (0.625, 0.375): 0.447
    assert lin[5, 3] == 1  # (0.875, 0.375): 0.566, class 0 with nearest neighbour
    assert lin[1, 1] == 0 and near[5, 3] == 0


def test_what_a_crop_cut_away_gets_the_fill_value() -> None:
    """A centre crop of 6 columns to 4 cut one column each side: undone, they hold ``fill``
    (a scalar for one map; one value per channel for per-class maps)."""
    records = [{"stage": "crop", "op": "crop_or_pad", "in": [2, 6], "out": [2, 4]}]
    inner = np.ones((2, 4), np.int64)
    assert invert(inner, records, fill=7).tolist() == [[7, 1, 1, 1, 1, 7]] * 2
    probs = np.stack([np.zeros((2, 4)), np.ones((2, 4))])
    back = invert(probs, records, fill=[1.0, 0.0])
    assert back[:, 0, :].tolist() == [[1, 0, 0, 0, 0, 1], [0, 1, 1, 1, 1, 0]]


def test_the_image_region_is_resized_by_nearest_neighbour() -> None:
    """Mutation: the padding region resized linearly (its 0/1 blended at the border). Two
    rows padded to four (one row each side, centred), then doubled: each row twice, by hand
    [0, 1, 1, 0] -> [0, 0, 1, 1, 1, 1, 0, 0]. Linear gave 0.25 at the border, which made
    every pixel 'image' and the region None: the padding scored as image."""
    records = [
        {"stage": "fit", "op": "crop_or_pad", "in": [2, 4], "out": [4, 4]},
        {"stage": "size", "op": "resize", "in": [4, 4], "out": [8, 4]},
    ]
    region = image_region(records)
    assert region is not None and region.dtype == bool
    assert region[:, 0].astype(int).tolist() == [0, 0, 1, 1, 1, 1, 0, 0]
    assert (region == region[:, :1]).all()  # every column alike


def test_probabilities_cut_away_come_back_as_certain_background() -> None:
    """Mutation (sweep mut88: survived this file): the pixels a crop cut away filled with 0
    for every class instead of background 1, others 0. A 4x6 image centre-cropped to 4x4 and
    predicted (.3, .7) everywhere: back on the source, columns 1-4 hold (.3, .7), columns 0
    and 5 (1, 0): background, not a tie of zeros (which evaluation counted among its
    ``prediction_ties``, 8 voxels here)."""
    raw = Sample(image=np.ones((1, 4, 6), np.float32), meta={"id": "x"})
    prep = Pipeline.from_config([{"type": "crop_or_pad", "shape": [4, 4]}])
    probs = np.stack([np.full((4, 4), 0.3), np.full((4, 4), 0.7)])
    back, records = on_source_pixels(probs, prep, raw)
    assert [r["op"] for r in records] == ["crop_or_pad"]
    np.testing.assert_allclose(
        back[:, 0, :], [[1, 0.3, 0.3, 0.3, 0.3, 1], [0, 0.7, 0.7, 0.7, 0.7, 0]]
    )
