"""The 2-D images of a DICOM file with their geometry: one :class:`FrameRef` per frame or tile.

Enhanced multi-frame objects keep each frame's position in the Per-frame Functional Groups,
which win over the Shared groups and over any top-level attribute (PS3.3 C.7.6.16). Siemens
mosaics hold several slices tiled in one image; their tiles become frames here, placed with
nibabel's reader of the Siemens CSA header (:mod:`nibabel.nicom`), or the file is refused
(``FrameRef.refusal``) when a tile's position cannot be known.
"""

from __future__ import annotations

from collections.abc import Sequence as SequenceABC
from typing import Any

import numpy as np

from pipeline.dicom.decode import frame_count
from pipeline.dicom.enhanced_cine import stored_order
from pipeline.dicom.expected_counts import header_counts
from pipeline.dicom.frame_layout import frame_layout
from pipeline.dicom.frame_layout import optional_int as _int
from pipeline.dicom.frame_ref import HALF_RESCALE, LUT_RESCALE, FrameRef
from pipeline.dicom.frame_time import frame_seconds as _time
from pipeline.dicom.frozen import made
from pipeline.dicom.groups import (
    CLASSIC,
    VOLUME_PLANE_NOTE,
    FrameGroups,
    attribute,
    plane,
    volume_placed,
)
from pipeline.dicom.lut import modality_ignored, uses_modality_lut
from pipeline.dicom.plain_memo import memoized
from pipeline.dicom.reasons import unexpected_failure
from pipeline.dicom.siemens import protocol_spacing
from pipeline.dicom.spacing import in_plane_spacing
from pipeline.dicom.stack_keys import STACK_KEYS, group_keywords, stack_value
from pipeline.dicom.values import (
    lenient_number,
    numbers_or_none,
    plain_value,
    slice_size,
    spacing_pair,
)
from pipeline.errors import DicomError

#: The Image Type value of a scout (:func:`image_kind`).
LOCALIZER = "LOCALIZER"
#: Image Type values that mark a scout, in any modality (``SCOUT``: vendors' word for it).
SCOUT_WORDS = (LOCALIZER, "SCOUT")


def image_kind(ds: Any, frame: int = 0, view: FrameGroups | None = None) -> str:
    """ImageType (0008,0008)'s first two values (upper case, backslash-joined), then LOCALIZER.

    ``LOCALIZER`` (or ``SCOUT``) is added when a later value says so, whatever the modality.

    An Enhanced object's frame has its own FrameType (0008,9007) in its MR / CT / PET frame
    type group (original and derived frames can share a file), which comes first. A CT image
    of Image Type value 3 LOCALIZER (PS3.3 C.8.2.1.1.1; an Enhanced frame's Image Flavor,
    C.8.16.1.3) is a scout, a projection taken to plan the slices, not one of them: CT scanners
    file it in the series of the axial slices (vtk-dicom #98, Slicer PR #5055).
    """
    value = None
    if "PerFrameFunctionalGroupsSequence" in ds:
        groups = ("MRImageFrameTypeSequence", "CTImageFrameTypeSequence", "PETFrameTypeSequence")
        value = next((v for g in groups if (v := attribute(ds, g, "FrameType", frame, view))), None)
    values = [str(v).strip().upper() for v in _multi(value or ds.get("ImageType"))]
    return "\\".join(values[:2] + [w for w in SCOUT_WORDS if w in values[2:]][:1])


def _multi(value: Any) -> list[Any]:
    """A multi-valued attribute's values as a list (one string is one value; absent: none)."""
    return [value] if isinstance(value, str) else list(value or [])


def _plane(
    ds: Any, f: int, view: FrameGroups | None, iop: tuple[float, ...] | None
) -> dict[str, Any]:
    """A frame's orientation (``iop`` when given: an NM grid's) and in-plane spacing."""
    orientation = iop or numbers_or_none(plane(ds, "ImageOrientationPatient", f, view), 6)
    return {"orientation": orientation, "pixel_spacing": _in_plane(ds, f)}


def _in_plane(ds: Any, frame: int) -> tuple[float, float] | None:
    """The frame's in-plane spacing at the patient, as the instance reader gives it.

    :func:`pipeline.dicom.spacing.in_plane_spacing`: PixelSpacing, else ImagerPixelSpacing
    over the magnification, else ultrasound regions; ``None`` when unknown or unreadable
    (never 0 or mirrored). The reader's notes say why, on the instance.
    """
    try:
        return in_plane_spacing(ds, frame, [])
    except (DicomError, TypeError, ValueError):
        return None


