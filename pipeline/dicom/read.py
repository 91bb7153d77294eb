"""Read a DICOM file or series into arrays: modality values, windowed display values, geometry.

The grey-scale steps follow PS3.4 N.2: stored values -> Modality LUT (in float) -> VOI
(window or VOI LUT) -> presentation (MONOCHROME1 / INVERSE) -> output scaling. For integer
stored values of up to 16 bits the whole chain is tabulated once per parameter set and
applied by indexing, which is exact and several times faster than per-image float work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pipeline.dicom import geometry, lut
from pipeline.dicom.bits import signed_pixels
from pipeline.dicom.codestream import stored_bits
from pipeline.dicom.colour_out import render_color
from pipeline.dicom.decode import DEFAULT_MAX_PIXELS, check_pixel_size, decode_stored
from pipeline.dicom.exact import _integer_modality
from pipeline.dicom.files import captured_warnings
from pipeline.dicom.frame_info import FrameInfo, frame_infos
from pipeline.dicom.frozen import made
from pipeline.dicom.header_checks import check_image_header
from pipeline.dicom.icc import icc_profile
from pipeline.dicom.image_memo import display_notes, image_facts, series_vendor_notes
from pipeline.dicom.modality_range import modality_range_notes
from pipeline.dicom.notes import note_text
from pipeline.dicom.padding import (
    float_padding,
    padding_cell,
    padding_mask,
    padding_range,
    without_padding,
)
from pipeline.dicom.plain_memo import memoized
from pipeline.dicom.signed_unsigned import unsigned_data_note
from pipeline.dicom.unmarked_padding import unmarked_padding_notes
from pipeline.dicom.wrapped_sign import wrapped_sign_notes
from pipeline.errors import DicomError
from pipeline.ops.scale import to_unsigned
from pipeline.ops.voi import (
    WindowSpec,
    apply_modality_lut,
    apply_voi_lut_table,
    apply_window,
    build_lookup,
    invert,
    lookup,
    preset_note,
)

OutType = Literal["float32", "uint8", "uint16"]
_LUT_CACHE: dict[tuple[Any, ...], np.ndarray] = {}


@dataclass(frozen=True)
class DicomImage:
    """One decoded instance: ``stored`` is ``(F, H, W)`` grey or ``(F, H, W, 3)`` RGB.

    Each frame's VOILUTFunction and VOI LUT are in ``frames`` (Enhanced objects keep them in
    the Frame VOI LUT functional group, PS3.3 C.7.6.16.2.10); ``voi_function`` and
    ``voi_lut`` are frame 0's.
    """

    source: str
    stored: np.ndarray
    photometric: str
    bits_stored: int
    signed: bool
    frames: tuple[FrameInfo, ...]
    modality_lut: tuple[int, np.ndarray] | None
    inverse: bool
    problems: tuple[str, ...] = ()
    padding: tuple[float, float] | None = None  # stored values (padding.padding_range)
    units: tuple[str, str] = ("", "")  # what the header says the values are (lut.value_units)
    unit: str = ""  # the modality values' unit, "HU", "Bq/ml" (units.value_unit)
    #: The smallest and largest stored value of grey integer frames (``None``: not worked out).
    stored_span: tuple[int, int] | None = field(default=None, compare=False)
    lossy: str = ""  # what says its pixels went through lossy compression (lossy.lossy_history)
    icc: bytes | None = field(default=None, compare=False, repr=False)  # not sRGB (module icc)

    def padding_cell(self, frame: int, written: np.ndarray) -> str:
        """The manifest's ``padding`` cell of ``frame`` written as ``written``."""
        if self.is_color or self.padding is None:
            return ""
        return padding_cell([(padding_mask(self.stored[frame], self.padding), written)], np.asarray)

    @property
    def voi_function(self) -> str:
        """Frame 0's VOILUTFunction (``LINEAR`` when absent)."""
        return self.frames[0].voi_function

    @property
    def voi_lut(self) -> tuple[int, np.ndarray, int] | None:
        """Frame 0's VOI LUT as ``(first_mapped, table, bits)``, or ``None``."""
        return self.frames[0].voi_lut

    @property
    def is_color(self) -> bool:
        """Whether ``stored`` holds RGB frames ``(F, H, W, 3)``."""
        return self.stored.ndim == 4

    def modality(self, frame: int = 0) -> np.ndarray:
        """Modality values (HU for CT) of one grey frame, float32 (float64 for >16 bits)."""
        info = self.frames[frame]
        return apply_modality_lut(self.stored[frame], info.slope, info.intercept, self.modality_lut)

    def stored_range(self) -> tuple[float, float]:
        """The smallest and largest value BitsStored and PixelRepresentation allow.

        Float pixel data, and integers of more than 16 bits (whose range no PNG holds: 0..1000
        of BitsStored 32 would all be grey level 0): the smallest and largest finite value
        present, pixel padding (Pixel Padding Value, FloatPixelPaddingValue,
        DoubleFloatPixelPaddingValue) left out unless nothing else is there: a -1e30 padding
        would squeeze the image into the top grey level (fo-dicom #406, dcm2niix #262:
        padding is no data).
        """
        if self.stored.dtype.kind == "f" or self.bits_stored > 16:
            finite = self.stored[np.isfinite(self.stored)] if self.stored.dtype.kind == "f" else (
                self.stored.ravel())  # fmt: skip
            if self.padding is not None and finite.size:
                data = finite[(finite < self.padding[0]) | (finite > self.padding[1])]
                finite = data if data.size else finite
            return (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if self.signed:
            return -(2 ** (self.bits_stored - 1)), 2 ** (self.bits_stored - 1) - 1
        return 0, 2**self.bits_stored - 1


def read_instance(
    path: str | Path, source: str | None = None, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DicomImage:
    """Read and decode one DICOM file; ``source`` names it in errors (default: the path).

    Warnings raised while reading and decoding become the image's ``problems``
    (sanitized: no UIDs or values).
    """
    from pipeline.dicom import plain
    from pipeline.dicom.files import Problem, read_dataset

    source = source or str(path)
    fast = plain.try_plain(
        Path(path),
        lambda ds: image_from_dataset(ds, source, max_pixels=max_pixels),
        lambda image: not image.problems,
        pixels=True,
    )
    if fast is not None:
        return fast
    with captured_warnings() as caught:
        ds = read_dataset(Path(path), source, pixels=True, max_bytes=8 * max_pixels + 2**24)
        if isinstance(ds, Problem):
            raise DicomError(source, ds.reason)
        image = image_from_dataset(ds, source, max_pixels=max_pixels)
    return replace(image, problems=_unique([*image.problems, *caught]))


def _unique(items: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(map(note_text, items)))  # each one note of a problems cell


def image_from_dataset(
    ds: Any, source: str, *, max_pixels: int = DEFAULT_MAX_PIXELS, header_checked: bool = False
) -> DicomImage:
    """Decode an already-read :class:`pydicom.Dataset` (see :func:`read_instance`).

    Recovered header defects (a comma in PixelSpacing, two RescaleSlope values, no File
    Meta) and signs of damage (decoder warnings, excess pixel data, a JPEG frame without its
    end marker) are listed in ``problems``; unusable values raise :class:`DicomError`
    naming the tag. ``header_checked``: :func:`check_image_header` found nothing in these
    very header bytes before (the index's clean reading of a header with the same digest,
    :func:`pipeline.dicom.volume.load_series`), so it is not run again.
    """
    notes: list[str] = list(getattr(ds, "radpipe_notes", []))
    truncated = getattr(ds, "radpipe_truncated", None)
    if truncated:
        raise DicomError(source, f"truncated file: {truncated}")
    if not header_checked:  # decode_stored checks it first too: nothing comes in between
        check_pixel_size(ds, source, max_pixels=max_pixels)  # no pixel data: say so first
    try:
        notes += [] if header_checked else check_image_header(ds)
    except DicomError as err:
        raise DicomError(source, err.reason) from None
    stored = decode_stored(ds, source, max_pixels=max_pixels, notes=notes)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    span = _span(stored)
    bits = stored_bits(ds, stored, span)  # BitsStored, or a codestream's wider samples
    signed = memoized(signed_pixels, ds)
    little = lut.little_endian(ds)
    frames = frame_infos(ds, source, notes)
    notes += series_vendor_notes(ds, frames[0].slope, [f.slope for f in frames],
                                 frames[0].intercept)  # fmt: skip
    lut_notes: list[str] = []  # said after the pixel notes below
    modality_lut = lut.modality_lut(ds, source, little, signed, lut_notes)
    try:  # infinities or merged values in float32 outputs
        notes += modality_range_notes(ds, frames, span, modality_lut is not None)
    except DicomError as err:
        raise DicomError(source, err.reason) from None
    notes += display_notes(ds)  # shutter, subtraction, overlays: once per series
    padding = padding_range(ds, bits, signed) if stored.dtype.kind in "iu" else None
    data, data_span = without_padding(stored, padding, span)  # the sign checks judge data
    top = data_span[1] if data_span else None  # -1000 HU stored as 64536, said below
    notes += wrapped_sign_notes(ds, data, bits, frames[0], signed=signed, top=top)
    notes += [n for n in (unsigned_data_note(ds, data, bits, data_span, signed=signed),) if n]
    notes += unmarked_padding_notes(ds, stored, frames[0], padding, span)  # -3024 HU
    notes += lut_notes
    icc, icc_said = icc_profile(ds, stored.ndim == 4)  # a camera's colours, not sRGB's
    units, unit, lossy, inverse = image_facts(ds)
    return made(DicomImage, {  # no __init__: a setattr per field of a frozen class
        "source": source,
        "stored": stored,
        "photometric": photometric,
        "bits_stored": bits,
        "signed": signed,
        "frames": frames,
        "modality_lut": modality_lut,
        "units": units,
        "unit": unit,
        "lossy": lossy,
        "inverse": inverse,
        "problems": _unique([*notes, *filter(None, [icc_said])]),
        "icc": icc,
        "padding": padding if stored.dtype.kind in "iu" else float_padding(ds),
        "stored_span": span,
    })  # fmt: skip


def _span(stored: np.ndarray) -> tuple[int, int] | None:
    """The smallest and largest value of grey integer frames ``(F, H, W)``, else ``None``."""
    if stored.ndim != 3 or stored.dtype.kind not in "iu" or not stored.size:
        return None
    return int(stored.min()), int(stored.max())


def _gray_chain(image: DicomImage, frame: int, window: WindowSpec) -> tuple[Any, str]:
    """The transform from stored values to display/float values, and the window name used."""
    info = image.frames[frame]

    def modality(values: np.ndarray) -> np.ndarray:
        return apply_modality_lut(values, info.slope, info.intercept, image.modality_lut)

    if window.mode == "none" or (
        window.mode == "header" and info.window is None and info.voi_lut is None
    ):
        return modality, "none"
    if window.mode == "header" and info.voi_lut is not None:
        first, table, bits = info.voi_lut

        def voi(values: np.ndarray) -> np.ndarray:
            return apply_voi_lut_table(modality(values), first, table, bits)

        name = f"header ({info.voi_choice})" if info.voi_choice else "header"
    else:
        if window.mode == "header":
            assert info.window is not None
            center, width, function = *info.window, info.voi_function
        else:
            center, width, function = window.center, window.width, window.function

        def voi(values: np.ndarray) -> np.ndarray:
            return apply_window(modality(values), center, width, function)

        name = window.name
        if window.mode == "header" and info.voi_choice:
            name += f" ({info.voi_choice})"
    if image.inverse:
        return (lambda values: invert(voi(values))), name
    return voi, name


def window_note(window: WindowSpec, image: DicomImage, modality: str) -> str | None:
    """What to say of ``window`` on ``image`` (an HU preset on values not HU, a colour image).

    An HU preset on values not HU: :func:`pipeline.ops.voi.preset_note`.
    Windowing is defined for MONOCHROME1/2 only (PS3.3 C.11.2, C.7.6.3.1.2): a colour image
    is written as its RGB values, and a window asked for (``lung``, ``40,400``) or its own
    WindowCenter/Width or VOI LUT under ``header`` was left unapplied without a word, the
    manifest's ``window`` cell ``none`` alone hinting at it.
    """
    if not image.is_color:
        return preset_note(window, modality, image.units)
    if window.mode == "none":
        return None
    if window.mode == "header":
        if all(f.window is None and f.voi_lut is None for f in image.frames):
            return None
        what = "WindowCenter/WindowWidth (0028,1050)/(0028,1051) or VOI LUT (0028,3010)"
    else:
        what = f"window {window.name!r}"
    return (f"{what} not applied: a colour image ({image.photometric}) takes no window "
            "(windowing is defined for MONOCHROME1/2, PS3.3 C.11.2), written as its RGB "
            "values")  # fmt: skip


def render(
    image: DicomImage, frame: int, window: WindowSpec, out: OutType = "float32"
) -> tuple[np.ndarray, str]:
    """One frame as an output array, and the window actually used (for the manifest).

    Grey frames: without a VOI step (``none``, or ``header`` when the file has no window)
    float outputs are modality values and integer outputs span the full stored range
    (lossless for ``uint16``); with one, values are windowed to [0, 1] (then scaled), and
    MONOCHROME1 / INVERSE is inverted. Colour frames are RGB (window ignored; see
    :func:`pipeline.dicom.colour_out.render_color`).
    """
    if image.is_color:
        return render_color(image, frame, out), "none"
    fast = _integer_modality(image, frame, window, out)
    if fast is not None:
        return fast, "none"
    chain, name = _gray_chain(image, frame, window)
    lo, hi = image.stored_range()
    bits = 8 if out == "uint8" else 16
    if name == "none" and out != "float32":
        span = modality_span(image, frame, lo, hi)
        first = chain

        def chain(values: np.ndarray) -> np.ndarray:
            scaled = (first(values) - span[0]) / max(span[1] - span[0], 1e-12)
            return invert(scaled) if image.inverse else scaled

    def final(values: np.ndarray) -> np.ndarray:
        result = chain(values)
        if out != "float32":
            return to_unsigned(result, bits)
        with np.errstate(over="ignore", under="ignore"):  # doubles beyond float32: noted
            return result.astype(np.float32)

    stored = image.stored[frame]
    if stored.dtype.kind in "ui" and stored.dtype.itemsize <= 2:
        info = image.frames[frame]
        cacheable = image.modality_lut is None and info.voi_lut is None
        key = (info.slope, info.intercept, info.window, info.voi_function,
               image.inverse, name, window, lo, hi, out, stored.dtype.str)  # fmt: skip
        table = _LUT_CACHE.get(key) if cacheable else None
        if table is None:
            table = build_lookup(stored.dtype, final)
            if cacheable:
                if len(_LUT_CACHE) > 64:
                    _LUT_CACHE.clear()
                _LUT_CACHE[key] = table
        return lookup(stored, table), name
    return final(stored), name


def modality_span(image: DicomImage, frame: int, lo: float, hi: float) -> tuple[float, float]:
    """The smallest and largest modality value of stored values in ``[lo, hi]``, in that order.

    A negative RescaleSlope or a decreasing (or non-monotonic) Modality LUT maps ``lo`` above
    ``hi``; the display range is still from the smallest modality value to the largest.
    """
    ends = [modality_of(image, frame, lo), modality_of(image, frame, hi)]
    if image.modality_lut is not None:
        first, table = image.modality_lut
        # the entries stored values in [lo, hi] can reach (those outside clamp to the ends)
        start = int(np.clip(int(lo) - int(first), 0, len(table) - 1))
        stop = int(np.clip(int(hi) - int(first), 0, len(table) - 1))
        reached = table[start : stop + 1]
        ends += [float(reached.min()), float(reached.max())]
    return min(ends), max(ends)


def modality_of(image: DicomImage, frame: int, value: float) -> float:
    """The modality value of one stored value in ``frame``."""
    info = image.frames[frame]
    arr = np.array([value], dtype=np.float64 if image.stored.dtype.kind == "f" else np.int64)
    return float(apply_modality_lut(arr, info.slope, info.intercept, image.modality_lut)[0])


def frame_order(image: DicomImage) -> list[int]:
    """Frame indices sorted along the slice normal (stable; file order without geometry)."""
    infos = image.frames
    if len(infos) < 2 or any(f.position is None or f.orientation is None for f in infos):
        return list(range(len(infos)))
    normal = geometry.slice_normal(infos[0].orientation)  # type: ignore[arg-type]
    dist = geometry.positions_along(normal, [f.position for f in infos])  # type: ignore[misc]
    return [int(i) for i in np.argsort(np.round(dist, 3), kind="stable")]


@dataclass(frozen=True)
class Volume:
    """A series as a ``(D, H, W)`` array in anatomical order, with its geometry."""

    image: np.ndarray
    spacing: tuple[float, float, float]
    affine_ras: np.ndarray | None
    window: str
