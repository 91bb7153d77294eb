"""Random augmentation stages.

Each stage draws its parameters from the generator it is given (:meth:`draw`, JSON-friendly,
recorded in ``meta["applied"]``) and applies them deterministically (:meth:`apply`), so a
sample's augmentation can be replayed. Arrays that need many random numbers (noise, elastic
fields) are regenerated from a drawn integer ``seed``. Geometric stages give image and mask
the same parameters (mask: nearest neighbour); intensity stages never touch the mask.
In-plane transforms act on ``(H, W)`` and repeat for every channel and slice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from pipeline.ops.filters import denoise_gaussian
from pipeline.ops.geometry import (
    affine_matrix,
    crop,
    crop_or_pad,
    elastic_displacement,
    flip,
    rotate90,
    warp_affine,
    warp_displacement,
)
from pipeline.ops.intensity import add_gaussian_noise, adjust_gamma, scale_shift_intensity
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage

_SEED_MAX = 2**31 - 1


def _check_p(stage: str, p: float) -> None:
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"The 'p' parameter of {stage} must be a float in [0, 1]; got {p}.")


def _range(stage: str, name: str, value: Sequence[float] | float, around: float) -> list[float]:
    """``(low, high)``; a scalar ``v`` means ``(around - v, around + v)``."""
    if isinstance(value, (int, float)):
        return [around - float(value), around + float(value)]
    out = [float(v) for v in value]
    if len(out) != 2 or out[0] > out[1]:
        raise ValueError(f"The '{name}' parameter of {stage} must be (low, high); got {value!r}.")
    return out


def _uniform(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def _both(sample: Sample, fn_image: Any, fn_mask: Any) -> Sample:
    return sample.replace(
        image=fn_image(sample.image), mask=None if sample.mask is None else fn_mask(sample.mask)
    )


@STAGES.register("random_flip")
class RandomFlip(Stage):
    """Flip each of ``axes`` (counted from the end: -1 = W, -2 = H) with probability ``p``."""

    kind = "geometric"
    random = True

    def __init__(self, *, p: float = 0.5, axes: Sequence[int] = (-1,)) -> None:
        _check_p("RandomFlip", p)
        if any(int(a) >= 0 for a in axes):
            raise ValueError(f"The 'axes' parameter of RandomFlip counts from -1; got {axes!r}.")
        self.p = p
        self.axes = axes

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        return {"axes": [int(a) for a in self.axes if rng.random() < self.p]}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        axes = params["axes"]
        return _both(sample, lambda x: flip(x, axes), lambda m: flip(m, axes))


@STAGES.register("random_rotate90")
class RandomRotate90(Stage):
    """With probability ``p``, rotate the plane by 1, 2 or 3 quarter turns (uniformly)."""

    kind = "geometric"
    random = True

    def __init__(self, *, p: float = 0.5) -> None:
        _check_p("RandomRotate90", p)
        self.p = p

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        return {"k": int(rng.integers(1, 4)) if rng.random() < self.p else 0}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        k = params["k"]
        return _both(sample, lambda x: rotate90(x, k), lambda m: rotate90(m, k))


@STAGES.register("random_affine")
class RandomAffine(Stage):
    """Random rotation, scaling, translation and shear about the plane's centre.

    Parameters
    ----------
    p
        Probability of transforming a sample.
    rotation
        Degrees: ``r`` draws from ``[-r, r]``, or ``(low, high)``.
    scale
        ``s`` draws a zoom from ``[1 - s, 1 + s]``, or ``(low, high)``; one factor for both axes.
    translate
        Fraction of the plane's size: ``t`` draws each shift from ``[-t, t] * size``.
    shear
        Degrees, like ``rotation``.
    order
        Interpolation order for the image (the mask always uses 0).
    padding
        ``"constant"`` (fill with ``value``), ``"nearest"`` or ``"reflect"``.
    value
        Fill value for ``padding="constant"`` (e.g. -1024 for HU).
    """

    kind = "geometric"
    random = True

    def __init__(
        self,
        *,
        p: float = 1.0,
        rotation: Sequence[float] | float = 15.0,
        scale: Sequence[float] | float = 0.1,
        translate: float = 0.1,
        shear: Sequence[float] | float = 0.0,
        order: int = 1,
        padding: str = "constant",
        value: float = 0.0,
    ) -> None:
        _check_p("RandomAffine", p)
        if padding not in ("constant", "nearest", "reflect"):
            raise ValueError(
                "The 'padding' parameter of RandomAffine must be 'constant', 'nearest' or "
                f"'reflect'; got {padding!r}."
            )
        self.p = p
        self.rotation = rotation
        self.scale = scale
        self.translate = translate
        self.shear = shear
        self.order = order
        self.padding = padding
        self.value = value
        self._ranges()  # fail at construction, naming the parameter

    def _ranges(self) -> dict[str, list[float]]:
        """``(low, high)`` of the rotation (degrees), zoom and shear (degrees) draws."""
        return {
            "rotation": _range("RandomAffine", "rotation", self.rotation, 0.0),
            "scale": _range("RandomAffine", "scale", self.scale, 1.0),
            "shear": _range("RandomAffine", "shear", self.shear, 0.0),
        }

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        if rng.random() >= self.p:
            return {"apply": False}
        ranges = self._ranges()
        h, w = sample.spatial_shape[-2:]
        t = float(self.translate)
        return {
            "apply": True,
            "rotation": _uniform(rng, ranges["rotation"]),
            "scale": _uniform(rng, ranges["scale"]),
            "translate": [_uniform(rng, (-t * h, t * h)), _uniform(rng, (-t * w, t * w))],
            "shear": _uniform(rng, ranges["shear"]),
        }

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if not params["apply"]:
            return sample.replace()
        s = params["scale"]
        matrix = affine_matrix(
            sample.spatial_shape, params["rotation"], (s, s), params["translate"], params["shear"]
        )
        pad = self.padding
        return _both(
            sample,
            lambda x: warp_affine(x, matrix, self.order, pad, self.value),
            lambda m: warp_affine(m, matrix, 0, "constant" if pad == "constant" else pad, 0),
        )


@STAGES.register("random_elastic")
class RandomElastic(Stage):
    """Elastic deformation (Simard et al., ICDAR 2003): a smooth random displacement field.

    ``sigma`` is the field's smoothness in pixels, ``magnitude`` its largest displacement.
    """

    kind = "geometric"
    random = True

    def __init__(self, *, p: float = 0.5, sigma: float = 4.0, magnitude: float = 3.0) -> None:
        _check_p("RandomElastic", p)
        self.p = p
        self.sigma = sigma
        self.magnitude = magnitude

    @classmethod
    def example(cls) -> Self:
        return cls(p=1.0)

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        if rng.random() >= self.p:
            return {"apply": False}
        return {"apply": True, "seed": int(rng.integers(_SEED_MAX))}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if not params["apply"]:
            return sample.replace()
        field = elastic_displacement(
            sample.spatial_shape, self.sigma, self.magnitude, params["seed"]
        )
        return _both(
            sample,
            lambda x: warp_displacement(x, field, order=1),
            lambda m: warp_displacement(m, field, order=0),
        )


@STAGES.register("random_crop")
class RandomCrop(Stage):
    """Crop a random ``(H, W)`` window (image and mask alike); smaller planes are padded first."""

    kind = "geometric"
    random = True

    def __init__(self, *, shape: Sequence[int]) -> None:
        self.shape = shape
        self._shape()  # fail at construction, naming the parameter

    def _shape(self) -> list[int]:
        out = [int(s) for s in self.shape]
        if len(out) != 2 or any(s < 1 for s in out):
            raise ValueError(
                f"The 'shape' parameter of RandomCrop must be (H, W); got {self.shape!r}."
            )
        return out

    @classmethod
    def example(cls) -> Self:
        return cls(shape=[20, 24])

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        h, w = sample.spatial_shape[-2:]
        shape = self._shape()
        return {
            "start": [
                int(rng.integers(0, max(h - shape[0], 0) + 1)),
                int(rng.integers(0, max(w - shape[1], 0) + 1)),
            ]
        }

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        h, w = sample.spatial_shape[-2:]
        shape = self._shape()
        big = (max(h, shape[0]), max(w, shape[1]))
        start = params["start"]

        def cut(x: np.ndarray) -> np.ndarray:
            return crop(crop_or_pad(x, big), start, shape)

        return _both(sample, cut, cut)


class _RandomIntensity(Stage):
    kind = "intensity"
    random = True
    p: float

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        if rng.random() >= self.p:
            return {"apply": False}
        return {"apply": True, **self._draw(rng)}

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        raise NotImplementedError

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if not params["apply"]:
            return sample.replace()
        return sample.replace(image=self._apply(sample.image, params))

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        raise NotImplementedError


@STAGES.register("random_gaussian_noise")
class RandomGaussianNoise(_RandomIntensity):
    """Add zero-mean Gaussian noise whose standard deviation is drawn from ``std``."""

    def __init__(self, *, p: float = 0.5, std: Sequence[float] | float = (0.0, 0.1)) -> None:
        _check_p("RandomGaussianNoise", p)
        _range("RandomGaussianNoise", "std", std, 0.0)
        self.p = p
        self.std = std

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        std = _range("RandomGaussianNoise", "std", self.std, 0.0)
        return {"std": _uniform(rng, std), "seed": int(rng.integers(_SEED_MAX))}

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return add_gaussian_noise(image, params["std"], params["seed"])


@STAGES.register("random_scale_shift")
class RandomScaleShift(_RandomIntensity):
    """``image * scale + shift`` with both drawn (``scale`` around 1, ``shift`` around 0)."""

    def __init__(
        self,
        *,
        p: float = 0.5,
        scale: Sequence[float] | float = 0.1,
        shift: Sequence[float] | float = 0.1,
    ) -> None:
        _check_p("RandomScaleShift", p)
        _range("RandomScaleShift", "scale", scale, 1.0)
        _range("RandomScaleShift", "shift", shift, 0.0)
        self.p = p
        self.scale = scale
        self.shift = shift

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        scale = _range("RandomScaleShift", "scale", self.scale, 1.0)
        shift = _range("RandomScaleShift", "shift", self.shift, 0.0)
        return {"scale": _uniform(rng, scale), "shift": _uniform(rng, shift)}

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return scale_shift_intensity(image, params["scale"], params["shift"])


@STAGES.register("random_gamma")
class RandomGamma(_RandomIntensity):
    """Gamma correction (range-preserving) with ``gamma`` drawn log-uniformly from a range."""

    def __init__(self, *, p: float = 0.5, gamma: Sequence[float] = (0.7, 1.5)) -> None:
        _check_p("RandomGamma", p)
        self.p = p
        self.gamma = gamma
        self._gamma()  # fail at construction, naming the parameter

    def _gamma(self) -> list[float]:
        out = _range("RandomGamma", "gamma", self.gamma, 1.0)
        if out[0] <= 0:
            raise ValueError(
                f"The 'gamma' parameter of RandomGamma must be > 0; got {self.gamma!r}."
            )
        return out

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        low, high = self._gamma()
        return {"gamma": float(np.exp(rng.uniform(np.log(low), np.log(high))))}

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return adjust_gamma(image, params["gamma"])


@STAGES.register("random_blur")
class RandomBlur(_RandomIntensity):
    """Gaussian blur with ``sigma`` (pixels) drawn from a range."""

    def __init__(self, *, p: float = 0.5, sigma: Sequence[float] = (0.5, 1.5)) -> None:
        _check_p("RandomBlur", p)
        _range("RandomBlur", "sigma", sigma, 0.0)
        self.p = p
        self.sigma = sigma

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"sigma": _uniform(rng, _range("RandomBlur", "sigma", self.sigma, 0.0))}

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return denoise_gaussian(image, params["sigma"])
