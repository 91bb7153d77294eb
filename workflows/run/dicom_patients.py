"""A DICOM run's split against the patients of its source's headers, before a run directory.

``split.folds`` (or the ratio split's train, val and test parts) above the number of patients
was refused before the run only when it was above the rows of the labels CSV; 12 labelled
series of 3 patients with ``split.folds: 5`` were refused once the run directory was made
and the source converted ("Cannot split 3 patients into 5 non-empty parts", exit 1).
:func:`dicom_split_problems` counts the patients (PatientID) of the series the run would use
from the files' headers (no pixel data read), as the run groups them. It says nothing when a
series it counts has no PatientID (the run places such series by study), when the labels CSV
is keyed otherwise than by ``series_uid``, or with ``split.column``: the run checks those.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.cells import CsvRow, csv_label, csv_uid
from pipeline.words import counted
from workflows.run.config import RunConfig
from workflows.run.paths import said
from workflows.run.split_rows import asked_parts, parts_needed

__all__ = ["dicom_split_problems"]


def dicom_split_problems(config: RunConfig, labels: list[CsvRow]) -> list[str]:
    """The split's parts above the patients of the series a DICOM run uses (``labels``: the
    rows of its labels CSV, ``[]`` without one)."""
    d, s = config.data, config.split
    if d.kind != "dicom" or s.column or not d.source.is_dir():
        return []
    parts = parts_needed(config)
    wanted = _labelled(labels, d.label_column) if d.labels is not None else None
    if d.labels is not None and wanted is None:
        return []  # keyed otherwise: the run checks
    patients = _patients(d.source, wanted)
    if not patients or len(patients) >= parts:
        return []
    series = sum(len(v) for v in patients.values())
    return [
        f"split: the {counted(series, 'series', 'series')} to use in {said(d.source)} "
        f"({'labelled in ' + said(d.labels) if d.labels else 'every image series'}) carry "
        f"{counted(len(patients), 'distinct PatientID')}: they cannot fill {parts} parts "
        f"({asked_parts(config)}); every part needs a patient of its own (a patient's "
        "series all go to one part); add patients, or "
        + ("lower split.folds" if s.folds else "set split.val or split.test to 0")
        + " (a de-identification that wrote one PatientID for every patient makes them one)"
    ]


def _labelled(rows: list[CsvRow], column: str) -> set[str] | None:
    """The SeriesInstanceUIDs a labels CSV keyed by ``series_uid`` labels; ``None`` for a CSV
    keyed otherwise (``series_key``, ``file``)."""
    if not rows or "series_uid" not in rows[0] or {"series_key", "file"} & set(rows[0]):
        return None
    out = set()
    for row in rows:
        try:
            uid = csv_uid(row.get("series_uid"), "series_uid")
        except ValueError:
            return None
        if uid and csv_label(row.get(column)) != "":
            out.add(uid)
    return out


def _patients(source: Path, wanted: set[str] | None) -> dict[str, set[str]] | None:
    """``{PatientID: its SeriesInstanceUIDs}`` of the image series below ``source`` (those of
    ``wanted`` only, when given); ``None`` when one of them has no PatientID."""
    from pipeline.dicom.header_scan import file_header
    from pipeline.dicom.seg_masks import SEG_SOP_CLASSES
    from pipeline.dicom.walk import source_files

    out: dict[str, set[str]] = {}
    for path in source_files(source.resolve()):
        ds = file_header(path)  # read once with the masks CSV's check (scan_images)
        if ds is None:  # not DICOM: said by the conversion
            continue
        series = ds.series_uid.strip()
        if not series or not ds.has_rows or ds.sop_class in SEG_SOP_CLASSES:
            continue
        if wanted is not None and series not in wanted:
            continue
        patient = ds.patient_id.strip()
        if not patient:
            return None
        out.setdefault(patient, set()).add(series)
    return out
