"""Boundaries of the augmentation stages that a mutation sweep (60 mutants of
pipeline/stages/augment*.py, _draw.py, pipeline/ops/warp.py, pipeline/postprocess.py)
found untested; each test is red on the mutant its docstring names. Expected values are
worked out by hand from the parameters' documented meaning."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.ops.warp import elastic_displacement
from pipeline.sample import Sample
from pipeline.stages import RandomAffine, RandomCrop
from pipeline.stages.augment_intensity import RandomGamma, RandomScaleShift


def _sample(size: int = 16) -> Sample:
    return Sample(np.zeros((1, size, size), np.float32), mask=np.zeros((size, size), np.uint8))


def _draws(stage: object, key: str, n: int = 300) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.array([stage.draw(_sample(), rng)[key] for _ in range(n)])  # type: ignore[attr-defined]


def test_scalar_ranges_are_centred_on_the_identity() -> None:
    """A scalar ``v`` means ``[around - v, around + v]`` around the value that changes
    nothing: shift 0.2 draws in [-0.2, 0.2] (both signs), gamma 0.3 in [0.7, 1.3] (a centre
    of 0.1 or 1.6 moved every draw)."""
    shifts = _draws(RandomScaleShift(p=1.0, shift=0.2), "shift")
    assert shifts.min() >= -0.2 and shifts.max() <= 0.2
    assert shifts.min() < -0.18 and shifts.max() > 0.18
    gammas = _draws(RandomGamma(p=1.0, gamma=0.3, log_uniform=False), "gamma")
    assert gammas.min() >= 0.7 and gammas.max() <= 1.3
    assert gammas.min() < 0.72 and gammas.max() > 1.28


def test_affine_defaults_neither_shear_nor_fill_with_a_value() -> None:
    """RandomAffine() shears by 0 degrees (shear defaults to 0) and fills what comes from
    outside with 0 (value defaults to 0): a constant image of 7 shifted right by 4 pixels
    has 0 in its first 4 columns."""
    assert set(_draws(RandomAffine(), "shear")) == {0.0}
    image = np.full((1, 16, 16), 7.0, np.float32)
    stage = RandomAffine(rotation=0.0, scale=0.0, translate=0.0, order=0)
    out = stage.apply(Sample(image), {"apply": True, "rotation": 0.0, "scale": 1.0,
                                      "translate": [0.0, 4.0], "shear": 0.0})  # fmt: skip
    assert np.array_equal(out.image[0, :, 4:], np.full((16, 12), 7.0, np.float32))
    assert np.array_equal(out.image[0, :, :4], np.zeros((16, 4), np.float32))


def test_a_fill_value_of_one_is_used() -> None:
    """``value: 1``: the columns brought in are 1 (the padding of torch's grid_sample is 0,
    so any value but 0 is shifted in and out; ``cval != 1`` left a fill of 1 as 0)."""
    stage = RandomAffine(rotation=0.0, scale=0.0, translate=0.0, order=0, value=1.0)
    out = stage.apply(Sample(np.full((1, 16, 16), 7.0, np.float32)),
                      {"apply": True, "rotation": 0.0, "scale": 1.0, "translate": [0.0, 4.0],
                       "shear": 0.0})  # fmt: skip
    assert np.array_equal(out.image[0, :, :4], np.ones((16, 4), np.float32))


@pytest.mark.parametrize("shear", [90.0, [-90.0, 10.0], [10.0, 90.0], [-95.0, -91.0]])
def test_shear_at_or_past_90_degrees_is_refused(shear: object) -> None:
    """tan(90 degrees) is singular: each bound must lie in (-90, 90)."""
    with pytest.raises(ValueError, match=r"'shear' parameter of RandomAffine must be within"):
        RandomAffine(shear=shear)  # type: ignore[arg-type]


def test_shear_just_inside_90_degrees_is_taken() -> None:
    assert RandomAffine(shear=[-89.5, 89.5]).shear == [-89.5, 89.5]


def test_elastic_field_is_centred_with_the_given_peak() -> None:
    """Uniform noise in [-1, 1] smoothed: its mean is near 0 (|mean| < 5 % of the peak over
    2 x 128 x 128 values; noise drawn from [-1.6, 1] has a mean of -0.3 and failed), and the
    largest displacement is ``magnitude`` pixels."""
    field = elastic_displacement((128, 128), sigma=4.0, magnitude=3.0, seed=1)
    assert field.shape == (2, 128, 128) and field.dtype == np.float32
    assert np.abs(field).max() == pytest.approx(3.0, rel=1e-6)
    assert abs(float(field.mean())) < 0.05 * 3.0


def test_a_crop_larger_than_the_image_starts_at_0() -> None:
    """A 20x24 crop of a 16x16 image pads it: the only start is (0, 0) (``max(w - 24, 0) +
    1`` = 1 draw; ``max(..., 1)`` also drew 1), and the image lies in the middle of the
    padding: (20 - 16) / 2 = 2 rows above, (24 - 16) / 2 = 4 columns left."""
    stage = RandomCrop(shape=[20, 24])
    assert {tuple(s) for s in _draws(stage, "start", 50)} == {(0, 0)}
    image = np.arange(256, dtype=np.float32).reshape(1, 16, 16) + 1
    out = stage(Sample(image), np.random.default_rng(3))
    assert out.image.shape == (1, 20, 24)
    assert np.array_equal(out.image[:, 2:18, 4:20], image)
    assert out.image.sum() == image.sum()  # zeros elsewhere


def test_a_crop_of_one_pixel_is_taken() -> None:
    """Shape (1, 5) is valid (every side >= 1; ``<= 1`` refused it); 0 is refused."""
    out = RandomCrop(shape=[1, 5])(_sample(), np.random.default_rng(0))
    assert out.image.shape == (1, 1, 5)
    with pytest.raises(ValueError, match=r"'shape' parameter of RandomCrop must be \(H, W\)"):
        RandomCrop(shape=[0, 5])
