"""A NIfTI volume's BIDS-style JSON sidecar, as dcm2niix writes it (``-b y``), without identifiers.

``convert --format nifti`` writes ``<name>.json`` beside ``<name>.nii[.gz]``: the acquisition
parameters analysis tools read from it (fMRIPrep, SPM, FSL wrappers), under BIDS names and in
BIDS units (BIDS specification, "Common metadata fields": seconds for times, degrees, tesla,
mm). Only the keys of :data:`KEYS` are ever written, each only when its header value is there
and readable (never ``null``): no patient or study data, date or time of day, UID, institution,
station, serial number, SeriesDescription or ProtocolName (free text that some sites fill with
names), whatever the header holds.

Differences from dcm2niix, on purpose:

- ``PhaseEncodingDirection`` (axis and sign) is never written: the sign is in no public DICOM
  attribute (dcm2niix reads Siemens' private CSA header for it). ``PhaseEncodingAxis`` is, from
  InPlanePhaseEncodingDirection, as dcm2niix writes it when the sign is unknown: ``COL`` is the
  NIfTI's ``j`` axis (rows), ``ROW`` its ``i`` axis (columns), as radpipe stores the columns
  along i and the rows along j (:func:`pipeline.writers.write_nifti`).
- ``SpacingBetweenSlices`` is the step between the volume's slices as written (the NIfTI's
  third zoom), not the header's (0018,0088), which can disagree (said in ``problems``).
- ``RepetitionTime`` of a 4-D NIfTI is its 4th zoom, the time between its volumes, as BIDS
  requires (``pixdim[4]``); where that is not the header's RepetitionTime (a dynamic series'
  median interval, :func:`pipeline.dicom.volume_plan.time_step`), the header's is
  ``RepetitionTimeExcitation``, as dcm2niix writes them (dcm2niix #560).
- ``MagneticFieldStrength`` in tesla, as BIDS and PS3.3 C.7.3.1 (0018,0087) have it: some old
  scanners and converters wrote gauss (15000 for 1.5 T), which went into the sidecar as a
  15000 T magnet. A value of 500 to 300000 is read as gauss and divided by 10000 (0.05 to 30
  T), said; one above 30 and below 500 (neither a magnet's tesla nor its gauss), or at or
  below 0, is left out, said (:func:`field_strength`).
- ``RepetitionTime`` of a 4-D NIfTI is written even where the header has none (a cine's
  FrameTime, an ultrasound or CT series of time points): its time step was in the NIfTI's
  4th zoom only.
- ``SliceTiming`` of a GE 2-D fMRI (a 4-D NIfTI; Manufacturer GE) whose slices share one
  AcquisitionTime from their TriggerTime (0018,1060), which GE's "epi" sequence fills with
  each slice's time within the repetition (ms), as dcm2niix reads it
  (:func:`ge_slice_timing`). GE's private RTIA timer (0021,105E) of its "epiRT" sequence,
  dcm2niix's other source, is not read: such a series has no SliceTiming.
- ``SliceTiming`` otherwise only where each slice has its own AcquisitionTime, the slices are those
  acquired (not resampled), and all lie within one RepetitionTime; ``Manufacturer`` as written.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.dicom.groups import attribute
from pipeline.dicom.values import lenient_number

__all__ = ["KEYS", "field_strength", "ge_slice_timing", "header_fields", "slice_timing"]

#: Every key a sidecar may hold, in the order written.
KEYS = (
    "Modality", "MagneticFieldStrength", "Manufacturer", "ManufacturersModelName", "ImageType",
    "SeriesNumber", "MRAcquisitionType", "SliceThickness", "SpacingBetweenSlices", "EchoTime",
    "RepetitionTime", "RepetitionTimeExcitation", "InversionTime", "FlipAngle",
    "PhaseEncodingAxis", "SliceTiming",
    "ConversionSoftware", "ConversionSoftwareVersion",
)  # fmt: skip

#: BIDS key: (functional group of an Enhanced frame, DICOM keyword, factor to BIDS units).
#: ms to s for times (PS3.3 C.7.6.16.2.x, C.8.13.5.x; BIDS: seconds).
_NUMBERS = {
    "MagneticFieldStrength": ("", "MagneticFieldStrength", 1.0),
    "SliceThickness": ("PixelMeasuresSequence", "SliceThickness", 1.0),
    "EchoTime": ("MREchoSequence", "EffectiveEchoTime", 1e-3),
    "RepetitionTime": ("MRTimingAndRelatedParametersSequence", "RepetitionTime", 1e-3),
    "InversionTime": ("MRModifierSequence", "InversionTimes", 1e-3),
    "FlipAngle": ("MRTimingAndRelatedParametersSequence", "FlipAngle", 1.0),
}
#: The classic images' keyword where it differs from the Enhanced frame's.
_CLASSIC = {"EffectiveEchoTime": "EchoTime", "InversionTimes": "InversionTime"}
_AXES = {"COL": "j", "ROW": "i"}  # InPlanePhaseEncodingDirection -> NIfTI voxel axis


def header_fields(ds: Any, frame: int = 0, notes: list[str] | None = None) -> dict[str, Any]:
    """The sidecar keys one frame's header gives (of :data:`KEYS`, BIDS units).

    Parameters
    ----------
    ds
        A pydicom Dataset (header only is enough): the volume's first slice.
    frame
        Its frame (an Enhanced object's values are in its functional groups).
    notes
        Where to say what was done to a value (a field strength in gauss), when given.

    Examples
    --------
    >>> from pydicom.dataset import Dataset
    >>> ds = Dataset()
    >>> ds.Modality, ds.EchoTime, ds.RepetitionTime, ds.PatientName = "MR", "30", "2000", "X"
    >>> header_fields(ds)
    {'Modality': 'MR', 'EchoTime': 0.03, 'RepetitionTime': 2.0}
    """
    enhanced = "PerFrameFunctionalGroupsSequence" in ds
    out: dict[str, Any] = {}
    for key, keyword in (("Modality", "Modality"), ("Manufacturer", "Manufacturer"),
                         ("ManufacturersModelName", "ManufacturerModelName")):  # fmt: skip
        text = str(ds.get(keyword) or "").strip()
        if text:
            out[key] = text
    image_type = _image_type(ds, frame, enhanced)
    if image_type:
        out["ImageType"] = image_type
    number = lenient_number(ds.get("SeriesNumber"))
    if number is not None and float(number).is_integer():
        out["SeriesNumber"] = int(number)
    mr = str(ds.get("Modality") or "").strip().upper() == "MR"
    acquisition = str(ds.get("MRAcquisitionType") or "").strip().upper()
    if mr and acquisition in ("2D", "3D"):
        out["MRAcquisitionType"] = acquisition
    for key, (group, keyword, factor) in _NUMBERS.items():
        if key != "SliceThickness" and not mr:
            continue  # echo, repetition, field: MR parameters (a CT's are no BIDS MR fields)
        value = _number(ds, group if enhanced else "", keyword, frame)
        if value is None and not enhanced and keyword in _CLASSIC:
            value = _number(ds, "", _CLASSIC[keyword], frame)
        if key == "MagneticFieldStrength" and value is not None:
            value, said = field_strength(value)
            if said and notes is not None:
                notes.append(said)
        if value is not None and value >= 0:
            out[key] = round(value * factor, 9) + 0.0
    axis = _AXES.get(_phase_direction(ds, frame, enhanced)) if mr else None
    if axis:
        out["PhaseEncodingAxis"] = axis
    return out


#: Tesla up to this (the strongest magnets, 28.2 T NMR); gauss from :data:`_GAUSS` on.
_TESLA, _GAUSS, _MOST_GAUSS = 30.0, 500.0, 300000.0


def field_strength(value: float) -> tuple[float | None, str]:
    """A MagneticFieldStrength (0018,0087) in tesla, and what was done to it (``""``: none).

    Examples
    --------
    >>> field_strength(3.0)
    (3.0, '')
    >>> field_strength(15000)[0]
    1.5
    >>> field_strength(150)[0] is None
    True
    """
    tag = f"MagneticFieldStrength (0018,0087) {value:g}"
    if 0 < value <= _TESLA:
        return value, ""
    if _GAUSS <= value <= _MOST_GAUSS:
        tesla = round(value / 10000.0, 6)
        return tesla, f"{tag} read as gauss (an old scanner's unit): {tesla:g} T in the sidecar"
    return None, (f"{tag} is neither tesla (0 to {_TESLA:g}) nor gauss ({_GAUSS:g} to "
                  f"{_MOST_GAUSS:g}): left out of the sidecar")  # fmt: skip


def _number(ds: Any, group: str, keyword: str, frame: int) -> float | None:
    value = attribute(ds, group, keyword, frame)
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        value = value[0] if len(value) == 1 else None  # several inversion times: none said
    return lenient_number(value)


def _image_type(ds: Any, frame: int, enhanced: bool) -> list[str]:
    value = None
    if enhanced:
        for group in ("MRImageFrameTypeSequence", "CTImageFrameTypeSequence"):
            value = value or attribute(ds, group, "FrameType", frame)
    value = value or ds.get("ImageType")
    values = [value] if isinstance(value, str) else list(value or [])
    return [str(v).strip().upper() for v in values if str(v).strip()]


def _phase_direction(ds: Any, frame: int, enhanced: bool) -> str:
    group = "MRFOVGeometrySequence" if enhanced else ""
    return str(attribute(ds, group, "InPlanePhaseEncodingDirection", frame) or "").strip().upper()


def slice_timing(
    times: Sequence[float | None], repetition_time: float | None
) -> list[float] | None:
    """BIDS ``SliceTiming``: each slice's acquisition time after the first slice's, in s.

    ``times`` are the slices' AcquisitionTime in seconds, in the volume's slice order (its
    first time point); ``repetition_time`` the RepetitionTime in s. ``None`` (not written)
    unless every slice has a time, they are not all one time, and they span less than one
    RepetitionTime (known): slices acquired in one repetition (BIDS: "the time at which each
    slice was acquired within each volume"); times further apart are those of something else
    (each slice a repetition of its own, as a 3-D series).

    Offsets are rounded to 0.1 ms: a dated time (AcquisitionDate beside it) counts from year 1,
    some 6e10 s, whose float holds it to about 8 us, so 0.2525 s came out 0.252502.

    Examples
    --------
    >>> slice_timing([36610.0, 36610.5, 36611.0, 36611.5], 2.0)
    [0.0, 0.5, 1.0, 1.5]
    >>> day = 739631 * 86400.0  # 2026-01-15 (AcquisitionDate) in s from 0001-01-01
    >>> slice_timing([day + 36610.0, day + 36610.2525], 2.0)
    [0.0, 0.2525]
    >>> slice_timing([36610.0, 36612.5], 2.0) is None  # 2.5 s apart: not within one TR
    True
    """
    if len(times) < 2 or any(t is None for t in times):
        return None
    first = min(float(t) for t in times if t is not None)
    offsets = [round(float(t) - first, 4) + 0.0 for t in times if t is not None]
    span = max(offsets)
    if span <= 0 or repetition_time is None or span >= repetition_time:
        return None
    return offsets


def ge_slice_timing(
    manufacturer: str, triggers: Sequence[Any], repetition_time: float | None
) -> list[float] | None:
    """BIDS ``SliceTiming`` (s) of a GE 2-D fMRI from its slices' TriggerTime (0018,1060, ms).

    ``triggers`` in the volume's slice order (its first time point). ``None`` unless the
    Manufacturer is GE and every slice has a number there, not all one, spanning less than
    one RepetitionTime (s): as :func:`slice_timing`. A cardiac-gated series' TriggerTime is
    its delay after the R wave, the same for every slice of a phase: none is written.

    Examples
    --------
    >>> ge_slice_timing("GE MEDICAL SYSTEMS", [0.0, 1000.0, 500.0, 1500.0], 2.0)
    [0.0, 1.0, 0.5, 1.5]
    >>> ge_slice_timing("SIEMENS", [0.0, 1000.0], 2.0) is None
    True
    """
    if not str(manufacturer).strip().upper().startswith("GE"):
        return None
    values = [lenient_number(t) for t in triggers]
    if any(v is None for v in values):
        return None
    return slice_timing([float(v) / 1000.0 for v in values if v is not None], repetition_time)
