"""What ``convert`` notes while decoding that the header alone already tells ``inspect``.

``inspect`` reads headers only; ``convert`` notes more while it decodes: a rescale applied to
float pixel data, a RescaleSlope of 0 replaced by 1, a HighBit that is not BitsStored - 1,
frame 0's spacing and window notes. A user who checked a folder with ``inspect`` saw none of
them and met them only in the manifest. :func:`decoding_notes` gives them from the header, in
``convert``'s words. A HighBit above BitsStored - 1 inside the cell of native data is the
exception: whether the values are shifted down depends on them, so they are read then
(:func:`header_high_bit_notes`).
"""

from __future__ import annotations

from typing import Any

__all__ = ["decoding_notes", "header_high_bit_notes"]


def decoding_notes(ds: Any) -> list[str]:
    """``convert``'s header-borne decoding notes of ``ds`` (frame 0's for Enhanced objects).

    Raises
    ------
    DicomError
        Where ``convert`` refuses the frame's geometry or rescale values (named by tag).
    """
    from pipeline.dicom.files import has_pixels
    from pipeline.dicom.floats import rescale_on_floats
    from pipeline.dicom.frame_info import frame_zero_notes
    from pipeline.dicom.modality_range import header_range_notes

    notes = frame_zero_notes(ds)
    if "PixelData" not in ds:
        return notes + (rescale_on_floats(ds) if has_pixels(ds) else [])
    return notes + header_high_bit_notes(ds) + header_range_notes(ds)


def header_high_bit_notes(ds: Any) -> list[str]:
    """``convert``'s HighBit note for ``ds``, found as it finds it (``[]`` when there is none).

    Only a HighBit above BitsStored - 1 inside the cell of native grey data needs the values;
    they are read then (the pixel element, once).
    """
    import numpy as np

    from pipeline.dicom.decode import frame_count
    from pipeline.dicom.high_bit import high_bit_problem, native_grey_dtype, read_high_bit
    from pipeline.dicom.values import integer

    high = integer(ds, "HighBit", None)
    allocated = int(integer(ds, "BitsAllocated", None) or 0)
    stored = int(integer(ds, "BitsStored", allocated) or 0)
    if high is None or not stored or not allocated or high == stored - 1:
        return []
    samples = int(integer(ds, "SamplesPerPixel", 1) or 1)
    signed = int(integer(ds, "PixelRepresentation", 0) or 0) == 1
    dtype = native_grey_dtype(ds, allocated, samples, signed)
    if dtype is None or not stored - 1 < high < allocated:  # the values decide nothing
        return [
            f"{high_bit_problem(high, stored, allocated)}: values read from the low {stored} bits"
        ]
    data = ds.pixel_bytes() if hasattr(ds, "pixel_bytes") else ds.PixelData
    count = min(frame_count(ds) * int(ds.Rows) * int(ds.Columns), len(data) // dtype.itemsize)
    notes: list[str] = []
    read_high_bit(np.frombuffer(data, dtype, count=count), high, stored, notes)
    return notes
