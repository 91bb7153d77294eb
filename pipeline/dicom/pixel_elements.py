"""Which pixel data element an image holds, and whether BitsAllocated describes it.

An image holds one of PixelData (7FE0,0010), FloatPixelData (7FE0,0008) and
DoubleFloatPixelData (7FE0,0009) (PS3.3 C.7.6.3, C.7.6.24, C.7.6.25). The float elements have
a width of their own, 32-bit floats (VR OF) and 64-bit ones (VR OD), which BitsAllocated
(0028,0100) must repeat (C.7.6.24-25: Enumerated Values 32 and 64).
"""

from __future__ import annotations

from typing import Any

from pipeline.dicom import values
from pipeline.dicom.files import pixel_length
from pipeline.dicom.values import tag_name
from pipeline.errors import DicomError

__all__ = ["FLOAT_WIDTH", "check_pixel_elements"]

#: Bits per value of the float pixel data elements, by keyword: the decoder reads them at this
#: width whatever BitsAllocated says (:func:`check_pixel_elements` notes or refuses that).
FLOAT_WIDTH = {"FloatPixelData": 32, "DoubleFloatPixelData": 64}
_TAGS = {"PixelData": "(7FE0,0010)", "FloatPixelData": "(7FE0,0008)",
         "DoubleFloatPixelData": "(7FE0,0009)"}  # fmt: skip


def check_pixel_elements(ds: Any, notes: list[str]) -> None:
    """Refuse an image with more than one pixel data element, or floats BitsAllocated belies.

    Two elements (a map converted to floats with its integer PixelData left in, pydicom #452's
    attempts) were read as PixelData, the floats ignored unsaid, or refused in pydicom's words
    when both were floats. A float element under another BitsAllocated (32 over Double Float
    Pixel Data) failed with numpy's "cannot reshape array of size 2 into shape (1,4)", though
    ``inspect`` passed it: its values are read at the element's width when its length is
    exactly Rows x Columns x Frames of them, noted; else which the header describes is unknown,
    and it is refused, naming both.

    Raises
    ------
    DicomError
        Naming the elements (the caller fills in the file).
    """
    present = [keyword for keyword in _TAGS if keyword in ds]
    if len(present) > 1:
        shown = " and ".join(f"{keyword} {_TAGS[keyword]}" for keyword in present)
        both = "both" if len(present) == 2 else "all"
        raise DicomError("", f"{shown} are {both} present, where an image holds one pixel data "
                             "element (PS3.3 C.7.6.3, C.7.6.24-25): which of them is the image "
                             "is unknown.")  # fmt: skip
    if not present or present[0] not in FLOAT_WIDTH:
        return
    keyword = present[0]
    _grey_floats(ds, keyword)
    width = FLOAT_WIDTH[keyword]
    bits = values.integer(ds, "BitsAllocated", None, minimum=1)
    if bits is None or bits == width:
        return
    count = _values_wanted(ds)
    length = pixel_length(ds)
    said = (f"{tag_name('BitsAllocated')} contradicts {keyword} {_TAGS[keyword]}: it is "
            f"{bits}, but the element holds {width}-bit floats (PS3.3 "
            f"C.7.6.{24 if width == 32 else 25} gives BitsAllocated {width})")  # fmt: skip
    if length is not None and length == count * width // 8:
        notes.append(f"{said}, and its {length:,} bytes are Rows x Columns x Frames "
                     f"({count:,}) of them: read as {width}-bit floats")  # fmt: skip
        return
    held = "an unknown number of" if length is None else f"{length:,}"
    raise DicomError("", f"{said}, and its {held} bytes are not Rows x Columns x Frames "
                         f"({count:,}) of them: which values the header describes is "
                         "unknown.")  # fmt: skip


def _grey_floats(ds: Any, keyword: str) -> None:
    """Refuse float pixel data of more than one sample a pixel.

    The Floating Point Image Pixel modules define one grey sample a pixel (PS3.3 C.7.6.24-25:
    SamplesPerPixel 1, MONOCHROME2). Float colour samples were written to PNG as if they were
    0..255, so a map of 0..1 came out black, unsaid; they have no defined range to scale.
    """
    samples = values.integer(ds, "SamplesPerPixel", 1) or 1
    if samples != 1:
        raise DicomError("", f"{keyword} {_TAGS[keyword]} with {tag_name('SamplesPerPixel')} "
                             f"{samples}: float pixel data are one grey sample a pixel (PS3.3 "
                             "C.7.6.24-25: SamplesPerPixel 1, MONOCHROME2), and float colour "
                             "samples have no defined range to write as colours.")  # fmt: skip


def _values_wanted(ds: Any) -> int:
    """Rows x Columns x NumberOfFrames x SamplesPerPixel (frames and samples 1 when absent)."""
    rows = values.integer(ds, "Rows", 0) or 0
    columns = values.integer(ds, "Columns", 0) or 0
    frames = max(1, values.integer(ds, "NumberOfFrames", 1) or 1)
    samples = values.integer(ds, "SamplesPerPixel", 1) or 1
    return rows * columns * frames * samples
