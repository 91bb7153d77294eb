"""Random geometric augmentation stages (the intensity ones are in ``augment_intensity``).

Each stage draws its parameters from the generator it is given (:meth:`draw`, JSON-friendly,
recorded in ``meta["applied"]``) and applies them deterministically (:meth:`apply`), so a
sample's augmentation can be replayed. Arrays that need many random numbers (elastic fields)
are regenerated from a drawn integer ``seed``. Image and mask get the same parameters (mask:
nearest neighbour, so its labels are never blended). In-plane transforms act on ``(H, W)``
and repeat for every channel and slice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Self

import numpy as np

from pipeline.ops.geometry import (
    crop,
    crop_or_pad,
    elastic_displacement,
    flip,
    rotate90,
)
from pipeline.ops.warp import control_point_grid, sampling_grid
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage
from pipeline.stages._draw import SEED_MAX as _SEED_MAX
from pipeline.stages._draw import affine_of, affine_ranges, draw_affine, warp_both
from pipeline.stages._draw import check_p as _check_p
from pipeline.stages._draw import draw_uniform as _uniform
from pipeline.stages._draw import param_range as _range

_PADDINGS = ("constant", "nearest", "reflect")


def _both(sample: Sample, fn_image: Any, fn_mask: Any) -> Sample:
    return sample.replace(
        image=fn_image(sample.image), mask=None if sample.mask is None else fn_mask(sample.mask)
    )


@STAGES.register("random_flip")
class RandomFlip(Stage):
    """Flip each of ``axes`` (counted from the end: -1 = W, -2 = H) with probability ``p``."""

    kind = "geometric"
    random = True
    keeps_shape = True

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
    """With probability ``p``, rotate the plane by 1, 2 or 3 quarter turns (uniformly).

    An odd number of turns swaps the plane's axes, ``(H, W)`` to ``(W, H)``, and with them
    the last two entries of ``meta["spacing"]`` (mm per axis): rows 0.5 mm and columns 1 mm
    apart become rows 1 mm and columns 0.5 mm apart (it kept the old order).
    """

    kind = "geometric"
    random = True

    def __init__(self, *, p: float = 0.5) -> None:
        _check_p("RandomRotate90", p)
        self.p = p

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        return {"k": int(rng.integers(1, 4)) if rng.random() < self.p else 0}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        k = params["k"]
        out = _both(sample, lambda x: rotate90(x, k), lambda m: rotate90(m, k))
        spacing = sample.meta.get("spacing")
        if k % 2 and spacing is not None and len(spacing) == len(sample.spatial_shape):
            *rest, dy, dx = spacing
            out.meta["spacing"] = (*rest, dx, dy)
        elif k % 2 and spacing is not None:  # which axes it gives is unknown: dropped
            out.meta["spacing"] = None
        return out


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
        ``s`` draws a zoom from ``[1 - s, 1 + s]``, or ``(low, high)``; values > 1 enlarge.
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
    isotropic
        One zoom factor for both axes (``True``), or one drawn per axis, rows first (as
        MONAI's ``RandAffine`` and TorchIO's ``RandomAffine(isotropic=False)``).
    """

    kind = "geometric"
    random = True
    keeps_shape = True

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
        isotropic: bool = True,
    ) -> None:
        _check_p("RandomAffine", p)
        if padding not in _PADDINGS:
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
        self.isotropic = isotropic
        self._ranges()  # fail at construction, naming the parameter

    def _ranges(self) -> dict[str, list[float]]:
        """``(low, high)`` of the rotation (degrees), zoom and shear (degrees) draws."""
        return affine_ranges("RandomAffine", self.rotation, self.scale, self.shear)

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        if rng.random() >= self.p:
            return {"apply": False}
        drawn = draw_affine(
            rng, self._ranges(), self.translate, self.isotropic, sample.spatial_shape
        )
        return {"apply": True, **drawn}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if not params["apply"]:
            return sample.replace()
        grid = sampling_grid(sample.spatial_shape, affine_of(params, sample.spatial_shape))
        return warp_both(sample, grid, self.order, self.padding, self.value)


@STAGES.register("random_elastic")
class RandomElastic(Stage):
    """Elastic deformation (Simard et al., ICDAR 2003): a smooth random displacement field.

    ``sigma`` is the field's smoothness in pixels, ``magnitude`` its largest displacement.
    """

    kind = "geometric"
    random = True
    keeps_shape = True

    def __init__(self, *, p: float = 0.5, sigma: float = 4.0, magnitude: float = 3.0) -> None:
        _check_p("RandomElastic", p)
        if not (float(sigma) > 0 and float(magnitude) >= 0):
            raise ValueError(
                "RandomElastic needs sigma > 0 and magnitude >= 0 (pixels); got "
                f"sigma={sigma!r}, magnitude={magnitude!r}."
            )
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
        return warp_both(sample, sampling_grid(sample.spatial_shape, None, field), 1, "reflect")


