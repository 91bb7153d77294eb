"""The drawn parameters of the benchmarked chain (``benchmarks/augment.py``) have the
configured distributions, in radpipe and in MONAI alike.

Each check compares many seeded draws with what the configuration implies, worked out by
hand: a uniform ``[a, b)`` has mean ``(a + b) / 2``, standard error ``(b - a) / sqrt(12 n)``,
a quarter of the draws in each quarter of the range, and draws that reach both ends; a flip
with ``p = 0.5`` happens in half of the calls, within ``4 sqrt(p (1 - p) / n)``.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from pipeline.sample import Sample
from pipeline.stages import (
    RandomAffine,
    RandomBlur,
    RandomElastic,
    RandomElasticGrid,
    RandomFlip,
    RandomGamma,
    RandomGaussianNoise,
    RandomScaleShift,
)

N = 4000
#: The chain of benchmarks/augment.py and the ranges it implies on 256x256 planes.
CHAIN = [
    RandomFlip(p=0.5, axes=[-1]),
    RandomAffine(p=1.0, rotation=15.0, scale=0.1, translate=0.1, isotropic=False),
    RandomElasticGrid(p=1.0, spacing=32, magnitude=[1.0, 3.0]),
    RandomGaussianNoise(p=1.0, std=[0.0, 0.1]),
    RandomGamma(p=1.0, gamma=[0.7, 1.5], log_uniform=False),
]
EXPECTED = {  # name: (low, high) of a uniform draw
    "rotation": (-15.0, 15.0),  # degrees
    "zoom_row": (0.9, 1.1),
    "zoom_col": (0.9, 1.1),
    "shift_row": (-25.6, 25.6),  # pixels: 10 % of 256
    "shift_col": (-25.6, 25.6),
    "elastic_magnitude": (1.0, 3.0),  # pixels
    "noise_std": (0.0, 0.1),
    "gamma": (0.7, 1.5),
}
FLIP_P = 0.5


def check_uniform(name: str, values: list[float], low: float, high: float, slack: float) -> None:
    """``values`` look like ``n`` draws from ``[low, high)`` (``slack``: allowed overshoot)."""
    v = np.asarray(values, dtype=np.float64)
    n, width = v.size, high - low
    assert low - slack <= v.min() < low + 0.01 * width, (name, v.min())
    assert high - 0.01 * width < v.max() <= high + slack, (name, v.max())
    assert abs(v.mean() - (low + high) / 2) < 4 * width / np.sqrt(12 * n), (name, v.mean())
    counts = np.histogram(np.clip(v, low, high), bins=4, range=(low, high))[0]
    assert np.all(np.abs(counts - n / 4) < 4 * np.sqrt(n * 0.25 * 0.75)), (name, counts)


def check_flip(flips: list[bool]) -> None:
    rate = float(np.mean(flips))
    assert abs(rate - FLIP_P) < 4 * np.sqrt(FLIP_P * (1 - FLIP_P) / len(flips)), rate


def radpipe_draws(n: int) -> dict[str, list]:
    sample = Sample(np.zeros((1, 256, 256), np.float32), mask=np.zeros((256, 256), np.uint8))
    rng = np.random.default_rng(0)
    out: dict[str, list] = defaultdict(list)
    for _ in range(n):
        flip, affine, elastic, noise, gamma = (s.draw(sample, rng) for s in CHAIN)
        out["flip"].append(flip["axes"] == [-1])
        out["rotation"].append(affine["rotation"])
        out["zoom_row"].append(affine["scale"][0])
        out["zoom_col"].append(affine["scale"][1])
        out["shift_row"].append(affine["translate"][0])
        out["shift_col"].append(affine["translate"][1])
        out["elastic_magnitude"].append(elastic["magnitude"])
        out["noise_std"].append(noise["std"])
        out["gamma"].append(gamma["gamma"])
    return out


def test_radpipe_draws_have_the_configured_distributions() -> None:
    draws = radpipe_draws(N)
    check_flip(draws["flip"])
    for name, (low, high) in EXPECTED.items():
        check_uniform(name, draws[name], low, high, slack=0.0)
    # One zoom per axis, drawn independently (isotropic=False).
    corr = np.corrcoef(draws["zoom_row"], draws["zoom_col"])[0, 1]
    assert abs(corr) < 4 / np.sqrt(N), corr


def test_elastic_grid_with_affine_draws_the_affine_distributions() -> None:
    """The one-resampling variant of the chain's affine + elastic steps draws alike."""
    stage = RandomElasticGrid(
        p=1.0,
        spacing=32,
        magnitude=[1.0, 3.0],
        rotation=15.0,
        scale=0.1,
        translate=0.1,
        isotropic=False,
    )
    sample = Sample(np.zeros((1, 256, 256), np.float32))
    rng = np.random.default_rng(3)
    draws: dict[str, list] = defaultdict(list)
    for _ in range(N):
        d = stage.draw(sample, rng)
        draws["rotation"].append(d["rotation"])
        draws["zoom_row"].append(d["scale"][0])
        draws["zoom_col"].append(d["scale"][1])
        draws["shift_row"].append(d["translate"][0])
        draws["shift_col"].append(d["translate"][1])
        draws["elastic_magnitude"].append(d["magnitude"])
    for name, values in draws.items():
        check_uniform(name, values, *EXPECTED[name], slack=0.0)
    assert "rotation" not in RandomElasticGrid(p=1.0).draw(sample, rng)  # no affine: none


