"""Mutants that stay well-formed DICOM: one header value swapped for another legal one.

:mod:`pipeline.synth.mutants` damages bytes; here every mutant still parses, and its header
tells a consistent-looking but different story about the same pixel data (Rows and Columns
swapped, BitsStored narrowed, PixelRepresentation flipped, another transfer syntax, a rescale
of NaN, a sequence emptied, one frame or one byte of pixel data too few...). Such files are
where a reader goes silently wrong: each is either read as pydicom reads it, or the reader
says what it did (a note) or refuses it. ``benchmarks/fuzz_oracle.py`` compares the outputs
of ``radpipe convert`` with pydicom's for these mutants.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import TypeVar

import numpy as np
from pydicom import dcmread
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import (
    DeflatedExplicitVRLittleEndian,
    ExplicitVRBigEndian,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    generate_uid,
)

T = TypeVar("T")

_SPECIAL = ["nan", "inf", "-inf", "0", "-1", "1e38", "1e-30", "-0.5", "1\\2", "3.5"]
_TERMS = ["MONOCHROME1", "MONOCHROME2", "RGB", "YBR_FULL", "YBR_FULL_422", "PALETTE COLOR"]
_NATIVE = [ExplicitVRLittleEndian, ImplicitVRLittleEndian, ExplicitVRBigEndian,
           DeflatedExplicitVRLittleEndian]  # fmt: skip


def _int(ds: Dataset, keyword: str, default: int) -> int:
    try:
        return int(getattr(ds, keyword, default))
    except (TypeError, ValueError):
        return default


def _pick(rng: np.random.Generator, values: Sequence[T]) -> T:
    return values[int(rng.integers(len(values)))]


def _geometry(ds: Dataset, rng: np.random.Generator) -> str:
    rows, cols = _int(ds, "Rows", 1), _int(ds, "Columns", 1)
    choice = int(rng.integers(4))
    if choice == 0:
        ds.Rows, ds.Columns = cols, rows
    elif choice == 1:
        ds.Rows, ds.Columns = max(1, rows // 2), cols * 2
    elif choice == 2:
        ds.Columns = max(1, cols + int(_pick(rng, [-1, 1])))
    else:
        ds.Rows = max(1, rows + int(_pick(rng, [-1, 1])))
    return f"Rows/Columns {rows}x{cols} -> {ds.Rows}x{ds.Columns}"


def _bits(ds: Dataset, rng: np.random.Generator) -> str:
    allocated = _int(ds, "BitsAllocated", 16)
    keyword = str(_pick(rng, ["BitsAllocated", "BitsStored", "HighBit", "PixelRepresentation"]))
    if keyword == "BitsAllocated":
        value: int = int(_pick(rng, [1, 8, 16, 32]))
    elif keyword == "BitsStored":
        value = int(_pick(rng, [1, 7, 8, 10, 12, 15, allocated]))
    elif keyword == "HighBit":
        stored = _int(ds, "BitsStored", allocated)
        value = int(_pick(rng, [stored - 2, stored, allocated - 1, 7]))
    else:
        value = 1 - _int(ds, "PixelRepresentation", 0)
    old = getattr(ds, keyword, None)
    setattr(ds, keyword, max(0, value))
    return f"{keyword} {old} -> {getattr(ds, keyword)}"


def _colour(ds: Dataset, rng: np.random.Generator) -> str:
    keyword = str(_pick(rng, ["PhotometricInterpretation", "SamplesPerPixel",
                              "PlanarConfiguration"]))  # fmt: skip
    old = getattr(ds, keyword, None)
    if keyword == "PhotometricInterpretation":
        ds.PhotometricInterpretation = str(_pick(rng, _TERMS))
    elif keyword == "SamplesPerPixel":
        ds.SamplesPerPixel = 4 - _int(ds, "SamplesPerPixel", 1) if old in (1, 3) else 1
    else:
        ds.PlanarConfiguration = 1 - _int(ds, "PlanarConfiguration", 0)
    return f"{keyword} {old} -> {getattr(ds, keyword)}"


def _frames(ds: Dataset, rng: np.random.Generator) -> str:
    old = _int(ds, "NumberOfFrames", 1)
    value = int(_pick(rng, [1, 2, old - 1, old + 1, 0]))
    if value == 1 and rng.random() < 0.5 and "NumberOfFrames" in ds:
        del ds.NumberOfFrames
        return f"NumberOfFrames {old} -> absent"
    ds.NumberOfFrames = value
    return f"NumberOfFrames {old} -> {value}"


def _pixel_length(ds: Dataset, rng: np.random.Generator) -> str:
    if "PixelData" not in ds or ds["PixelData"].is_undefined_length:
        return _frames(ds, rng)
    data = bytes(ds.PixelData)
    frame = len(data) // max(1, _int(ds, "NumberOfFrames", 1))
    change = int(_pick(rng, [-1, 1, -frame, frame, -2, 2]))
    if change > 0:
        data += rng.integers(0, 256, size=change, dtype=np.uint8).tobytes()
    else:
        data = data[: max(0, len(data) + change)]
    ds.PixelData = data
    return f"PixelData length {change:+d} bytes"


def _syntax(ds: Dataset, rng: np.random.Generator) -> str:
    old = ds.file_meta.TransferSyntaxUID
    ds.file_meta.TransferSyntaxUID = _pick(rng, _NATIVE)
    return f"TransferSyntaxUID {old.name} -> {ds.file_meta.TransferSyntaxUID.name}"


def _rescale(ds: Dataset, rng: np.random.Generator) -> str:
    keyword = str(_pick(rng, ["RescaleSlope", "RescaleIntercept"]))
    value = str(_pick(rng, _SPECIAL))
    ds.add_new(keyword, "DS", value.split("\\") if "\\" in value else value)
    return f"{keyword} -> {value}"


def _position(ds: Dataset, rng: np.random.Generator) -> str:
    keyword = str(_pick(rng, ["ImagePositionPatient", "ImageOrientationPatient", "PixelSpacing"]))
    count = {"ImagePositionPatient": 3, "ImageOrientationPatient": 6, "PixelSpacing": 2}[keyword]
    values = [str(v) for v in getattr(ds, keyword, ["1"] * count)]
    at = int(rng.integers(len(values))) if values else 0
    value = str(_pick(rng, [*_SPECIAL[:8], "1e300"]))
    if values:
        values[at] = value
    if rng.random() < 0.3:
        values = values[: max(1, len(values) - 1)]  # a multi-valued element truncated
    ds.add_new(keyword, "DS", values)
    return f"{keyword}[{at}] -> {value} ({len(values)} values)"


def _sequences(ds: Dataset, rng: np.random.Generator) -> str:
    for keyword in ("ModalityLUTSequence", "VOILUTSequence"):
        if keyword in ds:
            if rng.random() < 0.5:
                ds[keyword].value = DicomSequence([])
                return f"{keyword} emptied"
            item = ds[keyword].value[0]
            bits = int(_pick(rng, [8, 12, 16, 10]))
            item.LUTDescriptor = [*[int(v) for v in item.LUTDescriptor][:2], bits]
            return f"{keyword} LUTDescriptor bits -> {item.LUTDescriptor[2]}"
    return _rescale(ds, rng)


def _pixel_vr(ds: Dataset, rng: np.random.Generator) -> str:
    if "PixelData" not in ds or ds["PixelData"].is_undefined_length:
        return _bits(ds, rng)
    old = ds["PixelData"].VR
    ds["PixelData"].VR = "OW" if old == "OB" else "OB"
    return f"PixelData VR {old} -> {ds['PixelData'].VR}"


def _window(ds: Dataset, rng: np.random.Generator) -> str:
    center, width = (
        _pick(rng, ["40", "-600", "nan", "0", "1e38", "40\\400", "2047.5"]),
        _pick(rng, ["400", "1", "0.5", "0", "-400", "inf", "1500\\80", "4096"]),
    )
    ds.add_new("WindowCenter", "DS", str(center).split("\\"))
    ds.add_new("WindowWidth", "DS", str(width).split("\\"))
    said = f"WindowCenter/WindowWidth -> {center}/{width}"
    if rng.random() < 0.5:
        ds.VOILUTFunction = str(_pick(rng, ["LINEAR", "LINEAR_EXACT", "SIGMOID", "sigmoid", "FOO"]))
        said += f", VOILUTFunction {ds.VOILUTFunction}"
    if rng.random() < 0.3:
        ds.PhotometricInterpretation = "MONOCHROME1"
        said += ", MONOCHROME1"
    return said


_DUPLICABLE = {
    "RescaleIntercept": (0x1052, ["0", "-1024"]),
    "RescaleSlope": (0x1053, ["1", "2"]),
    "WindowCenter": (0x1050, ["40", "-600"]),
    "WindowWidth": (0x1051, ["400", "1500"]),
}


def _duplicate(ds: Dataset, rng: np.random.Generator) -> str:
    """One DS element of group 0028 written twice, the copy with another value.

    At the bytes level, after saving (:func:`_write_duplicate`): Explicit VR Little Endian only.
    """
    keyword = _pick(rng, list(_DUPLICABLE))
    first, second = _DUPLICABLE[keyword][1]
    ds.add_new(keyword, "DS", first)
    ds.fuzz_duplicate = (_DUPLICABLE[keyword][0], second)
    return f"{keyword} {first} written twice, the second {second}"


def _write_duplicate(data: bytes, element: int, value: str) -> bytes:
    head = b"\x28\x00" + element.to_bytes(2, "little") + b"DS"
    at = data.find(head, 132)
    if at < 0:
        return data
    end = at + 8 + int.from_bytes(data[at + 6 : at + 8], "little")
    text = value.encode() + (b" " if len(value) % 2 else b"")
    return data[:end] + head + len(text).to_bytes(2, "little") + text + data[end:]


KINDS: dict[str, Callable[[Dataset, np.random.Generator], str]] = {
    "geometry": _geometry,
    "bits": _bits,
    "colour": _colour,
    "frames": _frames,
    "pixel_length": _pixel_length,
    "syntax": _syntax,
    "rescale": _rescale,
    "position": _position,
    "sequences": _sequences,
    "pixel_vr": _pixel_vr,
    "window": _window,
    "duplicate": _duplicate,
}


def legal_mutant(
    data: bytes,
    rng: np.random.Generator,
    series: tuple[str, str, int] | None = None,
    p: float = 1.0,
) -> tuple[str, str, bytes]:
    """One or two header values of a file changed to other legal ones (with chance ``p``).

    Returns ``(kind, what was changed, new bytes)``. Without ``series`` new Study and Series
    Instance UIDs make every mutant its own series, so series-level notes never hide
    file-level ones; ``series=(study, series, k)`` puts it in that series as its slice ``k``
    (ImagePositionPatient 2 mm further along z per slice, before any mutation), where the
    readers reuse header checks from file to file.
    """
    ds = dcmread(io.BytesIO(data), force=True)
    if series is not None:
        ds.StudyInstanceUID, ds.SeriesInstanceUID, k = series
        ds.ImagePositionPatient, ds.InstanceNumber = [0.0, 0.0, 2.0 * k], k + 1
    else:
        ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    chosen = []
    if rng.random() < p:
        chosen = [_pick(rng, list(KINDS)) for _ in range(1 + int(rng.random() < 0.3))]
    said = [KINDS[kind](ds, rng) for kind in chosen]
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    syntax = ds.file_meta.TransferSyntaxUID
    buf = io.BytesIO()
    if syntax.is_compressed or syntax == DeflatedExplicitVRLittleEndian:
        ds.save_as(buf, enforce_file_format=True)
    else:
        ds.save_as(buf, enforce_file_format=True, implicit_vr=syntax.is_implicit_VR,
                   little_endian=syntax.is_little_endian)  # fmt: skip
    out = buf.getvalue()
    duplicate = getattr(ds, "fuzz_duplicate", None)
    if (
        duplicate
        and not syntax.is_implicit_VR
        and syntax.is_little_endian
        and not syntax.is_deflated
    ):
        out = _write_duplicate(out, *duplicate)
    return "+".join(chosen) or "none", "; ".join(said), out


__all__ = ["KINDS", "legal_mutant"]