def _float(value: Any) -> float | None:
    return lenient_number(value)  # "2,5" written in a comma locale is 2.5


def _plain(value: Any) -> Any:
    return plain_value(value)


def frame_refs(ds: Any, source: str) -> list[FrameRef]:
    """Every 2-D image of a dataset (header only is enough) as :class:`FrameRef` values.

    What the file's frames share (:func:`~pipeline.dicom.frame_layout.frame_layout`) is worked
    out once per series for plain files (:mod:`pipeline.dicom.plain_memo`); the rest each time.

    Raises
    ------
    ValueError
        Never for odd geometry: a file that cannot be placed gets one ``FrameRef`` with
        ``refusal`` set, so that its series is refused with that reason.
    """
    sop_uid = str(ds.get("SOPInstanceUID", source))
    layout = memoized(frame_layout, ds)
    common = {"source": source, "sop_uid": sop_uid, **layout["common"]}
    rows, columns, count = layout["rows"], layout["columns"], layout["count"]
    if tiles := layout["tiles"]:
        return [FrameRef(**common, frame=f, rows=rows, columns=columns, position=None,
                         orientation=None, pixel_spacing=None, refusal=tiles)
                for f in range(count)]  # fmt: skip
    if layout["mosaic"]:
        return _mosaic_refs(ds, {**common, **_frame_facts(ds, 0, None)}, rows, columns)
    out = []
    grid, iop, enhanced, times = layout["grid"], layout["iop"], layout["enhanced"], layout["times"]
    for f in range(count):
        view = FrameGroups(ds, f) if enhanced else None
        out.append(
            FrameRef(
                **common,
                **_frame_facts(ds, f, view),
                frame=f,
                rows=rows,
                columns=columns,
                position=grid[f] if grid else _position(ds, f, view),
                **(
                    _plane(ds, f, view, iop)
                    if view is not None
                    else memoized(_plane, ds, f, None, iop)
                ),
                frame_time=times[f] if times else None,
                note=VOLUME_PLANE_NOTE
                if view is not None and volume_placed(ds, f, view)
                else layout["unusable"],
            )
        )
    return stored_order(ds, out) if enhanced else out  # a frame without its time: not first


def classic_frames(ds: Any) -> dict[str, Any] | None:
    """What :func:`frame_refs` gives the frames of a classic file but the file's own values.

    ``None`` for an Enhanced file, tiles or a mosaic. Otherwise ``frames``, each frame's
    :class:`FrameRef` values but ``source``, ``sop_uid``, ``instance_number``, ``time``,
    ``slice_location`` and ``position`` (:func:`classic_refs` adds them), ``grid`` (the frames'
    positions, when the layout gives them) and ``count``. It reads no value a file has its own
    of, so :mod:`pipeline.dicom.plain_memo` keeps it once per series.
    """
    layout = frame_layout(ds)
    if layout["tiles"] or layout["mosaic"] or layout["enhanced"]:
        return None
    times, iop, count = layout["times"], layout["iop"], layout["count"]
    shared = {**layout["common"], "rows": layout["rows"], "columns": layout["columns"],
              "note": layout["unusable"], "in_stack": None}  # fmt: skip
    frames = [{**shared, **_stack_facts(ds, f), **_plane(ds, f, None, iop), "frame": f,
               "frame_time": times[f] if times else None} for f in range(count)]  # fmt: skip
    return {"grid": layout["grid"], "count": count, "frames": frames}


def classic_refs(
    ds: Any, own: dict[str, Any], position: Any, shared: dict[str, Any]
) -> tuple[FrameRef, ...]:
    """The frames of a classic file from :func:`classic_frames` and the file's own values.

    ``own``: ``source``, ``sop_uid`` and ``instance_number`` as :func:`frame_refs` reads them;
    ``position``: the file's ImagePositionPatient, that of its single frame (a classic
    multi-frame file's frames have none, :func:`_position`). The time and SliceLocation are
    read here, as :func:`_frame_facts` reads them.
    """
    own = {**own, "time": _time(ds, 0, CLASSIC), "slice_location": _float(ds.get("SliceLocation"))}
    grid = shared["grid"]
    placed = position if shared["count"] == 1 else None
    return tuple(made(FrameRef, {**own, **frame, "position": grid[f] if grid else placed})
                 for f, frame in enumerate(shared["frames"]))  # fmt: skip