def test_the_checks_catch_a_wrong_distribution() -> None:
    """Log-uniform gamma (the default), a shifted range, p = 0.6 and one zoom all fail."""
    rng = np.random.default_rng(1)
    log_gamma = np.exp(rng.uniform(np.log(0.7), np.log(1.5), N)).tolist()
    with pytest.raises(AssertionError):
        check_uniform("gamma", log_gamma, 0.7, 1.5, slack=0.0)
    with pytest.raises(AssertionError):
        check_uniform("rotation", rng.uniform(-14.0, 16.0, N).tolist(), -15.0, 15.0, 0.0)
    with pytest.raises(AssertionError):
        check_flip((rng.random(N) < 0.6).tolist())
    zoom = RandomAffine(p=1.0, scale=0.1)  # isotropic: one number, not one per axis
    drawn = zoom.draw(Sample(np.zeros((1, 8, 8), np.float32)), rng)["scale"]
    assert isinstance(drawn, float)


def monai_draws(n: int) -> dict[str, list]:
    """The same chain in MONAI dictionary transforms, drawn through their ``randomize``."""
    mt = pytest.importorskip("monai.transforms")
    keys, size = ["image", "mask"], 256
    flip = mt.RandFlipd(keys, prob=0.5, spatial_axis=1)
    affine = mt.RandAffined(
        keys,
        prob=1.0,
        rotate_range=np.deg2rad(15),
        scale_range=(0.1, 0.1),
        translate_range=(0.1 * size, 0.1 * size),
    )
    elastic = mt.Rand2DElasticd(keys, spacing=(32, 32), magnitude_range=(1.0, 3.0), prob=1.0)
    noise = mt.RandGaussianNoised("image", prob=1.0, std=0.1)
    gamma = mt.RandAdjustContrastd("image", prob=1.0, gamma=(0.7, 1.5))
    for i, t in enumerate([flip, affine, elastic, noise, gamma]):
        t.set_random_state(seed=i)
    probe = np.zeros((1, 4096), np.float32)  # MONAI keeps the noise, not its std
    out: dict[str, list] = defaultdict(list)
    grid = affine.rand_affine.rand_affine_grid
    for _ in range(n):
        flip.randomize(None)
        out["flip"].append(flip._do_transform)
        affine.rand_affine.randomize()
        out["rotation"].append(float(np.rad2deg(grid.rotate_params[0])))
        out["zoom_row"].append(grid.scale_params[0])
        out["zoom_col"].append(grid.scale_params[1])
        out["shift_row"].append(grid.translate_params[0])
        out["shift_col"].append(grid.translate_params[1])
        deform = elastic.rand_2d_elastic.deform_grid
        deform.randomize((12, 12))  # as Rand2DElastic.__call__ does, on its control grid
        out["elastic_magnitude"].append(deform.rand_mag)
        noise.rand_gaussian_noise.randomize(probe)
        out["noise_std"].append(float(np.std(noise.rand_gaussian_noise.noise)))
        gamma.adjuster.randomize(None)
        out["gamma"].append(gamma.adjuster.gamma_value)
    return out


