"""``Pipeline.fit`` repeats: random stages before a fitted one draw from seeded generators.

Before: they drew from unseeded generators, so fitting ``[noise, z_score(dataset)]`` twice on
the same eight samples gave two ``std_`` (20.8 and 25.7 on one try) and a saved pipeline's
fitted state depended on chance.
"""

from __future__ import annotations

import numpy as np

from pipeline.sample import Sample
from pipeline.stages import Pipeline, RandomAffine, RandomGaussianNoise, ZScore


def _samples() -> list[Sample]:
    rng = np.random.default_rng(0)
    return [Sample(rng.normal(100, 10, (1, 16, 16)).astype(np.float32), meta={"id": f"s{i}"})
            for i in range(8)]  # fmt: skip


def _pipe() -> Pipeline:
    return Pipeline([
        ("noise", RandomGaussianNoise(p=0.5, std=50.0)),
        ("affine", RandomAffine(p=1.0, rotation=30.0, scale=0.3)),
        ("norm", ZScore(mode="dataset")),
    ])  # fmt: skip


def test_two_fits_give_the_same_state() -> None:
    samples = _samples()
    first = _pipe().fit(samples)["norm"]
    again = _pipe().fit(samples)["norm"]
    refit = _pipe().fit(samples)
    refit.fit(samples)
    assert first.mean_ == again.mean_ == refit["norm"].mean_
    assert first.std_ == again.std_ == refit["norm"].std_


def test_the_fit_saw_the_random_stages() -> None:
    """Seeded, not skipped: noise of std up to 50 on data of std 10 widens the fitted std."""
    samples = _samples()
    plain = float(np.concatenate([s.image.ravel() for s in samples]).astype(np.float64).std())
    assert 9.5 < plain < 10.5
    assert _pipe().fit(samples)["norm"].std_ > 1.5 * plain