_CONTENT = "FrameContentSequence"


def _frame_facts(ds: Any, f: int, view: FrameGroups | None) -> dict[str, Any]:
    """A frame's own values of the attributes that tell frames apart (:class:`FrameRef`).

    An Enhanced object's from its functional groups (the kernel in CT Reconstruction, the
    TR in MR Timing and Related Parameters), a Legacy Converted Enhanced object's from its
    converted attributes, else the top level's (:func:`pipeline.dicom.groups.attribute`;
    ``view`` the frame's groups, ``None`` for a classic object, whose facts other than its
    number and time are worked out once per series: :mod:`pipeline.dicom.plain_memo`).
    """
    return {
        "instance_number": _int(attribute(ds, "", "InstanceNumber", f, view)),
        **(_stack_facts(ds, f, view) if view is not None else memoized(_stack_facts, ds, f)),
        "time": _time(ds, f, view),
        "slice_location": None if view is not None else _float(ds.get("SliceLocation")),
        "in_stack": None
        if view is None
        else _int(attribute(ds, _CONTENT, "InStackPositionNumber", f, view)),
    }


def _stack_facts(ds: Any, f: int, view: FrameGroups | None = None) -> dict[str, Any]:
    measures = "PixelMeasuresSequence"
    between = slice_size(attribute(ds, measures, "SpacingBetweenSlices", f, view))
    step = between or slice_size(attribute(ds, measures, "SliceThickness", f, view))
    kernel = attribute(ds, "CTReconstructionSequence", "ConvolutionKernel", f, view)
    tr = attribute(ds, "MRTimingAndRelatedParametersSequence", "RepetitionTime", f, view)
    return {
        "rescale": _rescale(ds, f, view),
        "image_kind": image_kind(ds, f, view),
        "kernel": "\\".join(str(v).strip() for v in _multi(kernel)),
        "repetition_time": _float(tr),
        "slice_step": step,
        "between": between,
        "stack_values": tuple(_plain(stack_value(ds, k, f, view)) for k in STACK_KEYS),
        "counts": header_counts(ds, f, view),
        "group_keys": group_keywords(ds, f, view),
    }


def _rescale(ds: Any, f: int, view: FrameGroups | None) -> tuple[float, float] | None:
    """The frame's (slope, intercept) as given, or ``None`` when neither is (see FrameRef)."""
    if modality_ignored(ds):
        return (1.0, 0.0)
    if uses_modality_lut(ds):
        return LUT_RESCALE
    group = "PixelValueTransformationSequence"
    slope, intercept = (_first(attribute(ds, group, k, f, view)) for k in _RESCALE)
    given = [v not in (None, "") for v in (slope, intercept)]
    if not all(given):  # one of the pair alone: HALF_RESCALE
        return HALF_RESCALE if any(given) else None
    return (_float(slope) or 1.0, _float(intercept) or 0.0)


_RESCALE = ("RescaleSlope", "RescaleIntercept")


def _first(value: Any) -> Any:
    """A multi-valued rescale's first value (the reader uses it, and notes it)."""
    if isinstance(value, SequenceABC) and not isinstance(value, str | bytes):
        return value[0] if value else None
    return value


def _position(
    ds: Any, frame: int, view: FrameGroups | None = None
) -> tuple[float, float, float] | None:
    """A frame's ImagePositionPatient (mm, LPS).

    ``None`` for a classic multi-frame file (cine, say), whose single top-level position
    cannot hold for every frame.
    """
    if frame_count(ds) > 1 and "PerFrameFunctionalGroupsSequence" not in ds:
        return None
    return numbers_or_none(plane(ds, "ImagePositionPatient", frame, view), 3)


