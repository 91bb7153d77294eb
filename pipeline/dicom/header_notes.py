"""What ``convert`` notes while decoding that the header alone already tells ``inspect``.

``inspect`` reads headers only; ``convert`` notes more while it decodes: a rescale applied to
float pixel data, a RescaleSlope of 0 replaced by 1, a HighBit that is not BitsStored - 1,
frame 0's spacing and window notes. A user who checked a folder with ``inspect`` saw none of
them and met them only in the manifest. :func:`decoding_notes` gives them from the header, in
``convert``'s words. A HighBit above BitsStored - 1 inside the cell is the exception: whether
the values are shifted down depends on them, so only ``inspect --decode`` says it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["decoding_notes"]


def decoding_notes(ds: Any) -> list[str]:
    """``convert``'s header-borne decoding notes of ``ds`` (frame 0's for Enhanced objects).

    Raises
    ------
    DicomError
        Where ``convert`` refuses the frame's geometry or rescale values (named by tag).
    """
    from pipeline.dicom.decode import high_bit_problem
    from pipeline.dicom.files import has_pixels
    from pipeline.dicom.floats import rescale_on_floats
    from pipeline.dicom.frame_info import frame_zero_notes
    from pipeline.dicom.values import integer

    notes = frame_zero_notes(ds)
    if "PixelData" not in ds:
        return notes + (rescale_on_floats(ds) if has_pixels(ds) else [])
    high = integer(ds, "HighBit", None)
    allocated = integer(ds, "BitsAllocated", None)
    stored = int(integer(ds, "BitsStored", allocated) or 0)
    if high is None or not stored or not allocated:
        return notes
    what = high_bit_problem(high, stored, int(allocated))
    if what and (high < stored - 1 or high >= allocated):  # no shift down could be chosen
        notes.append(f"{what}: values read from the low {stored} bits")
    return notes
