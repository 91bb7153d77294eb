"""The header checks every image reader shares.

``inspect`` (the index) and ``convert`` (the reader) run the same checks, so that ``inspect``
refuses exactly what ``convert`` would.
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom import lut
from pipeline.dicom.values import (
    first_number,
    frame_voi_luts,
    frame_window,
    integer,
    numbers,
    orientation,
    tag_name,
)
from pipeline.errors import DicomError

__all__ = ["check_image_header"]


def check_image_header(ds: Any) -> list[str]:
    """The header checks of every image reader; returns notes, raises on what is unusable.

    Checks Rows, Columns, BitsAllocated, SamplesPerPixel, NumberOfFrames, geometry values
    and rescale values, so that ``inspect`` refuses exactly what ``convert`` would.

    The result is kept on the data set (``radpipe_header_notes``), so the index and the
    reader of one file check its header once.

    Raises
    ------
    DicomError
        Naming the tag (the caller fills in the file).
    """
    done = getattr(ds, "radpipe_header_notes", None)
    if done is not None:
        return list(done)
    notes = _checked_header(ds)
    ds.radpipe_header_notes = tuple(notes)
    return notes


def _photometric(ds: Any) -> None:
    """Refuse a missing PhotometricInterpretation (0028,0004), or one not one text value.

    It is Type 1 (PS3.3 C.7.6.3.1.2) and every decoder needs it; whether its term is one
    they know, the decoders say.
    """
    value = ds.get("PhotometricInterpretation")
    name = tag_name("PhotometricInterpretation")
    if value is None or (isinstance(value, str) and not value.strip()):
        raise DicomError("", f"{name} is missing: the pixels cannot be read without it.")
    if not isinstance(value, str):
        n = len(value) if isinstance(value, list | tuple) or hasattr(value, "__len__") else 1
        what = f"{n} values" if n != 1 else f"a {type(value).__name__}"
        raise DicomError("", f"{name} must be one text value (MONOCHROME2, RGB, ...); got {what}.")


def _checked_header(ds: Any) -> list[str]:
    notes: list[str] = []
    for keyword in ("Rows", "Columns"):
        if integer(ds, keyword, minimum=1) is None:
            raise DicomError("", f"{tag_name(keyword)} is missing.")
    integer(ds, "SamplesPerPixel", 1, minimum=1)
    integer(ds, "NumberOfFrames", 1, minimum=0)
    bits = integer(ds, "BitsAllocated", None, minimum=1)
    if bits is not None and bits not in (1, 8, 16, 32, 64):
        raise DicomError("", f"{tag_name('BitsAllocated')} must be 1, 8, 16, 32 or 64; got {bits}.")
    stored = integer(ds, "BitsStored", None, minimum=1, maximum=bits or 64)
    if stored is not None and bits is None:
        raise DicomError("", f"{tag_name('BitsAllocated')} is missing.")
    integer(ds, "PixelRepresentation", 0, maximum=1)
    _photometric(ds)
    for keyword, n in (("PixelSpacing", 2), ("ImagerPixelSpacing", 2), ("ImagePositionPatient", 3)):
        if keyword in ds:
            numbers(ds.get(keyword), n, keyword, notes)
    if "ImageOrientationPatient" in ds:
        orientation(ds.get("ImageOrientationPatient"))
    for keyword in ("RescaleSlope", "RescaleIntercept"):
        if keyword in ds:
            first_number(ds.get(keyword), keyword, notes)
    seq = ds.get("ModalityLUTSequence")
    if seq:  # every output applies it: unusable means refused, here as in the reader
        signed = integer(ds, "PixelRepresentation", 0, maximum=1) == 1
        lut.lut_table(seq[0], "", little=lut.little_endian(ds), signed=signed)
    # Window and VOI LUT serve only --window header: noted, never refused (as the reader does,
    # per frame from an Enhanced object's Frame VOI LUT groups)
    n = max(1, integer(ds, "NumberOfFrames", 1, minimum=0) or 1)
    windows: dict[str, None] = {}
    for frame in range(n if "PerFrameFunctionalGroupsSequence" in ds else 1):
        windows[frame_window(ds, frame)[1] or ""] = None
    frame_voi_luts(ds, "", notes, n)
    return notes + [note for note in windows if note]
