"""Normalising stages compute their statistics per channel (``channel_wise=True``).

Until 2026-12-02 ``ZScore`` (and ``CenterIntensity``, ``ScalePercentiles``,
``RescaleIntensity``) pooled the channels of an RGB or multi-sequence image into one mean and
std: a channel near 0.2 beside one near 100 came out as a constant near -0.6 (its information
scaled away), unsaid. torchvision's ``Normalize`` and nnU-Net normalise each channel; the
expected values here are numpy's, per channel, over the stacked training images.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.errors import RadpipeError, StageError
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from pipeline.stages import CenterIntensity, RescaleIntensity, ScalePercentiles, ZScore

SCALES = ((0.2, 0.05), (100.0, 20.0), (-5.0, 1.0))  # (mean, std) of each channel


def _train(n: int = 4) -> list[Sample]:
    rng = np.random.default_rng(3)
    return [
        Sample(
            np.stack([rng.normal(m, s, (5, 7)) for m, s in SCALES]).astype(np.float32),
            meta={"id": f"s{i}"},
        )
        for i in range(n)
    ]


def _stack(samples: list[Sample]) -> np.ndarray:
    return np.stack([s.image for s in samples]).astype(np.float64)  # (N, C, H, W)


def test_fitted_zscore_learns_one_mean_and_std_per_channel() -> None:
    train = _train()
    stage = ZScore(mode="dataset").fit(train)
    np.testing.assert_allclose(stage.mean_, _stack(train).mean(axis=(0, 2, 3)), rtol=1e-12)
    np.testing.assert_allclose(stage.std_, _stack(train).std(axis=(0, 2, 3)), rtol=1e-9)
    out = np.stack([stage(s).image for s in train])  # every channel of the set: mean 0, std 1
    np.testing.assert_allclose(out.mean(axis=(0, 2, 3)), 0.0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=(0, 2, 3)), 1.0, atol=1e-5)


def test_fitted_center_and_percentiles_are_per_channel() -> None:
    train = _train()
    centre = CenterIntensity(mode="dataset").fit(train)
    np.testing.assert_allclose(centre.mean_, _stack(train).mean(axis=(0, 2, 3)), rtol=1e-12)
    scale = ScalePercentiles(mode="dataset", lower=5, upper=95).fit(train)
    per_channel = _stack(train).transpose(1, 0, 2, 3).reshape(3, -1)
    expected = np.percentile(per_channel, [5, 95], axis=1).T
    np.testing.assert_allclose(scale.in_range_, expected, rtol=1e-6)
    assert scale.in_range_.shape == (3, 2)


@pytest.mark.parametrize(
    "stage, expected",
    [
        pytest.param(ZScore(), [[-1.0, 1.0], [-1.0, 1.0]], id="z_score"),
        pytest.param(CenterIntensity(), [[-1.0, 1.0], [-100.0, 100.0]], id="center"),
        pytest.param(RescaleIntensity(), [[0.0, 1.0], [0.0, 1.0]], id="rescale"),
        pytest.param(ScalePercentiles(lower=0, upper=100), [[0.0, 1.0], [0.0, 1.0]], id="pct"),
    ],
)
def test_an_image_own_statistics_are_per_channel(stage: object, expected: list) -> None:
    image = np.array([[[1.0, 3.0]], [[100.0, 300.0]]], np.float32)  # two channels, by hand
    out = stage(Sample(image)).image  # type: ignore[operator]
    np.testing.assert_allclose(out[:, 0], expected, rtol=1e-6)


def test_channel_wise_false_pools_the_channels() -> None:
    image = np.array([[[1.0, 3.0]], [[100.0, 300.0]]], np.float32)
    out = ZScore(channel_wise=False)(Sample(image)).image
    np.testing.assert_allclose(out, (image - image.mean()) / image.std(), rtol=1e-6)


def test_one_channel_images_are_unchanged_by_the_default() -> None:
    grey = [Sample(s.image[1:2], meta=s.meta) for s in _train()]
    for cls in (ZScore, CenterIntensity, ScalePercentiles):
        a, b = cls(mode="dataset").fit(grey), cls(mode="dataset", channel_wise=False).fit(grey)
        assert a.state_dict().keys() == b.state_dict().keys()
        for key, value in a.state_dict().items():
            assert np.array_equal(value, b.state_dict()[key]), (cls, key)
        assert np.array_equal(a(grey[0]).image, b(grey[0]).image)
    assert isinstance(ZScore(mode="dataset").fit(grey).mean_, float)


def test_per_channel_state_survives_save_and_load(tmp_path: Path) -> None:
    train = _train()
    pipe = Pipeline([("z", ZScore(mode="dataset")), ("p", ScalePercentiles(mode="dataset"))])
    pipe.fit(train)
    pipe.save(tmp_path)
    again = Pipeline.load(tmp_path)
    assert np.array_equal(again(train[1]).image, pipe(train[1]).image)


def test_another_channel_count_than_fitted_is_refused() -> None:
    stage = ZScore(mode="dataset").fit(_train())
    with pytest.raises(StageError, match=r"one mean per channel of the image \(1\); got 3"):
        stage(Sample(np.zeros((1, 5, 7), np.float32), meta={"id": "grey"}))
    with pytest.raises(RadpipeError, match=r"samples\[4\] has 1 channel\(s\), the samples"):
        ZScore(mode="dataset").fit([*_train(), Sample(np.zeros((1, 5, 7), np.float32))])


@pytest.mark.parametrize(
    "stage",
    [ZScore(mode="dataset"), CenterIntensity(mode="dataset"), ScalePercentiles(mode="dataset")],
    ids=["z_score", "center_intensity", "scale_percentiles"],
)
def test_a_one_channel_fit_applied_to_three_channels_is_refused(stage: object) -> None:
    """Fitted on one-channel images, the one mean (std, range) went to every channel of an
    RGB image, unsaid; pooled on purpose (channel_wise=False) it still does."""
    grey = [Sample(s.image[:1].copy(), meta={"id": f"g{i}"}) for i, s in enumerate(_train())]
    fitted = stage.fit(grey)  # type: ignore[attr-defined]
    rgb = _train(1)[0]
    with pytest.raises(StageError, match="fitted per channel on one-channel images; this image"):
        fitted(rgb)
    assert fitted(grey[0]).image.shape == (1, 5, 7)
    fitted.channel_wise = False
    assert fitted(rgb).image.shape == (3, 5, 7)


def test_a_pipeline_saved_before_channel_wise_is_applied_as_it_was_trained(
    tmp_path: Path,
) -> None:
    """A run's ``stages/pipeline.json`` written before the parameter existed pooled the
    channels; ``radpipe predict`` and ``evaluate`` must apply it so, not per channel."""
    saved = [
        {"name": "z", "type": "z_score", "mode": "image"},
        {"name": "r", "type": "rescale_intensity", "out_range": [0, 1], "in_range": None},
    ]
    (tmp_path / "pipeline.json").write_text(json.dumps(saved))
    loaded = Pipeline.load(tmp_path)
    assert [stage.channel_wise for _, stage in loaded.steps] == [False, False]
    image = np.array([[[1.0, 3.0]], [[100.0, 300.0]]], np.float32)
    pooled = (image - image.mean()) / image.std()
    want = (pooled - pooled.min()) / (pooled.max() - pooled.min())
    np.testing.assert_allclose(loaded(Sample(image)).image, want, rtol=1e-6)
    Pipeline([("z", ZScore())]).save(tmp_path / "today")
    assert Pipeline.load(tmp_path / "today")["z"].channel_wise is True


@pytest.mark.parametrize("cls", [ZScore, CenterIntensity, ScalePercentiles, RescaleIntensity])
def test_channel_wise_must_be_a_bool(cls: type) -> None:
    """A quoted YAML 'false' is a string, and was truthy: per channel where pooling was asked."""
    with pytest.raises(ValueError, match=f"'channel_wise' parameter of {cls.__name__} must be"):
        cls(channel_wise="false")
