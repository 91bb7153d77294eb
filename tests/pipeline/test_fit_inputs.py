"""Fitted stages refuse training samples with NaN/inf pixels and empty training sets.

Until 2026-12-02 one NaN pixel in one training image made ``ZScore(mode="dataset")``'s
``mean_`` NaN without a word, and with it every image the stage then normalised (the clean
validation and test images too); ``ScalePercentiles`` learnt a NaN ``in_range_`` the same way,
and an empty training set stopped it with numpy's "need at least one array to concatenate".
"""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from pipeline.errors import RadpipeError
from pipeline.sample import Sample
from pipeline.stages import (
    PCA,
    CenterIntensity,
    Pipeline,
    Resize,
    ScalePercentiles,
    ZScore,
    intensity,
)

FITTED = [
    pytest.param(lambda: ZScore(mode="dataset"), "ZScore", id="z_score"),
    pytest.param(lambda: CenterIntensity(mode="dataset"), "CenterIntensity", id="center"),
    pytest.param(lambda: ScalePercentiles(mode="dataset"), "ScalePercentiles", id="percentiles"),
    pytest.param(lambda: PCA(n_components=1), "PCA", id="pca"),
]


def _samples(bad_value: float | None = None) -> list[Sample]:
    images = [np.arange(16, dtype=np.float32).reshape(1, 4, 4) + k for k in range(3)]
    if bad_value is not None:
        images[2][0, 1, 3] = bad_value
    return [Sample(image=im, meta={"id": f"s{k}"}) for k, im in enumerate(images)]


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize(("make", "name"), FITTED)
def test_a_non_finite_training_pixel_is_refused_naming_the_sample(make, name, bad) -> None:
    with pytest.raises(RadpipeError) as err:
        make().fit(_samples(bad))
    message = str(err.value)
    assert message.startswith(f"Cannot fit {name} on samples[2] ('s2'): 1 of its 16 pixel")
    assert "is NaN or infinite" in message


def test_a_sample_without_id_is_named_by_its_position() -> None:
    images = [np.zeros((1, 2, 2), np.float32), np.full((1, 2, 2), np.nan, np.float32)]
    with pytest.raises(RadpipeError, match=r"on samples\[1\]: 4 of its 4 pixel values are"):
        ZScore(mode="dataset").fit([Sample(image=im) for im in images])


def test_a_pipeline_names_the_sample_after_earlier_stages() -> None:
    pipe = Pipeline([("resize", Resize(shape=[2, 2])), ("norm", ZScore(mode="dataset"))])
    with pytest.raises(RadpipeError, match=r"Cannot fit ZScore on samples\[2\] \('s2'\)"):
        pipe.fit(_samples(np.nan))


@pytest.mark.parametrize(("make", "name"), FITTED)
def test_an_empty_training_set_is_refused_in_words(make, name) -> None:
    with pytest.raises(RadpipeError, match=f"^Cannot fit {name} on an empty set of samples"):
        make().fit([])


def test_finite_samples_fit_as_before_also_from_a_generator() -> None:
    # pixels 0..15, 1..16, 2..17: mean 8.5; variance 21.25 + 2/3 (by hand)
    stage = ZScore(mode="dataset").fit(s for s in _samples())
    assert stage.mean_ == pytest.approx(8.5)
    assert stage.std_ == pytest.approx(np.sqrt(21.25 + 2 / 3))
    lo, hi = ScalePercentiles(lower=0, upper=100, mode="dataset").fit(_samples()).in_range_
    assert (lo, hi) == (0.0, 17.0)


def test_dataset_percentiles_keep_at_most_the_cap_without_copying_the_training_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ScalePercentiles(mode="dataset")`` concatenated every training pixel before taking
    every ``size // cap``-th (a copy of the whole training set, and up to twice the cap)."""
    monkeypatch.setattr(intensity, "_MAX_PERCENTILE_VALUES", 1000)
    rng = np.random.default_rng(0)
    images = [rng.normal(size=(1, 50, 41)).astype(np.float32) for _ in range(40)]  # 82,000 px
    # by hand: every 82nd pixel of the images read as one sequence (82,000 / 1000 = 82)
    kept = np.concatenate([im.ravel() for im in images])[::82]
    assert kept.size == 1000
    expected = np.percentile(kept, [1.0, 99.0])
    tracemalloc.start()
    stage = ScalePercentiles(mode="dataset").fit([Sample(image=im) for im in images])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    np.testing.assert_allclose(stage.in_range_, expected, rtol=0, atol=0)
    assert peak < 100_000  # the training set is 328,000 bytes


def test_dataset_percentiles_never_keep_more_than_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(intensity, "_MAX_PERCENTILE_VALUES", 1000)
    values = np.zeros(1999, dtype=np.float32)
    values[1::2] = 1000.0  # odd positions; a cap of 1000 keeps every 2nd: positions 0, 2, ...
    samples = [Sample(image=values[:1000].reshape(1, 10, 100)),
               Sample(image=values[1000:].reshape(1, 1, 999))]  # fmt: skip
    stage = ScalePercentiles(lower=0.0, upper=100.0, mode="dataset").fit(samples)
    # the even positions only (1,000 zeros); keeping all 1,999 (step 1999 // 1000) gave 1000
    assert list(stage.in_range_) == [0.0, 0.0]
