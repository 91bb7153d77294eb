"""Edges of the per-channel statistics: pooled fits of multi-channel images, a channel count
that changes at the second sample, and per-channel values of the wrong shape. Expected values
are numpy's over the stacked images, by hand."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.errors import RadpipeError
from pipeline.ops.intensity import normalize_zscore
from pipeline.sample import Sample
from pipeline.stages import ScalePercentiles, ZScore


def _images() -> list[Sample]:
    a = np.array([[[1.0, 3.0]], [[100.0, 300.0]]], np.float32)
    return [Sample(a), Sample(a + 1)]


def test_pooled_fits_give_one_value_for_every_channel() -> None:
    train = _images()
    every = np.stack([s.image for s in train]).astype(np.float64)  # all 8 values
    z = ZScore(mode="dataset", channel_wise=False).fit(train)
    assert z.mean_ == pytest.approx(every.mean()) and z.std_ == pytest.approx(every.std())
    pct = ScalePercentiles(mode="dataset", lower=0, upper=100, channel_wise=False).fit(train)
    assert np.asarray(pct.in_range_).tolist() == [1.0, 301.0]
    out = pct(train[0]).image
    np.testing.assert_allclose(out, (train[0].image - 1.0) / 300.0, rtol=1e-6)


def test_a_channel_count_changing_at_the_second_sample_is_refused() -> None:
    three = _images()[0]
    one = Sample(three.image[:1])
    with pytest.raises(RadpipeError, match=r"samples\[1\] has 1 channel\(s\), the samples"):
        ZScore(mode="dataset").fit([three, one])


def test_per_channel_means_of_another_shape_are_refused() -> None:
    image = _images()[0].image
    with pytest.raises(ValueError, match="Expected one mean per channel of the image") as err:
        normalize_zscore(image, mean=[[1.0, 2.0], [3.0, 4.0]])
    # two rows for two channels: "got 2" said nothing; the shape says what is wrong
    assert "got an array of shape (2, 2), not (2)." in str(err.value)


def test_a_std_equal_to_eps_is_replaced_by_one() -> None:
    image = np.array([[[1.0, 3.0]]], np.float32)
    out = normalize_zscore(image, mean=2.0, std=0.5, eps=0.5)
    assert out.tolist() == [[[-1.0, 1.0]]]  # divided by 1, not by 0.5