def _mosaic_refs(ds: Any, common: dict[str, Any], rows: int, columns: int) -> list[FrameRef]:
    """The tiles of a Siemens mosaic, placed from the CSA header (nibabel.nicom)."""
    import warnings

    def refuse(why: str) -> list[FrameRef]:
        return [FrameRef(**common, frame=0, rows=rows, columns=columns, position=None,
                         orientation=None, pixel_spacing=None,
                         refusal=f"mosaic not supported: {why}")]  # fmt: skip

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # nibabel.nicom warns that it is experimental
            from nibabel.nicom import csareader
            from nibabel.nicom.dicomwrappers import MosaicWrapper

            csa = csareader.get_csa_header(ds)
            if csa is None or not csareader.is_mosaic(csa):
                return refuse("no Siemens CSA image header (0029,1010) giving the tiles")
            if why := _normal_problem(csareader.get_slice_normal(csa), ds):
                return refuse(why)
            wrapper = MosaicWrapper(ds, csa)
            shape, normal = wrapper.image_shape, wrapper.slice_normal
            first = wrapper.image_position
    except Exception as err:  # nibabel raises several kinds on a damaged CSA header
        return refuse(f"unreadable CSA header ({unexpected_failure(err, str(err))})")
    step, note = slice_size(ds.get("SpacingBetweenSlices")) or protocol_spacing(ds), ""
    if not step and (step := common["slice_step"]):
        note = (
            f"mosaic: tiles placed SliceThickness {step:g} mm apart (no SpacingBetweenSlices "
            "(0018,0088) nor protocol slice positions): a gap between slices is not known"
        )
    iop = numbers_or_none(ds.get("ImageOrientationPatient"), 6)
    try:
        spacing = spacing_pair(ds.get("PixelSpacing"), "")
    except DicomError:
        spacing = None
    if shape is None or first is None or normal is None or iop is None or spacing is None:
        return refuse("ImagePositionPatient, ImageOrientationPatient or PixelSpacing missing")
    if not step:
        return refuse("no SpacingBetweenSlices or SliceThickness to place the tiles")
    tile_rows, tile_cols, n = (int(v) for v in shape)
    out = []
    for k in range(n):
        pos = np.asarray(first, dtype=np.float64) + k * float(step) * np.asarray(normal)
        out.append(
            FrameRef(
                **common, frame=k, rows=tile_rows, columns=tile_cols,
                position=(float(pos[0]), float(pos[1]), float(pos[2])),
                orientation=iop, pixel_spacing=spacing, mosaic=n, note=note,
            )
        )  # fmt: skip
    return out


def _normal_problem(csa_normal: Any, ds: Any) -> str:
    """Why the CSA SliceNormalVector cannot order a mosaic's tiles, or "" when it can.

    The tiles follow SliceNormalVector; the ImageOrientationPatient cross product gives
    only its line. Without it the direction is a guess (dcm2niix takes F>>H, nibabel the
    other sign for an axial mosaic: the slice order reversed), and a vector off that line
    (nibabel asserts |dot| within 1e-5 of 1) does not belong to the image.
    """
    if csa_normal is None:
        return (
            "no SliceNormalVector in the Siemens CSA image header (0029,1010): the order of "
            "the tiles along the slice normal is not known"
        )
    iop = numbers_or_none(ds.get("ImageOrientationPatient"), 6)
    if iop is None:
        return ""  # said as missing geometry below
    normal = np.cross(iop[:3], iop[3:])
    dot = float(np.dot(np.asarray(csa_normal, dtype=np.float64), normal))
    if abs(abs(dot) - 1.0) <= 1e-5:
        return ""
    found = ", ".join(f"{float(v):.4g}" for v in csa_normal)
    across = ", ".join(f"{float(v):.4g}" for v in normal)
    return (
        f"the CSA SliceNormalVector ({found}) is not along the ImageOrientationPatient "
        f"normal ({across}): the tiles' direction is not known"
    )


def demosaic(tiled: np.ndarray, n: int) -> np.ndarray:
    """Split a mosaic ``(H, W)`` into ``(n, H/m, W/m)`` tiles, ``m = ceil(sqrt(n))``.

    Tiles are read row by row, as nibabel's ``MosaicWrapper`` does (its ``get_data`` returns
    ``(rows, cols, n)``; this returns the same tiles slice-first).
    """
    m = int(np.ceil(np.sqrt(n)))
    h, w = tiled.shape[0] // m, tiled.shape[1] // m
    blocks = tiled[: h * m, : w * m].reshape(m, h, m, w).transpose(0, 2, 1, 3)
    return np.ascontiguousarray(blocks.reshape(m * m, h, w)[:n])
