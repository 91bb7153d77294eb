"""Deterministic intensity stages: clipping, scaling, centring, normalisation.

Stages with ``mode="dataset"`` learn their statistics in :meth:`fit`, which must only ever
see the training split; ``mode="image"`` uses each image's own statistics and needs no fit.
All of them leave masks untouched.
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
from pipeline.stages._checks import check_number
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


def _require_fit(stage: Stage, *attrs: str) -> None:
    if not all(hasattr(stage, a) for a in attrs):
        raise RadpipeError(
            f"{type(stage).__name__}(mode='dataset') is not fitted; call fit() on the training "
            "samples first."
        )


def _pooled_mean_std(stage: str, samples: Iterable[Sample]) -> tuple[float, float]:
    """Mean and standard deviation over every pixel of every sample (float64 sums)."""
    n, total, total_sq = 0, 0.0, 0.0
    for image in fit_images(stage, samples):
        img = image.astype(np.float64)
        n += img.size
        total += float(img.sum())
        total_sq += float(np.square(img).sum())
    if n == 0:
        raise RadpipeError(f"Cannot fit {stage} on samples without pixels.")
    mean = total / n
    return mean, float(np.sqrt(max(total_sq / n - mean * mean, 0.0)))


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
    """Min-max scaling of ``in_range`` (``None``: each image's min and max) to ``out_range``."""

    kind = "intensity"

    def __init__(
        self,
        *,
        out_range: Sequence[float] = (0.0, 1.0),
        in_range: Sequence[float] | None = None,
        clip: bool = True,
    ) -> None:
        _check_range("RescaleIntensity", "out_range", out_range)
        _check_range("RescaleIntensity", "in_range", in_range)
        self.out_range = out_range
        self.in_range = in_range
        self.clip = clip

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        in_range = _check_range("RescaleIntensity", "in_range", self.in_range)
        out_range = _check_range("RescaleIntensity", "out_range", self.out_range)
        out = rescale_intensity(sample.image, in_range, out_range or (0, 1), self.clip)
        return sample.replace(image=out)


@STAGES.register("center_intensity")
class CenterIntensity(Stage):
    """Mean subtraction: each image's own mean, or the training set's (``mode="dataset"``)."""

    kind = "intensity"

    def __init__(self, *, mode: str = "image") -> None:
        _check_mode("CenterIntensity", mode)
        self.mode = mode

    def fit(self, samples: Iterable[Sample]) -> Self:
        if self.mode == "dataset":
            self.mean_, _ = _pooled_mean_std("CenterIntensity", samples)
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if self.mode == "image":
            return sample.replace(image=subtract_mean(sample.image))
        _require_fit(self, "mean_")
        return sample.replace(image=subtract_mean(sample.image, self.mean_))


@STAGES.register("z_score")
class ZScore(Stage):
    """Z-score normalisation, per image or with the training set's pooled mean and std.

    Parameters
    ----------
    mode
        ``"image"`` (each image's own statistics) or ``"dataset"`` (fitted ``mean_``, ``std_``
        over every pixel of the training samples).
    """

    kind = "intensity"

    def __init__(self, *, mode: str = "image") -> None:
        _check_mode("ZScore", mode)
        self.mode = mode

    def fit(self, samples: Iterable[Sample]) -> Self:
        if self.mode == "dataset":
            self.mean_, self.std_ = _pooled_mean_std("ZScore", samples)
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if self.mode == "image":
            return sample.replace(image=normalize_zscore(sample.image))
        _require_fit(self, "mean_", "std_")
        return sample.replace(image=normalize_zscore(sample.image, self.mean_, self.std_))


@STAGES.register("scale_percentiles")
class ScalePercentiles(Stage):
    """Map the ``lower``..``upper`` percentiles to ``out_range`` (robust min-max scaling).

    With ``mode="dataset"`` the percentiles are computed once over the training pixels
    (every n-th pixel of the training images in order, at most two million values, gathered
    image by image) and stored as ``in_range_``.
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
    ) -> None:
        if not 0 <= lower < upper <= 100:
            raise ValueError(
                f"ScalePercentiles needs 0 <= lower < upper <= 100; got {lower}, {upper}."
            )
        _check_mode("ScalePercentiles", mode)
        self.lower = lower
        self.upper = upper
        _check_range("ScalePercentiles", "out_range", out_range)
        self.out_range = out_range
        self.clip = clip
        self.mode = mode

    def fit(self, samples: Iterable[Sample]) -> Self:
        if self.mode == "dataset":
            images = list(fit_images("ScalePercentiles", samples))
            lo, hi = np.percentile(_strided_pixels(images), [self.lower, self.upper])
            self.in_range_ = np.array([lo, hi], dtype=np.float64)
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        in_range = None
        if self.mode == "dataset":
            _require_fit(self, "in_range_")
            in_range = [float(v) for v in self.in_range_]
        out_range = _check_range("ScalePercentiles", "out_range", self.out_range)
        out = scale_percentiles(
            sample.image, self.lower, self.upper, out_range or (0, 1), self.clip, in_range
        )
        return sample.replace(image=out)
