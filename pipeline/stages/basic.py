"""Structural stages that every pipeline can use."""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage


@STAGES.register("identity")
class Identity(Stage):
    """Returns the sample unchanged (a placeholder in configs)."""

    def __init__(self) -> None:
        pass

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace()


@STAGES.register("cast")
class Cast(Stage):
    """Casts the image to ``dtype`` (the mask keeps its integer type).

    Parameters
    ----------
    dtype
        A NumPy dtype name, e.g. ``"float32"``.
    """

    kind = "intensity"

    def __init__(self, *, dtype: str = "float32") -> None:
        try:
            np.dtype(dtype)
        except TypeError:
            raise ValueError(
                f"The 'dtype' parameter of Cast must be a NumPy dtype name; got {dtype!r}."
            ) from None
        self.dtype = dtype

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace(image=sample.image.astype(np.dtype(self.dtype), copy=True))
