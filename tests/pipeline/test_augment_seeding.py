"""Seeded intensity augmentation: which generator an item draws from, and what it draws.

A dataset's random stages draw from ``numpy.random.default_rng([seed, epoch, index])``: the
expected parameters below are drawn by hand from that generator with NumPy (a ``p`` check,
then the stage's draws in order), and the images are worked out from them with NumPy.
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.data.base import SampleDataset
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from pipeline.stages import RandomFlip
from pipeline.stages.augment_intensity import RandomGamma, RandomGaussianNoise, RandomScaleShift

IMAGE = np.arange(12, dtype=np.float32).reshape(1, 3, 4) + 1.0
MASK = (np.arange(12).reshape(3, 4) % 3).astype(np.uint8)


class _Items(SampleDataset):
    """``n`` copies of one image and mask, in memory."""

    def __init__(self, n: int, pipeline: Pipeline, seed: int) -> None:
        super().__init__(pipeline=pipeline, seed=seed)
        self.n = n

    def __len__(self) -> int:
        return self.n

    def _load(self, index: int) -> Sample:
        return Sample(IMAGE.copy(), mask=MASK.copy(), meta={"id": f"item{index}"})

    def item_key(self, index: int) -> str:
        return f"item{index}"

    def source_id(self) -> str:
        return "memory"


def _scale_shift(seed: int, epoch: int, index: int) -> tuple[float, float]:
    """scale in [0.5, 1.5), shift in [-2, 2): a p draw first (p = 1 always applies)."""
    rng = np.random.default_rng([seed, epoch, index])
    assert rng.random() < 1.0
    return float(rng.uniform(0.5, 1.5)), float(rng.uniform(-2.0, 2.0))


def _dataset(seed: int = 7, n: int = 3) -> _Items:
    stage = RandomScaleShift(p=1.0, scale=[0.5, 1.5], shift=[-2.0, 2.0])
    return _Items(n, Pipeline([("ss", stage)]), seed)


@pytest.mark.parametrize(("epoch", "index"), [(0, 0), (0, 2), (4, 1)])
def test_an_item_draws_from_seed_epoch_and_index(epoch: int, index: int) -> None:
    ds = _dataset()
    ds.set_epoch(epoch)
    sample = ds.sample(index)
    scale, shift = _scale_shift(7, epoch, index)
    applied = sample.meta["applied"][0]
    assert applied["scale"] == pytest.approx(scale) and applied["shift"] == pytest.approx(shift)
    np.testing.assert_allclose(sample.image, IMAGE * scale + shift, rtol=1e-6)
    np.testing.assert_array_equal(sample.mask, MASK)  # intensity stages pass the mask through


def test_the_epoch_argument_overrides_the_datasets_epoch() -> None:
    ds = _dataset()
    ds.set_epoch(1)
    scale, _ = _scale_shift(7, 5, 2)
    assert ds.sample(2, epoch=5).meta["applied"][0]["scale"] == pytest.approx(scale)
    assert ds.sample(2).meta["applied"][0]["scale"] == pytest.approx(_scale_shift(7, 1, 2)[0])


def test_epochs_items_and_seeds_each_change_the_draw() -> None:
    first = _dataset(seed=7)
    drawn = {(7, e, i): first.sample(i, epoch=e).meta["applied"][0]["scale"]
             for e in (0, 1) for i in (0, 1)}  # fmt: skip
    other = _dataset(seed=8)
    drawn[(8, 0, 0)] = other.sample(0, epoch=0).meta["applied"][0]["scale"]
    assert len(set(drawn.values())) == len(drawn)  # five generators, five draws
    again = _dataset(seed=7).sample(1, epoch=1).meta["applied"][0]["scale"]
    assert again == drawn[(7, 1, 1)]


def test_image_and_mask_share_one_draw_through_a_chain() -> None:
    """A flip and a scale-shift draw one after the other from the item's generator."""
    chain = Pipeline([
        ("flip", RandomFlip(p=0.5, axes=[-1])),
        ("ss", RandomScaleShift(p=1.0, scale=[0.5, 1.5], shift=[-2.0, 2.0])),
    ])  # fmt: skip
    ds = _Items(8, chain, seed=3)
    flips = set()
    for index in range(8):
        rng = np.random.default_rng([3, 0, index])
        flipped = rng.random() < 0.5
        assert rng.random() < 1.0
        scale, shift = float(rng.uniform(0.5, 1.5)), float(rng.uniform(-2.0, 2.0))
        sample = ds.sample(index)
        image, mask = (IMAGE[..., ::-1], MASK[..., ::-1]) if flipped else (IMAGE, MASK)
        np.testing.assert_allclose(sample.image, image * scale + shift, rtol=1e-6)
        np.testing.assert_array_equal(sample.mask, mask)
        flips.add(flipped)
    assert flips == {True, False}  # both branches were checked


