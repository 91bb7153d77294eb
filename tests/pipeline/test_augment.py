"""Random augmentation: alignment of image and mask, replay, and recorded parameters."""

from __future__ import annotations

import numpy as np
import pytest

import pipeline.stages  # noqa: F401  (registers every stage)
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage
from pipeline.stages import RandomAffine, RandomFlip, RandomGaussianNoise, RandomRotate90

RANDOM_GEOMETRIC = [
    n for n in STAGES.names() if STAGES.get(n).random and STAGES.get(n).kind == "geometric"
]
STRONG = {  # parameters that make each geometric stage move things for sure
    "random_flip": {"p": 1.0, "axes": [-1, -2]},
    "random_rotate90": {"p": 1.0},
    "random_affine": {"p": 1.0, "rotation": 40.0, "scale": 0.2, "translate": 0.1, "shear": 10.0},
    "random_elastic": {"p": 1.0, "sigma": 4.0, "magnitude": 4.0},
    "random_elastic_grid": {"p": 1.0, "spacing": 12, "magnitude": [2.0, 3.0]},
    "random_crop": {"shape": [40, 36]},
}


def _blobs(d: int | None = None) -> Sample:
    """A smooth image whose mask is drawn from it: class 1 where > 0.3, class 2 where > 0.7."""
    yy, xx = np.mgrid[0:48, 0:48].astype(np.float32)
    img = np.exp(-((yy - 18) ** 2 + (xx - 26) ** 2) / 120.0)
    img += 0.9 * np.exp(-((yy - 34) ** 2 + (xx - 12) ** 2) / 40.0)
    img = img[None] if d is None else np.stack([img] * d)[None]
    mask = (img[0] > 0.3).astype(np.uint8) + (img[0] > 0.7).astype(np.uint8)
    return Sample(image=img.astype(np.float32), mask=mask, label=1, meta={"id": "blobs"})


def _agreement(out: Sample) -> float:
    assert out.mask is not None
    redrawn = (out.image[0] > 0.3).astype(np.uint8) + (out.image[0] > 0.7).astype(np.uint8)
    return float((redrawn == out.mask).mean())


def test_every_random_geometric_stage_is_checked() -> None:
    assert set(RANDOM_GEOMETRIC) == set(STRONG)


@pytest.mark.parametrize("name", RANDOM_GEOMETRIC)
@pytest.mark.parametrize("depth", [None, 3], ids=["2d", "series"])
def test_geometric_stages_keep_image_and_mask_aligned(name: str, depth: int | None) -> None:
    stage: Stage = STAGES.build({"type": name, **STRONG[name]})
    s = _blobs(depth)
    for seed in range(4):
        out = stage(s, np.random.default_rng(seed))
        assert out.mask is not None and out.mask.dtype == np.uint8
        assert set(np.unique(out.mask)) <= {0, 1, 2}  # nearest neighbour: never blended
        assert out.label == 1
        # The mask redrawn from the warped image coincides with the warped mask, except for
        # a thin band of boundary pixels where linear and nearest interpolation disagree.
        assert _agreement(out) > 0.97, (name, seed, _agreement(out))
        moved = out.image.shape != s.image.shape or not np.allclose(out.image, s.image)
        assert moved
        if depth:  # the same in-plane transform on every slice
            assert all(np.array_equal(out.image[0, 0], out.image[0, k]) for k in range(depth))


def test_misaligned_warp_would_be_caught() -> None:
    """The agreement measure above fails when the mask does not follow the image."""
    s = _blobs()
    out = RandomAffine(p=1.0, rotation=[40.0, 40.0], scale=0.0)(s, np.random.default_rng(0))
    wrong = out.replace(mask=s.mask)
    assert _agreement(wrong) < 0.9


@pytest.mark.parametrize("name", [n for n in STAGES.names() if STAGES.get(n).random])
def test_recorded_parameters_replay_exactly(name: str) -> None:
    stage: Stage = STAGES.build({"type": name, **STRONG.get(name, {"p": 1.0})})
    s = _blobs()
    out = stage(s, np.random.default_rng(5))
    record = out.meta["applied"][-1]
    assert record["stage"] == type(stage).__name__
    params = {k: v for k, v in record.items() if k != "stage"}
    replay = stage.apply(s, params)
    np.testing.assert_array_equal(replay.image, out.image)
    assert replay.mask is not None and out.mask is not None
    np.testing.assert_array_equal(replay.mask, out.mask)


def test_flip_and_rotate90_exact() -> None:
    s = Sample(np.arange(6, dtype=np.float32).reshape(1, 2, 3), mask=np.eye(2, 3, dtype=np.uint8))
    out = RandomFlip(p=1.0, axes=[-1])(s, np.random.default_rng(0))
    assert out.image[0].tolist() == [[2, 1, 0], [5, 4, 3]]
    assert out.mask is not None and out.mask.tolist() == [[0, 0, 1], [0, 1, 0]]
    never = RandomFlip(p=0.0)(s, np.random.default_rng(0))
    assert np.array_equal(never.image, s.image) and never.meta["applied"][-1]["axes"] == []
    rot = RandomRotate90(p=1.0)(s, np.random.default_rng(0))
    k = rot.meta["applied"][-1]["k"]
    assert k in (1, 2, 3) and np.array_equal(rot.image, np.rot90(s.image, k, axes=(-2, -1)))


def test_noise_statistics_and_mask_untouched() -> None:
    s = Sample(np.zeros((1, 64, 64), np.float32), mask=np.ones((64, 64), np.uint8))
    out = RandomGaussianNoise(p=1.0, std=[0.5, 0.5])(s, np.random.default_rng(0))
    assert abs(float(out.image.std()) - 0.5) < 0.02 and abs(float(out.image.mean())) < 0.02
    assert out.mask is s.mask  # intensity stages pass the mask through as is


def test_different_seeds_differ_and_p_is_validated() -> None:
    stage = RandomAffine()
    a = stage(_blobs(), np.random.default_rng(1))
    b = stage(_blobs(), np.random.default_rng(2))
    assert not np.allclose(a.image, b.image)
    with pytest.raises(
        ValueError, match=r"'p' parameter of RandomFlip must be a float in \[0, 1\]"
    ):
        RandomFlip(p=1.5)
