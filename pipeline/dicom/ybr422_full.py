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
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import convert_color_space
from pydicom.uid import UID

from pipeline.dicom import values
from pipeline.dicom.files import pixel_length
from pipeline.errors import DicomError

__all__ = ["full_sample_note", "full_samples", "native_422", "read_full_samples"]

_TOLERANCE = 2  # a lossy stream's rounding: a grey pixel's samples may differ by 1 or 2


def full_samples(ds: Dataset) -> int | None:
    """The pixel count when native 8-bit YBR_FULL_422 data holds 3 samples per pixel, else None.

    Exactly ``Frames x Rows x Columns x 3`` bytes (one pad byte more allowed), where the term
    needs ``x 2``.
    """
    sizes = native_422(ds)
    if sizes is None or sizes[3] != 8:
        return None
    pixels = sizes[0] * sizes[1] * sizes[2]
    return pixels if pixels and pixel_length(ds) in (3 * pixels, 3 * pixels + 1) else None


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
    pixels = full_samples(ds) or 0
    return ("YBR_FULL_422 over 3 samples per pixel: PhotometricInterpretation (0028,0004) is "
            f"YBR_FULL_422, but PixelData (7FE0,0010) holds 3 samples per pixel ({3 * pixels:,} "
            f"bytes, where YBR_FULL_422 holds {2 * pixels:,}), a decompressed stream whose term "
            "was not updated (pydicom #1133)")  # fmt: skip


def read_full_samples(ds: Dataset, source: str, notes: list[str]) -> np.ndarray:
    """The samples ``(F, H, W, 3)`` as RGB, read as RGB or YBR_FULL as their grey pixels say.

    Raises
    ------
    DicomError
        When neither reading has a clear majority of grey pixels.
    """
    frames = max(1, values.integer(ds, "NumberOfFrames", 1) or 1)
    shape = (frames, int(ds.Rows), int(ds.Columns), 3)
    samples = np.frombuffer(ds.PixelData, np.uint8, count=int(np.prod(shape))).reshape(shape)
    flat = samples.reshape(-1, 3).astype(np.int16)
    as_rgb = int((np.ptp(flat, axis=1) <= _TOLERANCE).sum())
    as_ybr = int((np.abs(flat[:, 1:] - 128) <= _TOLERANCE).all(axis=1).sum())
    counts = (f"{as_rgb:,} of {len(flat):,} pixels have three equal samples (grey in RGB), "
              f"{as_ybr:,} have Cb and Cr at 128 (grey in YBR_FULL)")  # fmt: skip
    least = max(1, len(flat) // 100)
    if as_rgb >= max(2 * as_ybr, least):
        notes.append(f"YBR_FULL_422 over 3 samples per pixel read as RGB: {counts}")
        return samples
    if as_ybr >= max(2 * as_rgb, least):
        notes.append(f"YBR_FULL_422 over 3 samples per pixel read as YBR_FULL: {counts}")
        return np.asarray(convert_color_space(samples, "YBR_FULL", "RGB"))
    raise DicomError(source, f"{_found(ds)}, and whether its "
                             f"samples are RGB or YBR_FULL is unknown: {counts}, neither "
                             "twice the other (and 1% of all).")  # fmt: skip
