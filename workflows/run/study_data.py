"""What ``radpipe run`` knows about its data once converted and split (:class:`Study`), and
the torch datasets made of it (:func:`make_dataset`); how a study is prepared:
:mod:`workflows.run.study`."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key
from pipeline.stage import Pipeline
from workflows.run.config import RunConfig
from workflows.run.labels import LabelTable

__all__ = ["Study", "make_dataset"]


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
    # the conversion cache entry held in use while the study lives (convert_cache)
    held: Any = field(default=None, repr=False, compare=False)


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
