"""Tolerant reading of numeric header values, and the header checks every reader shares.

Real files carry values that break a naive ``float(ds.PixelSpacing[0])``: ``"0.7,0.7"``
written with a comma (pydicom #173), a RescaleSlope with two values, text in an IS
attribute, a wrong VR on Rows. Each reader here either recovers the evident intent and says
what it did (a *note*), or raises :class:`~pipeline.errors.DicomError` naming the tag.
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from pipeline.dicom import lut
from pipeline.dicom.groups import attribute
from pipeline.dicom.reasons import unexpected_failure
from pipeline.errors import DicomError
from pipeline.ops.voi import VOI_FUNCTIONS

_TAGS = {
    "Rows": "(0028,0010)",
    "Columns": "(0028,0011)",
    "BitsAllocated": "(0028,0100)",
    "BitsStored": "(0028,0101)",
    "HighBit": "(0028,0102)",
    "SamplesPerPixel": "(0028,0002)",
    "NumberOfFrames": "(0028,0008)",
    "PixelRepresentation": "(0028,0103)",
    "PlanarConfiguration": "(0028,0006)",
    "PhotometricInterpretation": "(0028,0004)",
    "PixelSpacing": "(0028,0030)",
    "ImagerPixelSpacing": "(0018,1164)",
    "ImagePositionPatient": "(0020,0032)",
    "ImageOrientationPatient": "(0020,0037)",
    "RescaleSlope": "(0028,1053)",
    "RescaleIntercept": "(0028,1052)",
    "WindowCenter": "(0028,1050)",
    "WindowWidth": "(0028,1051)",
}
_SPLIT = re.compile(r"[\\,;/]|\s+")


def tag_name(keyword: str) -> str:
    """``"PixelSpacing (0028,0030)"`` for messages."""
    return f"{keyword} {_TAGS.get(keyword, '')}".strip()


def _items(value: Any) -> list[Any]:
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        return [p for p in _SPLIT.split(value.strip().strip("\x00")) if p]
    if hasattr(value, "__len__") and not isinstance(value, str):
        return list(value)
    return [value]


def numbers(
    value: Any, n: int | None, keyword: str, notes: list[str] | None = None
) -> tuple[float, ...] | None:
    """Parse a DS/IS value with ``n`` numbers (any count when ``None``); ``None`` if absent.

    A string holding several numbers (the delimiter was not a backslash, so pydicom kept
    one string) is split on ``,`` ``;`` ``/`` or spaces, and a note says so.

    Raises
    ------
    DicomError
        With an empty source (the caller adds the file) when the value is not ``n`` finite
        numbers.

    Examples
    --------
    >>> numbers("0.7,0.7", 2, "PixelSpacing")
    (0.7, 0.7)
    """
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        return None
    if type(value) is list and all(type(v) is float for v in value):
        out = tuple(value)  # clean values, as the plain reader gives them
    elif type(value) is float:
        out = (value,)
    else:
        out = _floats(value, keyword)
    if (n is not None and len(out) != n) or not all(map(math.isfinite, out)):
        want = f"{n} numbers" if n else "numbers"
        raise DicomError("", f"{tag_name(keyword)} must hold {want}; got {_show(value)}.")
    if isinstance(value, str | bytes) and len(out) > 1 and notes is not None:
        notes.append(f"{tag_name(keyword)} uses a non-standard delimiter, read as {out}")
    return out


def _floats(value: Any, keyword: str) -> tuple[float, ...]:
    try:
        return tuple(float(v) for v in _items(value))
    except (TypeError, ValueError):
        raise DicomError("", f"{tag_name(keyword)} is not numeric: {_show(value)}.") from None


def first_number(value: Any, keyword: str, notes: list[str] | None = None) -> float | None:
    """A single-valued DS/IS attribute; with several values the first is used, with a note."""
    found = numbers(value, None, keyword)
    if not found:
        return None
    if len(found) > 1 and notes is not None:
        first = f"{found[0]:g}"
        notes.append(f"{tag_name(keyword)} has {len(found)} values, the first ({first}) is used")
    return found[0]


def voi_function(ds: Any) -> str:
    """VOILUTFunction (0028,1056) in upper case; ``LINEAR`` when absent or empty.

    ``ds`` is a data set, or the value itself (a frame's, from its functional group).
    """
    value = ds.get("VOILUTFunction") if hasattr(ds, "get") else ds
    return str(value or "LINEAR").strip().upper()


def header_window(
    center: Any, width: Any, function: str = "LINEAR"
) -> tuple[tuple[float, float] | None, str | None]:
    r"""The first WindowCenter/WindowWidth pair, or ``None`` and a note saying why not.

    Never raises: a window only serves ``--window header``, so an unusable one (text, a
    non-finite value, unequal value counts, a width the VOILUTFunction cannot use, an
    unknown VOILUTFunction) is ignored, as a file without a window is, and the note says so.
    Several pairs (pydicom #330): the first is the default (PS3.3 C.11.2.1.2).

    Examples
    --------
    >>> header_window("40\\-600", "400\\1500")
    ((40.0, 400.0), None)
    >>> header_window(40, 0)
    (None, "WindowWidth 0 is not positive: the header's window is ignored")
    """
    ignored = ": the header's window is ignored"
    absent = [_absent(center), _absent(width)]
    if all(absent):
        return None, None
    if any(absent):
        missing = "WindowCenter" if absent[0] else "WindowWidth"
        return None, f"{tag_name(missing)} is missing{ignored}"
    try:
        centers, widths = numbers(center, None, "WindowCenter"), numbers(width, None, "WindowWidth")
    except DicomError as err:
        return None, err.reason.rstrip(".") + ignored
    assert centers is not None and widths is not None
    if len(centers) != len(widths):
        return None, (f"{tag_name('WindowCenter')} has {len(centers)} values and "
                      f"{tag_name('WindowWidth')} {len(widths)}{ignored}")  # fmt: skip
    if function not in VOI_FUNCTIONS:
        return None, (f"VOILUTFunction (0028,1056) is none of {', '.join(VOI_FUNCTIONS)} "
                      f"(got {_show(function)}){ignored}")  # fmt: skip
    w = widths[0]
    if w <= 0:  # PS3.3 C.11.2.1.2: width >= 1 (LINEAR), > 0 (LINEAR_EXACT, SIGMOID)
        return None, f"WindowWidth {w:g} is not positive{ignored}"
    if w < 1 and function == "LINEAR":
        return None, f"WindowWidth {w:g} is below 1, the least a LINEAR window allows{ignored}"
    return (centers[0], w), None


def frame_window(ds: Any, frame: int) -> tuple[tuple[float, float] | None, str | None, str]:
    """One frame's header window, its note (:func:`header_window`) and its VOILUTFunction.

    All three sit in the frame's Frame VOI LUT functional group (PS3.3 C.7.6.16.2.10):
    per-frame, else shared, else the top level (:func:`pipeline.dicom.groups.attribute`).
    The reader (:mod:`pipeline.dicom.read`) and the header check of ``inspect`` both use it.
    """
    function = voi_function(attribute(ds, "FrameVOILUTSequence", "VOILUTFunction", frame))
    window, note = header_window(
        attribute(ds, "FrameVOILUTSequence", "WindowCenter", frame),
        attribute(ds, "FrameVOILUTSequence", "WindowWidth", frame),
        function,
    )
    return window, note, function


def _absent(value: Any) -> bool:
    return value is None or (isinstance(value, str | bytes) and not value.strip())


def usable_voi_lut(
    ds: Any, source: str, notes: list[str], seq: Any = None, frame: int = 0
) -> tuple[int, np.ndarray, int] | None:
    """The first VOI LUT Sequence (0028,3010) item as ``(first_mapped, table, bits)``.

    ``seq``: the sequence to read (a frame's, from its Frame VOI LUT group); default the
    data set's own. ``frame``: a frame it serves, whose rescale decides the sign of the first
    value mapped (:func:`voi_input_signed`). Never raises: like a header window, a VOI LUT
    only serves ``--window header``, so an unusable one is ignored (``header`` then uses the
    window, if any) with a note.
    """
    try:
        seq = ds.get("VOILUTSequence") if seq is None else seq
        if not seq:
            return None
        first, table, bits = lut.lut_table(seq[0], source, little=lut.little_endian(ds))
        # the second value's VR (US or SS) follows the modality values, not the stored ones:
        # an Implicit VR reader resolves it by PixelRepresentation alone
        if voi_input_signed(ds, frame):
            first = first - 2**16 if first >= 2**15 else first
        elif first < 0:
            first += 2**16
        return first, table, _voi_lut_bits(table, bits, notes)
    except (DicomError, TypeError, ValueError, AttributeError, IndexError) as err:
        why = err.reason if isinstance(err, DicomError) else unexpected_failure(err, str(err))
        why = why.rstrip(".").replace("; ", ", ")  # notes are joined with "; "
        notes.append(f"VOILUTSequence (0028,3010) is unusable ({why}): ignored")
        return None


def voi_input_signed(ds: Any, frame: int = 0) -> bool:
    """Whether the values entering the VOI LUT may be negative (PS3.3 C.11.2.1.1).

    This is the VR (SS, else US) of its LUT Descriptor's first value mapped:
    PixelRepresentation's without a modality transform, US after a Modality LUT Sequence
    (whose output is unsigned, C.11.1.1.1), and after RescaleSlope/Intercept (the frame's,
    from its Pixel Value Transformation group) SS when they map the stored range below 0:
    always for CT in HU. A CT of unsigned stored values with intercept -1024 has an SS first
    value such as -1024, which an Implicit VR reader (pydicom included) resolves by
    PixelRepresentation as the US 64512: every value then fell below the table, a black image.
    """
    try:
        pixel_signed = integer(ds, "PixelRepresentation", 0, maximum=1) == 1
    except DicomError:
        pixel_signed = False
    if ds.get("ModalityLUTSequence"):
        return False
    try:
        slope = first_number(
            attribute(ds, "PixelValueTransformationSequence", "RescaleSlope", frame), ""
        )
        intercept = first_number(
            attribute(ds, "PixelValueTransformationSequence", "RescaleIntercept", frame), ""
        )
        if slope is None and intercept is None:
            return pixel_signed
        bits = integer(ds, "BitsStored", None) or integer(ds, "BitsAllocated", 16) or 16
    except DicomError:  # an unreadable rescale: the reader refuses the file anyway
        return pixel_signed
    slope = slope or 1.0  # absent or 0 (ignored by the reader): 1
    low, high = (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if pixel_signed else (0, 2**bits - 1)
    return min(low * slope, high * slope) + (intercept or 0.0) < 0


def _voi_lut_bits(table: np.ndarray, bits: int, notes: list[str]) -> int:
    """The output depth of a VOI LUT: the LUT Descriptor's bits, unless its entries say other.

    The VOI LUT's output spans ``0 .. 2**bits - 1`` (PS3.3 C.11.2.1.1), but some writers put
    the bits *allocated* there: Agfa CRs write 16 over entries of 12 bits (dicom-rs PR #825,
    cornerstone #106, OHIF #818), so the image came out near black; others write 8 over 12-
    or 16-bit entries (clipped white). Horos, Cornerstone and dcmtk's automatic mode take the
    depth from the largest entry instead, as here: entries that exceed the descriptor's range,
    or never reach its top bit, give the depth of their largest value (8 at least), and a
    note says so.
    """
    top = int(table.max()) if table.size else 0
    used = max(top.bit_length(), 8)
    if top <= 0 or used == bits or (bits <= 8 and top < 2**bits):
        return bits
    notes.append(
        f"VOI LUT bits corrected: LUTDescriptor (0028,3002) says {bits}-bit entries but they "
        f"reach {top}, so the output is scaled as {used}-bit (0..{2**used - 1}), as viewers do"
    )
    return used


def frame_voi_luts(
    ds: Any, source: str, notes: list[str], n: int
) -> list[tuple[int, np.ndarray, int] | None]:
    """Each of ``n`` frames' VOI LUT (:func:`usable_voi_lut`), one table per distinct item.

    An Enhanced object keeps it in the frame's Frame VOI LUT group (PS3.3 C.7.6.16.2.10b,
    Frame VOI LUT With LUT: Legacy Converted Enhanced images): per-frame, else shared, else
    the top level.
    """
    tables: dict[int, tuple[int, np.ndarray, int] | None] = {}
    out = []
    for frame in range(n if "PerFrameFunctionalGroupsSequence" in ds else 1):
        seq = attribute(ds, "FrameVOILUTSequence", "VOILUTSequence", frame)
        if id(seq) not in tables:
            tables[id(seq)] = usable_voi_lut(ds, source, notes, seq, frame) if seq else None
        out.append(tables[id(seq)])
    return out if len(out) == n else out[:1] * n


def slice_size(value: Any) -> float | None:
    """A SliceThickness or SpacingBetweenSlices as a size in mm (``None``: absent, 0, bad).

    A negative value (some exporters write one; outside NM, whose signed spacing
    :func:`~pipeline.dicom.frames.nm_geometry` reads itself, it has no sign) counts by its
    size: the slice direction comes from ImageOrientationPatient, and a negative third axis
    would mirror a one-slice volume.
    """
    try:
        size = abs(float(value)) if value not in (None, "") else math.nan
    except (TypeError, ValueError):
        return None
    return size if math.isfinite(size) and size > 0 else None


def integer(
    ds: Any, keyword: str, default: int | None = None, *, minimum: int = 0, maximum: int = 2**32
) -> int | None:
    """An US/IS attribute as an int in ``[minimum, maximum]``; ``default`` when absent.

    Raises
    ------
    DicomError
        When the value is not a whole number (a wrong VR, text) or is below ``minimum``.
    """
    value = ds.get(keyword)
    if type(value) is int and minimum <= value <= maximum:
        return value  # a clean US or IS value
    if value is None or (isinstance(value, str | bytes) and not value.strip()):
        return default
    items = _items(value)
    try:
        number = float(items[0]) if len(items) == 1 else float("nan")
    except (TypeError, ValueError, IndexError):
        number = float("nan")
    if not math.isfinite(number) or number != int(number) or not minimum <= number <= maximum:
        raise DicomError("", f"{tag_name(keyword)} must be a whole number in {minimum}.."
                             f"{maximum}; got {_show(value)}.")  # fmt: skip
    return int(number)


def orientation(value: Any) -> tuple[float, ...] | None:
    """ImageOrientationPatient as six cosines; refuses zero or parallel row/column vectors."""
    found = numbers(value, 6, "ImageOrientationPatient")
    if found is None:
        return None
    (a, b, c), (d, e, f) = found[:3], found[3:]
    normal = (b * f - c * e, c * d - a * f, a * e - b * d)  # row x column
    if min(_norm(found[:3]), _norm(found[3:]), _norm(normal)) < 1e-3:
        raise DicomError(
            "", f"{tag_name('ImageOrientationPatient')} row and column are zero or parallel; "
            f"got {found}.",
        )  # fmt: skip
    return found


def _norm(vector: tuple[float, ...]) -> float:
    return sum(v * v for v in vector) ** 0.5


def _show(value: Any) -> str:
    """A header value for an error message.

    Numbers and separators are shown as they are (``'1,5'``); anything else is described, not
    shown, since a damaged numeric field can hold text such as a name.
    """
    if isinstance(value, bytes):  # a wrong VR (OB, UN): shown as the text it holds, not b'..'
        value = value.decode("latin-1").strip(" \x00")
    text = repr(value if not hasattr(value, "__len__") or isinstance(value, str | bytes)
                else list(value))  # fmt: skip
    if not _NUMERIC_TEXT.fullmatch(text):
        size = len(_as_written(value))
        return f"text of {size} characters (not shown: it is no number)"
    return text if len(text) <= 40 else text[:37] + "..."


def _as_written(value: Any) -> str | bytes:
    """The value as its element holds it (values joined by a backslash), for its length."""
    if isinstance(value, str | bytes):
        return value
    if hasattr(value, "__len__"):
        return "\\".join(map(str, value))
    return str(value)


_NUMERIC_TEXT = re.compile(r"[\s\d.,+\-eE\\\[\]'\"b()]*")
