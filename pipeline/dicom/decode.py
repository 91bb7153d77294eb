"""Decode DICOM pixel data to stored values, safely.

Native (uncompressed little-endian) grey-scale data is read with :func:`numpy.frombuffer`,
which is several times faster than the general path; everything else (big endian, 1-bit,
colour, compressed syntaxes through the pylibjpeg / pyjpegls plugins) goes through pydicom.
Either way the result is masked to BitsStored and sign-extended (PS3.5 8.1.1: bits above
HighBit are undefined), and the header is checked against the data length and a pixel limit
before anything is allocated.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
)

from pipeline.errors import DicomError

#: Default limit on Rows x Columns x Frames x Samples of one instance (about 1 GiB of int32).
DEFAULT_MAX_PIXELS = 2**28

_NATIVE_LE = {ExplicitVRLittleEndian, ImplicitVRLittleEndian, DeflatedExplicitVRLittleEndian}
_GREY = {"MONOCHROME1", "MONOCHROME2"}


def frame_count(ds: Dataset) -> int:
    """NumberOfFrames (0028,0008), 1 when absent or empty."""
    value = ds.get("NumberOfFrames")
    try:
        return max(1, int(value)) if value not in (None, "") else 1
    except (TypeError, ValueError):
        return 1


def _require(ds: Dataset, source: str, keyword: str) -> int:
    value = ds.get(keyword)
    if value in (None, ""):
        raise DicomError(source, f"{keyword} is missing; cannot decode the pixel data.")
    return int(value)


def check_pixel_size(ds: Dataset, source: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> int:
    """Check the header's claimed image size before decoding; return the pixel count.

    Raises
    ------
    DicomError
        When there is no pixel data, when Rows x Columns x Frames x Samples exceeds
        ``max_pixels``, or (native syntaxes) when the header needs more bytes than PixelData
        holds, e.g. a truncated file or a forged header.
    """
    if "PixelData" not in ds:
        kind = ds.get("SOPClassUID", "unknown")
        name = getattr(kind, "name", str(kind))
        raise DicomError(source, f"no PixelData (7FE0,0010) (SOP class: {name}).")
    rows, cols = _require(ds, source, "Rows"), _require(ds, source, "Columns")
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    bits = _require(ds, source, "BitsAllocated")
    pixels = rows * cols * frame_count(ds) * samples
    if pixels > max_pixels:
        raise DicomError(
            source,
            f"header claims {rows}x{cols}x{frame_count(ds)}x{samples} = {pixels:,} pixels, "
            f"over the limit of {max_pixels:,} (raise max_pixels if this is genuine).",
        )
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax in _NATIVE_LE | {"1.2.840.10008.1.2.2"}:
        if str(ds.get("PhotometricInterpretation", "")).upper() == "YBR_FULL_422":
            pixels = pixels * 2 // 3  # two chroma samples shared by two pixels (C.7.6.3.1.2)
        needed = (pixels * bits + 7) // 8
        have = len(ds.PixelData)
        if have < needed:
            raise DicomError(
                source,
                f"PixelData (7FE0,0010) holds {have:,} bytes but Rows x Columns x Frames x "
                f"Samples x BitsAllocated needs {needed:,} (truncated file or wrong header).",
            )
    return pixels


def fix_bits(stored: np.ndarray, bits_stored: int, signed: bool) -> np.ndarray:
    """Mask values to ``bits_stored`` bits and sign-extend when ``signed`` (PS3.5 8.1.1).

    Idempotent: values already in range come back unchanged. Returns a new array only when
    something changed; the dtype keeps its width (never narrower than the data needs).

    Examples
    --------
    >>> fix_bits(np.array([0xFF0F], np.uint16), 12, signed=True).tolist()
    [-241]
    >>> fix_bits(np.array([0xFFFF], np.uint16), 12, signed=False).tolist()
    [4095]
    """
    width = stored.dtype.itemsize * 8
    if stored.dtype.kind not in "ui" or bits_stored >= width:
        if signed and stored.dtype.kind == "u":
            return stored.view(stored.dtype.str.replace("u", "i"))
        return stored
    unsigned = stored.view(stored.dtype.str.replace("i", "u"))
    mask = np.array((1 << bits_stored) - 1, dtype=unsigned.dtype)
    if not signed:
        if int(unsigned.max(initial=0)) <= int(mask):
            return unsigned
        return unsigned & mask
    as_signed = stored.view(stored.dtype.str.replace("u", "i"))
    half = 1 << (bits_stored - 1)
    if as_signed.size and -half <= int(as_signed.min()) and int(as_signed.max()) < half:
        return as_signed
    # Sign extension: (v & mask) - 2**bits when the sign bit is set, done as xor/subtract.
    sign = np.array(half, dtype=np.int64)
    wide = (unsigned & mask).astype(np.int64)
    out = (wide ^ sign) - sign
    return out.astype(stored.dtype.str.replace("u", "i"))


def decode_stored(ds: Dataset, source: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode all frames of an instance.

    Returns
    -------
    numpy.ndarray
        Grey-scale: stored values ``(F, H, W)`` (masked, sign-extended). Colour: ``(F, H, W, 3)``
        RGB; YBR is converted to RGB (PS3.3 C.7.6.3.1.2) and PALETTE COLOR looked up through
        its (possibly segmented) LUT (C.7.6.3.1.5); planar configuration is undone.

    Raises
    ------
    DicomError
        Naming the file and the reason (size check, missing codec, corrupt stream).
    """
    check_pixel_size(ds, source, max_pixels=max_pixels)
    frames = frame_count(ds)
    rows, cols = int(ds.Rows), int(ds.Columns)
    photometric = str(ds.get("PhotometricInterpretation", "")).strip().upper()
    bits_alloc = int(ds.BitsAllocated)
    bits_stored = int(ds.get("BitsStored", bits_alloc) or bits_alloc)
    signed = int(ds.get("PixelRepresentation", 0) or 0) == 1
    syntax = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    samples = int(ds.get("SamplesPerPixel", 1) or 1)
    if syntax in _NATIVE_LE and samples == 1 and bits_alloc in (8, 16, 32) and photometric in _GREY:
        dtype = np.dtype(f"<{'i' if signed else 'u'}{bits_alloc // 8}")
        arr = np.frombuffer(ds.PixelData, dtype=dtype, count=frames * rows * cols)
        arr = arr.reshape(frames, rows, cols)
    else:
        arr = _decode_with_pydicom(ds, source)
        shape = (frames, rows, cols, samples) if samples > 1 else (frames, rows, cols)
        if arr.size != int(np.prod(shape)):
            raise DicomError(source, f"decoded {arr.shape} but the header says {shape}.")
        arr = arr.reshape(shape)
        if not arr.dtype.isnative:
            arr = arr.astype(arr.dtype.newbyteorder("="))
    if photometric == "PALETTE COLOR":
        return _apply_palette(ds, fix_bits(arr, bits_stored, signed=False), source)
    if samples == 1:
        return fix_bits(arr, bits_stored, signed)
    return arr


def _decode_with_pydicom(ds: Dataset, source: str) -> np.ndarray:
    try:
        return np.asarray(ds.pixel_array)
    except (NotImplementedError, RuntimeError, ImportError) as err:
        syntax = ds.file_meta.get("TransferSyntaxUID")
        name = getattr(syntax, "name", str(syntax))
        raise DicomError(source, f"cannot decode transfer syntax {name}: {err}") from err
    except Exception as err:  # corrupt streams raise many types inside the codecs
        raise DicomError(source, f"pixel data could not be decoded: {err}") from err


def _apply_palette(ds: Dataset, indices: np.ndarray, source: str) -> np.ndarray:
    from pydicom.pixels import apply_color_lut

    try:
        rgb: Any = apply_color_lut(indices, ds)
    except Exception as err:
        raise DicomError(source, f"PALETTE COLOR lookup failed: {err}") from err
    return np.asarray(rgb)
