"""Tolerant reading of numeric header values, and the header checks every reader shares.

Real files carry values that break a naive ``float(ds.PixelSpacing[0])``: ``"0.7,0.7"``
written with a comma (pydicom #173), a RescaleSlope with two values, text in an IS
attribute, a wrong VR on Rows. Each reader here either recovers the evident intent and says
what it did (a *note*), or raises :class:`~pipeline.errors.DicomError` naming the tag.
"""

from __future__ import annotations

import math
import re
from functools import cache
from typing import Any

from pipeline.errors import DicomError

_TAGS = {
    "Rows": "(0028,0010)", "Columns": "(0028,0011)", "BitsAllocated": "(0028,0100)",
    "BitsStored": "(0028,0101)", "HighBit": "(0028,0102)", "SamplesPerPixel": "(0028,0002)",
    "NumberOfFrames": "(0028,0008)", "PixelRepresentation": "(0028,0103)",
    "PlanarConfiguration": "(0028,0006)", "PhotometricInterpretation": "(0028,0004)",
    "PixelSpacing": "(0028,0030)", "ImagerPixelSpacing": "(0018,1164)",
    "ImagePositionPatient": "(0020,0032)", "ImageOrientationPatient": "(0020,0037)",
    "RescaleSlope": "(0028,1053)", "RescaleIntercept": "(0028,1052)",
    "WindowCenter": "(0028,1050)", "WindowWidth": "(0028,1051)",
    "VOILUTFunction": "(0028,1056)",
}  # fmt: skip
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
    decimal = False
    if type(value) is list and all(type(v) is float for v in value):
        out = tuple(value)  # clean values, as the plain reader gives them
    elif type(value) is float:
        out = (value,)
    else:
        out, decimal = _floats(value, keyword, n)
    if (n is not None and len(out) != n) or not all(map(math.isfinite, out)):
        want = f"{n} numbers" if n else "numbers"
        raise DicomError("", f"{tag_name(keyword)} must hold {want}; got {_show(value)}.")
    if any(abs(v) > _FLOAT32_MAX for v in out):
        shown = "\\".join(f"{v:g}" for v in out)
        raise DicomError("", f"{tag_name(keyword)} holds {shown}: past float32's range "
                             "(3.4e38), which the outputs hold; a damaged value.")  # fmt: skip
    if decimal and notes is not None:
        shown = "\\".join(f"{v:g}" for v in out)
        notes.append(f"{tag_name(keyword)} is written with a decimal comma ({_show(value)}), "
                     f"read as {shown}")  # fmt: skip
    elif notes is not None and len(out) > 1 and _other_delimiter(value):
        notes.append(f"{tag_name(keyword)} uses a non-standard delimiter, read as {out}")
    return out


def _other_delimiter(value: Any) -> bool:
    r"""Whether a DS/IS value's text separates its numbers by something else than ``\``.

    A value pydicom kept as one string (``0.7,0.7``, ``1 0 0 0 1 0``; pydicom #173) has one;
    ``0.7\0.7`` given as text (a UN element's bytes, a functional group's raw value) is
    written as PS3.5 6.4 says and is not noted.
    """
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    return isinstance(value, str) and any(len(_items(piece)) > 1 for piece in value.split("\\"))


def numbers_or_none(value: Any, n: int) -> Any:
    """``n`` finite numbers as :func:`numbers` reads them, else ``None``.

    Another delimiter is read, as the header check reads and notes it; ``None`` when the
    value is absent, unreadable or of another count.
    """
    try:
        return numbers(value, n, "")
    except (DicomError, TypeError, ValueError):
        return None


def spacing_pair(
    value: Any, keyword: str, notes: list[str] | None = None
) -> tuple[float, float] | None:
    """A spacing pair (PixelSpacing, ImagerPixelSpacing): two numbers, or one read as both.

    A single value (``0.7``; VM 2 is required, PS3.3 C.7.6.2.1.1) is read as square pixels,
    as GDCM and ITK read it (dcm2niix leaves the column spacing at its 1 mm default), with a
    note. ``None`` when absent.

    Raises
    ------
    DicomError
        As :func:`numbers`, when the value is neither two finite numbers nor one.

    Examples
    --------
    >>> notes = []
    >>> spacing_pair("0.7", "PixelSpacing", notes), notes[0][:44]
    ((0.7, 0.7), 'PixelSpacing (0028,0030) holds one number (0')
    """
    try:
        two = numbers(value, 2, keyword, notes)
        return None if two is None else (two[0], two[1])
    except DicomError as err:
        if "float32" in err.reason:
            raise
        try:  # one number: read as both; else (none, three, past float32) its own reason
            one = numbers(value, 1, keyword, notes)
        except DicomError as second:
            raise (second if "float32" in second.reason else err) from None
    if one is None:  # pragma: no cover - an absent value returned None above
        return None
    if notes is not None:
        notes.append(f"{tag_name(keyword)} holds one number ({one[0]:g}), not two: read as "
                     f"{one[0]:g}x{one[0]:g} mm (square pixels)")  # fmt: skip
    return (one[0], one[0])


#: The largest float32: a value past it is infinite in the outputs (float32 NPY / NIfTI
#: pixels and affines), and no real header holds one.
_FLOAT32_MAX = 3.4028234663852886e38


