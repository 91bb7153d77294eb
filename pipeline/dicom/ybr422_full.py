"""Native YBR_FULL_422 data holding three full samples per pixel: decompressed, not relabelled.

YBR_FULL_422 is the term of a lossy JPEG stream's colour (PS3.5 8.2.1). A tool that
decompresses such a file and writes its pixels back natively must also change the term, to
RGB when its decoder converted the colours (pydicom's ``pixel_array`` does by default) or to
YBR_FULL; many do not (pydicom #1133, pydicom/deid #240: ultrasound cines with
LossyImageCompression 01, ``Rows x Columns x 3`` bytes a frame under YBR_FULL_422, which holds
2). pydicom refuses such data ("a third larger than expected ... may need to be changed to
either 'RGB' or 'YBR_FULL'"), and ``inspect`` called the third extra bytes "ignored";
cornerstone3D (PR #829) reads them as RGB. Here the samples themselves say which: grey pixels,
most of an ultrasound or endoscopy frame, have three equal samples in RGB and Cb = Cr = 128 in
YBR_FULL (PS3.3 C.7.6.3.1.2). The reading with at least twice the other's grey pixels, and at
least 1 % of all, is taken and said; where neither is (a frame of saturated colour alone), the
file is refused.

16-bit cells (a 12-bit lossy JPEG decompressed) are read alike, by the same rule in their own
range: CB and CR centred on ``2**(BitsStored - 1)`` and the tolerance scaled with it
(:func:`~pipeline.dicom.ybr_full.ybr_full_to_rgb`), bits above BitsStored masked, noted.
They were refused in pydicom's words ("a third larger than expected ... 'RGB' or
'YBR_FULL'"), and ``inspect`` called the third extra bytes ignored.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import convert_color_space
from pydicom.uid import UID

from pipeline.dicom import values
from pipeline.dicom.bits import fix_bits
from pipeline.dicom.files import pixel_length
from pipeline.dicom.unused_bits import unused_bits_notes
from pipeline.dicom.ybr_full import ybr_full_to_rgb
from pipeline.errors import DicomError

__all__ = ["full_sample_note", "full_samples", "native_422", "read_full_samples"]

_TOLERANCE = 2  # a lossy stream's rounding: a grey pixel's samples may differ by 1 or 2


def full_samples(ds: Dataset) -> int | None:
    """The pixel count when native YBR_FULL_422 data holds 3 samples per pixel, else None.

    Exactly ``Frames x Rows x Columns x 3`` samples of BitsAllocated 8 or 16 (one pad byte
    more allowed), where the term needs ``x 2``.
    """
    sizes = native_422(ds)
    if sizes is None or sizes[3] not in (8, 16):
        return None
    pixels = sizes[0] * sizes[1] * sizes[2]
    size = 3 * pixels * sizes[3] // 8
    return pixels if pixels and pixel_length(ds) in (size, size + 1) else None


def native_422(ds: Dataset) -> tuple[int, int, int, int] | None:
    """``(frames, rows, columns, bits allocated)`` of native YBR_FULL_422 PixelData, else None."""
    if str(ds.get("PhotometricInterpretation", "")).strip().upper() != "YBR_FULL_422":
        return None
    try:
        rows, cols = values.integer(ds, "Rows", 0) or 0, values.integer(ds, "Columns", 0) or 0
        bits = values.integer(ds, "BitsAllocated", 0) or 0
        frames = max(1, values.integer(ds, "NumberOfFrames", 1) or 1)
    except DicomError:  # the header checks name it
        return None
    syntax = getattr(ds, "file_meta", {}).get("TransferSyntaxUID")
    if "PixelData" not in ds or syntax is None or UID(syntax).is_encapsulated:
        return None
    return frames, rows, cols, bits


def full_sample_note(ds: Dataset) -> str:
    """What the size check says of such data (the reader adds which reading it took)."""
    return f"{_found(ds)}, read as RGB or YBR_FULL as its grey pixels say"


def _found(ds: Dataset) -> str:
    size = (full_samples(ds) or 0) * (values.integer(ds, "BitsAllocated", 8) or 8) // 8
    return ("YBR_FULL_422 over 3 samples per pixel: PhotometricInterpretation (0028,0004) is "
            f"YBR_FULL_422, but PixelData (7FE0,0010) holds 3 samples per pixel ({3 * size:,} "
            f"bytes, where YBR_FULL_422 holds {2 * size:,}), a decompressed stream whose term "
            "was not updated (pydicom #1133)")  # fmt: skip


def read_full_samples(ds: Dataset, source: str, notes: list[str]) -> np.ndarray:
    """The samples ``(F, H, W, 3)`` as RGB, read as RGB or YBR_FULL as their grey pixels say.

    Raises
    ------
    DicomError
        When neither reading has a clear majority of grey pixels.
    """
    samples, stored = _samples(ds, notes)
    flat = samples.reshape(-1, 3).astype(np.int32)
    near, centre = _TOLERANCE << max(0, stored - 8), 1 << (stored - 1)  # in the samples' range
    as_rgb = int((np.ptp(flat, axis=1) <= near).sum())
    as_ybr = int((np.abs(flat[:, 1:] - centre) <= near).all(axis=1).sum())
    counts = (f"{as_rgb:,} of {len(flat):,} pixels have three equal samples (grey in RGB), "
              f"{as_ybr:,} have Cb and Cr at {centre} (grey in YBR_FULL)")  # fmt: skip
    least = max(1, len(flat) // 100)
    if as_rgb >= max(2 * as_ybr, least):
        notes.append(f"YBR_FULL_422 over 3 samples per pixel read as RGB: {counts}")
        return samples
    if as_ybr >= max(2 * as_rgb, least):
        notes.append(f"YBR_FULL_422 over 3 samples per pixel read as YBR_FULL: {counts}")
        if samples.dtype == np.uint8:
            return np.asarray(convert_color_space(samples, "YBR_FULL", "RGB"))
        return ybr_full_to_rgb(samples, stored)  # pydicom 3.0 converts 8-bit samples only
    raise DicomError(source, f"{_found(ds)}, and whether its "
                             f"samples are RGB or YBR_FULL is unknown: {counts}, neither "
                             "twice the other (and 1% of all).")  # fmt: skip


def _samples(ds: Dataset, notes: list[str]) -> tuple[np.ndarray, int]:
    """The samples ``(F, H, W, 3)`` as stored, masked to BitsStored (noted), and BitsStored."""
    frames = max(1, values.integer(ds, "NumberOfFrames", 1) or 1)
    shape = (frames, int(ds.Rows), int(ds.Columns), 3)
    wide = values.integer(ds, "BitsAllocated", 8) == 16
    big = ds.file_meta.get("TransferSyntaxUID") == "1.2.840.10008.1.2.2"
    dtype = np.dtype((">u2" if big else "<u2") if wide else "u1")
    found = np.frombuffer(ds.PixelData, dtype, count=int(np.prod(shape))).reshape(shape)
    found = found.astype(dtype.newbyteorder("=")) if not dtype.isnative else found
    stored = min(values.integer(ds, "BitsStored", 8 * dtype.itemsize) or 8, 8 * dtype.itemsize)
    notes.extend(unused_bits_notes(found, stored, False, ds, True, None))
    return fix_bits(found, stored, signed=False), stored
