"""The plan of one output volume (:class:`VolumePlan`) and the position tolerance.

Shared by :mod:`pipeline.dicom.assemble` (series) and :mod:`pipeline.dicom.stack` (one stack).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Largest distance (mm) between a slice's DICOM position and where the volume puts it.
POSITION_TOLERANCE = 0.05


@dataclass(frozen=True)
class VolumePlan:
    """One output volume: ``frames[t][k]`` indexes the series' frame list.

    ``distances[k]`` is input slice k's distance along the normal relative to slice 0 (mm);
    ``grid`` the output slices' distances when resampled along the normal (else ``None``:
    output slice k is input slice k); ``shifts[k]`` the in-plane (row, column) shift in
    pixels that removes a tilt (else ``None``). ``affine`` maps (column, row, slice) indices
    of the output to LPS mm.
    """

    frames: tuple[tuple[int, ...], ...]
    distances: tuple[float, ...]
    affine: np.ndarray | None
    spacing: tuple[float, float, float]
    grid: tuple[float, ...] | None = None
    shifts: tuple[tuple[float, float], ...] | None = None
    sheared: bool = False
    repetition_time: float | None = None
    problems: tuple[str, ...] = ()

    @property
    def num_slices(self) -> int:
        """Slices of the output volume (after any resampling along the normal)."""
        return len(self.grid) if self.grid is not None else len(self.frames[0])


class _Refused(Exception):
    """A geometry policy says ``refuse``: the series is refused with this message."""
