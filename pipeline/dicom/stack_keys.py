"""The attributes that tell co-located images of one series apart, and where to find them.

Used by :mod:`pipeline.dicom.frames` (each frame's values, :func:`stack_value`) and
:mod:`pipeline.dicom.colocated` (which key tells a series' co-located frames apart).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from pipeline.dicom.groups import FrameGroups, attribute
from pipeline.dicom.nm_frames import frame_vectors
from pipeline.dicom.private_diffusion import private_b_value, private_element, private_gradient
from pipeline.dicom.unsigned_vr import us_or_ss
from pipeline.dicom.values import lenient_number

__all__ = [
    "COMPONENTS", "DIRECTION", "FRAME_GROUP_KEYS", "NOT_TIME", "STACK_KEYS", "TIME_SLICE",
    "group_keywords", "shared_component", "stack_value",
]  # fmt: skip

#: The diffusion gradient direction key: several directions share one DiffusionBValue.
DIRECTION = "DiffusionGradientOrientation"

#: Attributes that tell co-located images apart (time points, echoes, directions), in order.
STACK_KEYS = (
    "ComplexImageComponent",  # magnitude / phase / real / imaginary (first: never time points)
    "ProtocolName",  # two protocols in one series (merged; dcm2niix: "protocol name varies")
    "TemporalPositionIdentifier",
    "FrameReferenceTime",  # PET time frames (dcm2niix #577, #184: instance order not time)
    "TimeSliceIndex",  # PET frames by ImageIndex (0054,1330), PS3.3 C.8.9.4.1.9: see below
    "AcquisitionNumber",
    "EchoNumbers",
    "EchoTime",  # echoes of files without EchoNumbers (Siemens XA classic, dcm2niix #568)
    "TriggerTime",
    "DiffusionBValue",
    DIRECTION,  # DTI: b-value and direction together (dcm2niix #809, #546)
    "ReceiveCoilName",  # uncombined coil images (dcm2niix: "coil varies"): see _coil
    "StackID",
    "FrameIncrementPointer",  # NM frames by their energy window, gate... (pipeline.dicom.nm_frames)
    "DimensionIndexValues",  # last: an Enhanced object's other dimensions (see _dimensions)
)

#: Stack keys that tell apart images which are not time points (a 4-D NIfTI's 4th axis is
#: time, its zoom the TR): each echo or stack is its own volume, as dcm2niix writes echoes;
#: so is each index of an Enhanced object's other dimensions (no attribute says it is time).
NOT_TIME = (
    "ComplexImageComponent", "ProtocolName", "EchoNumbers", "EchoTime", "ReceiveCoilName",
    "StackID", "FrameIncrementPointer", "DimensionIndexValues",
)  # fmt: skip

#: Where an Enhanced object keeps each frame's value of a :data:`STACK_KEYS` attribute
#: (PS3.3 C.7.6.16.2.2 Frame Content, C.8.13.5.2 MR Echo, C.7.6.16.2.7 Cardiac
#: Synchronization, C.8.13.5.9 MR Diffusion): its top level holds none of them per frame.
#: FrameAcquisitionNumber (0020,9156) is the frame's AcquisitionNumber: acquisitions that
#: repeat the positions were told apart by file order only ("may mix them").
FRAME_GROUP_KEYS = {
    "TemporalPositionIdentifier": ("FrameContentSequence", "TemporalPositionIndex"),
    "AcquisitionNumber": ("FrameContentSequence", "FrameAcquisitionNumber"),
    "EchoNumbers": ("MREchoSequence", "EffectiveEchoTime"),
    "TriggerTime": ("CardiacSynchronizationSequence", "NominalCardiacTriggerDelayTime"),
    "DiffusionBValue": ("MRDiffusionSequence", "DiffusionBValue"),
    "StackID": ("FrameContentSequence", "StackID"),
    "ComplexImageComponent": ("MRImageFrameTypeSequence", "ComplexImageComponent"),
    "ReceiveCoilName": ("MRReceiveCoilSequence", "ReceiveCoilName"),
}

#: The keys of :data:`FRAME_GROUP_KEYS` whose group holds another attribute than their name:
#: an Enhanced frame's value of these is that attribute's (an EffectiveEchoTime in ms, not an
#: EchoNumbers), and is named by it (:func:`group_keywords`).
RENAMED = {k: g[1] for k, g in FRAME_GROUP_KEYS.items() if g[1] != k}

#: ImageType values (after the first two) that name the complex component of an MR image:
#: Siemens ``ORIGINAL\PRIMARY\P\ND``, Philips ``ORIGINAL\PRIMARY\PHASE MAP\P\FFE``.
COMPONENTS = {"M": "MAGNITUDE", "MAGNITUDE": "MAGNITUDE", "P": "PHASE", "PHASE": "PHASE",
               "PHASE MAP": "PHASE", "R": "REAL", "REAL": "REAL", "I": "IMAGINARY",
               "IMAGINARY": "IMAGINARY"}  # fmt: skip

#: The PET pseudo-key of :data:`STACK_KEYS`: no attribute, but ImageIndex (0054,1330), Type 1
#: in the PET Image module, read through PS3.3 C.8.9.4.1.9: a DYNAMIC series numbers its
#: images ``(Time Slice Index - 1) x NumberOfSlices (0054,0081) + Slice Index``, so
#: ``(ImageIndex - 1) // NumberOfSlices + 1`` is the time slice (a GATED series' R-R interval
#: and time slot, in the same order). Without FrameReferenceTime, frames whose InstanceNumber
#: runs against time and whose AcquisitionTime is the series start were ordered last frame
#: first, unsaid.
TIME_SLICE = "TimeSliceIndex"

#: The direction of an image with a b-value but no gradient (b = 0, an isotropic trace).
_NO_DIRECTION = "0.0000\\0.0000\\0.0000"


def stack_value(ds: Any, keyword: str, frame: int, view: FrameGroups | None = None) -> Any:
    """The frame's value of one of :data:`STACK_KEYS`.

    In an Enhanced object from its functional groups (:data:`FRAME_GROUP_KEYS`; echoes by
    EffectiveEchoTime, as frames need not be stored in echo order), else from its converted
    attributes (Legacy Converted Enhanced objects) or the top level
    (:func:`pipeline.dicom.groups.attribute`; ``view`` the frame's groups, looked up once).
    """
    if keyword == DIRECTION:
        return _direction(ds, frame, view)
    if keyword == TIME_SLICE:
        return _time_slice(ds)
    if keyword == "FrameIncrementPointer":
        return frame_vectors(ds, frame)
    if keyword == "DimensionIndexValues":
        return _dimensions(ds, frame, view)
    if keyword == "ReceiveCoilName" and (element := _coil(ds)) is not None:
        return element
    if keyword in FRAME_GROUP_KEYS and "PerFrameFunctionalGroupsSequence" in ds:
        value = attribute(ds, *FRAME_GROUP_KEYS[keyword], frame, view)
        if value not in (None, ""):
            return value
    value = attribute(ds, "", keyword, frame, view)
    if keyword == "ComplexImageComponent" and not value:
        return _component(ds)
    if keyword == "DiffusionBValue" and value in (None, ""):
        return private_b_value(ds)
    return value


def group_keywords(ds: Any, frame: int, view: FrameGroups | None = None) -> tuple[str, ...]:
    """The :data:`RENAMED` keys whose value this frame takes from its functional groups.

    :func:`stack_value` reads them from an Enhanced object's groups (PS3.3 C.7.6.16): there
    EchoNumbers' place holds the
    MR Echo group's EffectiveEchoTime (C.8.13.5.2), TemporalPositionIdentifier's the Frame
    Content's TemporalPositionIndex (C.7.6.16.2.2), AcquisitionNumber's its
    FrameAcquisitionNumber, TriggerTime's the Cardiac Synchronization group's
    NominalCardiacTriggerDelayTime (C.7.6.16.2.7). ``()`` for a classic file, and for a frame
    whose value came from its converted or top-level attributes (a Legacy Converted object).
    """
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return ()
    return tuple(k for k in RENAMED
                 if attribute(ds, *FRAME_GROUP_KEYS[k], frame, view) not in (None, ""))  # fmt: skip


def _coil(ds: Any) -> str | None:
    """The coil elements of a Siemens image, (0051,xx0F) of ``SIEMENS MR HEADER``, or ``None``.

    Uncombined images of each receive coil element (Siemens: ``H1``, ``H2``, ...; combined
    ones name the set, ``HEA;HEP``) lie at the same positions as each other, and
    ReceiveCoilName (0018,1250) names the whole coil in all of them: nothing else told them
    apart but acquisition order ("so a volume may mix them"), and they made one 4-D volume
    of time points. dcm2niix reads this element (its coil number) and never stacks images of
    two coils ("slices not stacked: coil varies"); each coil is a volume of its own here
    (:data:`NOT_TIME`). Only co-located images are told apart by it: slices along a spine
    whose automatic coil selection changes along the table stay one volume.
    """
    value = private_element(ds, 0x0051, "SIEMENS MR HEADER", 0x0F, at=0x0051100F)
    if isinstance(value, bytes):  # VR not resolved (UN): LO text
        value = value.decode("latin-1", "replace")
    text = str(value).strip(" \x00") if value is not None else ""
    return text or None


def _direction(ds: Any, frame: int, view: FrameGroups | None) -> str | None:
    r"""DiffusionGradientOrientation (0018,9089) as ``x\y\z`` text (4 decimals), or ``None``.

    An Enhanced frame's MR Diffusion group holds it in its Diffusion Gradient Direction
    Sequence (PS3.3 C.8.13.5.9); a classic file (Philips) at the top level. An image with a
    DiffusionBValue but no direction (b = 0, or a trace image) gets the zero vector, as
    Philips writes it, so that its b-value and direction together still tell it apart from
    the directional ones.
    """
    gradient = attribute(
        ds, "MRDiffusionSequence", "DiffusionGradientDirectionSequence", frame, view
    )
    if gradient and len(gradient):
        value = gradient[0].get(DIRECTION)
    else:
        value = attribute(ds, "", DIRECTION, frame, view)
    if value in (None, ""):
        value = private_gradient(ds)
        if isinstance(value, str):  # GE's: not in patient coordinates, kept as it is
            return value
    try:
        numbers = [float(v) for v in (value or [])]
    except (TypeError, ValueError):
        numbers = []
    if len(numbers) == 3:
        return "\\".join(f"{round(v, 4) + 0.0:.4f}" for v in numbers)
    b = attribute(ds, "MRDiffusionSequence", "DiffusionBValue", frame, view)
    has_b = b not in (None, "") or private_b_value(ds) is not None
    return _NO_DIRECTION if has_b else None


#: Dimension Index Pointers (PS3.3 C.7.6.17) that say where a frame is, not which image it is.
#: InStackPositionNumber, ImagePositionPatient, StackID, SliceLocation.
_SPATIAL = {0x00209057, 0x00200032, 0x00209056, 0x00201041}


def _dimensions(ds: Any, frame: int, view: FrameGroups | None) -> str | None:
    """The frame's DimensionIndexValues (0020,9157) outside the spatial dimensions, or ``None``.

    The indices of the DimensionIndexSequence dimensions that do not place the frame
    (:data:`_SPATIAL`): one as it is (``"2"``), several as zero-padded text that sorts as
    they do. Frames at one position that no attribute of :data:`STACK_KEYS`
    tells apart (a dimension of a private or unlisted attribute) were ranked by frame number
    alone, "so a volume may mix them"; their dimension organisation tells them apart.
    """
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return None
    dims = ds.get("DimensionIndexSequence") or []
    pointers = [item.get("DimensionIndexPointer") for item in dims]
    values = attribute(ds, "FrameContentSequence", "DimensionIndexValues", frame, view)
    values = [values] if isinstance(values, int) else list(values or [])
    if not pointers or len(values) != len(pointers):
        return None
    try:
        kept = [int(v) for p, v in zip(pointers, values, strict=True) if int(p) not in _SPATIAL]
    except (TypeError, ValueError):  # a damaged index: no key, as without one
        return None
    if len(kept) == 1:
        return str(kept[0])
    return "\\".join(f"{v:010d}" for v in kept) or None  # text that sorts as the numbers


def _time_slice(ds: Any) -> int | None:
    """A PET image's time slice from its ImageIndex (see :data:`TIME_SLICE`), else ``None``."""
    if str(ds.get("Modality", "")).strip().upper() != "PT":
        return None
    index, slices = (lenient_number(ds.get(k)) for k in ("ImageIndex", "NumberOfSlices"))
    if index is None or slices is None or index < 1 or slices < 1:
        return None
    if index != int(index) or slices != int(slices):
        return None
    return (int(index) - 1) // int(slices) + 1


def _component(ds: Any) -> str | None:
    """The complex component of an MR image, else ``None``.

    The one its ImageType names (dcm2niix #194), else GE's private one (:func:`_ge_component`).
    """
    if str(ds.get("Modality", "")).strip().upper() != "MR":
        return None
    image_type = ds.get("ImageType")
    values = [image_type] if isinstance(image_type, str) else list(image_type or [])
    found = [COMPONENTS.get(str(v).strip().upper()) for v in values[2:]]
    return next((c for c in found if c), None) or _ge_component(ds)


#: GE's ``GEMS_PARM_01`` (0043,xx2F) "Image Type (real, imaginary, phase, magnitude)" (SS),
#: as dcm2niix reads it (``kImageTypeGE``): GE writes ``ORIGINAL\PRIMARY\OTHER`` in ImageType
#: for every component, so magnitude, phase, real and imaginary images of one series (a
#: SIGNA UHP's, heudiconv PR #761, dcm2niix PR #826) were told apart only by acquisition
#: order, as time points of one 4-D volume.
_GE_COMPONENTS = {0: "MAGNITUDE", 1: "PHASE", 2: "REAL", 3: "IMAGINARY"}


def _ge_component(ds: Any) -> str | None:
    """The component GE's private (0043,xx2F) names, under its creator only, else ``None``."""
    value = private_element(ds, 0x0043, "GEMS_PARM_01", 0x2F, at=0x0043102F)
    try:  # raw bytes: VR not resolved (UN), an SS, little endian
        number = us_or_ss(value, True, first=True)
    except ValueError:
        return None
    return None if number is None else _GE_COMPONENTS.get(number)


def shared_component(refs: Iterable[Any]) -> str:
    """The complex component every one of ``refs`` holds (``MAGNITUDE``, ``PHASE``), or ``""``.

    ``refs``: :class:`~pipeline.dicom.frames.FrameRef` (``REAL``, ``IMAGINARY`` and ``MIXED``
    too: ComplexImageComponent's defined terms, PS3.3 C.8.13.3.1.1).

    For the manifest's ``component`` cell: a series of several components is one volume each,
    numbered in the order of their names, and only this tells which volume is which.

    Examples
    --------
    >>> from types import SimpleNamespace as N
    >>> shared_component([N(stack_values=("PHASE", 1)), N(stack_values=("PHASE", 2))])
    'PHASE'
    >>> shared_component([N(stack_values=("PHASE",)), N(stack_values=(None,))])
    ''
    """
    found = {r.stack_values[0] if r.stack_values else None for r in refs}
    (value,) = found if len(found) == 1 else (None,)
    return value if isinstance(value, str) else ""
