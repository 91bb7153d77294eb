"""Vendor scaling that the DICOM modality LUT does not cover, told to the user.

Philips MR files carry a private ScaleSlope (2005,100E) next to RescaleSlope/Intercept. The
DICOM modality value, stored x RescaleSlope + RescaleIntercept, is what the scanner console
displays (Philips' DV) and what pydicom, ITK and MONAI give; Philips' "floating-point" value
FP = DV / (RescaleSlope x ScaleSlope) (Chenevert et al. 2014, PMC3998685) is what dcm2niix
writes by default since v1.0.20210317 (dcm2niix #493, #575). The two differ by a factor that
changes from series to series (MRtrix3 #2499), so radpipe says which one it wrote.
"""

from __future__ import annotations

import math
import struct
from typing import Any

#: Philips private creator and the ScaleSlope element in its block (2005,10xx).
PHILIPS_CREATOR = 0x20050010
PHILIPS_SCALE_SLOPE = 0x2005100E


def philips_scale_note(ds: Any, rescale_slope: float) -> str:
    """A note when a Philips ScaleSlope makes FP differ from the values written ("" if not).

    Parameters
    ----------
    ds
        A pydicom Dataset (or radpipe's plain dataset), header only is enough.
    rescale_slope
        The RescaleSlope used for the modality values (1 when absent).

    Returns
    -------
    str
        ``Philips ScaleSlope not applied: (2005,100E) is 4, ...`` with the divisor that turns the
        values written into Philips' FP values; empty for other vendors, a missing or
        unusable ScaleSlope, or RescaleSlope x ScaleSlope = 1 (FP equals DV).
    """
    if PHILIPS_SCALE_SLOPE not in ds or PHILIPS_CREATOR not in ds:
        return ""
    creator = _value(ds.get(PHILIPS_CREATOR))
    if isinstance(creator, bytes):
        creator = creator.decode("latin-1")
    if "PHILIPS" not in str(creator).upper():
        return ""
    scale = _float(_value(ds.get(PHILIPS_SCALE_SLOPE)))
    if scale is None or scale == 0 or not math.isfinite(scale):
        return ""
    divisor = rescale_slope * scale
    if math.isclose(divisor, 1.0, rel_tol=1e-6):
        return ""
    return (
        f"Philips ScaleSlope not applied: (2005,100E) is {scale:g}, values are stored x "
        "RescaleSlope + RescaleIntercept (the console's displayed value, as pydicom gives), "
        "Philips' floating-point value (dcm2niix's default) is that / (RescaleSlope x "
        f"ScaleSlope) = that / {divisor:g}"
    )


def _value(element: Any) -> Any:
    return getattr(element, "value", element)


def _float(value: Any) -> float | None:
    """A float from an FL value: a number, the first of several, or 4 raw bytes.

    Raw bytes come from implicit VR files read without the private dictionary.
    """
    if isinstance(value, bytes | bytearray):
        return struct.unpack("<f", bytes(value[:4]))[0] if len(value) >= 4 else None
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return None if value is None else float(value)
    except (TypeError, ValueError):
        return None
