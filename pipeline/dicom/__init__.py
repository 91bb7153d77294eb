"""DICOM ingest: header-only index, series assembly, pixel decoding and reading.

- :mod:`pipeline.dicom.index`: scan a folder, group series, sort along the normal, problems.
- :mod:`pipeline.dicom.decode`: stored values (bits, sign, size checks, colour, frames).
- :mod:`pipeline.dicom.geometry`: slice normal, spacing, affine (LPS and RAS).
- :mod:`pipeline.dicom.read`: a file or a series to float arrays plus metadata.
- :mod:`pipeline.dicom.plain` / :mod:`pipeline.dicom.elements`: our own reading of plain files
  (native little-endian, clean values), used where its result equals pydicom's.
"""

from __future__ import annotations

from pipeline.dicom.decode import DEFAULT_MAX_PIXELS, check_pixel_size, decode_stored, fix_bits
from pipeline.dicom.index import DicomIndex, Instance, Series, index_folder
from pipeline.dicom.read import DicomImage, read_instance, render
from pipeline.dicom.volume import read_series

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "DicomImage",
    "DicomIndex",
    "Instance",
    "Series",
    "check_pixel_size",
    "decode_stored",
    "fix_bits",
    "index_folder",
    "read_instance",
    "read_series",
    "render",
]
