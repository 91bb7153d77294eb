"""Per-frame parameters of an image: rescale, window, geometry (PS3.3 C.7.6.2, C.11.1-2).

A classic object's frames share one set (worked out once per series for plain files,
:mod:`pipeline.dicom.plain_memo`); an Enhanced object's come from its functional groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from pipeline.dicom.decode import frame_count
from pipeline.dicom.frame_stack import frame_stack
from pipeline.dicom.frames import attribute as plane_attr
from pipeline.dicom.frozen import made
from pipeline.dicom.geometry import quadruped_note
from pipeline.dicom.groups import plane
from pipeline.dicom.image_memo import series_voi_choice
from pipeline.dicom.lut import ignored_modality_note, modality_ignored
from pipeline.dicom.plain_memo import memoized
from pipeline.dicom.spacing import in_plane_spacing
from pipeline.dicom.values import first_number, numbers, orientation, tag_name
from pipeline.dicom.voi_lut import frame_voi_luts
from pipeline.dicom.window_values import frame_window
from pipeline.errors import DicomError

__all__ = ["FrameInfo", "frame_infos"]

#: float32's smallest normal number: a slope below it makes every output the intercept.
_FLOAT32_TINY = 1.1754943508222875e-38


@dataclass(frozen=True)
class FrameInfo:
    """Per-frame parameters (Enhanced objects keep them in the functional groups)."""

    slope: float
    intercept: float
    window: tuple[float, float] | None
    position: tuple[float, ...] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None
    voi_function: str = "LINEAR"
    voi_lut: tuple[int, np.ndarray, int] | None = field(default=None, compare=False)
    #: which of several windows or VOI LUTs ``--window header`` uses (module voi_choice)
    voi_choice: str = field(default="", compare=False)


def frame_infos(ds: Any, source: str, notes: list[str]) -> tuple[FrameInfo, ...]:
    """Every frame's :class:`FrameInfo`, with its VOI LUT; notes of recovered defects added.

    Raises
    ------
    DicomError
        Naming ``source`` and the tag, for an unusable value.
    """
    n = frame_count(ds)
    infos = _frame_values(ds, source, notes, n)
    luts = frame_voi_luts(ds, source, notes, n)
    return tuple(
        info if _as_it_is(info, table) else made(FrameInfo, {
            **info.__dict__, "voi_lut": table, "voi_choice": _choice(ds, f, info, table)})
        for f, (info, table) in enumerate(zip(infos, luts, strict=True))
    )  # fmt: skip


def _as_it_is(info: FrameInfo, table: Any) -> bool:
    """Whether ``info`` has nothing to add: no VOI LUT, no window to choose (kept, not copied)."""
    return table is None and info.voi_lut is None and info.window is None and not info.voi_choice


def _choice(ds: Any, frame: int, info: FrameInfo, table: Any) -> str:
    if table is None and info.window is None:
        return ""
    return series_voi_choice(
        ds, frame if "PerFrameFunctionalGroupsSequence" in ds else 0, lut=table is not None
    )


def _frame_values(ds: Any, source: str, notes: list[str], n: int) -> tuple[FrameInfo, ...]:
    try:
        if "PerFrameFunctionalGroupsSequence" not in ds:  # classic objects: every frame alike
            info = _classic_frame(ds, notes)
            stack = frame_stack(ds)  # NM tomography and the like: by SpacingBetweenSlices
            if stack is not None and stack.positions is not None:
                return tuple(replace(info, position=p, orientation=stack.orientation)
                             for p in stack.positions)  # fmt: skip
            return (info,) * n
        return tuple(_frame_info(ds, f, notes) for f in range(n))
    except DicomError as err:
        raise DicomError(source, err.reason) from None


def frame_zero_notes(ds: Any) -> list[str]:
    """The notes :func:`frame_infos` gives on frame 0 (for ``inspect``, from the header)."""
    if "PerFrameFunctionalGroupsSequence" in ds:
        notes: list[str] = []
        _frame_info(ds, 0, notes, position=False)
        return notes
    return list(memoized(_series_frame, ds)[1])


def _classic_frame(ds: Any, notes: list[str]) -> FrameInfo:
    """A classic object's :class:`FrameInfo`.

    All but the position is worked out once per series for plain files
    (:mod:`pipeline.dicom.plain_memo`); the position is read every time.
    """
    info, found = memoized(_series_frame, ds)
    notes += found
    position = plane_attr(ds, "PlanePositionSequence", "ImagePositionPatient", 0)
    # made, not replace(): the same object without __init__'s setattr per field
    return made(FrameInfo, {**info.__dict__,
                            "position": numbers(position, 3, "ImagePositionPatient")})  # fmt: skip


def _series_frame(ds: Any) -> tuple[FrameInfo, tuple[str, ...]]:
    notes: list[str] = []
    return _frame_info(ds, 0, notes, position=False), tuple(notes)


def _rescale_beside_dose(slope: float | None, intercept: float | None, scaling: float) -> str:
    """The note for a rescale beside Dose Grid Scaling that says otherwise, else ``""``.

    The RT Dose IOD has no Modality LUT module: its values are stored x DoseGridScaling
    (PS3.3 C.8.8.3). A RescaleSlope beside it was applied instead of the dose scaling, and
    the dose grid's 1e-6 was dropped, without a word (found by ``benchmarks/fuzz_oracle.py``).
    """
    if slope in (None, 1.0, scaling) and not intercept:  # none, the identity, or the same
        return ""
    shown = f"{1.0 if slope is None else slope:g} and {intercept or 0.0:g}"
    return (f"RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) {shown} ignored beside "
            f"DoseGridScaling (3004,000E) {scaling:g}: an RT Dose's values are stored value x "
            "DoseGridScaling (PS3.3 C.8.8.3), which is applied")  # fmt: skip


def _frame_info(ds: Any, frame: int, notes: list[str], *, position: bool = True) -> FrameInfo:
    slope = plane_attr(ds, "PixelValueTransformationSequence", "RescaleSlope", frame)
    intercept = plane_attr(ds, "PixelValueTransformationSequence", "RescaleIntercept", frame)
    window, note, function = frame_window(ds, frame)  # unusable: ignored and noted
    if note:
        notes.append(note)
    slope_value, keyword = first_number(slope, "RescaleSlope", notes), "RescaleSlope"
    intercept_value = first_number(intercept, "RescaleIntercept", notes)
    scaling = first_number(ds.get("DoseGridScaling"), "DoseGridScaling", notes)
    if scaling is not None:  # RT Dose: dose = stored x Dose Grid Scaling (PS3.3 C.8.8.3)
        note = _rescale_beside_dose(slope_value, intercept_value, scaling)
        notes += [note] if note else []
        keyword, slope_value, intercept_value = "DoseGridScaling", scaling, None
    if slope_value and abs(slope_value) < _FLOAT32_TINY:  # 1e300 is refused as past float32
        raise DicomError("", f"{tag_name(keyword)} holds {slope_value:g}: below float32's "
                             "smallest normal number (1.2e-38), which the outputs hold, so "
                             "every value would be the intercept; a damaged value.")  # fmt: skip
    if slope_value == 0:  # every pixel would be the intercept (GateTools #68): not a slope
        notes.append("RescaleSlope ignored: (0028,1053) is 0, which would make every pixel "
                     "the intercept, so slope 1 is used")  # fmt: skip
        slope_value = None
    if modality_ignored(ds):  # XA/XRF: the Modality LUT maps backwards, never for display
        note = ignored_modality_note(ds, slope_value, intercept_value)
        notes += [note] if note else []
        slope_value = intercept_value = None
    info = FrameInfo(
        slope=1.0 if slope_value is None else slope_value,
        intercept=0.0 if intercept_value is None else intercept_value,
        window=window,
        position=numbers(plane(ds, "ImagePositionPatient", frame), 3, "ImagePositionPatient")
        if position
        else None,
        orientation=orientation(plane(ds, "ImageOrientationPatient", frame)),
        pixel_spacing=in_plane_spacing(ds, frame, notes),
        voi_function=function,
    )
    note = quadruped_note(ds) if frame == 0 and info.orientation is not None else ""
    notes += [note] if note else []
    return info
