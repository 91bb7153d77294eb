"""Deterministic intensity stages: clipping, scaling, centring, normalisation.

Stages with ``mode="dataset"`` learn their statistics in :meth:`fit`, which must only ever
see the training split; ``mode="image"`` uses each image's own statistics and needs no fit.
All of them leave masks untouched. Statistics are per channel (``channel_wise=True``, the
default; see :mod:`pipeline.ops.intensity`): fitted on one-channel images they are numbers
as before, on ``C`` channels arrays of ``C`` (``in_range_``: ``(C, 2)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, Self

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.ops.intensity import (
    clip_intensity,
    normalize_zscore,
    rescale_intensity,
    scale_percentiles,
    subtract_mean,
)
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage
from pipeline.stages._checks import check_flag, check_number
from pipeline.stages._fit import fit_images

_MODES = ("image", "dataset")
# Pixels kept per fit for dataset percentiles: enough for stable percentiles, bounded memory.
_MAX_PERCENTILE_VALUES = 2_000_000


def _check_mode(stage: str, mode: str) -> None:
    if mode not in _MODES:
        raise ValueError(
            f"The 'mode' parameter of {stage} must be 'image' or 'dataset'; got {mode!r}."
        )


def _check_range(stage: str, name: str, value: Sequence[float] | None) -> list[float] | None:
    if value is None:
        return None
    out = [float(v) for v in value]
    if len(out) != 2:
        raise ValueError(f"The '{name}' parameter of {stage} must be (low, high); got {value!r}.")
    return out


def _require_fit(stage: Stage, image: np.ndarray, *attrs: str) -> None:
    """Refuse an unfitted stage, or one fitted per channel on one-channel images given more.

    A statistic fitted on one-channel images was applied to every channel of a 3-channel
    image, unsaid (one statistic per channel for ``C`` > 1 is checked by the ops).
    """
    name = type(stage).__name__
    if not all(hasattr(stage, a) for a in attrs):
        raise RadpipeError(
            f"{name}(mode='dataset') is not fitted; call fit() on the training samples first."
        )
    one_channel = 1 if attrs[0] == "in_range_" else 0  # ndim of a one-channel statistic
    fitted_on_one = np.ndim(getattr(stage, attrs[0])) == one_channel
    if getattr(stage, "channel_wise", False) and fitted_on_one and image.shape[0] != 1:
        raise RadpipeError(
            f"{name} was fitted per channel on one-channel images; this image has "
            f"{image.shape[0]} channels. Fit it on images like the ones it is applied to "
            "(or channel_wise=False to pool the channels)."
        )


def _fitted_mean_std(stage: str, samples: Iterable[Sample], channel_wise: bool) -> tuple[Any, Any]:
    """Mean and standard deviation over every pixel of the samples (float64 sums).

    Per channel (arrays of ``C``; numbers for one channel) or pooled over the channels.
    """
    n, total, total_sq = 0, np.zeros(1), np.zeros(1)
    for i, image in enumerate(fit_images(stage, samples)):
        img = image.astype(np.float64)
        flat = img.reshape(_fit_channels(stage, img, i, total.size, channel_wise), -1)
        if i == 0:
            total, total_sq = np.zeros(flat.shape[0]), np.zeros(flat.shape[0])
        n += flat.shape[1]
        total += flat.sum(axis=1)
        total_sq += np.square(flat).sum(axis=1)
    if n == 0:
        raise RadpipeError(f"Cannot fit {stage} on samples without pixels.")
    mean = total / n
    std = np.sqrt(np.maximum(total_sq / n - mean * mean, 0.0))
    return (float(mean[0]), float(std[0])) if mean.size == 1 else (mean, std)


def _fit_channels(stage: str, img: np.ndarray, i: int, seen: int, channel_wise: bool) -> int:
    """Rows to fit ``img`` as: its channels, or 1 pooled; refuses a change of channel count."""
    if not channel_wise:
        return 1
    if i > 0 and img.shape[0] != seen:
        raise RadpipeError(
            f"Cannot fit {stage} per channel: samples[{i}] has {img.shape[0]} channel(s), the "
            f"samples before it {seen}; give images of one channel count (or "
            "channel_wise=False to pool the channels)."
        )
    return int(img.shape[0])


def _strided_pixels(images: list[np.ndarray]) -> np.ndarray:
    """Every ``step``-th pixel of the images read as one sequence, at most the cap.

    Gathered image by image: the whole training set is never concatenated (it was, before
    the stride: a copy of every training pixel).
    """
    total = sum(im.size for im in images)
    step = max(1, -(-total // _MAX_PERCENTILE_VALUES))
    parts, position = [], 0
    for im in images:
        parts.append(im.reshape(-1)[(-position) % step :: step])
        position += im.size
    return np.concatenate(parts) if parts else np.empty(0)


@STAGES.register("clip_intensity")
class ClipIntensity(Stage):
    """Clip the image to ``[low, high]`` (``None`` leaves a side open), e.g. HU to [-1000, 400]."""

    kind = "intensity"

    def __init__(self, *, low: float | None = None, high: float | None = None) -> None:
        for name, value in (("low", low), ("high", high)):
            if value is not None:
                check_number("ClipIntensity", name, value)
        if low is not None and high is not None and low > high:
            raise ValueError(f"ClipIntensity needs low <= high; got low={low}, high={high}.")
        self.low = low
        self.high = high

    @classmethod
    def example(cls) -> Self:
        return cls(low=-200.0, high=200.0)

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace(image=clip_intensity(sample.image, self.low, self.high))


@STAGES.register("rescale_intensity")
class RescaleIntensity(Stage):
    """Min-max scaling of ``in_range`` (``None``: each image's min and max) to ``out_range``.

    An image's own minimum and maximum are per channel unless ``channel_wise=False``.
    """

    kind = "intensity"

    def __init__(
        self,
        *,
        out_range: Sequence[float] = (0.0, 1.0),
        in_range: Sequence[float] | None = None,
        clip: bool = True,
        channel_wise: bool = True,
    ) -> None:
        _check_range("RescaleIntensity", "out_range", out_range)
        _check_range("RescaleIntensity", "in_range", in_range)
        check_flag("RescaleIntensity", "clip", clip)
        check_flag("RescaleIntensity", "channel_wise", channel_wise)
        self.out_range = out_range
        self.in_range = in_range
        self.clip = clip
        self.channel_wise = channel_wise

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        in_range = _check_range("RescaleIntensity", "in_range", self.in_range)
        out_range = _check_range("RescaleIntensity", "out_range", self.out_range)
        out = rescale_intensity(
            sample.image, in_range, out_range or (0, 1), self.clip, channel_wise=self.channel_wise
        )
        return sample.replace(image=out)


@STAGES.register("center_intensity")
class CenterIntensity(Stage):
    """Mean subtraction: each image's own mean, or the training set's (``mode="dataset"``).

    The means are per channel unless ``channel_wise=False``.
    """

    kind = "intensity"

    def __init__(self, *, mode: str = "image", channel_wise: bool = True) -> None:
        _check_mode("CenterIntensity", mode)
        check_flag("CenterIntensity", "channel_wise", channel_wise)
        self.mode = mode
        self.channel_wise = channel_wise

    def fit(self, samples: Iterable[Sample]) -> Self:
        if self.mode == "dataset":
            self.mean_, _ = _fitted_mean_std("CenterIntensity", samples, self.channel_wise)
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if self.mode == "image":
            return sample.replace(image=subtract_mean(sample.image, channel_wise=self.channel_wise))
        _require_fit(self, sample.image, "mean_")
        return sample.replace(image=subtract_mean(sample.image, self.mean_))


@STAGES.register("z_score")
class ZScore(Stage):
    """Z-score normalisation, per image or with the training set's mean and std.

    Parameters
    ----------
    mode
        ``"image"`` (each image's own statistics) or ``"dataset"`` (fitted ``mean_``, ``std_``
        over every pixel of the training samples).
    channel_wise
        Statistics per channel (the default, as torchvision's ``Normalize`` and nnU-Net: an
        RGB or multi-sequence image's channels are on different scales), or pooled over the
        channels (MONAI ``NormalizeIntensity``'s default). Alike for one-channel images.
    """

    kind = "intensity"

    def __init__(self, *, mode: str = "image", channel_wise: bool = True) -> None:
        _check_mode("ZScore", mode)
        check_flag("ZScore", "channel_wise", channel_wise)
        self.mode = mode
        self.channel_wise = channel_wise

    def fit(self, samples: Iterable[Sample]) -> Self:
        if self.mode == "dataset":
            self.mean_, self.std_ = _fitted_mean_std("ZScore", samples, self.channel_wise)
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if self.mode == "image":
            out = normalize_zscore(sample.image, channel_wise=self.channel_wise)
            return sample.replace(image=out)
        _require_fit(self, sample.image, "mean_", "std_")
        return sample.replace(image=normalize_zscore(sample.image, self.mean_, self.std_))


@STAGES.register("scale_percentiles")
class ScalePercentiles(Stage):
    """Map the ``lower``..``upper`` percentiles to ``out_range`` (robust min-max scaling).

    With ``mode="dataset"`` the percentiles are computed once over the training pixels
    (every n-th pixel of the training images in order, at most two million values, gathered
    image by image) and stored as ``in_range_``: ``(low, high)``, or one per channel
    ``(C, 2)`` for ``C`` > 1 channels unless ``channel_wise=False``.
    """

    kind = "intensity"

    def __init__(
        self,
        *,
        lower: float = 1.0,
        upper: float = 99.0,
        out_range: Sequence[float] = (0.0, 1.0),
        clip: bool = True,
        mode: str = "image",
        channel_wise: bool = True,
    ) -> None:
        if not 0 <= lower < upper <= 100:
            raise ValueError(
                f"ScalePercentiles needs 0 <= lower < upper <= 100; got {lower}, {upper}."
            )
        _check_mode("ScalePercentiles", mode)
        check_flag("ScalePercentiles", "clip", clip)
        check_flag("ScalePercentiles", "channel_wise", channel_wise)
        self.lower = lower
        self.upper = upper
        _check_range("ScalePercentiles", "out_range", out_range)
        self.out_range = out_range
        self.clip = clip
        self.mode = mode
        self.channel_wise = channel_wise

    def fit(self, samples: Iterable[Sample]) -> Self:
        if self.mode == "dataset":
            images = list(fit_images("ScalePercentiles", samples))
            first = int(images[0].shape[0])
            for i, im in enumerate(images):
                channels = _fit_channels("ScalePercentiles", im, i, first, self.channel_wise)
            ranges = [
                np.percentile(
                    _strided_pixels([im.reshape(channels, -1)[c] for im in images]),
                    [self.lower, self.upper],
                )
                for c in range(channels)
            ]
            self.in_range_ = np.array(ranges[0] if channels == 1 else ranges, dtype=np.float64)
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        in_range = None
        if self.mode == "dataset":
            _require_fit(self, sample.image, "in_range_")
            in_range = np.asarray(self.in_range_, dtype=np.float64)
        out_range = _check_range("ScalePercentiles", "out_range", self.out_range)
        out = scale_percentiles(
            sample.image,
            self.lower,
            self.upper,
            out_range or (0, 1),
            self.clip,
            in_range,
            channel_wise=self.channel_wise,
        )
        return sample.replace(image=out)
