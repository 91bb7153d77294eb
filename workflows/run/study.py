"""The data half of ``radpipe run``: cached conversion (:mod:`workflows.run.convert_cache`),
the series table and labels (:mod:`workflows.run.study_labels`; image folders:
:mod:`workflows.run.study_images`), the split, and the :class:`Study` the run's datasets are
made of (:mod:`workflows.run.study_data`).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pipeline.data.io import read_manifest
from pipeline.errors import RadpipeError
from pipeline.split import check_no_leak, read_split_csv, write_split_csv
from workflows.report.positive import positive_index
from workflows.run import polarity
from workflows.run.config import RunConfig
from workflows.run.convert_cache import (
    cache_problem,
    convert_cached,
    run_convert_options,
)
from workflows.run.duplicates import note_study_duplicates
from workflows.run.labels import note_rare_classes
from workflows.run.mask_grid import align_nifti_masks
from workflows.run.mask_rows import check_mask_rows
from workflows.run.paths import shown
from workflows.run.seg_rows import expand_seg_masks
from workflows.run.split_column import make_split, split_parts
from workflows.run.study_data import Study, make_dataset
from workflows.run.study_images import image_folder
from workflows.run.study_labels import (
    indexed_labels,
    label_table,
    labelled_series_rows,
    study_class_names,
)
from workflows.run.truth import check_mask_values, resolve_ground_truth
from workflows.run.windows import (
    note_preset_windows,
    note_uneven_stacks,
    note_unwindowed,
    usable_series_rows,
)

# Study, make_dataset, run_convert_options, cache_problem: also importable from here, where
# they were defined until 2026-12-04
__all__ = ["Study", "cache_problem", "make_dataset", "prepare_study", "run_convert_options"]

log = logging.getLogger("radpipe")


def prepare_study(config: RunConfig, run_dir: Path, *, progress: bool = True,
                  note_copies: bool = True, trains: bool = True) -> Study:  # fmt: skip
    """Convert (or reuse the cached conversion), then split by patient (or reuse split.csv);
    ``note_copies``: warn of byte-identical files across the split's parts; ``trains``: data
    a run trains on (not an external set, nor the run's own read again by evaluate)."""
    data = config.data
    if not data.source.exists():
        raise RadpipeError(f"data.source {shown(data.source)} does not exist.")
    if data.kind == "dicom":
        study, series, parts = _dicom_study(config, run_dir, progress=progress, trains=trains)
    else:
        study, series = image_folder(config, run_dir)
        parts = split_parts(config, config.data.labels, "image")
    split_path = run_dir / "split.csv"
    if split_path.exists():
        study.split = read_split_csv(split_path)
    else:
        study.split = make_split(config, series, parts)
        if config.task == "classification":  # segmentation: labels only stratify the split
            note_rare_classes(study.split, study.label_table, config.split)
        write_split_csv(study.split, split_path)
    named = {r["series_key"]: r["source"] for r in series if r.get("source")}  # relative
    check_no_leak(study.split, named, "series" if study.kind == "dicom" else "")
    if note_copies:
        note_study_duplicates(study)
    study.class_names = study_class_names(config, study)
    if config.task == "classification":  # refused before any training, not after
        positive_index(config.evaluate.positive_class, study.class_names)
    return study


def _dicom_study(
    config: RunConfig, run_dir: Path, *, progress: bool, trains: bool
) -> tuple[Study, list[dict[str, Any]], dict[str, Any] | None]:
    """A DICOM study: ground truth checked, converted (or the cache reused), its series rows
    and what the split is made by (:func:`~workflows.run.split_column.split_parts`)."""
    data = config.data
    listed = expand_seg_masks(data.masks, data, run_dir) if data.masks else None
    labels, masks = resolve_ground_truth(  # every file key checked before converting
        data.source.resolve(), data.labels, listed, run_dir,
        label_column=data.label_column, split_column=config.split.column,
    )  # fmt: skip
    found = check_mask_values(masks, data, data.masks.name) if masks and data.masks else set()
    study = convert_cached(config, progress=progress)
    study.mask_classes = found
    study.labels, study.masks = labels, masks
    study.label_table = label_table(config, study.labels, "series", run_dir)
    manifest = usable_series_rows(read_manifest(study.root / "manifest.csv"), data.unit)
    series = labelled_series_rows(config, manifest, study.label_table)
    if masks is not None and data.masks is not None:
        keys = (r["series_key"] for r in series)
        study.mask_summary = check_mask_rows(masks, manifest, keys, shown=data.masks.name,
                                             own_lines=masks == data.masks,
                                             folder=data.masks.resolve().parent)  # fmt: skip
        study.masks = align_nifti_masks(masks, manifest, data.source.resolve(), run_dir,
                                        data.masks)  # fmt: skip
    if data.unit == "series" and masks is not None:
        note_uneven_stacks(manifest)
    parts = split_parts(config, labels, "series")
    study.labels = indexed_labels(study.label_table, run_dir)
    study.unwindowed = note_unwindowed(manifest, config.convert.window, trains=trains)
    note_preset_windows(manifest, list(config.preprocess))
    polarity.note_polarity(manifest, study.root / "index.csv")
    study.windowed = sum(r["window"] != "none" for r in manifest)
    return study, series, parts
