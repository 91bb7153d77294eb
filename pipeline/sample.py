"""The one data type that flows through radpipe: :class:`Sample`.

This module imports nothing from the stages or the I/O code (no import cycles).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


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
        ``image`` is not 3-D or 4-D, or ``mask`` is not of the image's spatial shape.

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
