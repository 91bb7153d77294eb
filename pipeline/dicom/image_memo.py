"""Header-only facts of an image, worked out once per series for plain files.

:func:`pipeline.dicom.read.image_from_dataset` asks each file's header what it says beside
the pixels: display shutters, mask subtraction and overlay planes not applied (16 overlay
groups looked up), the modality values' units, the lossy history and the presentation's
inversion. Each is a function of the header's values alone, so for a plain reading
:func:`pipeline.dicom.plain_memo.memoized` keeps the answer and gives it to the next file of
the series whose elements read are byte for byte the same (about 0.2 M instructions a 64x64
file of ``convert --format npy``, issue 15). Outside a plain reading they are simply called,
in the same order as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipeline.dicom import lut
from pipeline.dicom.lossy import lossy_history
from pipeline.dicom.overlays import overlay_note
from pipeline.dicom.plain_memo import memoized
from pipeline.dicom.presentation import presentation_inverse
from pipeline.dicom.shutters import shutter_note
from pipeline.dicom.subtraction import subtraction_note
from pipeline.dicom.units import value_unit
from pipeline.dicom.vendor import vendor_notes
from pipeline.dicom.voi_choice import voi_choice

__all__ = ["display_notes", "image_facts", "series_vendor_notes", "series_voi_choice"]


def _display_notes(ds: Any) -> list[str]:
    return [n for n in (shutter_note(ds), subtraction_note(ds), overlay_note(ds)) if n]


def display_notes(ds: Any) -> list[str]:
    """The notes of a display shutter, a mask subtraction and overlay planes not applied."""
    return memoized(_display_notes, ds)


def _image_facts(ds: Any) -> tuple[tuple[str, str], str, str, bool]:
    return lut.value_units(ds), value_unit(ds), lossy_history(ds), presentation_inverse(ds)


def image_facts(ds: Any) -> tuple[tuple[str, str], str, str, bool]:
    """``(lut.value_units, value_unit, lossy_history, presentation_inverse)`` of ``ds``."""
    return memoized(_image_facts, ds)


def _voi_choice(ds: Any, frame: int, use_lut: bool) -> str:
    return voi_choice(ds, frame, lut=use_lut)


def series_voi_choice(ds: Any, frame: int, *, lut: bool) -> str:
    """:func:`pipeline.dicom.voi_choice.voi_choice`, kept per series for plain files."""
    return memoized(_voi_choice, ds, frame, lut)


def series_vendor_notes(
    ds: Any, rescale_slope: float, frame_slopes: Sequence[float], rescale_intercept: float
) -> list[str]:
    """:func:`pipeline.dicom.vendor.vendor_notes`, kept per series for plain files."""
    return memoized(vendor_notes, ds, rescale_slope, tuple(frame_slopes), rescale_intercept)
