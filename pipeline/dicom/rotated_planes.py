"""Orientation groups that are one stack's slices rotated slightly between acquisitions.

A prospective motion correction (Siemens PACE, GE PROMO, vNav) moves and rotates the slice
group between time points. Where it rotates them by more than the orientation tolerance of
:func:`pipeline.dicom.kinds.orientation_groups` (cosines within 1e-4, as dcm2niix stacks them;
it says "Slices not stacked: orientation varies (vNav or localizer?)"), each time point is
its own orientation group and volume, as dcm2niix writes them. The split is right
(stacked together, the slices of one time point would be placed in another's plane), but the
note called such groups "a localizer or another stack": :func:`rotated_planes` says what they
are, with the angle between their planes.
"""

from __future__ import annotations

from itertools import combinations

import numpy as np

from pipeline.dicom.frames import FrameRef
from pipeline.dicom.stack_keys import STACK_KEYS

__all__ = ["ROTATED_DEGREES", "plane_angle", "rotated_planes"]

#: Largest angle (degrees) between the planes of orientation groups taken for one stack
#: rotated between acquisitions (head motion a correction follows is a few degrees); a
#: localizer or another stack lies in a plane tens of degrees off.
ROTATED_DEGREES = 5.0

#: Keys whose values, one per group and different in each, make the groups time points.
_TIME_KEYS = ("TemporalPositionIdentifier", "AcquisitionNumber")


def plane_angle(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    """The angle (degrees) of the rotation taking orientation ``a`` to ``b``.

    Each ImageOrientationPatient (row, column cosines) with its normal (their cross product)
    is a rotation matrix R; the angle of R_a^T R_b is arccos((trace - 1) / 2).

    Examples
    --------
    >>> round(plane_angle((1, 0, 0, 0, 1, 0), (0, 1, 0, -1, 0, 0)), 6)
    90.0
    """
    mats = []
    for o in (a, b):
        row, col = np.asarray(o[:3], dtype=np.float64), np.asarray(o[3:6], dtype=np.float64)
        mats.append(np.column_stack([row, col, np.cross(row, col)]))
    cos = (float(np.trace(mats[0].T @ mats[1])) - 1.0) / 2.0
    return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))


def rotated_planes(frames: list[FrameRef], groups: list[list[int]]) -> str:
    """``" (orientations differing by up to 0.11 degrees between time points ...)"``, or "".

    Said when the groups share one image size and pixel spacing and their planes are at most
    :data:`ROTATED_DEGREES` apart; time points when each group holds one value of a key of
    :data:`_TIME_KEYS` and the groups' values differ.
    """
    firsts = [frames[g[0]] for g in groups]
    if len({(f.rows, f.columns, f.pixel_spacing) for f in firsts}) > 1:
        return ""
    planes = [f.orientation for f in firsts]
    if any(p is None or len(p) != 6 for p in planes):
        return ""
    top = max(plane_angle(a, b) for a, b in combinations(planes, 2))  # type: ignore[arg-type]
    if top > ROTATED_DEGREES:
        return ""
    between = "between its stacks"
    for key in _TIME_KEYS:
        j = STACK_KEYS.index(key)
        values = [{frames[k].stack_values[j] if frames[k].stack_values else None for k in g}
                  for g in groups]  # fmt: skip
        if all(len(v) == 1 and None not in v for v in values) and len(set().union(*values)) == len(
            groups
        ):
            between = f"between time points by {key}"
            break
    return (
        f" (orientations differing by up to {top:.2g} degrees {between}: slices rotated between "
        "acquisitions, as a motion correction rotates them, not stacked together)"
    )