@STAGES.register("random_elastic_grid")
class RandomElasticGrid(Stage):
    """Elastic deformation from random control-point offsets (MONAI's ``Rand2DElastic``).

    Control points ``spacing`` pixels apart get independent standard normal offsets times a
    ``magnitude`` drawn uniformly from its range; the displacement field is their bicubic
    interpolation (see ``control_point_displacement``). Like MONAI's ``Rand2DElastic`` and
    nnU-Net's spatial transform, it can also apply a random affine map (``rotation``,
    ``scale``, ``translate``, ``shear``, ``isotropic``: drawn as by :class:`RandomAffine`)
    in the SAME resampling: one interpolation instead of two, and one ``grid_sample`` call
    for the image and one for the mask. The result equals ``RandomAffine`` followed by this
    stage without them, up to interpolation and what lies outside the plane.

    Parameters
    ----------
    p
        Probability of deforming a sample.
    spacing
        Distance between control points in pixels: one number, or ``(rows, cols)``.
    magnitude
        ``(low, high)``, pixels: the offsets' standard deviation is drawn from this range.
    rotation, scale, translate, shear, isotropic
        The affine map's ranges, as in :class:`RandomAffine`; the defaults (0) draw none.
    order
        Interpolation order for the image (the mask always uses 0).
    padding
        Outside the plane: ``"reflect"`` (MONAI's default), ``"nearest"`` or ``"constant"``
        (zeros).
    """

    kind = "geometric"
    random = True
    keeps_shape = True

    def __init__(
        self,
        *,
        p: float = 0.5,
        spacing: Sequence[float] | float = 32.0,
        magnitude: Sequence[float] = (1.0, 3.0),
        rotation: Sequence[float] | float = 0.0,
        scale: Sequence[float] | float = 0.0,
        translate: float = 0.0,
        shear: Sequence[float] | float = 0.0,
        isotropic: bool = True,
        order: int = 1,
        padding: str = "reflect",
    ) -> None:
        _check_p("RandomElasticGrid", p)
        if padding not in _PADDINGS:
            raise ValueError(
                "The 'padding' parameter of RandomElasticGrid must be 'constant', 'nearest' "
                f"or 'reflect'; got {padding!r}."
            )
        self.p = p
        self.spacing = spacing
        self.magnitude = magnitude
        self.rotation = rotation
        self.scale = scale
        self.translate = translate
        self.shear = shear
        self.isotropic = isotropic
        self.order = order
        self.padding = padding
        self._spacing(), self._magnitude(), self._affine()  # fail now, naming the parameter

    def _affine(self) -> dict[str, list[float]] | None:
        """The affine ranges, or ``None`` when every one is empty (no affine map)."""
        ranges = affine_ranges("RandomElasticGrid", self.rotation, self.scale, self.shear)
        none = {"rotation": [0.0, 0.0], "scale": [1.0, 1.0], "shear": [0.0, 0.0]}
        return None if ranges == none and float(self.translate) == 0 else ranges

    def _spacing(self) -> list[float]:
        s = self.spacing
        out = [float(s)] * 2 if isinstance(s, (int, float)) else [float(v) for v in s]
        if len(out) != 2 or min(out) <= 0:
            raise ValueError(
                "The 'spacing' parameter of RandomElasticGrid must be > 0 or (rows, cols); "
                f"got {s!r}."
            )
        return out

    def _magnitude(self) -> list[float]:
        return _range("RandomElasticGrid", "magnitude", self.magnitude, 0.0, minimum=0.0)

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        if rng.random() >= self.p:
            return {"apply": False}
        out = {
            "apply": True,
            "magnitude": _uniform(rng, self._magnitude()),
            "seed": int(rng.integers(_SEED_MAX)),
        }
        ranges = self._affine()
        if ranges is not None:
            shape = sample.spatial_shape
            out |= draw_affine(rng, ranges, self.translate, self.isotropic, shape)
        return out

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        if not params["apply"]:
            return sample.replace()
        shape = sample.spatial_shape
        matrix = affine_of(params, shape) if "rotation" in params else None
        grid = control_point_grid(
            shape, self._spacing(), params["magnitude"], params["seed"], matrix
        )
        return warp_both(sample, grid, self.order, self.padding)


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
