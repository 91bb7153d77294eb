"""Read a DICOM file or series into arrays: modality values, windowed display values, geometry.

The grey-scale steps follow PS3.4 N.2: stored values -> Modality LUT (in float) -> VOI
(window or VOI LUT) -> presentation (MONOCHROME1 / INVERSE) -> output scaling. For integer
stored values of up to 16 bits the whole chain is tabulated once per parameter set and
applied by indexing, which is exact and several times faster than per-image float work.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from pipeline.dicom import geometry
from pipeline.dicom.decode import DEFAULT_MAX_PIXELS, decode_stored, frame_count
from pipeline.dicom.index import plane_attr
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
)

OutType = Literal["float32", "uint8", "uint16"]
_LUT_CACHE: dict[tuple[Any, ...], np.ndarray] = {}


@dataclass(frozen=True)
class FrameInfo:
    """Per-frame parameters (Enhanced objects keep them in the functional groups)."""

    slope: float
    intercept: float
    window: tuple[float, float] | None
    position: tuple[float, ...] | None
    orientation: tuple[float, ...] | None
    pixel_spacing: tuple[float, float] | None


@dataclass(frozen=True)
class DicomImage:
    """One decoded instance: ``stored`` is ``(F, H, W)`` grey or ``(F, H, W, 3)`` RGB."""

    source: str
    stored: np.ndarray
    photometric: str
    bits_stored: int
    signed: bool
    frames: tuple[FrameInfo, ...]
    voi_function: str
    modality_lut: tuple[int, np.ndarray] | None
    voi_lut: tuple[int, np.ndarray, int] | None
    inverse: bool

    @property
    def is_color(self) -> bool:
        """Whether ``stored`` holds RGB frames ``(F, H, W, 3)``."""
        return self.stored.ndim == 4

    def modality(self, frame: int = 0) -> np.ndarray:
        """Modality values (HU for CT) of one grey frame, float32 (float64 for >16 bits)."""
        info = self.frames[frame]
        return apply_modality_lut(self.stored[frame], info.slope, info.intercept, self.modality_lut)

    def stored_range(self) -> tuple[int, int]:
        """The smallest and largest value BitsStored and PixelRepresentation allow."""
        if self.signed:
            return -(2 ** (self.bits_stored - 1)), 2 ** (self.bits_stored - 1) - 1
        return 0, 2**self.bits_stored - 1


def read_instance(
    path: str | Path, source: str | None = None, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> DicomImage:
    """Read and decode one DICOM file; ``source`` names it in errors (default: the path)."""
    from pipeline.dicom.index import Problem, read_dataset

    source = source or str(path)
    ds = read_dataset(Path(path), source, pixels=True)
    if isinstance(ds, Problem):
        raise DicomError(source, ds.reason)
    return image_from_dataset(ds, source, max_pixels=max_pixels)


def image_from_dataset(ds: Any, source: str, *, max_pixels: int = DEFAULT_MAX_PIXELS) -> DicomImage:
    """Decode an already-read :class:`pydicom.Dataset` (see :func:`read_instance`)."""
    stored = decode_stored(ds, source, max_pixels=max_pixels)
    photometric = str(ds.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    bits = int(ds.get("BitsStored", ds.get("BitsAllocated", 16)) or 16)
    return DicomImage(
        source=source,
        stored=stored,
        photometric=photometric,
        bits_stored=bits,
        signed=int(ds.get("PixelRepresentation", 0) or 0) == 1,
        frames=_frame_infos(ds, source),
        voi_function=str(ds.get("VOILUTFunction", "LINEAR") or "LINEAR").upper(),
        modality_lut=_modality_lut(ds, source),
        voi_lut=_lut_item(ds.get("VOILUTSequence"), source),
        inverse=photometric == "MONOCHROME1"
        or str(ds.get("PresentationLUTShape", "")).upper() == "INVERSE",
    )


def _frame_infos(ds: Any, source: str) -> tuple[FrameInfo, ...]:
    n = frame_count(ds)
    if "PerFrameFunctionalGroupsSequence" not in ds:  # classic objects: every frame alike
        return (_frame_info(ds, 0, source),) * n
    return tuple(_frame_info(ds, f, source) for f in range(n))


def _frame_info(ds: Any, frame: int, source: str) -> FrameInfo:
    slope = plane_attr(ds, "PixelValueTransformationSequence", "RescaleSlope", frame)
    intercept = plane_attr(ds, "PixelValueTransformationSequence", "RescaleIntercept", frame)
    center = plane_attr(ds, "FrameVOILUTSequence", "WindowCenter", frame)
    width = plane_attr(ds, "FrameVOILUTSequence", "WindowWidth", frame)
    window = None
    if center not in (None, "") and width not in (None, ""):
        # Multi-valued WindowCenter/Width (pydicom #330): the first pair is the default.
        c, w = (float(v[0]) if _is_multi(v) else float(v) for v in (center, width))
        window = (c, w) if w > 0 else None
    return FrameInfo(
        slope=1.0 if slope in (None, "") else float(slope),
        intercept=0.0 if intercept in (None, "") else float(intercept),
        window=window,
        position=_tuple(plane_attr(ds, "PlanePositionSequence", "ImagePositionPatient", frame)),
        orientation=_tuple(
            plane_attr(ds, "PlaneOrientationSequence", "ImageOrientationPatient", frame)
        ),
        pixel_spacing=_tuple(  # type: ignore[arg-type]
            plane_attr(ds, "PixelMeasuresSequence", "PixelSpacing", frame)
            or ds.get("ImagerPixelSpacing")
        ),
    )


def _is_multi(value: Any) -> bool:
    return not isinstance(value, str | bytes) and hasattr(value, "__len__")


def _tuple(value: Any) -> tuple[float, ...] | None:
    if value in (None, ""):
        return None
    return tuple(float(v) for v in value)


def _modality_lut(ds: Any, source: str) -> tuple[int, np.ndarray] | None:
    item = _lut_item(ds.get("ModalityLUTSequence"), source)
    return None if item is None else (item[0], item[1])


def _lut_item(seq: Any, source: str) -> tuple[int, np.ndarray, int] | None:
    """First item of a Modality or VOI LUT Sequence as ``(first_mapped, table, bits)``."""
    if not seq:
        return None
    item = seq[0]
    try:
        n, first, bits = (int(v) for v in item.LUTDescriptor)
        raw = item.LUTData
    except (AttributeError, TypeError, ValueError) as err:
        raise DicomError(source, f"(0028,3002) LUTDescriptor/LUTData unusable: {err}") from err
    if isinstance(raw, bytes):
        table = np.frombuffer(raw, "<u2" if bits > 8 else "u1")
    else:
        table = np.asarray(raw if _is_multi(raw) else [raw], dtype=np.int64)
    n = n or 65536  # PS3.3 C.11.1.1: 0 in the first descriptor value means 2**16 entries
    return first, table[:n].astype(np.int64), bits


def _gray_chain(image: DicomImage, frame: int, window: WindowSpec) -> tuple[Any, str]:
    """The transform from stored values to display/float values, and the window name used."""
    info = image.frames[frame]

    def modality(values: np.ndarray) -> np.ndarray:
        return apply_modality_lut(values, info.slope, info.intercept, image.modality_lut)

    if window.mode == "none" or (
        window.mode == "header" and info.window is None and image.voi_lut is None
    ):
        return modality, "none"
    if window.mode == "header" and image.voi_lut is not None:
        first, table, bits = image.voi_lut

        def voi(values: np.ndarray) -> np.ndarray:
            return apply_voi_lut_table(modality(values), first, table, bits)

        name = "header"
    else:
        if window.mode == "header":
            assert info.window is not None
            center, width, function = *info.window, image.voi_function
        else:
            center, width, function = window.center, window.width, window.function

        def voi(values: np.ndarray) -> np.ndarray:
            return apply_window(modality(values), center, width, function)

        name = window.name
    if image.inverse:
        return (lambda values: invert(voi(values))), name
    return voi, name


def render(
    image: DicomImage, frame: int, window: WindowSpec, out: OutType = "float32"
) -> tuple[np.ndarray, str]:
    """One frame as an output array, and the window actually used (for the manifest).

    Grey frames: without a VOI step (``none``, or ``header`` when the file has no window)
    float outputs are modality values and integer outputs span the full stored range
    (lossless for ``uint16``); with one, values are windowed to [0, 1] (then scaled), and
    MONOCHROME1 / INVERSE is inverted. Colour frames are returned as RGB (window ignored).
    """
    if image.is_color:
        return _render_color(image, frame, out), "none"
    chain, name = _gray_chain(image, frame, window)
    lo, hi = image.stored_range()
    bits = 8 if out == "uint8" else 16
    if name == "none" and out != "float32":
        span = (float(modality_of(image, frame, lo)), float(modality_of(image, frame, hi)))
        first = chain

        def chain(values: np.ndarray) -> np.ndarray:
            scaled = (first(values) - span[0]) / max(span[1] - span[0], 1e-12)
            return invert(scaled) if image.inverse else scaled

    def final(values: np.ndarray) -> np.ndarray:
        result = chain(values)
        return result.astype(np.float32) if out == "float32" else to_unsigned(result, bits)

    stored = image.stored[frame]
    if stored.dtype.kind in "ui" and stored.dtype.itemsize <= 2:
        cacheable = image.modality_lut is None and image.voi_lut is None
        info = image.frames[frame]
        key = (info.slope, info.intercept, info.window, image.voi_function,
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


def modality_of(image: DicomImage, frame: int, value: int) -> float:
    """The modality value of one stored value in ``frame``."""
    info = image.frames[frame]
    arr = np.array([value], dtype=np.int64)
    return float(apply_modality_lut(arr, info.slope, info.intercept, image.modality_lut)[0])


def _render_color(image: DicomImage, frame: int, out: OutType) -> np.ndarray:
    rgb = image.stored[frame]
    if out == "float32":
        return rgb.astype(np.float32)
    top = float(rgb.max(initial=0))
    depth = 8 if top <= 255 else (16 if top <= 65535 else 32)
    if out == "uint8" and depth == 8:
        return rgb.astype(np.uint8)
    return to_unsigned(rgb, 8 if out == "uint8" else 16, (0.0, float(2**depth - 1)))


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
