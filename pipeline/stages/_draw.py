"""Parameter checks and draws shared by the random stages, and their image+mask warp.

A range parameter is ``(low, high)``, or a scalar ``v`` meaning ``(around - v, around + v)``;
every draw is ``numpy.random.Generator.uniform`` (a half-open ``[low, high)``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from pipeline.ops.geometry import affine_matrix
from pipeline.ops.warp import sample_planes
from pipeline.sample import Sample

if TYPE_CHECKING:
    import torch

SEED_MAX = 2**31 - 1  # seeds of per-sample arrays (noise, elastic fields) lie in [0, SEED_MAX)


def check_p(stage: str, p: float) -> None:
    """Raise ``ValueError`` unless ``0 <= p <= 1``."""
    if not 0.0 <= float(p) <= 1.0:
        raise ValueError(f"The 'p' parameter of {stage} must be a float in [0, 1]; got {p}.")


def param_range(
    stage: str,
    name: str,
    value: Sequence[float] | float,
    around: float,
    minimum: float | None = None,
) -> list[float]:
    """``[low, high]``; a scalar ``v`` means ``[around - v, around + v]``.

    With ``minimum`` (a quantity that cannot be negative: a noise standard deviation, a blur
    sigma) a scalar ``v`` means ``[max(around - v, minimum), around + v]``, i.e. ``[0, v]``
    around 0, as MONAI's ``RandGaussianNoise(std=v)`` and TorchIO's ``RandomNoise(std=v)``
    draw it; a range below ``minimum`` raises ``ValueError`` naming the parameter.
    """
    if isinstance(value, (int, float)):
        low = around - float(value)
        out = [low if minimum is None else max(low, minimum), around + float(value)]
    else:
        out = [float(v) for v in value]
    if len(out) != 2 or out[0] > out[1]:
        raise ValueError(f"The '{name}' parameter of {stage} must be (low, high); got {value!r}.")
    if minimum is not None and out[0] < minimum:
        raise ValueError(
            f"The '{name}' parameter of {stage} must be >= {minimum:g} (a scalar v means "
            f"[{minimum:g}, v]); got {value!r}."
        )
    return out


def positive_range(stage: str, name: str, value: Sequence[float] | float) -> list[float]:
    """``[low, high]`` of a factor around 1 that must stay > 0 (a zoom, an intensity scale):
    a scalar ``v`` means ``[1 - v, 1 + v]`` and must be below 1; ``ValueError`` otherwise
    (a zoom of 0 is singular, a negative one a flip that was not asked for)."""
    out = param_range(stage, name, value, 1.0)
    if out[0] <= 0:
        raise ValueError(
            f"The '{name}' parameter of {stage} must give factors > 0 (a scalar v means "
            f"[1 - v, 1 + v], so v < 1); got {value!r}."
        )
    return out


def draw_uniform(rng: np.random.Generator, bounds: Sequence[float]) -> float:
    """One draw from ``[bounds[0], bounds[1])``, as a Python float (JSON-friendly)."""
    return float(rng.uniform(bounds[0], bounds[1]))


def affine_ranges(
    stage: str,
    rotation: Sequence[float] | float,
    scale: Sequence[float] | float,
    shear: Sequence[float] | float,
) -> dict[str, list[float]]:
    """``[low, high]`` of the rotation (degrees, around 0), zoom (around 1) and shear draws."""
    return {
        "rotation": param_range(stage, "rotation", rotation, 0.0),
        "scale": positive_range(stage, "scale", scale),
        "shear": _shear_range(stage, shear),
    }


def _shear_range(stage: str, shear: Sequence[float] | float) -> list[float]:
    out = param_range(stage, "shear", shear, 0.0)
    if not -90.0 < out[0] <= out[1] < 90.0:  # tan(90 degrees): a singular map
        raise ValueError(
            f"The 'shear' parameter of {stage} must be within (-90, 90) degrees; got {shear!r}."
        )
    return out


def draw_affine(
    rng: np.random.Generator,
    ranges: dict[str, list[float]],
    translate: float,
    isotropic: bool,
    shape: Sequence[int],
) -> dict[str, Any]:
    """Rotation, zoom (one, or ``[row, col]``), shift ``[row, col]`` in pixels, shear.

    Drawn in that order; a shift is uniform in ``[-translate, translate] * size``.
    """
    h, w = shape[-2:]
    t = float(translate)
    rotation = draw_uniform(rng, ranges["rotation"])
    zoom = [draw_uniform(rng, ranges["scale"]) for _ in range(1 if isotropic else 2)]
    return {
        "rotation": rotation,
        "scale": zoom[0] if isotropic else zoom,
        "translate": [draw_uniform(rng, (-t * h, t * h)), draw_uniform(rng, (-t * w, t * w))],
        "shear": draw_uniform(rng, ranges["shear"]),
    }


def affine_of(params: dict[str, Any], shape: Sequence[int]) -> np.ndarray:
    """The ``(3, 3)`` output-to-input matrix of parameters from :func:`draw_affine`."""
    s = params["scale"]
    zoom = (s, s) if isinstance(s, (int, float)) else (s[0], s[1])
    return affine_matrix(shape, params["rotation"], zoom, params["translate"], params["shear"])


def warp_both(
    sample: Sample, grid: torch.Tensor, order: int, padding: str, value: float = 0.0
) -> Sample:
    """Image (``order``, fill ``value``) and mask (nearest, fill 0) through one ``grid``."""
    mask = sample.mask
    return sample.replace(
        image=sample_planes(sample.image, grid, order, padding, value),
        mask=None if mask is None else sample_planes(mask, grid, 0, padding, 0.0),
    )
