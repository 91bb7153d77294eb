"""Noise-reduction and contrast stages (scikit-image / SciPy underneath); masks untouched."""

from __future__ import annotations

from typing import Any

from pipeline.ops.filters import (
    denoise_gaussian,
    denoise_median,
    denoise_nl_means,
    denoise_tv,
    equalize_clahe,
)
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage
from pipeline.stages._checks import check_number


@STAGES.register("gaussian_smooth")
class GaussianSmooth(Stage):
    """Gaussian smoothing with ``sigma`` pixels along the spatial axes."""

    kind = "intensity"

    def __init__(self, *, sigma: float = 1.0) -> None:
        check_number("GaussianSmooth", "sigma", sigma, low=0)
        self.sigma = sigma

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace(image=denoise_gaussian(sample.image, self.sigma))


@STAGES.register("median_filter")
class MedianFilter(Stage):
    """Median filter over a ``size``-wide window (removes salt-and-pepper noise)."""

    kind = "intensity"

    def __init__(self, *, size: int = 3) -> None:
        check_number("MedianFilter", "size", size, low=1, integer=True)
        self.size = size

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace(image=denoise_median(sample.image, self.size))


@STAGES.register("non_local_means")
class NonLocalMeans(Stage):
    """Non-local means denoising per plane; ``h`` is the filtering strength in image units."""

    kind = "intensity"

    def __init__(self, *, h: float = 10.0, patch_size: int = 5, patch_distance: int = 6) -> None:
        check_number("NonLocalMeans", "h", h, low=0, strict=True)
        check_number("NonLocalMeans", "patch_size", patch_size, low=1, integer=True)
        check_number("NonLocalMeans", "patch_distance", patch_distance, low=1, integer=True)
        self.h = h
        self.patch_size = patch_size
        self.patch_distance = patch_distance

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        out = denoise_nl_means(sample.image, self.h, self.patch_size, self.patch_distance)
        return sample.replace(image=out)


@STAGES.register("total_variation")
class TotalVariation(Stage):
    """Total-variation (Chambolle) denoising per plane; ``weight`` relative to the range."""

    kind = "intensity"

    def __init__(self, *, weight: float = 0.1) -> None:
        check_number("TotalVariation", "weight", weight, low=0, strict=True)
        self.weight = weight

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace(image=denoise_tv(sample.image, self.weight))


@STAGES.register("clahe")
class CLAHE(Stage):
    """Contrast-limited adaptive histogram equalisation per plane; output in ``[0, 1]``."""

    kind = "intensity"

    def __init__(self, *, clip_limit: float = 0.01, kernel_size: int | None = None) -> None:
        check_number("CLAHE", "clip_limit", clip_limit, low=0, strict=True)
        if kernel_size is not None:
            check_number("CLAHE", "kernel_size", kernel_size, low=1, integer=True)
        self.clip_limit = clip_limit
        self.kernel_size = kernel_size

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        out = equalize_clahe(sample.image, self.clip_limit, self.kernel_size)
        return sample.replace(image=out)
