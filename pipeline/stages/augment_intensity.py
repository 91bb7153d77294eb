"""Random intensity augmentation stages: they change the image and pass the mask through.

Like the geometric ones in ``augment``, each draws its parameters first (recorded in
``meta["applied"]``) and applies them deterministically; noise is regenerated from a drawn
integer ``seed``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from pipeline.ops.filters import denoise_gaussian
from pipeline.ops.intensity import add_gaussian_noise, adjust_gamma, scale_shift_intensity
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage
from pipeline.stages._draw import SEED_MAX as _SEED_MAX
from pipeline.stages._draw import check_p as _check_p
from pipeline.stages._draw import draw_uniform as _uniform
from pipeline.stages._draw import param_range as _range
from pipeline.stages._draw import positive_range as _positive


class _RandomIntensity(Stage):
    kind = "intensity"
    random = True
    keeps_shape = True
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
    """Add zero-mean Gaussian noise whose standard deviation is drawn from ``std``.

    ``std`` is ``(low, high)`` with ``low >= 0``, or a scalar ``v``: ``[0, v]`` (MONAI's
    ``RandGaussianNoise(std=v)``).
    """

    def __init__(self, *, p: float = 0.5, std: Sequence[float] | float = (0.0, 0.1)) -> None:
        _check_p("RandomGaussianNoise", p)
        _range("RandomGaussianNoise", "std", std, 0.0, minimum=0.0)
        self.p = p
        self.std = std

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        std = _range("RandomGaussianNoise", "std", self.std, 0.0, minimum=0.0)
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
        _positive("RandomScaleShift", "scale", scale)
        _range("RandomScaleShift", "shift", shift, 0.0)
        self.p = p
        self.scale = scale
        self.shift = shift

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        scale = _positive("RandomScaleShift", "scale", self.scale)
        shift = _range("RandomScaleShift", "shift", self.shift, 0.0)
        return {"scale": _uniform(rng, scale), "shift": _uniform(rng, shift)}

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return scale_shift_intensity(image, params["scale"], params["shift"])


@STAGES.register("random_gamma")
class RandomGamma(_RandomIntensity):
    """Gamma correction (range-preserving, see ``adjust_gamma``) with ``gamma`` drawn from a range.

    Parameters
    ----------
    p
        Probability of changing a sample.
    gamma
        ``(low, high)``, both > 0.
    log_uniform
        Draw ``log(gamma)`` uniformly (``True``: as likely to darken by ``g`` as to brighten
        by ``1 / g``), or ``gamma`` itself uniformly (``False``: as MONAI's
        ``RandAdjustContrast``).
    """

    def __init__(
        self, *, p: float = 0.5, gamma: Sequence[float] = (0.7, 1.5), log_uniform: bool = True
    ) -> None:
        _check_p("RandomGamma", p)
        self.p = p
        self.gamma = gamma
        self.log_uniform = log_uniform
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
        if not self.log_uniform:
            return {"gamma": _uniform(rng, (low, high))}
        return {"gamma": float(np.exp(rng.uniform(np.log(low), np.log(high))))}

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return adjust_gamma(image, params["gamma"])


@STAGES.register("random_blur")
class RandomBlur(_RandomIntensity):
    """Gaussian blur with ``sigma`` (pixels) drawn from ``(low, high)``, ``low >= 0``.

    A scalar ``v`` means ``[0, v]``.
    """

    def __init__(self, *, p: float = 0.5, sigma: Sequence[float] = (0.5, 1.5)) -> None:
        _check_p("RandomBlur", p)
        _range("RandomBlur", "sigma", sigma, 0.0, minimum=0.0)
        self.p = p
        self.sigma = sigma

    def _draw(self, rng: np.random.Generator) -> dict[str, Any]:
        return {"sigma": _uniform(rng, _range("RandomBlur", "sigma", self.sigma, 0.0, minimum=0.0))}

    def _apply(self, image: np.ndarray, params: dict[str, Any]) -> np.ndarray:
        return denoise_gaussian(image, params["sigma"])