def _floats(value: Any, keyword: str, n: int | None) -> tuple[tuple[float, ...], bool]:
    r"""The numbers of a DS/IS value, and whether a comma in it was read as a decimal mark.

    A comma is no DS character. Between numbers written with a point it is a delimiter
    (``0.7,0.7``, pydicom #173); inside a number written without a point it is the decimal
    mark of the writer's locale (``0,7\0,7``, ``-1024,5``; dcmjs #287, fo-dicom PR #1915).
    ``1,5`` could be either: it is one number unless ``n`` numbers are wanted and only the
    delimiter reading gives them (PixelSpacing ``1,1``).
    """
    decimal = _decimal_comma(value)
    try:
        split: tuple[float, ...] | None = tuple(float(v) for v in _items(value))
    except (TypeError, ValueError):
        split = None
    opens = decimal is not None and any(_OPENING.fullmatch(p) for p in _pieces(value))
    if decimal is not None and (split is None or n is None or len(split) != n or opens):
        return decimal, True
    if split is None:
        raise DicomError("", f"{tag_name(keyword)} is not numeric: {_show(value)}.")
    return split, False


_OPENING = re.compile(r"[+-]?,\d+([eE][+-]?\d+)?")  # ",5": it has no delimiter reading
_DECIMAL_COMMA = re.compile(r"[+-]?(\d+,\d*|,\d+)([eE][+-]?\d+)?")


def _pieces(value: Any) -> list[str]:
    """The backslash-separated values of a DS/IS value, stripped, as text."""
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):
        return [p.strip().strip("\x00") for p in value.strip().strip("\x00").split("\\")]
    return [str(p).strip().strip("\x00") for p in (value if hasattr(value, "__len__") else [value])]


def _decimal_comma(value: Any) -> tuple[float, ...] | None:
    """``value`` read with a comma as the decimal mark where a number has one.

    Numbers are the backslash-separated pieces; ``None`` when none has a comma, or a piece is
    not a number then.
    """
    out, found = [], False
    for text in _pieces(value):
        if _DECIMAL_COMMA.fullmatch(text):
            text, found = text.replace(",", "."), True
        try:
            out.append(float(text))
        except ValueError:
            return None
    return tuple(out) if found else None


def first_number(value: Any, keyword: str, notes: list[str] | None = None) -> float | None:
    """A single-valued DS/IS attribute; with several values the first is used, with a note."""
    found = numbers(value, None, keyword, notes)
    if not found:
        return None
    if len(found) > 1 and notes is not None:
        first = f"{found[0]:g}"
        notes.append(f"{tag_name(keyword)} has {len(found)} values, the first ({first}) is used")
    return found[0]


def lenient_number(value: Any) -> float | None:
    """The first number of a DS/IS value as :func:`numbers` reads it (a decimal comma too).

    ``None`` when absent or unreadable: for values whose reader has nothing to refuse.
    """
    try:
        found = numbers(value, None, "")
    except (DicomError, TypeError, ValueError):
        return None
    return found[0] if found else None


def plain_value(value: Any) -> Any:
    """A stack key's value (EchoTime, TriggerTime, ...): a float where it is a number.

    A decimal comma too: ``"12,5"`` is 12.5, not text that sorts after every number. Else its
    text; ``None`` when absent or empty.
    """
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        try:  # one number only: a gradient "x\\y\\z" stays text
            found = numbers(value, 1, "") if isinstance(value, str) else None
        except DicomError:
            found = None
        return str(value) if found is None else found[0]


def slice_size(value: Any) -> float | None:
    """A SliceThickness or SpacingBetweenSlices as a size in mm (``None``: absent, 0, bad).

    A negative value (some exporters write one; outside NM, whose signed spacing
    :func:`~pipeline.dicom.nm_frames.nm_geometry` reads itself, it has no sign) counts by its
    size: the slice direction comes from ImageOrientationPatient, and a negative third axis
    would mirror a one-slice volume.
    """
    try:
        found = numbers(value, None, "") if value not in (None, "") else None
    except DicomError:
        return None
    size = abs(found[0]) if found else math.nan  # "2,5" (a decimal comma) is 2.5
    return size if math.isfinite(size) and size > 0 else None


#: The largest value of each integer VR (PS3.5 6.2): IS is a signed 32-bit integer string.
_VR_MAX = {"US": 2**16 - 1, "SS": 2**15 - 1, "UL": 2**32 - 1, "SL": 2**31 - 1, "IS": 2**31 - 1}


def integer(
    ds: Any,
    keyword: str,
    default: int | None = None,
    *,
    minimum: int = 0,
    maximum: int | None = None,
) -> int | None:
    """An US/IS attribute as an int in ``[minimum, maximum]``; ``default`` when absent.

    ``maximum`` defaults to the largest value of the keyword's VR in the data dictionary
    (:data:`_VR_MAX`: NumberOfFrames, IS, stops at 2**31 - 1, not 2**32, which no integer
    VR holds).

    Raises
    ------
    DicomError
        When the value is not a whole number (a wrong VR, text) or is below ``minimum``.
    """
    if maximum is None:
        maximum = _vr_max(keyword)
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


@cache  # a data-dictionary look-up (Tag parsing, a KeyError path): 0.7 M instructions a file
def _vr_max(keyword: str) -> int:
    """The largest value :data:`_VR_MAX` gives the keyword's VR (its first, for ``US or SS``)."""
    from pydicom.datadict import dictionary_VR

    try:
        vr = dictionary_VR(keyword).split(" or ")[0]
    except KeyError:
        vr = ""
    return _VR_MAX.get(vr, 2**32 - 1)


def orientation(value: Any, notes: list[str] | None = None) -> tuple[float, ...] | None:
    """ImageOrientationPatient as six cosines; refuses zero or parallel row/column vectors.

    ``notes``: where to say how a value written with another delimiter or a decimal comma was
    read (:func:`numbers`), as for ImagePositionPatient and PixelSpacing.
    """
    found = numbers(value, 6, "ImageOrientationPatient", notes)
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
