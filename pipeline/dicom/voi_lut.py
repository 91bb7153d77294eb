"""The VOI LUT Sequence (0028,3010) of a data set or of each frame, as the reader applies it.

Never raises: like a header window, a VOI LUT only serves ``--window header``, so an unusable
one is ignored with a note (:func:`usable_voi_lut`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pipeline.dicom import lut
from pipeline.dicom.groups import attribute
from pipeline.dicom.notes import note_text
from pipeline.dicom.reasons import unexpected_failure
from pipeline.dicom.values import first_number, integer
from pipeline.errors import DicomError

__all__ = ["frame_voi_luts", "usable_voi_lut", "voi_input_signed"]


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
        if seq is None:
            return None
        if not len(seq):  # Type 1C: present means one item or more (PS3.3 C.11.2)
            raise DicomError(source, "it holds no item")
        first, table, bits = lut.lut_table(
            seq[0],
            source,
            little=lut.little_endian(ds),
            longer=notes,
            sequence="VOILUTSequence (0028,3010)",
        )
        # the second value's VR (US or SS) follows the modality values, not the stored ones:
        # an Implicit VR reader resolves it by PixelRepresentation alone
        if voi_input_signed(ds, frame):
            first = first - 2**16 if first >= 2**15 else first
        elif first < 0:
            first += 2**16
        return first, table, _voi_lut_bits(table, bits, notes)
    except (DicomError, TypeError, ValueError, AttributeError, IndexError) as err:
        why = err.reason if isinstance(err, DicomError) else unexpected_failure(err, str(err))
        why = note_text(why.rstrip("."))
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
    if lut.modality_ignored(ds):  # XA/XRF: the window applies to the stored values
        return pixel_signed
    if lut.uses_modality_lut(ds):
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
            tables[id(seq)] = (
                usable_voi_lut(ds, source, notes, seq, frame) if seq is not None else None
            )
        out.append(tables[id(seq)])
    return out if len(out) == n else out[:1] * n
