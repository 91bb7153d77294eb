"""The data half of ``radpipe run``: cached conversion, the series table, the split, datasets.

Conversion output is cached under ``OUTPUT/.cache/convert-<key>``, where the key hashes the
source folder, a fingerprint of its files (names, sizes, times), the conversion options and
the radpipe version: runs with the same data, options and version reuse it; a change in any
converts afresh. One run at a time converts into a cache folder (a ``filelock`` beside it;
others wait), and a cache is reused only when its ``.complete`` mark, ``manifest.csv``,
``errors.csv`` and output files agree; otherwise the conversion is finished again.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from pipeline.cells import csv_key
from pipeline.data.io import csv_path, read_manifest
from pipeline.dicom.files import escape_name
from pipeline.dicom.walk import source_files
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path, atomic_write_text
from pipeline.keys import hash_key, key_fingerprint
from pipeline.names import series_sources
from pipeline.split import check_no_leak, read_split_csv, write_split_csv
from pipeline.stage import Pipeline
from workflows.report.positive import positive_index
from workflows.run import polarity
from workflows.run.class_names import check_indices_used
from workflows.run.class_order import say_other_order
from workflows.run.config import RunConfig
from workflows.run.convert_cache import (
    DONE,
    cache_problem,
    locked,
    radpipe_version,
    read_csv_file,
)
from workflows.run.duplicates import note_study_duplicates
from workflows.run.image_list import list_rows, read_image_list
from workflows.run.labels import (
    CLASSES_FILE,
    LabelTable,
    apply_missing_policy,
    note_rare_classes,
    read_label_table,
    store_classes,
)
from workflows.run.mask_grid import align_nifti_masks
from workflows.run.mask_rows import check_mask_rows
from workflows.run.orientations import note_orientations, note_unplaced_masks
from workflows.run.paths import shown
from workflows.run.patients import place_unnamed_patients
from workflows.run.rundir import fingerprint_files
from workflows.run.seg_classes import read_mask_classes
from workflows.run.seg_rows import expand_seg_masks
from workflows.run.split_column import make_split, split_parts
from workflows.run.truth import check_mask_values, resolve_ground_truth
from workflows.run.windows import (
    note_preset_windows,
    note_uneven_stacks,
    note_unwindowed,
    usable_series_rows,
)

log = logging.getLogger("radpipe")


@dataclass
class Study:
    """What the run knows about its data once converted and split."""

    root: Path  # the folder that manifest/image paths are relative to
    kind: str  # "dicom" or "images"
    fingerprint: str
    split: list[dict[str, Any]]
    class_names: list[str]
    labels: Path | None = None
    masks: Path | None = None
    reused_conversion: bool = False
    failures: list[tuple[str, str]] = field(default_factory=list)
    image_rows: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    label_table: LabelTable | None = None
    mask_summary: dict[str, int] | None = None  # masks CSV rows, and those not in the data
    mask_classes: set[int] = field(default_factory=set)  # in every mask of the data
    unwindowed: int = 0  # images `window: header` left unwindowed (no window in the header)
    windowed: int = 0  # images a window was applied to


def prepare_study(config: RunConfig, run_dir: Path, *, progress: bool = True,
                  note_copies: bool = True, trains: bool = True) -> Study:  # fmt: skip
    """Convert (or reuse the cached conversion), then split by patient (or reuse split.csv);
    ``note_copies``: warn of byte-identical files across the split's parts; ``trains``: data
    a run trains on (not an external set, nor the run's own read again by evaluate)."""
    data = config.data
    if not data.source.exists():
        raise RadpipeError(f"data.source {shown(data.source)} does not exist.")
    if data.kind == "dicom":
        listed = expand_seg_masks(data.masks, data, run_dir) if data.masks else None
        labels, masks = resolve_ground_truth(  # every file key checked before converting
            data.source.resolve(), data.labels, listed, run_dir,
            label_column=data.label_column, split_column=config.split.column,
        )  # fmt: skip
        found = check_mask_values(masks, data, data.masks.name) if masks and data.masks else set()
        study = _convert_cached(config, progress=progress)
        study.mask_classes = found
        study.labels, study.masks = labels, masks
        study.label_table = _label_table(config, study.labels, "series", run_dir)
        manifest = usable_series_rows(read_manifest(study.root / "manifest.csv"), data.unit)
        series = _series_rows(config, manifest, study.label_table)
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
        study.labels = _indexed_labels(study.label_table, run_dir)
        study.unwindowed = note_unwindowed(manifest, config.convert.window, trains=trains)
        note_preset_windows(manifest, list(config.preprocess))
        polarity.note_polarity(manifest, study.root / "index.csv")
        study.windowed = sum(r["window"] != "none" for r in manifest)
    else:
        study, series = _image_folder(config, run_dir)
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
    study.class_names = _class_names(config, study)
    if config.task == "classification":  # refused before any training, not after
        positive_index(config.evaluate.positive_class, study.class_names)
    return study


def run_convert_options(config: RunConfig) -> Any:
    """The :class:`~workflows.convert.tasks.ConvertOptions` of a run (and of ``predict`` with
    its model): per instance, except ``unit: series`` without masks, which converts per series
    into NPY volumes assembled as ``radpipe convert --per series`` does (tilt and uneven
    spacing resampled, so every volume has one true z spacing; time points as separate 3-D
    volumes). Masks are joined per slice, so a run with masks converts per instance."""
    from workflows.convert.tasks import ConvertOptions

    c = config.convert
    series = config.data.unit == "series" and config.data.masks is None
    return ConvertOptions(
        format="npy" if series else c.format,
        window=c.window,
        per="series" if series else "instance",
        workers=c.workers,
        max_pixels=c.max_pixels,
        split_4d=series,
    )


def _convert_cached(config: RunConfig, *, progress: bool) -> Study:
    from workflows.convert.batch import convert_folder

    src = config.data.source.resolve()
    fingerprint = fingerprint_files(src, source_files(src))  # what a conversion may read
    options = run_convert_options(config)
    settings = {k: v for k, v in asdict(options).items() if k not in ("workers", "resume")}
    key = hash_key(
        json.dumps(
            {
                "src": str(src),
                "fingerprint": fingerprint,
                **settings,
                "radpipe": radpipe_version(),
                "keys": key_fingerprint(),  # the file names hold keys of the project secret
            }
        )
    )
    out = (config.output / ".cache" / f"convert-{key}").resolve()
    study = Study(root=out, kind="dicom", fingerprint=fingerprint, split=[], class_names=[],
                  labels=config.data.labels, masks=config.data.masks)  # fmt: skip
    out.parent.mkdir(parents=True, exist_ok=True)
    with locked(out.with_name(out.name + ".lock")):
        problem = cache_problem(out)
        if problem is None:
            log.info("reusing the cached conversion %s", out.name)
            study.reused_conversion = True
            study.failures = [
                (r["source"], r["reason"])
                for r in read_csv_file(out / "errors.csv")
                if r.get("kind", "error") == "error"
            ]  # not the skipped non-images
            return study
        if problem != "not converted yet":
            log.warning("the cached conversion %s is not usable (%s); converting", out.name,
                        problem)  # fmt: skip
        (out / DONE).unlink(missing_ok=True)
        result = _run_convert(convert_folder, src, out, options, config, progress)
        study.failures = list(result.failures)
        if result.outputs == 0:
            raise RadpipeError(result.why_nothing(shown(src), shown(out / "errors.csv")))
        mark = {"fingerprint": fingerprint, "outputs": result.outputs,
                "failures": len(result.failures)}  # fmt: skip
        atomic_write_text(out / DONE, json.dumps(mark))
    return study  # its failures are said by the command (`run` at once and at its end)


def _run_convert(
    convert_folder: Any, src: Path, out: Path, options: Any, config: RunConfig, progress: bool
) -> Any:
    scheduler = config.compute.scheduler
    index = out / "index.csv"
    if scheduler:
        return convert_folder(src, out, options, progress=progress, scheduler=scheduler,
                              index_csv=index)  # fmt: skip
    return convert_folder(src, out, options, progress=progress, index_csv=index)


def _label_table(
    config: RunConfig, path: Path | None, key: str, run_dir: Path
) -> LabelTable | None:
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


def _indexed_labels(table: LabelTable | None, run_dir: Path) -> Path | None:
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


def _series_rows(
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


def _image_folder(config: RunConfig, run_dir: Path) -> tuple[Study, list[dict[str, Any]]]:
    """Already converted images: a labels CSV with image, label[, mask][, patient_id]."""
    root = config.data.source.resolve()
    if config.data.labels is None:
        raise RadpipeError("data.kind 'images' needs data.labels (a CSV with image and label).")
    read = ("patient_id", config.data.label_column, "mask", "spacing", config.split.column or "")
    table = list_rows(
        read_image_list(config.data.labels, root, read), config.task, config.data.labels.name
    )
    stratify = config.task == "classification" or config.data.label_column in table[0]
    labels = _label_table(config, config.data.labels, "image", run_dir) if stratify else None
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


def _class_names(config: RunConfig, study: Study) -> list[str]:
    if config.task == "classification" and study.label_table is not None:
        return list(study.label_table.class_names)  # the order its labels are indexed in
    if config.data.class_names:
        return list(config.data.class_names)
    if config.task == "segmentation":
        return []  # decided from the masks by the runner
    if study.label_table is None:
        raise RadpipeError("task 'classification' needs data.labels (a labels CSV).")
    return list(study.label_table.class_names)


#: The columns of a ``data.kind: images`` list CSV that FolderDataset reads.
_DATASET_COLUMNS = ("image", "label", "mask", "spacing")


def make_dataset(
    study: Study,
    config: RunConfig,
    keys: Sequence[str],
    pipeline: Pipeline | None,
    *,
    cache: Path | None = None,
    folder: Path | None = None,
    part: str = "",
) -> Any:
    """A torch Dataset of the given series keys (image folders: the given images, listed in
    ``folder/images-<part>-<key>.csv``, ``part`` naming the split: train, val or test)."""
    from pipeline.data import FolderDataset, ManifestDataset

    if study.kind == "dicom":
        return ManifestDataset(
            study.root,
            mode=config.data.unit,
            labels=study.labels,
            masks=study.masks,
            series_keys=list(keys),
            pipeline=pipeline,
            seed=config.seed,
            cache_dir=cache,
            mask_values=config.data.mask_values,
            max_classes=config.data.max_classes,
        )
    assert folder is not None
    # absolute: FolderDataset reads its list relative to study.root, and `radpipe evaluate
    # runs/NAME SRC --out ev` gives folders relative to the working directory
    csv_path = (
        folder.absolute()
        / f"images-{part}{'-' if part else ''}{hash_key('|'.join(keys), length=8)}.csv"
    )
    # paths as in the labels CSV (relative to study.root): an item's id is then the key of
    # its row in split.csv (hash_key of that path), which joins it to its patient. Only the
    # columns the dataset reads: the list CSV's patient_id (often a PatientID) and any other
    # column of the user's stay out of the run directory (split.csv holds hashed keys)
    rows = [
        {c: r[c] for c in _DATASET_COLUMNS if c in r} for k in keys for r in study.image_rows[k]
    ]
    columns = [c for c in _DATASET_COLUMNS if any(c in r for r in rows)]
    with atomic_path(csv_path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return FolderDataset(
        study.root,
        csv_path,
        pipeline=pipeline,
        seed=config.seed,
        cache_dir=cache,
        mask_values=config.data.mask_values,
        max_classes=config.data.max_classes,
    )
