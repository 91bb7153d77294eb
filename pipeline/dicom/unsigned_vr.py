"""'US or SS' elements of an Implicit VR data set without PixelRepresentation, read as US.

Implicit VR leaves each element's VR to the dictionary; for PixelPaddingValue (0028,0120),
the palette Descriptors (0028,1101-1103), Smallest/LargestImagePixelValue and a few others it
is 'US or SS', told apart by PixelRepresentation (0028,0103) (PS3.5 Annex A.1, pydicom's
``correct_ambiguous_vr``). Without PixelRepresentation (Type 1; the stored values are then
read as unsigned, and :mod:`pipeline.dicom.header_checks` says so) pydicom could not resolve
them: the first read of each raised inside ``Dataset.get``, which gave ``None``. A
PixelPaddingValue was lost without a word (the manifest's padding column empty) and a
PALETTE COLOR image was refused for Descriptors it has. They are read as US, as the pixels.
"""

from __future__ import annotations

from typing import Any

__all__ = ["read_unsigned", "us_or_ss"]


def us_or_ss(value: Any, little: bool, *, signed: bool = True, first: bool = False) -> int | None:
    r"""A 'US or SS' element's value as a number; ``None`` when absent (``None`` or empty).

    Raw bytes (a VR pydicom left unresolved) are one 16-bit value in the byte order ``little``,
    read signed when ``signed``. ``first``: of several values (bytes longer than 2, a list),
    the first; otherwise several values are unreadable.

    Raises
    ------
    ValueError
        When ``value`` is not one number (bytes of another length, a text, several values).

    Examples
    --------
    >>> us_or_ss(b"\x30\xf8", True)  # -2000 written little endian
    -2000
    >>> us_or_ss(b"\x30\xf8", True, signed=False)
    63536
    >>> us_or_ss(b"\x01\x00\x02\x00", True, first=True)
    1
    >>> us_or_ss(None, True) is None
    True
    """
    if isinstance(value, bytes):
        if len(value) != 2 and not (first and len(value) > 2):
            raise ValueError(f"expected 2 bytes; got {len(value)}")
        return int.from_bytes(value[:2], "little" if little else "big", signed=signed)
    if first and (isinstance(value, list | tuple) or type(value).__name__ == "MultiValue"):
        value = value[0] if len(value) else None
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise ValueError(f"not a number: {type(value).__name__}") from err


def read_unsigned(ds: Any, little: bool) -> None:
    """Give the unresolved 'US or SS' elements at the top of ``ds`` the VR US, in place.

    Only when ``ds`` holds pixel data and no PixelRepresentation: otherwise pydicom resolves
    them (nested items, without pixel data, are read as US by pydicom already). ``little``:
    the data set's byte order.
    """
    from pydicom.datadict import dictionary_VR
    from pydicom.dataelem import DataElement, RawDataElement
    from pydicom.values import convert_numbers

    if "PixelRepresentation" in ds or "PixelData" not in ds:
        return
    for elem in list(ds.elements()):
        if not isinstance(elem, RawDataElement) or elem.VR not in (None, "US or SS"):
            continue  # explicit VR, or already read
        try:
            ambiguous = dictionary_VR(elem.tag) == "US or SS"
        except KeyError:  # private or unknown
            continue
        if ambiguous and isinstance(elem.value, bytes) and len(elem.value) % 2 == 0:
            value = convert_numbers(elem.value, little, "H") if elem.value else None
            ds[elem.tag] = DataElement(elem.tag, "US", value)
