"""An images run's split against its list's patients, checked before a run directory is made.

A ``data.kind: images`` list gives each image's patient (``patient_id``, else the image is a
patient of its own), so whether the split can be made needs no image read: ``split.folds``
(or the ratio split's parts) above the number of patients, and a ``split.column`` that puts
one patient's rows in two parts, were refused only once the run directory was made (exit 1:
"Cannot split 2 patients into 3 non-empty parts", "puts 2 patients in more than one part").
:func:`split_problems` finds both with the other input checks (exit 2), with the figures.
"""

from __future__ import annotations

from pathlib import Path

from pipeline.cells import CsvRow, csv_key, csv_label
from pipeline.errors import RadpipeError
from pipeline.words import counted
from workflows.run.config import RunConfig
from workflows.run.paths import said

__all__ = ["asked_parts", "parts_needed", "split_problems"]


def split_problems(config: RunConfig, rows: list[CsvRow]) -> list[str]:
    """The problems of an images run's split over its list's ``rows`` (``[]`` for DICOM)."""
    d, s = config.data, config.split
    if d.kind != "images" or d.labels is None or not rows or "image" not in rows[0]:
        return []
    labelled = config.task == "classification" or d.label_column in rows[0]
    kept: dict[str, CsvRow] = {}  # image cell -> its first row (each image once)
    for row in rows:
        image = (row.get("image") or "").strip()
        if image and not (labelled and csv_label(row.get(d.label_column)) == ""):
            kept.setdefault(image, row)  # an unlabelled image is left out (or refused)
    patient = {image: csv_key(r.get("patient_id")) or image for image, r in kept.items()}
    patients = len(set(patient.values()))
    where = (f"{said(d.labels)} ({counted(len(kept), 'image')} of "
             f"{counted(patients, 'patient')}{_whose(rows)})")  # fmt: skip
    if s.column:
        return _column_problems(config, patient, where) if s.column in rows[0] else []
    parts = parts_needed(config)
    if not kept or patients >= parts:
        return []
    return [
        f"split: {where} cannot fill {parts} parts ({asked_parts(config)}): every part needs a "
        "patient of its own (a patient's images all go to one part); add patients, or "
        + ("lower split.folds" if s.folds else "set split.val or split.test to 0")
    ]


def parts_needed(config: RunConfig) -> int:
    """The patients a split without ``split.column`` needs at least: one per fold and one
    for a test part, or one per ratio part (train, and val and test when asked for)."""
    s = config.split
    return (s.folds + (s.test > 0)) if s.folds else 1 + (s.val > 0) + (s.test > 0)


def asked_parts(config: RunConfig) -> str:
    """The parts :func:`parts_needed` counts, as the config asks for them."""
    s = config.split
    if s.folds:
        return f"split.folds {s.folds}" + (
            f" and a test part, split.test {s.test}" if s.test else ""
        )
    names = ["train"] + ["val"] * (s.val > 0) + ["test"] * (s.test > 0)
    return f"{', '.join(names)}: split.val {s.val}, split.test {s.test}"


def _whose(rows: list[CsvRow]) -> str:
    return "" if "patient_id" in rows[0] else ", each image its own patient: no patient_id column"


def _column_problems(config: RunConfig, patient: dict[str, str], where: str) -> list[str]:
    """A ``split.column`` that puts one patient in two parts, or leaves fewer patients
    outside its test part than ``split.folds``."""
    from pipeline.dicom.files import escape_name
    from pipeline.keys import hash_key
    from workflows.run.split_column import _check_patients, read_split_column

    labels: Path = config.data.labels  # type: ignore[assignment]
    column, folds = config.split.column, config.split.folds
    try:
        parts = read_split_column(labels, column, "image", said(labels))  # type: ignore[arg-type]
        series = [{"patient_key": hash_key(p), "series_key": hash_key(i), "source": escape_name(i)}
                  for i, p in patient.items() if hash_key(i) in parts]  # fmt: skip
        _check_patients(series, parts, column, said(labels))  # type: ignore[arg-type]
    except RadpipeError as err:
        return [str(err).rstrip(".")]
    pool = {r["patient_key"] for r in series if parts[r["series_key"]][0] != "test"}
    if folds and len(pool) < folds:
        return [
            f"split.folds {folds} is more than the {counted(len(pool), 'patient')} that "
            f"split.column {column!r} leaves outside its test part in {where}: every fold "
            "needs a patient of its own; lower split.folds"
        ]
    return []
