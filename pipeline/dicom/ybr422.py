"""Native YBR_FULL_422 data with an odd number of Columns, stored row by row.

PS3.3 C.7.6.3.1.2: YBR_FULL_422 stores two Y values and then one Cb and one Cr for each pair
of pixels along a row, so a native frame is ``Rows x Columns x 2`` values. With an odd
Columns the last pixel of a row has no partner, and writers store each row as whole pairs,
``(Columns + 1) / 2`` of them, the last pair's second Y unused: fo-dicom #471 (a file that
crashed its renderer; fixed in fo-dicom PR #479 by reading ``Columns + 1`` per row and
dropping the last pixel). pydicom reads the data as one stream of pairs, called the extra
``Rows x 2`` values excess padding and shifted every row after the first, so the colours
came out shifted along the image without a word. Such data is read here as ``Columns + 1``
columns and the unused last column dropped.

YBR_FULL_422 has that one layout, so native data under a PlanarConfiguration (0028,0006) of 1
(or none) is read as 0 (:func:`pairs_note`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import UID

from pipeline.dicom.files import pixel_length
from pipeline.dicom.plugins import decode_with_pydicom
from pipeline.dicom.ybr422_full import (
    full_sample_note,
    full_samples,
    native_422,
    read_full_samples,
)


def padded_row_columns(ds: Dataset) -> int | None:
    """The stored row width (Columns + 1) when native YBR_FULL_422 rows are padded to pairs.

    ``None`` unless PhotometricInterpretation is YBR_FULL_422, Columns is odd and the pixel
    data holds exactly ``Frames x Rows x (Columns + 1) x 2`` values of BitsAllocated (8 or 16)
    bits: data of the standard's length, ``Frames x Rows x Columns x 2``, is one stream of
    pairs and read as such.
    """
    sizes = native_422(ds)
    if sizes is None:
        return None
    frames, rows, cols, bits = sizes
    if cols % 2 == 0 or bits not in (8, 16):
        return None
    if pixel_length(ds) != frames * rows * (cols + 1) * 2 * (bits // 8):
        return None
    return cols + 1


def pairs_note(term: str, syntax: str | None, planar: int | None) -> str | None:
    """Why native YBR_FULL_422 data is read as PlanarConfiguration 0 against its header.

    PS3.3 C.7.6.3.1.2-3: YBR_FULL_422 has one layout, two Y then one Cb and one Cr for each
    pair of pixels along a row, and its Planar Configuration shall be 0; no planes of
    subsampled colour are defined. pydicom, told 1, read the pairs as three planes of
    ``Rows x Columns`` samples (the colours scrambled and the image in three bands, unsaid),
    and a missing value refused the file; fo-dicom refuses a 1 (fo-dicom #1049). ``None``
    when the header's value is 0 or the data is compressed (the stream orders its samples).
    """
    if term != "YBR_FULL_422" or planar == 0:
        return None
    try:
        if syntax is not None and UID(str(syntax)).is_encapsulated:
            return None
    except ValueError:  # no transfer syntax: refused by the header checks
        return None
    said = "is missing" if planar is None else f"is {planar}"
    return (f"PlanarConfiguration (0028,0006) {said}, but YBR_FULL_422 has one layout, two Y "
            "then Cb and Cr for each pair of pixels (PS3.3 C.7.6.3.1.2: it shall be 0, no "
            "planes of subsampled colour are defined): read as 0")  # fmt: skip


def values_held(ds: Dataset, pixels: int, notes: list[str] | None) -> int:
    """How many values native data of ``pixels`` (Rows x Columns x Frames x Samples) holds.

    Two samples a pixel for the 4:2:2 terms (two chroma samples shared by two pixels,
    C.7.6.3.1.2), in rows of whole pairs where :func:`padded_row_columns` says so; three for
    YBR_FULL_422 data decompressed without its term updated (noted:
    :mod:`pipeline.dicom.ybr422_full`).
    """
    term = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    if term not in ("YBR_FULL_422", "YBR_PARTIAL_422"):
        return pixels
    if full_samples(ds):
        if notes is not None:
            notes.append(full_sample_note(ds))
        return pixels
    pixels = pixels * 2 // 3
    padded = padded_row_columns(ds)  # rows of whole pairs (fo-dicom #471)
    return pixels * padded // int(ds.Columns) if padded else pixels


def decode_rows(ds: Dataset, source: str, notes: list[str], header: dict[str, Any]) -> np.ndarray:
    """:func:`~pipeline.dicom.plugins.decode_with_pydicom`, with padded rows undone.

    Rows of whole pairs are read as ``Columns + 1`` columns and the last one dropped
    (noted); other data as it is.
    """
    if full_samples(ds):  # three samples a pixel: decompressed, its term not updated
        return read_full_samples(ds, source, notes)
    padded = padded_row_columns(ds)
    if not padded:
        return decode_with_pydicom(ds, source, notes, header)
    cols = int(header["columns"])
    notes.append(
        f"YBR_FULL_422 pixel data with an odd Columns (0028,0011) {cols} holds each row as "
        f"{(cols + 1) // 2} whole pixel pairs (the last pair's second Y unused, as fo-dicom "
        f"#471's writer did): read as {cols + 1} columns, the last one dropped"
    )
    arr = decode_with_pydicom(ds, source, notes, {**header, "columns": padded})
    shape = (header["number_of_frames"], header["rows"], padded, header["samples_per_pixel"])
    return np.asarray(arr).reshape(shape)[:, :, :cols]


__all__ = ["decode_rows", "padded_row_columns", "pairs_note", "values_held"]
