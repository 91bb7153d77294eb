"""Test images with text burned into their pixels, left out of the report's image figures.

A DICOM image whose BurnedInAnnotation (0028,0301) is ``YES`` "contains sufficient burned in
annotation to identify the patient" (PS3.3 C.7.6.1.1.7): a name or date drawn into the
pixels of a radiograph, an ultrasound or a secondary capture. The report's thumbnails,
overlays and saliency maps show test images as the model saw them, so by default a series
holding such an image is shown in none of them (``report.burned_in_images: true`` shows them;
``report.images: false`` shows no test image at all). Only the header flag is read: text in
images whose header does not say so is not detected.
"""

from __future__ import annotations

import csv
import logging
from collections.abc import Iterable
from pathlib import Path

import pydicom
from pydicom.errors import InvalidDicomError

log = logging.getLogger("radpipe")


def burned_in_series(
    conversion: Path, source_root: Path, series_keys: Iterable[str]
) -> tuple[set[str], int]:
    """Series among ``series_keys`` with a file whose BurnedInAnnotation is ``YES``.

    Parameters
    ----------
    conversion
        The conversion folder: ``sources.csv`` (per-series conversions: every file of each
        volume) or else ``manifest.csv`` (one row per converted image), whose ``source``
        column is relative to ``source_root``.
    source_root
        The DICOM folder that was converted.
    series_keys
        The hashed series keys to check (the evaluated images' series).

    Returns
    -------
    burned, unchecked
        The series keys flagged, and the number of their files that could not be read (a
        moved or deleted source): those images are shown, and the count is reported.
    """
    wanted = set(series_keys)
    table = conversion / "sources.csv"
    if not table.is_file():
        table = conversion / "manifest.csv"
    if not table.is_file() or not wanted:
        return set(), 0
    files: dict[str, set[str]] = {}
    with table.open(newline="") as fh:
        for row in csv.DictReader(fh):
            if row.get("series_key") in wanted and row.get("source"):
                files.setdefault(row["series_key"], set()).add(row["source"])
    burned: set[str] = set()
    unchecked = 0
    for key, sources in files.items():
        for source in sorted(sources):
            flag = _flag(source_root / source)
            if flag is None:
                unchecked += 1
            elif flag == "YES":
                burned.add(key)
                break
    return burned, unchecked


def _flag(path: Path) -> str | None:
    """The file's BurnedInAnnotation, upper-cased (``""`` when absent), ``None`` if unreadable."""
    try:
        ds = pydicom.dcmread(
            path, stop_before_pixels=True, force=True, specific_tags=["BurnedInAnnotation"]
        )
    except (OSError, ValueError, EOFError, TypeError, InvalidDicomError):
        return None
    return str(ds.get("BurnedInAnnotation", "") or "").strip().upper()
