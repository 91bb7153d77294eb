"""The labels of ``radpipe run``'s data as the study reads them: class indices by series or
image key (:func:`label_table`, ``labels_indexed.csv``), the series rows a split is made of,
and the run's class names (see :mod:`workflows.run.study`)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pipeline.dicom.files import escape_name
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.names import series_sources
from workflows.run.class_names import check_indices_used
from workflows.run.class_order import say_other_order
from workflows.run.config import RunConfig
from workflows.run.labels import (
    CLASSES_FILE,
    LabelTable,
    apply_missing_policy,
    read_label_table,
    store_classes,
)
from workflows.run.patients import place_unnamed_patients
from workflows.run.study_data import Study

__all__ = ["indexed_labels", "label_table", "labelled_series_rows", "study_class_names"]


def label_table(config: RunConfig, path: Path | None, key: str, run_dir: Path) -> LabelTable | None:
    """The labels as class indices (see :mod:`workflows.run.labels`); ``None`` without a CSV."""
    if path is None:
        return None
    names = config.data.class_names if config.task == "classification" else None
    column = config.data.label_column
    shown = config.data.labels.name if config.data.labels else None  # not truth/labels.csv
    table = read_label_table(path, column=column, key=key, class_names=names,
                             stored=run_dir / CLASSES_FILE, shown=shown)  # fmt: skip
    if path != config.data.labels:  # resolved from a CSV keyed by file (truth/labels.csv)
        table.key_column, table.path = "file", None  # lines: the user's; path: radpipe's
    if config.task == "classification":
        if names is None and not (run_dir / CLASSES_FILE).exists():  # a new run's own order
            unit = "image" if key == "image" else "series"
            check_indices_used(table.source, table.class_names, set(table.by_key.values()), unit)
        store_classes(table, run_dir)
        if names:  # a resumed run's classes.json is used whatever data.class_names says
            say_other_order(table.class_names, [("data.class_names (config.yaml)", names)])
    return table


def indexed_labels(table: LabelTable | None, run_dir: Path) -> Path | None:
    """``labels_indexed.csv`` in the run directory: ``series_key, label`` (class index), what
    the datasets read."""
    if table is None:
        return None
    path = run_dir / "labels_indexed.csv"
    with atomic_path(path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["series_key", "label"])
        writer.writerows(sorted(table.by_key.items()))
    return path


def labelled_series_rows(
    config: RunConfig, manifest: list[dict[str, Any]], table: LabelTable | None
) -> list[dict[str, Any]]:
    """One row per converted series (of the ``manifest`` rows) that has a label
    (``data.missing_labels`` decides the rest); every series when there is no labels CSV."""
    rows: dict[str, dict[str, Any]] = {}
    for r in manifest:
        rows.setdefault(r["series_key"], {"patient_key": r["patient_key"],
                                          "series_key": r["series_key"]})  # fmt: skip
    # how messages name a series: the file a file-keyed CSV gives for it, else its first file
    files = {k: escape_name(v) for k, v in (table.files if table else {}).items()}
    sources = series_sources(manifest) | files
    place_unnamed_patients(rows, {r["series_key"]: r["study_key"] for r in manifest}, sources)
    kept = apply_missing_policy(table, list(rows), config.data.missing_labels, sources=sources)
    return [{**rows[k], "label": table.by_key[k] if table else 0, "source": sources.get(k)}
            for k in kept]  # fmt: skip


def study_class_names(config: RunConfig, study: Study) -> list[str]:
    if config.task == "classification" and study.label_table is not None:
        return list(study.label_table.class_names)  # the order its labels are indexed in
    if config.data.class_names:
        return list(config.data.class_names)
    if config.task == "segmentation":
        return []  # decided from the masks by the runner
    if study.label_table is None:
        raise RadpipeError("task 'classification' needs data.labels (a labels CSV).")
    return list(study.label_table.class_names)