def test_monai_chain_draws_the_same_distributions() -> None:
    draws = monai_draws(N // 2)
    check_flip(draws["flip"])
    for name, (low, high) in EXPECTED.items():
        # The noise std is estimated from 4,096 values: about 1.1 % relative error.
        slack = 0.005 if name == "noise_std" else 0.0
        check_uniform(name, draws[name], low, high, slack=slack)


@pytest.mark.parametrize(
    ("stage", "key", "high"),
    [
        (RandomGaussianNoise(p=1.0, std=0.1), "std", 0.1),
        (RandomBlur(p=1.0, sigma=1.5), "sigma", 1.5),
        (RandomElasticGrid(p=1.0, spacing=32, magnitude=3.0), "magnitude", 3.0),
    ],
)
def test_a_scalar_spread_of_a_non_negative_quantity_draws_from_zero(
    stage: Any, key: str, high: float
) -> None:
    """``std: 0.1`` is ``[0, 0.1)`` as in MONAI's ``RandGaussianNoise(std=0.1)`` and TorchIO's
    ``RandomNoise(std=0.1)``; it was ``[-0.1, 0.1)`` and failed mid-training on the first
    negative draw ("std must be >= 0")."""
    sample = Sample(np.zeros((1, 64, 64), np.float32))
    rng = np.random.default_rng(0)
    check_uniform(key, [stage.draw(sample, rng)[key] for _ in range(N)], 0.0, high, 0.0)


@pytest.mark.parametrize(
    ("make", "name"),
    [
        (lambda: RandomGaussianNoise(std=[-0.1, 0.1]), "std"),
        (lambda: RandomBlur(sigma=[-1.0, 1.0]), "sigma"),
        (lambda: RandomGaussianNoise(std=-0.1), "std"),
        (lambda: RandomAffine(scale=1.5), "scale"),  # zooms in [-0.5, 2.5]: 0 and flips
        (lambda: RandomAffine(scale=[0.0, 1.2]), "scale"),
        (lambda: RandomAffine(shear=90.0), "shear"),  # tan 90: singular
        (lambda: RandomElasticGrid(scale=1.0), "scale"),
        (lambda: RandomScaleShift(scale=1.0), "scale"),  # image * 0, or inverted contrast
    ],
)
def test_a_spread_that_leaves_its_domain_is_refused_when_the_stage_is_made(
    make: Any, name: str
) -> None:
    """Accepted before, and then drew negative noise std (failing mid-training), zero or
    negative zooms (a singular or a mirrored warp), or a contrast-inverting scale."""
    with pytest.raises(ValueError, match=f"The '{name}' parameter of Random"):
        make()


def test_elastic_refuses_a_non_positive_sigma_or_negative_magnitude() -> None:
    for kwargs in ({"sigma": 0.0}, {"sigma": -1.0}, {"magnitude": -3.0}):
        with pytest.raises(ValueError, match="RandomElastic needs sigma > 0 and magnitude >= 0"):
            RandomElastic(**kwargs)
    RandomElastic(sigma=4.0, magnitude=0.0)  # no displacement: allowed
