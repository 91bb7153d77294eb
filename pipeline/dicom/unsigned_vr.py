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

__all__ = ["read_unsigned"]


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
