"""What Float and Double Float Pixel Data (7FE0,0008 / 7FE0,0009) lose or hold on the way out.

Parametric maps store their values as floats; radpipe's float outputs (NPY, NIfTI) are
float32, which keeps Float Pixel Data exactly and rounds Double Float Pixel Data to 24
significant bits. Rounding aside, a double can lie beyond float32: past its largest value
(3.4e38) it becomes infinite, below its smallest normal value (1.2e-38) it loses precision or
becomes 0. Those values, and NaN or infinite ones, are said in the file's problems.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["float_notes", "rescale_on_floats"]

_SINGLE = np.finfo(np.float32)


def float_notes(arr: np.ndarray, notes: list[str], ds: Any = None) -> None:
    """Append what to say about decoded float pixel data ``arr`` (any shape) to ``notes``.

    ``ds``: the data set, whose RescaleSlope/Intercept beside float pixel data are said.
    """
    _note_non_finite(arr, notes)
    if arr.dtype.itemsize > 4:
        _note_beyond_single(arr, notes)
    if ds is not None:
        notes += rescale_on_floats(ds)


def rescale_on_floats(ds: Any) -> list[str]:
    """A note when RescaleSlope/Intercept other than 1 and 0 sit beside float pixel data.

    The Floating Point Image Pixel modules (PS3.3 C.7.6.24-25) come without a Modality LUT
    module: a Parametric Map's values are its floats, mapped to units by its Real World Value
    Mapping. radpipe applies a rescale found beside them, as pydicom's
    ``apply_modality_lut`` does; the writer may not have meant it, so it is said (it was
    applied without a word).
    """
    from pipeline.dicom.groups import attribute
    from pipeline.dicom.values import first_number

    group = "PixelValueTransformationSequence"
    slope = first_number(attribute(ds, group, "RescaleSlope"), "")
    intercept = first_number(attribute(ds, group, "RescaleIntercept"), "")
    if (slope is None or slope in (0, 1)) and not intercept:
        return []
    shown = f"x {slope or 1:g} + {intercept or 0:g}"
    return [f"RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) ({shown}) applied to float "
            "pixel data, which the standard leaves unrescaled (PS3.3 C.7.6.24: no Modality "
            "LUT module), as pydicom does"]  # fmt: skip


def _note_non_finite(arr: np.ndarray, notes: list[str]) -> None:
    """Say how many Float Pixel Data values are NaN or infinite.

    Parametric maps use NaN for "no value". Float outputs keep them; integer outputs (PNG)
    write NaN as 0 and clip infinities to the ends of the range
    (:func:`pipeline.ops.scale.to_unsigned`).
    """
    finite = np.isfinite(arr)
    if finite.all():
        return
    counts = {"NaN": int(np.isnan(arr).sum()), "+inf": int(np.isposinf(arr).sum()),
              "-inf": int(np.isneginf(arr).sum())}  # fmt: skip
    shown = ", ".join(f"{n} {name}" for name, n in counts.items() if n)
    notes.append(
        f"float pixel data with non-finite values ({shown} of {arr.size}): kept in NPY and "
        "NIfTI, and PNG writes NaN as 0 and infinities as the ends of its range"
    )


def _note_beyond_single(arr: np.ndarray, notes: list[str]) -> None:
    """Say how many Double Float values float32 outputs cannot hold.

    numpy said only "overflow encountered in cast", and nothing of an underflow.
    """
    size = np.abs(arr[np.isfinite(arr)])
    big = int((size > _SINGLE.max).sum())
    tiny = int(((size > 0) & (size < _SINGLE.tiny)).sum())
    said = (
        [f"{big} of {arr.size} beyond float32's range (|v| > 3.4e38) written as +-inf"]
        if big
        else []
    )
    if tiny:
        said.append(f"{tiny} of {arr.size} nonzero below float32's smallest normal value "
                    "(1.2e-38) written with less precision or as 0")  # fmt: skip
    if said:
        notes.append("Double Float Pixel Data (7FE0,0009) in float32 outputs (NPY, NIfTI): "
                     + ", ".join(said))  # fmt: skip