def test_gamma_is_drawn_log_uniformly_by_default() -> None:
    """log(gamma) uniform in [log 0.5, log 2): as likely below 1 as above; the image through
    that gamma keeps its minimum and maximum."""
    rng = np.random.default_rng(0)
    stage = RandomGamma(p=1.0, gamma=[0.5, 2.0])
    sample = Sample(IMAGE)
    gammas = np.array([stage.draw(sample, rng)["gamma"] for _ in range(4000)])
    below = float(np.mean(gammas < 1.0))
    assert abs(below - 0.5) < 4 * np.sqrt(0.25 / gammas.size), below  # uniform: 1/3 below
    first = stage.draw(sample, np.random.default_rng(5))["gamma"]
    rng = np.random.default_rng(5)
    assert rng.random() < 1.0
    assert first == pytest.approx(float(np.exp(rng.uniform(np.log(0.5), np.log(2.0)))))
    out = stage.apply(sample, {"apply": True, "gamma": 2.0}).image
    lo, hi = IMAGE.min(), IMAGE.max()
    np.testing.assert_allclose(out, lo + (hi - lo) * ((IMAGE - lo) / (hi - lo)) ** 2.0, rtol=1e-6)


def test_noise_follows_its_drawn_seed_and_std() -> None:
    """Two items draw two noise seeds; the noise is torch's normal draw of that seed x std."""
    import torch

    stage = RandomGaussianNoise(p=1.0, std=[0.5, 1.0])
    ds = _Items(2, Pipeline([("noise", stage)]), seed=1)
    seeds = set()
    for index in range(2):
        sample = ds.sample(index)
        drawn = sample.meta["applied"][0]
        seeds.add(drawn["seed"])
        generator = torch.Generator().manual_seed(drawn["seed"])
        noise = torch.randn(IMAGE.shape, generator=generator, dtype=torch.float32).numpy()
        np.testing.assert_allclose(sample.image, IMAGE + drawn["std"] * noise, rtol=1e-5)
        assert 0.5 <= drawn["std"] < 1.0
    assert len(seeds) == 2


def test_blur_applies_the_drawn_sigma_in_pixels() -> None:
    """An impulse blurred with sigma 1.0: each axis a normalised Gaussian exp(-x^2 / 2) over
    |x| <= 4 (SciPy's kernel), worked out with NumPy; the channel axis is not blurred."""
    from pipeline.stages.augment_intensity import RandomBlur

    image = np.zeros((2, 21, 21), np.float32)
    image[0, 10, 10] = 1.0
    out = RandomBlur(p=1.0, sigma=[0.5, 1.5]).apply(Sample(image), {"apply": True, "sigma": 1.0})
    x = np.arange(-4, 5)
    w = np.exp(-(x**2) / 2.0)
    w /= w.sum()
    np.testing.assert_allclose(out.image[0, 10, 6:15], w[4] * w, atol=1e-6)
    np.testing.assert_allclose(out.image[0, 6:15, 6:15], np.outer(w, w), atol=1e-6)
    assert not out.image[1].any()


def test_noise_of_zero_std_adds_its_mean() -> None:
    from pipeline.ops.intensity import add_gaussian_noise

    out = add_gaussian_noise(np.ones((1, 2, 3)), 0.0, seed=4, mean=2.5)
    np.testing.assert_array_equal(out, np.full((1, 2, 3), 3.5, np.float32))
