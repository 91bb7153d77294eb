"""Grey-scale display pipeline of DICOM: modality LUT, VOI (window or LUT), presentation.

The order is fixed by PS3.4 N.2 (grayscale transformations): stored values -> Modality LUT
(PS3.3 C.11.1) -> VOI LUT (C.11.2) -> Presentation LUT (C.11.6). Windowed outputs are floats
in ``out_range`` (default ``(0.0, 1.0)``); scaling to an output type is a separate step
(:mod:`pipeline.ops.scale`).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

VoiFunction = Literal["LINEAR", "LINEAR_EXACT", "SIGMOID"]
VOI_FUNCTIONS: tuple[str, ...] = ("LINEAR", "LINEAR_EXACT", "SIGMOID")

#: Named CT windows as (center, width) in HU (Radiopaedia "Windowing (CT)").
WINDOW_PRESETS: dict[str, tuple[float, float]] = {
    "lung": (-600.0, 1500.0),
    "mediastinum": (50.0, 350.0),
    "bone": (400.0, 1800.0),
    "brain": (40.0, 80.0),
    "subdural": (75.0, 200.0),
    "stroke": (40.0, 40.0),
    "abdomen": (50.0, 400.0),
    "liver": (30.0, 150.0),
    "soft_tissue": (50.0, 400.0),
}


@dataclass(frozen=True)
class WindowSpec:
    """What VOI step to apply: ``mode`` is ``none``, ``header`` or ``explicit``.

    ``name`` is what the manifest records: ``none``, ``header``, a preset name, or ``C,W``.
    """

    mode: Literal["none", "header", "explicit"]
    name: str
    center: float = 0.0
    width: float = 1.0
    function: VoiFunction = "LINEAR"


def preset_note(window: WindowSpec, modality: str, units: tuple[str, str] = ("", "")) -> str | None:
    """What to say when a named window (in HU) is applied to values that are not HU.

    The presets are CT windows (:data:`WINDOW_PRESETS`); an MR, PET, radiograph or ultrasound
    image's modality values are in other units, so ``lung`` windows them by numbers that
    mean nothing there (HU windows are for CT only, MedVision #7). The header may say so
    itself: ``units`` is ``(value, where)``, e.g. ``("US", "RescaleType (0028,1054)")``
    (:func:`pipeline.dicom.lut.value_units`); values it does not call ``HU`` are not HU,
    whatever the modality (a CT whose RescaleType is ``US``, unspecified). ``None`` for CT
    or an unknown modality whose header says nothing else, and for other windows.

    Examples
    --------
    >>> lung = parse_window("lung")
    >>> preset_note(lung, "CT") is None
    True
    >>> preset_note(lung, "CT", ("US", "RescaleType (0028,1054)"))
    "HU preset: window 'lung' is a CT window in HU (-600, 1500) applied to values whose RescaleType (0028,1054) is 'US', not HU"
    """  # noqa: E501
    kind = str(modality or "").strip().upper()
    if window.name not in WINDOW_PRESETS:
        return None
    said = (f"HU preset: window {window.name!r} is a CT window in HU ({window.center:g}, "
            f"{window.width:g})")  # fmt: skip
    unit, where = units
    if unit and unit != "HU":
        return f"{said} applied to values whose {where} is {unit!r}, not HU"
    if kind in ("", "CT"):
        return None
    return f"{said} applied to {kind} values, which are not HU"


def parse_window(text: str) -> WindowSpec:
    """Parse ``none``, ``header``, a preset name (``lung``) or an explicit ``C,W``.

    Examples
    --------
    >>> parse_window("lung")
    WindowSpec(mode='explicit', name='lung', center=-600.0, width=1500.0, function='LINEAR')
    >>> parse_window("40,400").center
    40.0
    """
    key = text.strip().lower()
    if key in ("none", "header"):
        return WindowSpec(mode=key, name=key)  # type: ignore[arg-type]
    if key in WINDOW_PRESETS:
        center, width = WINDOW_PRESETS[key]
        return WindowSpec(mode="explicit", name=key, center=center, width=width)
    parts = key.split(",")
    try:
        center, width = (float(p) for p in parts)
    except ValueError:
        choices = ", ".join(["none", "header", *WINDOW_PRESETS, "C,W"])
        raise ValueError(f"Unknown window {text!r}; choose one of {choices}.") from None
    if not (math.isfinite(center) and math.isfinite(width)):
        raise ValueError(f"The window center and width must be finite numbers; got {text!r}.")
    if width <= 0:
        raise ValueError(f"The window width must be > 0; got {width:g} in {text!r}.")
    if width < 1:  # an explicit window is LINEAR, whose formula divides by w - 1
        raise ValueError(
            f"The window width must be >= 1 (a LINEAR window, PS3.3 C.11.2.1.2); "
            f"got {width:g} in {text!r}."
        )
    return WindowSpec(mode="explicit", name=f"{center:g},{width:g}", center=center, width=width)


def apply_modality_lut(
    stored: np.ndarray,
    slope: float = 1.0,
    intercept: float = 0.0,
    lut: tuple[int, np.ndarray] | None = None,
) -> np.ndarray:
    """Stored values to modality values (HU for CT), in float.

    Parameters
    ----------
    stored
        Integer stored values (already masked to BitsStored and sign-extended).
    slope, intercept
        RescaleSlope (0028,1053) and RescaleIntercept (0028,1052); absent tags mean 1 and 0.
    lut
        A Modality LUT Sequence item as ``(first_mapped, table)``: stored values below
        ``first_mapped`` map to ``table[0]``, above the last entry to ``table[-1]``
        (PS3.3 C.11.1.1). When given, ``slope`` and ``intercept`` are ignored.

    Returns
    -------
    numpy.ndarray
        float32, or float64 when the stored values need more than 16 bits (float32 holds
        integers exactly only up to 2**24).
    """
    wide = stored.dtype.itemsize > 2 or (lut is not None and lut[1].dtype.itemsize > 2)
    dtype = np.float64 if wide else np.float32
    if lut is not None:
        first, table = lut
        index = np.clip(stored.astype(np.int64) - int(first), 0, len(table) - 1)
        return table.astype(dtype)[index]
    out = stored.astype(dtype)
    if slope != 1.0:
        np.multiply(out, dtype(slope), out=out)
    if intercept != 0.0:
        np.add(out, dtype(intercept), out=out)
    return out


def apply_window(
    image: np.ndarray,
    center: float,
    width: float,
    function: str = "LINEAR",
    out_range: tuple[float, float] = (0.0, 1.0),
) -> np.ndarray:
    """Map values through a VOI window to ``out_range``.

    Parameters
    ----------
    image
        Modality values (e.g. HU).
    center, width
        WindowCenter (0028,1050) and WindowWidth (0028,1051).
    function
        VOILUTFunction (0028,1056): ``LINEAR`` (PS3.3 C.11.2.1.2.1, uses ``c - 0.5`` and
        ``w - 1``; width >= 1), ``LINEAR_EXACT`` (C.11.2.1.3.2; width > 0) or ``SIGMOID``
        (C.11.2.1.3.1; width > 0).
    out_range
        ``(y_min, y_max)`` of the output.

    Returns
    -------
    numpy.ndarray
        float32 (float64 if ``image`` is float64) in ``out_range``.

    Examples
    --------
    >>> apply_window(np.array([-1000.0, 40.0, 1000.0]), 40, 400, "LINEAR_EXACT").tolist()
    [0.0, 0.5, 1.0]
    """
    function = function.upper()
    lo, hi = out_range
    x = np.asarray(image)
    dtype = np.float64 if x.dtype == np.float64 else np.float32
    x = x.astype(dtype, copy=False)
    with np.errstate(over="ignore"):  # an overflow is an infinity that the clip below ends
        t = _window_fraction(x, dtype, center, width, function)
    np.clip(t, 0.0, 1.0, out=t)
    return (t * dtype(hi - lo) + dtype(lo)).astype(dtype, copy=False)


def _window_fraction(
    x: np.ndarray, dtype: type, center: float, width: float, function: str
) -> np.ndarray:
    """Where each value falls in the window, before clipping to [0, 1].

    SIGMOID's ``1 / (1 + exp(-4 (x - c) / w))`` is computed as ``(1 + tanh(2 (x - c) / w))
    / 2``, the same function, which never overflows: the exponential overflowed float32
    more than 22 widths below the center (a CT's padding, -3024, under a brain window
    (40, 80); or a whole-range lookup table of the stored values), and
    numpy's "overflow encountered in exp" became a problem of the file (refused under
    ``--strict``) though every value came out right.
    """
    if function == "LINEAR":
        if width < 1:
            raise ValueError(f"A LINEAR window needs WindowWidth >= 1; got {width:g}.")
        if width == 1:  # the formula divides by w - 1: a threshold at c - 0.5
            return np.where(x > center - 0.5, 1.0, 0.0).astype(dtype)
        t = (x - dtype(center - 0.5)) / dtype(width - 1) + dtype(0.5)
    elif function == "LINEAR_EXACT":
        if width <= 0:
            raise ValueError(f"A LINEAR_EXACT window needs WindowWidth > 0; got {width:g}.")
        t = (x - dtype(center)) / dtype(width) + dtype(0.5)
    elif function == "SIGMOID":
        if width <= 0:
            raise ValueError(f"A SIGMOID window needs WindowWidth > 0; got {width:g}.")
        t = (1.0 + np.tanh(2.0 * (x - dtype(center)) / dtype(width))) / 2.0
    else:
        raise ValueError(f"Unknown VOILUTFunction {function!r}; choose one of {VOI_FUNCTIONS}.")
    return np.asarray(t, dtype=dtype)


def apply_voi_lut_table(
    image: np.ndarray, first_mapped: int, table: np.ndarray, bits: int
) -> np.ndarray:
    """Apply a VOI LUT Sequence item (PS3.3 C.11.2.1.1), normalised to [0, 1].

    Values below ``first_mapped`` take the first entry, values past the end the last one;
    the output is ``table[...] / (2**bits - 1)`` with ``bits`` from the LUT Descriptor.
    """
    index = np.clip(np.rint(image).astype(np.int64) - int(first_mapped), 0, len(table) - 1)
    return (table.astype(np.float32) / np.float32(2**bits - 1))[index]


def invert(image: np.ndarray, out_range: tuple[float, float] = (0.0, 1.0)) -> np.ndarray:
    """Invert around ``out_range`` (MONOCHROME1 or Presentation LUT Shape INVERSE, C.11.6)."""
    lo, hi = out_range
    return (hi + lo) - image


def build_lookup(
    dtype: np.dtype | str, transform: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Tabulate ``transform`` over every value of an 8- or 16-bit integer ``dtype``.

    Entries are ordered by the values' unsigned bit patterns, so :func:`lookup` is a single
    indexing pass even for signed data. Indexing gives exactly what applying ``transform``
    per image would, several times faster.

    Examples
    --------
    >>> table = build_lookup("int16", lambda v: v * 2.0)
    >>> lookup(np.array([-3, 0, 5], np.int16), table).tolist()
    [-6.0, 0.0, 10.0]
    """
    dtype = np.dtype(dtype)
    if dtype.kind not in "ui" or dtype.itemsize > 2:
        raise ValueError(f"Lookup tables cover 8- and 16-bit integers; got {dtype}.")
    patterns = np.arange(1 << (8 * dtype.itemsize), dtype=f"u{dtype.itemsize}")
    return np.asarray(transform(patterns.view(dtype).astype(np.int64)))


def lookup(stored: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index a table from :func:`build_lookup` with 8- or 16-bit integer stored values."""
    return table[stored.view(f"u{stored.dtype.itemsize}")]
