"""Blocks of slices side by side: one series, the same slice positions, other in-plane origins.

Used by :func:`pipeline.dicom.assemble.plan_series`. A bilateral acquisition can file two
separate fields of view in one series (left and right breast in a bilateral breast MR, the
two legs or hands): at each slice position there are two images whose in-plane origins lie
far apart. They are no time points: stacked as co-located images they were told apart by
acquisition order (ties broken by file name, so a volume could take the left image at one
slice and the right one at the next) and said to be "2 images at one position (time points
or duplicates)". Each block of one in-plane origin is its own volume, and the note says so.
"""

from __future__ import annotations

import numpy as np

from pipeline.dicom.frames import FrameRef
from pipeline.dicom.rounding import in_plane_rounding
from pipeline.dicom.volume_plan import POSITION_TOLERANCE

__all__ = ["side_by_side"]


def side_by_side(
    frames: list[FrameRef], group: list[int], places: list[int], normal: np.ndarray
) -> tuple[list[list[int]], str]:
    """The blocks of ``group`` (one orientation) side by side at shared slice positions.

    ``places``: each frame's position along ``normal`` as a number, equal for co-located
    frames (:func:`pipeline.dicom.colocated.position_places`).

    Frames are grouped by in-plane origin (their position less its part along ``normal``),
    within half a pixel (or the rounding of positions written to 0.1 mm) at one position and
    followed from position to position (:func:`_chained`: a gantry tilt moves them). Returns
    the blocks
    (ordered along the row direction, then the column direction: patient right before left
    in an axial series) and the note, or ``([group], "")`` when there is one origin, when
    no slice position holds two origins (blocks one after the other along the normal, or a
    gantry tilt of one block, whose offsets grow with the distance, are judged per stack),
    or when every frame has an origin of its own.
    """
    positions = np.array([frames[k].position for k in group], dtype=np.float64)  # (K, 3)
    offsets = (positions - positions[0]) - np.outer(positions @ normal - positions[0] @ normal,
                                                    normal)  # fmt: skip
    first = frames[group[0]]
    iop = np.asarray(first.orientation, dtype=np.float64)
    pixel = 0.5 * min(first.pixel_spacing) if first.pixel_spacing else 0.0
    tol = max(POSITION_TOLERANCE, pixel, in_plane_rounding(positions, iop))
    at: dict[int, list[int]] = {}
    for j, place in enumerate(places):
        at.setdefault(place, []).append(j)
    # a position held by one frame has no spread (its own origin): only shared ones are measured
    spread = max((np.linalg.norm(offsets[js] - offsets[js[0]], axis=1).max()
                  for js in at.values() if len(js) > 1), default=0.0)  # fmt: skip
    if spread <= max(tol, _overlap(first)):  # one origin at every position (a tilt, time
        return [group], ""  # points, or ones a motion correction moved in-plane): no blocks
    origin, homes = _chained(offsets, places, tol)
    if len(homes) >= len(group):
        return [group], ""
    along = [(round(float(h @ iop[:3]), 3), round(float(h @ iop[3:]), 3)) for h in homes]
    order = sorted(range(len(homes)), key=along.__getitem__)
    blocks = [[k for k, b in zip(group, origin, strict=True) if b == found] for found in order]
    gap = max(float(np.linalg.norm(offsets[i] - offsets[j])) for js in at.values()
              for i in js for j in js)  # fmt: skip
    apart = f"{gap:.3g} mm apart" if len(homes) == 2 else f"up to {gap:.3g} mm apart"
    return blocks, (
        f"split: {len(homes)} blocks of slices side by side at the same slice positions (their "
        f"in-plane origins {apart}: separate fields of view, such as left and right "
        "in a bilateral acquisition, not time points), one volume each"
    )


#: Fields of view whose origins lie closer than this fraction of their extent mostly
#: overlap: one field of view moved, not two side by side.
_OVERLAP = 0.25


def _overlap(first: FrameRef) -> float:
    """How far (mm) in-plane origins at one position may lie apart and be one field of view.

    A prospective motion correction (Siemens PACE) moves each fMRI time point's slices a
    millimetre or two in-plane: origins more than half a pixel apart were taken for blocks
    side by side (a bilateral acquisition's, which lie a field of view apart), and the time
    points were chained into blocks position by position, a time point's slices shared out
    between two volumes. A quarter of the smaller field-of-view extent is still one field of
    view; 0 when the pixel spacing is unknown.
    """
    if not first.pixel_spacing:
        return 0.0
    rows, columns = first.pixel_spacing
    return _OVERLAP * min(first.rows * rows, first.columns * columns)


def _chained(
    offsets: np.ndarray, places: list[int], tol: float
) -> tuple[list[int], list[np.ndarray]]:
    """Each frame's block, and each block's mean in-plane origin.

    At each slice position, frames within ``tol`` of one another share an origin (time
    points of one block). Positions are taken in order along the normal; an origin joins the
    block whose latest origin is nearest (one origin per block and position), if within half
    the smallest distance between two origins at one position, else it starts a block. A
    gantry tilt moves every block's origin a little from slice to slice (a 15-degree tilt,
    5 mm slices: 1.3 mm), more than half a pixel: compared with each block's first origin,
    every tilted frame was a block of its own, so the blocks were stacked as co-located
    "time points" told apart by file name (a volume took the left image at one slice and the
    right at the next) and the mix taken for an 85-degree tilt.
    """
    at: dict[int, list[list[int]]] = {}  # position -> its origins -> their frames
    for j, place in enumerate(places):
        found = at.setdefault(place, [])
        same = [o for o in found if np.linalg.norm(offsets[j] - offsets[o[0]]) <= tol]
        if same:
            same[0].append(j)
        else:
            found.append([j])
    apart = [float(np.linalg.norm(offsets[a[0]] - offsets[b[0]])) for found in at.values()
             for a in found for b in found if a[0] < b[0]]  # fmt: skip
    reach = max(tol, 0.5 * min(apart)) if apart else tol
    origin = [-1] * len(offsets)
    latest: list[np.ndarray] = []
    for place in sorted(at):
        taken: set[int] = set()
        for js in at[place]:
            near = sorted((float(np.linalg.norm(offsets[js[0]] - home)), b)
                          for b, home in enumerate(latest) if b not in taken)  # fmt: skip
            block = near[0][1] if near and near[0][0] <= reach else len(latest)
            if block == len(latest):
                latest.append(offsets[js[0]])
            latest[block] = offsets[js[0]]
            taken.add(block)
            for j in js:
                origin[j] = block
    homes = [np.mean([offsets[j] for j, b in enumerate(origin) if b == found], axis=0)
             for found in range(len(latest))]  # fmt: skip
    return origin, homes
