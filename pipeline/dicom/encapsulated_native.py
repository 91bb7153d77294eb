"""Encapsulated Uncompressed Explicit VR Little Endian: native frames held in fragments.

Transfer syntax 1.2.840.10008.1.2.1.98 (PS3.5 A.4.11): the pixel data is encapsulated, one
fragment per frame, but each frame is the uncompressed little-endian bytes a native file would
hold (padded to an even length), so that large multi-frame objects (whole-slide images, long
cines) can be read frame by frame through an offset table. pydicom 3.0 decodes no such file
(dicom-rs #285 asks the same of dicom-rs): ``inspect`` listed it as an image, and ``convert``
failed with "cannot decode transfer syntax Encapsulated Uncompressed Explicit VR Little
Endian". Its frames are now joined into native Explicit VR Little Endian pixel data and read
as such (:func:`as_native`), which is exact: nothing is decoded.
"""

from __future__ import annotations

from typing import Any

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import generate_frames
from pydicom.uid import ExplicitVRLittleEndian

from pipeline.errors import DicomError

__all__ = ["ENCAPSULATED_UNCOMPRESSED", "as_native"]

ENCAPSULATED_UNCOMPRESSED = "1.2.840.10008.1.2.1.98"


def _frame_bytes(ds: Any, source: str) -> int:
    """The bytes of one native frame: Rows x Columns x SamplesPerPixel x BitsAllocated / 8."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    samples, bits = int(ds.get("SamplesPerPixel") or 1), int(ds.BitsAllocated)
    cells = rows * cols * samples
    if bits % 8 and (bits != 1 or cells % 8):
        raise DicomError(
            source,
            f"Encapsulated Uncompressed Explicit VR Little Endian pixel data of BitsAllocated "
            f"(0028,0100) {bits} with frames of {cells} samples (not whole bytes): its frames "
            "cannot be joined into native pixel data",
        )
    return cells * bits // 8


def as_native(ds: Dataset, source: str, frames: int) -> Dataset:
    """``ds`` with its ``frames`` fragments joined into native Explicit VR Little Endian data.

    ``ds`` itself when its transfer syntax is not :data:`ENCAPSULATED_UNCOMPRESSED`. Else a
    new data set (the elements are shared, the pixel data and File Meta are its own); each
    frame is cut to the native frame's length (its fragment is padded to an even length).

    Raises
    ------
    DicomError
        Fewer frames than NumberOfFrames, a frame shorter than Rows x Columns needs, or
        fragments that do not parse.
    """
    meta = getattr(ds, "file_meta", None)
    if meta is None or meta.get("TransferSyntaxUID") != ENCAPSULATED_UNCOMPRESSED:
        return ds
    size = _frame_bytes(ds, source)
    try:
        found = list(generate_frames(ds.PixelData, number_of_frames=frames))
    except Exception as err:
        raise DicomError(source, f"encapsulated pixel data is malformed: {err}") from None
    short = [k for k, frame in enumerate(found[:frames]) if len(frame) < size]
    if len(found) < frames or short:
        what = (f"holds {len(found)} of {frames} frames" if len(found) < frames else
                f"frame {short[0]} holds {len(found[short[0]])} bytes, {size} needed")  # fmt: skip
        raise DicomError(
            source,
            f"Encapsulated Uncompressed Explicit VR Little Endian pixel data {what} "
            "(Rows x Columns x SamplesPerPixel x BitsAllocated / 8 each; truncated file?)",
        )
    native = Dataset()
    native.update(ds)
    native.file_meta = FileMetaDataset(ds.file_meta)
    native.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    native.set_original_encoding(False, True)
    vr = "OW" if int(ds.BitsAllocated) > 8 else "OB"
    native.add_new(0x7FE00010, vr, b"".join(frame[:size] for frame in found[:frames]))
    return native
