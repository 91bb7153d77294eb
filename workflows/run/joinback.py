"""Columns that join a prediction back to the user's own files: the source path relative to
SRC and, only when asked for (``radpipe predict --with-uids``), the DICOM UID of the predicted
item read from the file's header."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def source_columns(
    src: Path, item_rows: list[dict[str, Any]], mode: str, *, with_uid: bool = False
) -> dict[str, str]:
    """``source`` (relative to SRC; a series: its first slice's file) and, with ``with_uid``,
    ``sop_instance_uid`` (image mode) or ``series_instance_uid`` (series mode), empty when
    unreadable.

    Raw UIDs are patient-linked identifiers: they are left out unless the user opts in
    (``radpipe predict --with-uids``); ``--hashed-keys-only`` leaves out ``source`` too, when
    the predictions are to be shared.
    """
    from workflows.run.labels import spreadsheet_safe

    first = item_rows[0]
    rel = str(first.get("source") or "")
    if not with_uid:
        return {"source": spreadsheet_safe(rel)}
    import pydicom

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
    key = "sop_instance_uid" if mode == "image" else "series_instance_uid"
    return {"source": spreadsheet_safe(rel), key: spreadsheet_safe(uid)}
