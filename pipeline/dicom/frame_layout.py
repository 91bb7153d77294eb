"""What the frames of one file share, worked out once per series for plain files.

:func:`pipeline.dicom.frames.frame_refs` makes one :class:`~pipeline.dicom.frames.FrameRef`
per frame; :func:`frame_layout` is everything those share but the SOP Instance UID and the
file's name: the series' facts, the size and frame count, and how the frames are laid out
(tiles, a mosaic, grid or stack positions, Enhanced groups, cine times). It reads the data set
only through ``get`` and ``in``, so :func:`pipeline.dicom.plain_memo.memoized` keeps its
result for the next file of the series whose elements read are byte for byte the same.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom.cine import cine_intervals, cine_problem
from pipeline.dicom.decode import frame_count
from pipeline.dicom.enhanced_cine import enhanced_intervals
from pipeline.dicom.frame_stack import frame_stack
from pipeline.dicom.lossy import lossy_history
from pipeline.dicom.tiles import tiled_picture
from pipeline.dicom.units import value_unit
from pipeline.dicom.values import numbers_or_none


def optional_int(value: Any) -> int | None:
    """``int(value)``; ``None`` when absent, empty or not a whole number."""
    try:
        return int(value) if value not in (None, "") else None
    except (TypeError, ValueError):
        return None


def is_mosaic(ds: Any) -> bool:
    r"""ImageType (0008,0008) contains MOSAIC (Siemens tiled slices).

    A mosaic is one classic image: a multi-frame or Enhanced object whose ImageType says
    MOSAIC is none (:func:`frame_layout` reads its frames as slices). Siemens XA30 (Numaris X)
    writes its demosaiced Enhanced MR (one slice per frame, placed by their functional
    groups) with ImageType ``ORIGINAL\PRIMARY\M\ND\MOSAIC`` still (dcm2niix #553); read as a
    mosaic it had no CSA header giving the tiles, and such a series was refused.
    """
    value = ds.get("ImageType") or []
    values = [value] if isinstance(value, str) else list(value)
    return any(str(v).strip().upper() == "MOSAIC" for v in values)


def _groups(ds: Any) -> bool:
    """An Enhanced object: its frames are described by functional groups (PS3.3 C.7.6.16)."""
    return "PerFrameFunctionalGroupsSequence" in ds or "SharedFunctionalGroupsSequence" in ds


def frame_layout(ds: Any) -> dict[str, Any]:
    """What the frames of a file share (see the module).

    The facts of a ``FrameRef`` but its SOP Instance UID and source, the size and count, and
    how the frames are laid out, read in the order :func:`pipeline.dicom.frames.frame_refs`
    read them before.
    """
    common: dict[str, Any] = {
        "series_number": optional_int(ds.get("SeriesNumber")),
        "subject": str(ds.get("PatientID", "") or ""),
        "study": str(ds.get("StudyInstanceUID", "") or ""),
        "frame_of_reference": str(ds.get("FrameOfReferenceUID", "") or ""),
        "modality": str(ds.get("Modality", "") or "").strip().upper(),
        "unit": value_unit(ds),
        "lossy": lossy_history(ds),
        "colour": (optional_int(ds.get("SamplesPerPixel")) or 1) > 1,
    }
    rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    count = frame_count(ds)
    found = {"common": common, "rows": rows, "columns": columns, "count": count}
    found["tiles"] = tiled_picture(ds, rows, columns, count)
    found["mosaic"] = not found["tiles"] and count == 1 and is_mosaic(ds) and not _groups(ds)
    if found["tiles"] or found["mosaic"]:
        return found
    grid, iop, stack = grid_positions(ds), None, None
    if grid is None and (stack := frame_stack(ds)) is not None:
        grid, iop = stack.positions, stack.orientation  # one position for every frame
    enhanced = _groups(ds)
    times, said = enhanced_intervals(ds, count) if enhanced else (cine_intervals(ds, count), "")
    unusable = stack.note if stack and stack.note else said if enhanced else cine_problem(ds, count)
    common["place"] = stack.place if stack else None  # a cine's one position
    return {**found, "grid": grid, "iop": iop, "enhanced": enhanced, "times": times,
            "unusable": unusable}  # fmt: skip


def grid_positions(ds: Any) -> list[tuple[float, float, float]] | None:
    """Frame positions of an RT Dose (or other) grid.

    ImagePositionPatient plus each GridFrameOffsetVector (3004,000C) value along the normal
    (PS3.3 C.8.8.3.2; a first value other than 0 means the offsets are coordinates, the first
    at the position).
    """
    offsets = ds.get("GridFrameOffsetVector")
    if offsets is None:
        return None
    ipp = numbers_or_none(ds.get("ImagePositionPatient"), 3)
    iop = numbers_or_none(ds.get("ImageOrientationPatient"), 6)
    try:
        values = [float(v) for v in offsets]
    except (TypeError, ValueError):
        return None
    if len(values) != frame_count(ds) or ipp is None or iop is None:
        return None
    normal = np.cross(np.asarray(iop[:3]), np.asarray(iop[3:]))
    if float(np.linalg.norm(normal)) < 1e-6:
        return None
    normal = normal / np.linalg.norm(normal)
    out = []
    for v in values:
        p = np.asarray(ipp) + (v - values[0]) * normal
        out.append((float(p[0]), float(p[1]), float(p[2])))
    return out


__all__ = ["frame_layout", "grid_positions", "is_mosaic", "optional_int"]
