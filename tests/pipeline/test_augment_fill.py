"""What a random affine brings in from outside the image: the mask follows the image's padding
mode (reflected labels where the image is reflected) but never its fill value (background 0
where the image gets ``value``). Both were surviving mutants of pipeline/stages/_draw.py's
warp_both (the mask always padded with zeros; the mask filled with the image's value).

The mask holds labels 1 and 2 everywhere (no background), the image the same numbers, both
warped by nearest neighbour: wherever the image took a value from inside, the two agree.
"""

from __future__ import annotations

import numpy as np

from pipeline.sample import Sample
from pipeline.stages import RandomAffine


def _sample() -> Sample:
    mask = np.ones((16, 16), np.uint8)
    mask[:, 8:] = 2
    return Sample(mask[None].astype(np.float32), mask=mask)


def _rotated(padding: str, value: float = 0.0) -> Sample:
    stage = RandomAffine(rotation=[40.0, 40.0], scale=0.0, translate=0.0, order=0,
                         padding=padding, value=value)  # fmt: skip
    return stage(_sample(), np.random.default_rng(0))


def test_mask_reflected_where_the_image_is() -> None:
    out = _rotated("reflect")
    assert out.mask is not None
    assert np.array_equal(out.mask, out.image[0].astype(np.uint8))
    assert (out.mask > 0).all()  # a 40 degree turn samples the corners from outside


def test_mask_filled_with_background_not_the_image_value() -> None:
    out = _rotated("constant", value=5.0)
    assert out.mask is not None
    filled = out.image[0] == 5.0
    assert filled.any() and (out.mask[filled] == 0).all()
    assert np.array_equal(out.mask[~filled], out.image[0][~filled].astype(np.uint8))
