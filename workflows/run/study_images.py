"""A study of images already converted (``data.kind: images``): the list CSV's rows, keyed
and labelled, for :func:`workflows.run.study.prepare_study`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.cells import csv_key
from pipeline.data.io import csv_path
from pipeline.dicom.files import escape_name
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from workflows.run.config import RunConfig
from workflows.run.image_list import list_rows, read_image_list
from workflows.run.labels import apply_missing_policy
from workflows.run.orientations import note_orientations, note_unplaced_masks
from workflows.run.rundir import fingerprint_files
from workflows.run.seg_classes import read_mask_classes
from workflows.run.study_data import Study
from workflows.run.study_labels import label_table

__all__ = ["image_folder"]


def image_folder(config: RunConfig, run_dir: Path) -> tuple[Study, list[dict[str, Any]]]:
    """Already converted images: a labels CSV with image, label[, mask][, patient_id]."""
    root = config.data.source.resolve()
    if config.data.labels is None:
        raise RadpipeError("data.kind 'images' needs data.labels (a CSV with image and label).")
    read = ("patient_id", config.data.label_column, "mask", "spacing", config.split.column or "")
    table = list_rows(
        read_image_list(config.data.labels, root, read), config.task, config.data.labels.name
    )
    stratify = config.task == "classification" or config.data.label_column in table[0]
    labels = label_table(config, config.data.labels, "image", run_dir) if stratify else None
    found: dict[str, dict[str, Any]] = {}
    by_key = {}
    for r in table:
        key = hash_key(r["image"])
        patient = hash_key(csv_key(r.get("patient_id")) or r["image"])  # as every reader
        found[key] = {"patient_key": patient, "series_key": key, "source": escape_name(r["image"])}
        index = labels.by_key.get(key) if labels else None
        by_key[key] = [{**r, "label": "" if index is None else str(index)}]
    sources = {k: str(v["source"]) for k, v in found.items()}
    kept = apply_missing_policy(labels, list(found), config.data.missing_labels, "images", sources)
    series = [{**found[k], "label": labels.by_key[k] if labels else 0} for k in kept]
    files = [csv_path(root, r["image"]) for r in table]
    note_orientations(files)
    masked = [r for r in table if r.get("mask")]
    pairs = [(csv_path(root, r["image"]), csv_path(root, r["mask"])) for r in masked]
    note_unplaced_masks(pairs)
    study = Study(
        root=root,
        kind="images",
        fingerprint=fingerprint_files(root, files),
        split=[],
        class_names=[],
        labels=config.data.labels,
        image_rows=by_key,
        label_table=labels,
        mask_classes=read_mask_classes(
            [m for _, m in pairs],
            config.data,
            config.data.labels.name,
            before="trained",
            names=[r["mask"] for r in masked],
        ),
    )
    return study, series
