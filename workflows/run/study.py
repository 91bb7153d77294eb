"""The data half of ``radpipe run``: cached conversion, the series table, the split, datasets.

Conversion output is cached under ``OUTPUT/.cache/convert-<key>``, where the key hashes the
source folder, a fingerprint of its files (names, sizes, times) and the conversion options:
runs with the same data and options reuse it; a change in either converts afresh.
"""

from __future__ import annotations

import csv
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path, atomic_write_text
from pipeline.keys import hash_key
from pipeline.split import (
    check_no_leak,
    read_split_csv,
    split_by_ratio,
    split_k_fold,
    write_split_csv,
)
from pipeline.stage import Pipeline
from workflows.run.config import RunConfig
from workflows.run.rundir import fingerprint_files
from workflows.run.truth import resolve_ground_truth

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


def prepare_study(config: RunConfig, run_dir: Path, *, progress: bool = True) -> Study:
    """Convert (or reuse the cached conversion), then split by patient (or reuse split.csv)."""
    data = config.data
    if not data.source.exists():
        raise RadpipeError(f"data.source {data.source} does not exist.")
    if data.kind == "dicom":
        labels, masks = resolve_ground_truth(  # every file key checked before converting
            data.source.resolve(), data.labels, data.masks, run_dir, label_column=data.label_column
        )
        study = _convert_cached(config, progress=progress)
        study.labels, study.masks = labels, masks
        series = _series_rows(study.root, study.labels)
    else:
        study, series = _image_folder(config)
    split_path = run_dir / "split.csv"
    if split_path.exists():
        study.split = read_split_csv(split_path)
    else:
        study.split = _split(config, series)
        write_split_csv(study.split, split_path)
    check_no_leak(study.split)
    study.class_names = _class_names(config, study)
    return study


def _convert_cached(config: RunConfig, *, progress: bool) -> Study:
    from workflows.convert.batch import convert_folder
    from workflows.convert.tasks import ConvertOptions

    src = config.data.source.resolve()
    files = [p for p in src.rglob("*") if p.is_file()]
    fingerprint = fingerprint_files(src, files)
    c = config.convert
    options = ConvertOptions(
        format=c.format, window=c.window, per="instance", workers=c.workers, max_pixels=c.max_pixels
    )
    key = hash_key(
        json.dumps(
            {
                "src": str(src),
                "fingerprint": fingerprint,
                "format": c.format,
                "window": c.window,
                "max_pixels": c.max_pixels,
            }
        )
    )
    out = (config.output / ".cache" / f"convert-{key}").resolve()
    done = out / ".complete"
    study = Study(
        root=out,
        kind="dicom",
        fingerprint=fingerprint,
        split=[],
        class_names=[],
        labels=config.data.labels,
        masks=config.data.masks,
    )
    if done.exists():
        log.info("reusing the cached conversion in %s", out)
        study.reused_conversion = True
        return study
    result = _run_convert(convert_folder, src, out, options, config, progress)
    if result.index is not None:
        result.index.write_csv(out / "index.csv")
    study.failures = list(result.failures)
    if result.outputs == 0:
        raise RadpipeError(f"No image in {src} could be converted; see {out / 'errors.csv'}.")
    if result.failures:
        log.warning(
            "%d files could not be converted; see %s", len(result.failures), out / "errors.csv"
        )
    atomic_write_text(done, json.dumps({"fingerprint": fingerprint, "outputs": result.outputs}))
    return study


def _run_convert(
    convert_folder: Any, src: Path, out: Path, options: Any, config: RunConfig, progress: bool
) -> Any:
    scheduler = config.compute.scheduler
    if scheduler:
        return convert_folder(src, out, options, progress=progress, scheduler=scheduler)
    return convert_folder(src, out, options, progress=progress)


def _series_rows(root: Path, labels: Path | None) -> list[dict[str, Any]]:
    from pipeline.data.io import read_labels_csv, read_manifest

    label_of = read_labels_csv(labels) if labels else {}
    rows: dict[str, dict[str, Any]] = {}
    for r in read_manifest(root / "manifest.csv"):
        key = r["series_key"]
        if key not in rows:
            if labels and key not in label_of:
                continue  # a series without ground truth (a localizer, say) is not used
            rows[key] = {
                "patient_key": r["patient_key"],
                "series_key": key,
                "label": label_of.get(key, 0),
            }
    if not rows:
        raise RadpipeError(f"No converted series matches the labels in {labels}.")
    return list(rows.values())


def _image_folder(config: RunConfig) -> tuple[Study, list[dict[str, Any]]]:
    """Already converted images: a labels CSV with image, label[, mask][, patient_id]."""
    root = config.data.source.resolve()
    if config.data.labels is None:
        raise RadpipeError("data.kind 'images' needs data.labels (a CSV with image and label).")
    with config.data.labels.open(newline="") as fh:
        table = list(csv.DictReader(fh))
    if not table or "image" not in table[0]:
        raise RadpipeError(f"{config.data.labels}: needs an 'image' column.")
    series, by_key = [], {}
    for r in table:
        key = hash_key(r["image"])
        patient = hash_key(r.get("patient_id") or r["image"])
        series.append(
            {"patient_key": patient, "series_key": key, "label": int(r.get("label") or 0)}
        )
        by_key[key] = [r]
    files = [root / r["image"] for r in table]
    study = Study(
        root=root,
        kind="images",
        fingerprint=fingerprint_files(root, files),
        split=[],
        class_names=[],
        labels=config.data.labels,
        image_rows=by_key,
    )
    return study, series


def _split(config: RunConfig, series: list[dict[str, Any]]) -> list[dict[str, Any]]:
    s = config.split
    rows = series if s.stratify else [{**r, "label": 0} for r in series]
    if s.folds:
        out = split_k_fold(rows, k=s.folds, seed=config.seed, test_ratio=s.test)
    else:
        out = split_by_ratio(rows, ratios=(1 - s.val - s.test, s.val, s.test), seed=config.seed)
    labels = {r["series_key"]: r["label"] for r in series}
    return [{**r, "label": labels[r["series_key"]]} for r in out]


def _class_names(config: RunConfig, study: Study) -> list[str]:
    if config.data.class_names:
        return list(config.data.class_names)
    if config.task == "segmentation":
        return []  # decided from the masks by the runner
    names: dict[int, str] = {}
    if study.labels is not None:
        with study.labels.open(newline="") as fh:
            for r in csv.DictReader(fh):
                if r.get("class_name"):
                    names[int(r["label"])] = r["class_name"]
    k = max([int(r["label"]) for r in study.split] + list(names)) + 1
    return [names.get(i, str(i)) for i in range(max(k, 2))]


def make_dataset(
    study: Study,
    config: RunConfig,
    keys: Sequence[str],
    pipeline: Pipeline | None,
    *,
    cache: Path | None = None,
    folder: Path | None = None,
) -> Any:
    """A torch Dataset of the given series keys (image folders: the given images)."""
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
    csv_path = folder / f"images-{hash_key('|'.join(keys), length=8)}.csv"
    rows = [
        dict(
            r,
            image=str((study.root / r["image"]).resolve()),
            **({"mask": str((study.root / r["mask"]).resolve())} if r.get("mask") else {}),
        )
        for k in keys
        for r in study.image_rows[k]
    ]
    with atomic_path(csv_path) as tmp, tmp.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=sorted({c for r in rows for c in r}))
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
