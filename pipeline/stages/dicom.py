"""Stages for DICOM intensities: :class:`Window` (VOI windowing of modality values, e.g. HU)."""

from __future__ import annotations

from typing import Any, Self

from pipeline.ops.voi import VOI_FUNCTIONS, WINDOW_PRESETS, apply_window
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage


@STAGES.register("window")
class Window(Stage):
    """Window modality values (HU for CT) to [0, 1] (PS3.3 C.11.2.1.2).

    Parameters
    ----------
    center, width
        WindowCenter and WindowWidth, in the image's units; give both, or a ``preset``.
    preset
        A name from :data:`pipeline.ops.voi.WINDOW_PRESETS` (lung, mediastinum, bone,
        brain, abdomen, liver, ...).
    function
        ``LINEAR`` (DICOM's default), ``LINEAR_EXACT`` or ``SIGMOID``.

    Examples
    --------
    >>> import numpy as np
    >>> s = Sample(np.array([[[-1000.0, 40.0, 1000.0]]], np.float32))
    >>> Window(center=40, width=400, function="LINEAR_EXACT")(s).image.tolist()
    [[[0.0, 0.5, 1.0]]]
    """

    kind = "intensity"

    def __init__(
        self,
        *,
        center: float | None = None,
        width: float | None = None,
        preset: str | None = None,
        function: str = "LINEAR",
    ) -> None:
        self.center = center
        self.width = width
        self.preset = preset
        self.function = function
        self._resolve()  # fail at construction, naming the parameter

    @classmethod
    def example(cls) -> Self:
        return cls(preset="lung")

    def _resolve(self) -> tuple[float, float]:
        if self.function.upper() not in VOI_FUNCTIONS:
            raise ValueError(
                f"The 'function' parameter of Window must be one of {VOI_FUNCTIONS}; "
                f"got {self.function!r}."
            )
        if self.preset is not None:
            if self.center is not None or self.width is not None:
                raise ValueError("Window takes either 'preset' or 'center' and 'width', not both.")
            if self.preset not in WINDOW_PRESETS:
                raise ValueError(
                    f"The 'preset' parameter of Window must be one of "
                    f"{', '.join(WINDOW_PRESETS)}; got {self.preset!r}."
                )
            return WINDOW_PRESETS[self.preset]
        if self.center is None or self.width is None:
            raise ValueError("Window needs 'preset', or both 'center' and 'width'.")
        linear = self.function.upper() == "LINEAR"
        if self.width < 1 if linear else self.width <= 0:
            raise ValueError(
                f"The 'width' parameter of Window must be {'>= 1 for LINEAR' if linear else '> 0'}"
                f"; got {self.width}."
            )
        return float(self.center), float(self.width)

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        center, width = self._resolve()
        return sample.replace(image=apply_window(sample.image, center, width, self.function))
