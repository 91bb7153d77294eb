"""A MONAI transform used as a stage: :class:`MonaiTransform`.

``MonaiTransform(transform="ScaleIntensity", args={"minv": 0.0, "maxv": 1.0})`` builds
``monai.transforms.ScaleIntensity(minv=0.0, maxv=1.0)``; a pipeline config names it the same
way (``{type: monai, transform: RandRotated, args: {keys: [image, mask], ...}}``), so it is
saved and loaded by name and arguments like every stage (no pickle).

- An *array* transform (``ScaleIntensity``) gets the image ``(C, *spatial)``. Only MONAI's
  intensity transforms may be used this way on a sample with a mask: any other array
  transform would move the image and not the mask, so it is refused (use its dictionary
  version).
- A *dictionary* transform (``Rotated``, a ``MapTransform``) gets ``{"image": (C, *spatial),
  "mask": (1, *spatial)}`` (the mask only when the sample has one); name those keys in
  ``args["keys"]`` and give the mask ``mode="nearest"``: a mask that comes back with
  non-integer values is an error, never rounded. On a sample with a mask, a spatial
  transform (MONAI's spatial and croppad modules) must name both keys, or it would move one
  without the other; an intensity transform must leave ``"mask"`` out.
- A random transform (MONAI's ``Randomizable``) is seeded from the stage's generator: the
  drawn ``seed`` is recorded in ``meta["applied"]`` and replays the same result.

``meta["spacing"]`` goes in as the affine of a ``MetaTensor`` and comes back from the output
affine, so spatial transforms (``Spacingd``, ``Zoomd``) keep it right. MONAI is imported only
when such a stage is built. Source: MONAI ``monai.transforms`` (Cardoso et al., 2022).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage

_SEED_MAX = 2**31 - 1


@STAGES.register("monai")
class MonaiTransform(Stage):
    """One ``monai.transforms`` transform, by class name and keyword arguments.

    Parameters
    ----------
    transform
        The class name in ``monai.transforms``, e.g. ``"ScaleIntensity"`` or ``"RandRotated"``.
    args
        Its keyword arguments (JSON-friendly values); ``None``: none.

    Raises
    ------
    ValueError
        At construction: an unknown transform name or arguments MONAI refuses.
    """

    def __init__(self, *, transform: str, args: dict[str, Any] | None = None) -> None:
        self.transform = transform
        self.args = args
        built = self._build()  # fail at construction, naming the transform
        self._check_one_sample(built)
        self.random = _is_random(built)
        self.kind = "intensity" if _is_intensity(built) else "other"

    @classmethod
    def example(cls) -> MonaiTransform:
        return cls(transform="ScaleIntensity", args={"minv": 0.0, "maxv": 1.0})

    def _build(self) -> Any:
        import monai.transforms

        factory = getattr(monai.transforms, self.transform, None)
        if not isinstance(factory, type) or not issubclass(factory, monai.transforms.Transform):
            raise ValueError(
                f"The 'transform' parameter of MonaiTransform must name a class in "
                f"monai.transforms; got {self.transform!r}."
            )
        try:
            return factory(**(self.args or {}))
        except Exception as err:
            raise ValueError(f"MonaiTransform({self.transform!r}): {err}") from None

    def _check_one_sample(self, built: Any) -> None:
        """Refuse ``num_samples`` other than 1 at construction (a config error)."""
        count = _num_samples(type(built), self.args or {})
        if count != 1:
            raise ValueError(
                f"MonaiTransform({self.transform!r}): num_samples={count} would make {count} "
                "samples of each one, but a stage returns one sample for one (the dataset "
                "yields one item per image): set num_samples to 1 (every epoch then draws a "
                "new crop of each image)."
            )

    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        return {"transform": self.transform, "seed": int(rng.integers(_SEED_MAX))}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        transform = self._build()  # fresh per call: no random state shared between threads
        if "seed" in params:
            transform.set_random_state(seed=params["seed"])
        if _is_dictionary(transform):
            image, mask, affine = self._apply_dict(transform, sample)
        else:
            if sample.mask is not None and not _is_intensity(transform):
                raise ValueError(
                    f"{self.transform} is not an intensity transform: it would move the image "
                    f"but not the mask. Use its dictionary version with keys ['image', 'mask']."
                )
            out = _one(self.transform, transform(_meta_tensor(sample.image, sample.meta)))
            image, mask, affine = _numpy(out), sample.mask, getattr(out, "affine", None)
        if _is_intensity(transform):
            return sample.replace(image=image, mask=mask)
        return sample.replace(image=image, mask=mask, meta=_meta(sample, image, affine))

    def _apply_dict(self, transform: Any, sample: Sample) -> tuple[np.ndarray, Any, Any]:
        if sample.mask is not None:
            self._check_keys(transform)
        data = {"image": _meta_tensor(sample.image, sample.meta)}
        if sample.mask is not None:
            data["mask"] = _meta_tensor(sample.mask[None], sample.meta)
        out = _one(self.transform, transform(data))
        image = _numpy(out["image"])
        mask = None
        if sample.mask is not None:
            values = _numpy(out["mask"])[0]
            if not np.array_equal(values, np.round(values)):
                raise ValueError(
                    f"{self.transform} blended the mask's class indices; give the 'mask' key "
                    "mode='nearest'."
                )
            mask = values.astype(sample.mask.dtype)
        return image, mask, getattr(out["image"], "affine", None)

    def _check_keys(self, transform: Any) -> None:
        """Refuse keys that move the image without its mask, or intensities on the mask.

        Also the reverse (the mask moved alone). ``RandRotated(keys=["image"])`` rotated the
        image and left the mask where it was: every later figure compared a rotated image with
        an unrotated mask, without a word.
        """
        keys = {str(k) for k in transform.keys}
        if _moves_pixels(transform) and ("image" in keys) != ("mask" in keys):
            moved, kept = ("image", "mask") if "image" in keys else ("mask", "image")
            raise ValueError(
                f"{self.transform} with keys {sorted(keys)} would move the {moved} but not the "
                f"{kept}: give it keys ['image', 'mask'] (the mask with mode='nearest')."
            )
        if _is_intensity(transform) and "mask" in keys:
            raise ValueError(
                f"{self.transform} is an intensity transform: it would change the mask's class "
                "indices; give it keys ['image'] only."
            )


# -- helpers ------------------------------------------------------------------------------
def _num_samples(factory: type, args: dict[str, Any]) -> int:
    """The ``num_samples`` a transform is built with (its default when not given).

    1 for a transform without one.
    """
    import inspect

    param = inspect.signature(factory).parameters.get("num_samples")
    if param is None:
        return 1
    value = args.get("num_samples", param.default)
    return int(value) if isinstance(value, int | float) else 1


def _one(name: str, out: Any) -> Any:
    """The one sample a transform returned.

    MONAI's multi-sample transforms (``RandCropByPosNegLabeld``, ``RandSpatialCropSamplesd``,
    ``GridSplitd``...) return a list, of one sample when ``num_samples`` is 1.

    Raises
    ------
    ValueError
        The transform returned several samples (or none).
    """
    if not isinstance(out, list | tuple):
        return out
    if len(out) != 1:
        raise ValueError(
            f"{name} returned {len(out)} samples (a list); a stage returns one sample for one."
        )
    return out[0]


def _moves_pixels(transform: Any) -> bool:
    """A transform that moves, resamples, crops or pads pixels.

    MONAI's spatial and croppad modules, and smooth-field deformations.
    """
    module, name = type(transform).__module__, type(transform).__name__
    spatial = module.startswith(("monai.transforms.spatial.", "monai.transforms.croppad."))
    return spatial or "Deform" in name


def _is_random(transform: Any) -> bool:
    from monai.transforms import Randomizable

    return isinstance(transform, Randomizable)


def _is_dictionary(transform: Any) -> bool:
    from monai.transforms import MapTransform

    return isinstance(transform, MapTransform)


def _is_intensity(transform: Any) -> bool:
    return type(transform).__module__.startswith("monai.transforms.intensity.")


def _meta_tensor(array: np.ndarray, meta: dict[str, Any]) -> Any:
    """``array`` as a MONAI ``MetaTensor`` whose affine is ``diag(spacing)`` when known."""
    import torch
    from monai.data import MetaTensor

    affine = torch.eye(4, dtype=torch.float64)
    spacing = meta.get("spacing")
    n = array.ndim - 1
    if spacing is not None and len(spacing) == n and n <= 3:
        affine[range(n), range(n)] = torch.tensor([float(s) for s in spacing], dtype=torch.float64)
    return MetaTensor(torch.from_numpy(np.ascontiguousarray(array)), affine=affine)


def _numpy(value: Any) -> np.ndarray:
    from monai.utils import convert_to_numpy

    return np.asarray(convert_to_numpy(value))


def _meta(sample: Sample, image: np.ndarray, affine: Any) -> dict[str, Any]:
    """``sample.meta`` with ``spacing`` read back from the output affine (when it had one)."""
    meta = dict(sample.meta)
    spacing = meta.get("spacing")
    if spacing is None:
        return meta
    n = image.ndim - 1
    if affine is None or len(spacing) != n:
        if image.shape[1:] != sample.image.shape[1:]:
            raise ValueError("the transform changed the image size but its spacing is unknown")
        return meta
    from monai.data.utils import affine_to_spacing

    meta["spacing"] = tuple(float(s) for s in np.asarray(affine_to_spacing(affine, r=n)))
    return meta
