"""``RandomRotate90`` swaps the pixel spacing with the axes it swaps.

Before: a quarter turn of a ``(6, 10)`` plane with rows 0.5 mm and columns 1 mm apart gave a
``(10, 6)`` plane still labelled ``(0.5, 1.0)``: two points 5 mm apart measured 2.5 mm.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.sample import Sample
from pipeline.stages import RandomRotate90


def _points(spacing: tuple[float, ...], shape: tuple[int, ...]) -> Sample:
    mask = np.zeros(shape, np.uint8)
    mask[..., 1, 2] = 1
    mask[..., 1, 7] = 1  # 5 columns apart: 5 mm at 1 mm per column
    return Sample(mask[None].astype(np.float32), mask=mask, meta={"spacing": spacing})


def _distance_mm(sample: Sample) -> float:
    points = np.argwhere(sample.mask[0] if sample.mask.ndim == 3 else sample.mask)
    step = np.asarray(sample.meta["spacing"][-2:], dtype=float)
    return float(np.linalg.norm((points[0] - points[1]) * step))


@pytest.mark.parametrize("shape", [(6, 10), (3, 6, 10)])
def test_a_quarter_turn_keeps_distances_in_mm(shape: tuple[int, ...]) -> None:
    spacing = (0.5, 1.0) if len(shape) == 2 else (4.0, 0.5, 1.0)
    sample = _points(spacing, shape)
    assert _distance_mm(sample) == 5.0
    seen = set()
    for seed in range(12):
        out = RandomRotate90(p=1.0)(sample, np.random.default_rng(seed))
        k = out.meta["applied"][-1]["k"]
        seen.add(k)
        assert _distance_mm(out) == 5.0, k
        want = spacing if k == 2 else (*spacing[:-2], 1.0, 0.5)
        assert out.meta["spacing"] == want
    assert seen == {1, 2, 3}


def test_a_spacing_of_other_length_is_dropped_by_an_odd_turn() -> None:
    sample = _points((0.5, 1.0), (3, 6, 10))  # two values for three axes
    out = RandomRotate90(p=1.0)(sample, np.random.default_rng(1))
    assert out.meta["applied"][-1]["k"] % 2 == 1
    assert out.meta["spacing"] is None
