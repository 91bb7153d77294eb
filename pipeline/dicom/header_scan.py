"""The header facts of a source's DICOM files, read once per file per process.

The checks before a DICOM run each read every file's header: the masks CSV against the images
(:func:`pipeline.dicom.seg_masks.scan_images`) and the patients against the split
(``workflows.run.dicom_patients``), and a run with DICOM SEG masks scans them again. A large
source was read two or three times before anything was converted. :func:`file_header` reads
the tags all of them need in one ``dcmread`` (no pixel data) and keeps the values, by file
(its absolute path, change time and size): the :data:`MAX_HEADERS` most recently used, for
the rest of the process (unbounded, 100,000 files held ~60 MB).
"""

from __future__ import annotations

import os
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.memo import MAX_FILES, keep, used

__all__ = ["FileHeader", "file_header", "image_size", "keep_header"]

_TAGS = ["SOPClassUID", "SOPInstanceUID", "SeriesInstanceUID", "FrameOfReferenceUID",
         "NumberOfFrames", "Rows", "Columns", "ImagePositionPatient", "ImageOrientationPatient",
         "PixelSpacing", "Modality", "PatientID"]  # fmt: skip


@dataclass(frozen=True, slots=True)
class FileHeader:
    """The header values of one DICOM file as pydicom gives them (no pixels read)."""

    sop_class: str
    sop_uid: str
    series_uid: str  # as stored: a reader strips it where it must
    frame_of_reference: str
    patient_id: str  # "" when absent or empty
    has_rows: bool
    frames: Any  # NumberOfFrames, or None
    rows: Any
    columns: Any  # None when absent
    position: tuple[float, ...] | None
    orientation: tuple[float, ...] | None
    spacing: tuple[float, ...] | None


#: At most this many headers are kept (see :data:`pipeline.memo.MAX_FILES`).
MAX_HEADERS = MAX_FILES
#: Each file's header, or None for a file pydicom cannot read (not DICOM), least recently
#: used first.
_READ: OrderedDict[tuple[str, int, int], FileHeader | None] = OrderedDict()


def file_header(path: Path) -> FileHeader | None:
    """The header of the DICOM file ``path``, read once per process.

    Read again when the file changed (its change time or size); ``None`` when it cannot be
    read as DICOM (a mask, a CSV beside the images).
    """
    import pydicom

    try:
        stat = path.stat()
    except OSError:
        return None
    key = (os.fspath(path.absolute()), stat.st_mtime_ns, stat.st_size)
    if used(_READ, key):
        return _READ[key]
    with warnings.catch_warnings():  # pydicom's value warnings quote the values (UIDs,
        warnings.simplefilter("ignore")  # names): never printed; the conversion says them
        try:
            ds = pydicom.dcmread(path, stop_before_pixels=True, specific_tags=_TAGS)
        except Exception:  # not DICOM: said by the conversion
            ds = None
        header = None if ds is None else _header(ds)
    return keep(_READ, key, header, MAX_HEADERS)


def keep_header(path: Path, ds: Any) -> None:
    """Keep the facts of ``ds``, read in full from ``path`` by another check.

    A ``file``-keyed CSV's check (:mod:`workflows.run.truth`) reads its files whole: kept, so
    :func:`file_header` does not read them again. Only a file with DICOM's preamble is kept:
    one without it is no DICOM to :func:`file_header` (``dcmread`` without ``force``).
    """
    if getattr(ds, "preamble", None) is None:
        return
    try:
        stat = path.stat()
    except OSError:
        return
    key = (os.fspath(path.absolute()), stat.st_mtime_ns, stat.st_size)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        keep(_READ, key, _header(ds), MAX_HEADERS)


def _header(ds: Any) -> FileHeader:
    """The facts of a data set read by :func:`file_header`, inside its warnings filter."""
    return FileHeader(
        sop_class=str(ds.get("SOPClassUID", "")), sop_uid=str(ds.get("SOPInstanceUID", "")),
        series_uid=str(ds.get("SeriesInstanceUID", "")),
        frame_of_reference=str(ds.get("FrameOfReferenceUID", "")),
        patient_id=str(ds.get("PatientID", "") or ""), has_rows="Rows" in ds,
        frames=ds.get("NumberOfFrames"), rows=ds.get("Rows"), columns=ds.get("Columns"),
        position=_floats(ds, "ImagePositionPatient", 3),
        orientation=_floats(ds, "ImageOrientationPatient", 6),
        spacing=_floats(ds, "PixelSpacing", 2),
    )  # fmt: skip


def _floats(ds: Any, keyword: str, n: int) -> tuple[float, ...] | None:
    try:
        values = tuple(float(v) for v in ds.get(keyword) or ())
    except (TypeError, ValueError):
        return None
    return values if len(values) == n else None


def image_size(h: FileHeader) -> tuple[int, int, int] | str:
    """``(frames, rows, columns)`` of the header ``h``, or what is wrong with them.

    In the conversion's words (:func:`pipeline.dicom.header_checks.image_checks`). PS3.3
    C.7.6.3: Rows and Columns are type 1, US; C.7.6.6: NumberOfFrames counts the frames (an
    absent or 0 NumberOfFrames reads as one frame, as the conversion reads it).
    """
    from pipeline.dicom.values import integer, tag_name
    from pipeline.errors import DicomError

    values = {"NumberOfFrames": h.frames, "Rows": h.rows, "Columns": h.columns}
    try:
        frames = integer(values, "NumberOfFrames", 1, minimum=0) or 1
        rows, columns = (integer(values, k, minimum=1, maximum=0xFFFF) for k in ("Rows", "Columns"))
    except DicomError as err:
        return err.reason
    if rows is None or columns is None:
        return f"{tag_name('Rows' if rows is None else 'Columns')} is missing."
    return frames, rows, columns
