"""The one data type that flows through radpipe: :class:`Sample`.

This module imports nothing from the stages or the I/O code (no import cycles).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


def _check_class_indices(mask: np.ndarray, meta: dict[str, Any]) -> None:
    """Refuse a mask that is not class indices, which every stage would carry on unsaid.

    A float mask of 0.5 (a soft label, a mask resized linearly) went through every stage
    and became class 0 where the batch was made (``int64`` truncation): the model trained on
    a mask the user never drew. Whole-number floats (a NIfTI mask read with ``get_fdata``)
    are class indices and pass; the check costs nothing for integer and boolean masks.
    """
    if mask.dtype.kind in "biu":
        return
    name = f"sample {meta['id']!r}" if "id" in meta else "the sample"
    if mask.dtype.kind != "f":
        raise ValueError(
            f"Sample.mask must hold class indices (integers, booleans or whole-number floats); "
            f"{name} has dtype {mask.dtype}."
        )
    whole = np.isfinite(mask) & (mask == np.round(mask))
    if not whole.all():
        bad = np.unique(mask[~whole])
        shown = ", ".join(f"{v:g}" for v in bad[:4]) + (", ..." if bad.size > 4 else "")
        raise ValueError(
            f"Sample.mask must hold class indices; {name} has a float mask with "
            f"{int(whole.size - np.count_nonzero(whole))} of {mask.size} values that are not "
            f"whole numbers ({shown}): a probability map, or a mask resized with "
            "interpolation. Binarise or round it first, e.g. (mask >= 0.5).astype(np.uint8) "
            "or np.rint(mask).astype(np.uint8), and resize masks with nearest neighbour."
        )


@dataclass(frozen=True, eq=False)
class Sample:
    """An image with its optional mask, label and metadata.

    Parameters
    ----------
    image
        Channel-first array: ``(C, H, W)`` for 2-D images, ``(C, D, H, W)`` for volumes and
        slice sequences (``D`` runs along the slice normal, or over frames).
    mask
        Integer class indices with the image's spatial shape (``(H, W)`` or ``(D, H, W)``),
        no channel axis; ``None`` when there is no segmentation.
    label
        Class index for classification; ``None`` when unlabelled.
    meta
        Free-form metadata: ``id`` (an opaque key, never patient data), ``spacing`` (per
        spatial axis, in mm), and the parameters random stages drew (``meta["applied"]``).

    Raises
    ------
    TypeError
        ``image`` or ``mask`` is not a numpy array (a torch tensor failed later inside a
        stage, e.g. ``'Tensor' object has no attribute 'astype'``).
    ValueError
        ``image`` is not 3-D or 4-D, ``mask`` is not of the image's spatial shape, or
        ``mask`` is not class indices: a float mask holding fractions or NaN (a probability
        map, a mask resized with linear interpolation), or a dtype that holds no numbers.

    Notes
    -----
    Stages never mutate a sample: they return a new one with :meth:`replace`. The arrays are
    not copied by :meth:`replace`; a stage that changes an array makes a new one.

    Examples
    --------
    >>> s = Sample(np.zeros((1, 4, 4), np.float32), meta={"id": "a"})
    >>> s.spatial_shape
    (4, 4)
    >>> s.replace(label=1).label
    1
    """

    image: np.ndarray
    mask: np.ndarray | None = None
    label: int | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for name in ("image", "mask"):
            value = getattr(self, name)
            if not (value is None and name == "mask") and not isinstance(value, np.ndarray):
                kind = f"{type(value).__module__}.{type(value).__qualname__}"
                raise TypeError(
                    f"Sample.{name} must be a numpy array; got {kind} (stages work on numpy "
                    "arrays: give a torch tensor as tensor.numpy(), a list as np.asarray)."
                )
        if self.image.ndim not in (3, 4):
            raise ValueError(
                f"Expected image of shape (C, H, W) or (C, D, H, W); got {self.image.shape}."
            )
        if self.mask is not None and self.mask.shape != self.image.shape[1:]:
            raise ValueError(
                f"Expected mask of spatial shape {self.image.shape[1:]}; got {self.mask.shape}."
            )
        if self.mask is not None:
            _check_class_indices(self.mask, self.meta)

    @property
    def spatial_shape(self) -> tuple[int, ...]:
        """The image's shape without the channel axis."""
        return tuple(self.image.shape[1:])

    @property
    def id(self) -> str:
        """The sample's opaque id (``meta["id"]``), or ``"<sample>"`` when it has none."""
        return str(self.meta.get("id", "<sample>"))

    def replace(self, **changes: Any) -> Sample:
        """A new sample with the given fields changed; ``meta`` is copied, never shared."""
        if "meta" not in changes:
            changes["meta"] = dict(self.meta)
        return replace(self, **changes)

    def with_applied(self, stage: str, params: dict[str, Any]) -> Sample:
        """A new sample whose ``meta["applied"]`` records the parameters a stage used."""
        applied = [*self.meta.get("applied", []), {"stage": stage, **params}]
        return self.replace(meta={**self.meta, "applied": applied})
