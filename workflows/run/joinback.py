"""Columns that join a prediction back to the user's own files: the source path relative to
SRC and the DICOM UID of the predicted item (read from the file's header)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def source_columns(src: Path, item_rows: list[dict[str, Any]], mode: str) -> dict[str, str]:
    """``source`` (relative to SRC; a series: its first slice's file) and ``sop_instance_uid``
    (image mode) or ``series_instance_uid`` (series mode), empty when unreadable.

    These are the user's own identifiers; ``radpipe predict --hashed-keys-only`` leaves them
    out when the predictions are to be shared.
    """
    import pydicom

    first = item_rows[0]
    rel = str(first.get("source") or "")
    uid = ""
    if rel:
        try:
            ds = pydicom.dcmread(
                src / rel, stop_before_pixels=True,
                specific_tags=["SOPInstanceUID", "SeriesInstanceUID"],
            )  # fmt: skip
            uid = str(ds.get("SOPInstanceUID" if mode == "image" else "SeriesInstanceUID", ""))
        except (OSError, pydicom.errors.InvalidDicomError):
            uid = ""
    from workflows.run.labels import spreadsheet_safe

    key = "sop_instance_uid" if mode == "image" else "series_instance_uid"
    return {"source": spreadsheet_safe(rel), key: spreadsheet_safe(uid)}
