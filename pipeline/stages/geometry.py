"""Deterministic geometric stages: resize, resample, crop/pad, foreground crop, slice count.

Image and mask always move together: the image is interpolated linearly (``order``), the
mask with nearest neighbour so class indices are never blended. ``meta["spacing"]`` (mm per
spatial axis) is updated when the pixel size changes; a spacing that does not give one value
per spatial axis cannot be updated and is dropped (``None``: distances then in voxels), never
kept for pixels it no longer describes.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.ops.geometry import (
    crop,
    crop_or_pad,
    fit_depth,
    foreground_bbox,
    resample_to_spacing,
    resize,
)
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage
from pipeline.stages._checks import check_number


def _shape_param(stage: str, name: str, value: Sequence[int]) -> list[int]:
    is_list = isinstance(value, Sequence) and not isinstance(value, str)
    try:
        out = [int(v) for v in value] if is_list else []
    except (TypeError, ValueError):
        out = []
    if not 2 <= len(out) <= 3 or any(v < 1 for v in out):
        raise ValueError(
            f"The '{name}' parameter of {stage} must be 2 or 3 positive sizes; got {value!r}."
        )
    return out


def _check_ndim(sample: Sample, n: int) -> None:
    if n > len(sample.spatial_shape):
        raise RadpipeError(
            f"Expected image of shape (C, D, H, W) for a {n}-axis size; got {sample.image.shape}."
        )


def _with_spacing(sample: Sample, old: Sequence[int], new: Sequence[int]) -> dict[str, Any]:
    """``meta`` with the spacing of the last ``len(new)`` axes scaled by ``old / new``.

    A spacing of another length than the sample's spatial axes is dropped: which of its
    values belong to the resized axes is unknown (it was kept unchanged, a stale pixel size).
    """
    meta = dict(sample.meta)
    spacing = meta.get("spacing")
    if spacing is not None and len(spacing) != len(sample.spatial_shape):
        meta["spacing"] = None
    elif spacing is not None:
        k = len(sample.spatial_shape) - len(new)
        tail = [float(s) * o / n for s, o, n in zip(list(spacing)[k:], old, new)]
        meta["spacing"] = (*[float(s) for s in list(spacing)[:k]], *tail)
    return meta


@STAGES.register("resize")
class Resize(Stage):
    """Resize to ``shape``: ``(H, W)`` in-plane (every slice), or ``(D, H, W)``.

    ``anti_aliasing``: smooth the image with a Gaussian of sigma ``(factor - 1) / 2`` pixels
    along each axis it shrinks by ``factor`` first (scikit-image's and MONAI's
    ``anti_aliasing``); the mask is never smoothed.
    """

    kind = "geometric"

    def __init__(
        self, *, shape: Sequence[int], order: int = 1, anti_aliasing: bool = False
    ) -> None:
        _shape_param("Resize", "shape", shape)
        self.shape = shape
        self.order = order
        self.anti_aliasing = anti_aliasing

    @classmethod
    def example(cls) -> Self:
        return cls(shape=[20, 24])

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        shape = _shape_param("Resize", "shape", self.shape)
        _check_ndim(sample, len(shape))
        old = sample.spatial_shape[-len(shape) :]
        return sample.replace(
            image=resize(sample.image, shape, order=self.order, anti_aliasing=self.anti_aliasing),
            mask=None if sample.mask is None else resize(sample.mask, shape, order=0),
            meta=_with_spacing(sample, old, shape),
        )


@STAGES.register("resample")
class Resample(Stage):
    """Resample to a pixel ``spacing`` in mm (last axes), reading ``meta["spacing"]``.

    ``anti_aliasing`` as in :class:`Resize` (the image only, along the axes that shrink).
    """

    kind = "geometric"

    def __init__(
        self, *, spacing: Sequence[float], order: int = 1, anti_aliasing: bool = False
    ) -> None:
        self.spacing = spacing
        self.order = order
        self.anti_aliasing = anti_aliasing
        self._target()  # fail at construction, naming the parameter

    def _target(self) -> list[float]:
        try:
            target = [float(s) for s in self.spacing]
        except (TypeError, ValueError):
            target = []
        if not target or not all(math.isfinite(s) and s > 0 for s in target):
            raise ValueError(
                "The 'spacing' parameter of Resample must be numbers > 0 in mm; "
                f"got {self.spacing!r}."
            )
        return target

    @classmethod
    def example(cls) -> Self:
        return cls(spacing=[1.5, 1.5])

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        target = self._target()
        n = len(target)
        _check_ndim(sample, n)
        spacing = sample.meta.get("spacing")
        if spacing is None or len(spacing) != len(sample.spatial_shape):
            raise RadpipeError(
                f"Resample needs meta['spacing'] with one value per spatial axis of "
                f"{sample.spatial_shape}; got {spacing!r}."
            )
        current = [float(s) for s in list(spacing)[-n:]]
        if not all(np.isfinite(current)):
            raise RadpipeError(
                f"Resample needs a known spacing of the last {n} axes; got {spacing}."
            )
        image, actual = resample_to_spacing(
            sample.image, current, target, self.order, anti_aliasing=self.anti_aliasing
        )
        mask = None
        if sample.mask is not None:
            mask = resize(sample.mask, image.shape[-n:], order=0)
        meta = dict(sample.meta)
        meta["spacing"] = (*[float(s) for s in list(spacing)[:-n]], *actual)
        return sample.replace(image=image, mask=mask, meta=meta)


@STAGES.register("crop_or_pad")
class CropOrPad(Stage):
    """Centre-crop or pad to ``shape`` (image padded with ``value``, mask with 0)."""

    kind = "geometric"

    def __init__(self, *, shape: Sequence[int], value: float = 0.0) -> None:
        _shape_param("CropOrPad", "shape", shape)
        self.shape = shape
        self.value = value

    @classmethod
    def example(cls) -> Self:
        return cls(shape=[24, 40])

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        shape = _shape_param("CropOrPad", "shape", self.shape)
        _check_ndim(sample, len(shape))
        return sample.replace(
            image=crop_or_pad(sample.image, shape, self.value),
            mask=None if sample.mask is None else crop_or_pad(sample.mask, shape, 0),
        )


@STAGES.register("crop_foreground")
class CropForeground(Stage):
    """Crop to the bounding box of the foreground, plus ``margin`` pixels.

    Parameters
    ----------
    threshold
        Foreground is where any channel of the image is ``> threshold`` (``source="image"``),
        or where the mask is non-zero (``source="mask"``).
    margin
        Pixels kept around the box on every side (clipped at the border).
    source
        ``"image"`` or ``"mask"``.
    """

    kind = "geometric"

    def __init__(self, *, threshold: float = 0.0, margin: int = 0, source: str = "image") -> None:
        if source not in ("image", "mask"):
            raise ValueError(
                "The 'source' parameter of CropForeground must be 'image' or 'mask'; "
                f"got {source!r}."
            )
        check_number("CropForeground", "margin", margin, low=0, integer=True)
        self.threshold = threshold
        self.margin = margin
        self.source = source

    @classmethod
    def example(cls) -> Self:
        return cls(threshold=-500.0, margin=2)

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if self.source == "mask":
            if sample.mask is None:
                raise RadpipeError("CropForeground(source='mask') needs a sample with a mask.")
            start, size = foreground_bbox(sample.mask, 0, self.margin)
        else:
            start, size = foreground_bbox(sample.image.max(axis=0), self.threshold, self.margin)
        return sample.replace(
            image=crop(sample.image, start, size),
            mask=None if sample.mask is None else crop(sample.mask, start, size),
            meta={**sample.meta, "crop_start": list(start)},
        )


@STAGES.register("fit_depth")
class FitDepth(Stage):
    """Bring a series ``(C, D, H, W)`` to ``depth`` slices so series of any length batch.

    ``method="crop_pad"`` centre-crops or zero-pads along D; ``"resample"`` interpolates
    along D (the mask with nearest neighbour) and updates the slice spacing. A 2-D sample
    ``(C, H, W)`` has no slice axis and passes through unchanged.
    """

    kind = "geometric"

    def __init__(self, *, depth: int, method: str = "crop_pad") -> None:
        check_number("FitDepth", "depth", depth, low=1, integer=True)
        if method not in ("crop_pad", "resample"):
            raise ValueError(
                f"The 'method' parameter of FitDepth must be 'crop_pad' or 'resample'; "
                f"got {method!r}."
            )
        self.depth = depth
        self.method = method

    @classmethod
    def example(cls) -> Self:
        return cls(depth=4)

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if sample.image.ndim == 3:
            return sample.replace()
        d = sample.spatial_shape[0]
        meta = dict(sample.meta)
        if self.method == "resample" and d != self.depth:
            old = sample.spatial_shape
            meta = _with_spacing(sample, old, (self.depth, *old[1:]))
        mask = sample.mask
        if mask is not None:
            mask = fit_depth(mask, self.depth, self.method, order=0, axis=0)
        image = fit_depth(sample.image, self.depth, self.method, order=1, axis=1)
        return sample.replace(image=np.asarray(image), mask=mask, meta=meta)
