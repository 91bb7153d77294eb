"""Vendor scaling that the DICOM modality LUT does not cover, told to the user.

Philips MR files carry a private ScaleSlope (2005,100E) next to RescaleSlope/Intercept. The
DICOM modality value, stored x RescaleSlope + RescaleIntercept, is what the scanner console
displays (Philips' DV) and what pydicom, ITK and MONAI give; Philips' "floating-point" value
FP = DV / (RescaleSlope x ScaleSlope) (Chenevert et al. 2014, PMC3998685) is what dcm2niix
writes by default since v1.0.20210317 (dcm2niix #493, #575). The two differ by a factor that
changes from series to series (MRtrix3 #2499), so radpipe says which one it wrote.

Philips PET files whose Units (0054,1001) are CNTS hold counts: the modality values are not
an activity concentration. Philips' private Activity Concentration Scale Factor (7053,1009)
turns them into Bq/ml and its SUV Scale Factor (7053,1000) into SUVbw (OHIF #1418, MOOSE
#230, calculate-suv); neither is applied (no reader applies them by default), and the note
gives both factors.

A Real World Value Mapping (0040,9096) can hold the only mapping to quantitative values (an
ADC map in mm2/s, a Philips phase map in mrad, a SPECT in counts); it is not applied either
(nor by pydicom, ITK or MONAI), and when it would give other values than the modality values
the note gives it.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

#: Philips private creator and the ScaleSlope element in its block (2005,10xx).
PHILIPS_CREATOR = 0x20050010
PHILIPS_SCALE_SLOPE = 0x2005100E


#: Philips PET private block (7053,10xx): SUV Scale Factor and Activity Concentration Scale Factor.
PET_CREATOR = 0x70530010
PET_SUV_FACTOR, PET_BQML_FACTOR = 0x70531000, 0x70531009


def vendor_notes(
    ds: Any,
    rescale_slope: float,
    frame_slopes: Sequence[float] = (),
    rescale_intercept: float = 0.0,
) -> list[str]:
    """Every note on a scaling not applied: Philips ScaleSlope, PET counts, real-world values."""
    found = (philips_scale_note(ds, rescale_slope, frame_slopes), pet_counts_note(ds),
             real_world_note(ds, rescale_slope, rescale_intercept))  # fmt: skip
    return [n for n in found if n]


def real_world_note(ds: Any, rescale_slope: float, rescale_intercept: float) -> str:
    """A note when a Real World Value Mapping (0040,9096) differs from the modality values.

    Real-world values (an ADC in mm2/s, a phase in mrad, SPECT counts) can be given there
    and nowhere else: without RescaleSlope the modality values are the stored integers
    (nibabel PR #143, STIR #1123, dcm2niix #975). Like pydicom, ITK and MONAI, radpipe
    writes the modality values; the note gives the mapping (first item: the frame 0 or
    shared one of an Enhanced object) when it would give other values. "" otherwise.
    """
    item = _real_world_item(ds)
    if item is None:
        return ""
    units = item.get("MeasurementUnitsCodeSequence")
    unit = str(units[0].get("CodeValue", "")) if units else ""
    unit = unit or str(item.get("LUTLabel", "") or "") or "real-world values"
    slope = _decimal(_value(item.get("RealWorldValueSlope")))
    if slope is None:
        if "RealWorldValueLUTData" not in item:
            return ""
        how = "by a LUT"
    else:
        intercept = _decimal(_value(item.get("RealWorldValueIntercept"))) or 0.0
        if math.isclose(slope, rescale_slope, rel_tol=1e-6) and math.isclose(
            intercept, rescale_intercept, rel_tol=1e-6, abs_tol=1e-9
        ):
            return ""
        how = f"= stored x {slope:g} + {intercept:g}"
    return (
        f"Real World Value Mapping not applied: (0040,9096) gives {unit} {how}, the values "
        f"written are the modality values (stored x {rescale_slope:g} + {rescale_intercept:g})"
    )


def _real_world_item(ds: Any) -> Any:
    """The first Real World Value Mapping item: frame 0's or the shared one, else the top's."""
    for name in ("PerFrameFunctionalGroupsSequence", "SharedFunctionalGroupsSequence"):
        seq = ds.get(name)
        found = seq[0].get("RealWorldValueMappingSequence") if seq else None
        if found:
            return found[0]
    found = ds.get("RealWorldValueMappingSequence")
    return found[0] if found else None


def pet_counts_note(ds: Any) -> str:
    """A note when a PET image's values are counts (Units (0054,1001) CNTS), "" if not.

    With Philips' (7053,1009) / (7053,1000) factors the note gives them: Bq/ml and SUVbw are
    the values written times each factor.
    """
    if str(ds.get("Modality", "")).strip().upper() != "PT":
        return ""
    if str(_value(ds.get("Units", "")) or "").strip().upper() != "CNTS":
        return ""
    note = "PET values are counts: Units (0054,1001) is CNTS, not an activity concentration"
    if not _philips_block(ds, PET_CREATOR):
        return note
    factors = []
    for tag, what in ((PET_BQML_FACTOR, "Bq/ml"), (PET_SUV_FACTOR, "SUVbw")):
        factor = _decimal(_value(ds.get(tag))) if tag in ds else None
        if factor is not None and math.isfinite(factor) and factor > 0:
            factors.append(f"{what} = that x ({tag >> 16:04X},{tag & 0xFFFF:04X}) {factor:g}")
    return f"{note} (Philips factors, not applied: {', '.join(factors)})" if factors else note


def philips_scale_note(ds: Any, rescale_slope: float, frame_slopes: Sequence[float] = ()) -> str:
    """A note when a Philips ScaleSlope makes FP differ from the values written ("" if not).

    The ScaleSlope is read from the data set itself (classic objects) or, in an enhanced
    multi-frame object without one, from each frame's functional groups, where Philips keeps
    it in a private sequence item ((2005,140F), with its own private creator; dcm2niix #363
    and #463 show such series).

    Parameters
    ----------
    ds
        A pydicom Dataset (or radpipe's plain dataset), header only is enough.
    rescale_slope
        The RescaleSlope used for the modality values (1 when absent).
    frame_slopes
        The RescaleSlope of each frame (enhanced objects), in frame order.

    Returns
    -------
    str
        ``Philips ScaleSlope not applied: (2005,100E) is 4, ...`` with the divisor that turns the
        values written into Philips' FP values (its range when it differs by frame); empty for
        other vendors, a missing or unusable ScaleSlope, or RescaleSlope x ScaleSlope = 1
        (FP equals DV).
    """
    scale = _scale_slope(ds)
    scales: list[float | None] = [scale]
    slopes = [rescale_slope]
    if scale is None:
        scales = _frame_scale_slopes(ds)
        slopes = list(frame_slopes) or [rescale_slope] * len(scales)
    pairs = [(s, r) for s, r in zip(scales, slopes) if s is not None]
    divisors = [s * r for s, r in pairs]
    if not divisors or all(math.isclose(d, 1.0, rel_tol=1e-6) for d in divisors):
        return ""
    where = "(2005,100E)" if scale is not None else "the frames' (2005,100E)"
    return (
        f"Philips ScaleSlope not applied: {where} is {_span([s for s, _ in pairs])}, values are "
        "stored x RescaleSlope + RescaleIntercept (the console's displayed value, as pydicom "
        "gives), Philips' floating-point value (dcm2niix's default) is that / (RescaleSlope x "
        f"ScaleSlope) = that / {_span(divisors)}"
    )


def _span(values: list[float]) -> str:
    lo, hi = min(values), max(values)
    return f"{lo:g}" if math.isclose(lo, hi, rel_tol=1e-6) else f"{lo:g} to {hi:g} by frame"


def _philips_block(ds: Any, creator_tag: int) -> bool:
    """Whether the private creator at ``creator_tag`` of ``ds`` (data set or item) is Philips'.

    Its value is text, or raw bytes when read without the private dictionary.
    """
    try:
        creator = _value(ds.get(creator_tag)) if creator_tag in ds else None
    except (AttributeError, TypeError, KeyError):
        return False
    if isinstance(creator, bytes):
        creator = creator.decode("latin-1")
    return "PHILIPS" in str(creator or "").upper()


def _scale_slope(ds: Any) -> float | None:
    """The ScaleSlope of one data set (or item) with a Philips private block, else None."""
    if not _philips_block(ds, PHILIPS_CREATOR) or PHILIPS_SCALE_SLOPE not in ds:
        return None
    scale = _float(_value(ds.get(PHILIPS_SCALE_SLOPE)))
    return None if scale is None or scale == 0 or not math.isfinite(scale) else scale


def _frame_scale_slopes(ds: Any) -> list[float | None]:
    """Each frame's ScaleSlope from its functional groups; ``[]`` if none or not Philips.

    A frame's value is in its functional groups item itself or one sequence item below it.
    """
    if "PHILIPS" not in str(ds.get("Manufacturer", "")).upper():
        return []
    found = [_item_scale_slope(item) for item in ds.get("PerFrameFunctionalGroupsSequence") or []]
    return found if any(s is not None for s in found) else []


def _item_scale_slope(item: Any) -> float | None:
    """The ScaleSlope of a functional groups item, else of the first nested item holding one."""
    scale = _scale_slope(item)
    if scale is not None:
        return scale
    nested = (sub for e in item if getattr(e, "VR", None) == "SQ" for sub in e.value or [])
    return next((s for s in map(_scale_slope, nested) if s is not None), None)


def _value(element: Any) -> Any:
    return getattr(element, "value", element)


def _float(value: Any) -> float | None:
    """A float from an FL value: a number, the first of several, or 4 raw bytes.

    Raw bytes come from implicit VR files read without the private dictionary.
    """
    if isinstance(value, bytes | bytearray):
        return struct.unpack("<f", bytes(value[:4]))[0] if len(value) >= 4 else None
    return _first_number(value)


def _decimal(value: Any) -> float | None:
    """A float from a DS value: a number, text, or its raw bytes (read without its VR)."""
    if isinstance(value, bytes | bytearray):
        value = bytes(value).decode("latin-1").strip(" \0")
    return _first_number(value)


def _first_number(value: Any) -> float | None:
    """A float from a number or text, the first of several; None if there is none."""
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
