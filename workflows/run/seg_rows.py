"""DICOM SEG files named in a masks CSV, turned into one class-index mask per image they cover.

A masks CSV's ``mask`` may name a DICOM Segmentation (SEG) instead of a PNG, NPY or NIfTI
file: one row per SEG is enough (its key and ``frame`` cells may be empty), and every image
of the series it covers gets its mask (:func:`pipeline.dicom.seg_masks.read_seg_masks`:
segment number N is class N; an image no SEG frame references is background). The run then
reads ``RUN/truth/masks_from_seg.csv``: keyed by ``instance_key`` as a resolved masks CSV is,
each row naming the user's line and file, the SEGs' masks as NPY files beside it, the other
rows' masks as listed.
"""

from __future__ import annotations

import csv
import logging
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.cells import CsvRow, csv_frame, csv_rows, csv_text, csv_uid
from pipeline.data.io import csv_path
from pipeline.dicom.seg_masks import (
    SourceImage,
    is_dicom_file,
    read_seg_masks,
    scan_images,
    segment_labels,
)
from pipeline.dicom.walk import source_files
from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_path
from pipeline.keys import hash_key
from pipeline.words import counted
from pipeline.writers import save_npy
from workflows.run.config import DataConfig
from workflows.run.mask_fit import beyond_class_names, beyond_max_classes
from workflows.run.paths import relative_or_name
from workflows.run.truth_rows import FILE_COLUMN, LINE_COLUMN

log = logging.getLogger("radpipe")

__all__ = ["expand_seg_masks"]

_SHOWN = 10
_KEYS = ("instance_key", "sop_instance_uid", "file")


def expand_seg_masks(masks: Path, data: DataConfig, folder: Path) -> Path:
    """The masks CSV the run reads: ``masks`` itself when no ``mask`` cell names a DICOM file,
    else ``folder/truth/masks_from_seg.csv`` (see the module docstring).

    Raises
    ------
    RadpipeError
        Listing every SEG that cannot be used and every row that cannot be keyed.
    """
    if not masks.is_file():  # said by the checks that follow
        return masks
    rows = list(csv_rows(csv.DictReader(csv_text(masks))))
    segs: dict[Path, list[CsvRow]] = defaultdict(list)
    for row in rows:
        cell = (row.get("mask") or "").strip()
        if cell and is_dicom_file(csv_path(masks.parent, cell)):
            segs[csv_path(masks.parent, cell).resolve()].append(row)
    if not segs:
        return masks
    source = data.source.resolve()
    images = scan_images(source, source_files(source))
    problems: list[str] = []
    found = _read_segs(segs, masks, images, problems)
    top = _top_classes(found, data, problems)
    table = _seg_rows(found, images)
    table += _other_rows(rows, masks, segs, images, found, problems)
    beyond = (beyond_class_names(top, data, masks.name, "converted") if data.class_names
              else beyond_max_classes(top, data, masks.name))  # fmt: skip
    if problems or beyond:
        more = f"\n  and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
        head = f"{masks.name}: {counted(len(problems), 'problem')} with its DICOM SEG masks"
        listed = [f"{head} (nothing was converted):\n  " + "\n  ".join(problems[:_SHOWN]) + more]
        raise RadpipeError("\n".join((listed if problems else []) + ([beyond] if beyond else [])))
    _say_empty(masks.name, found)
    _say_labels({relative_or_name(p, masks.parent): p for p in segs}, data)
    return _write(folder / "truth", table, found)


def _read_segs(
    segs: dict[Path, list[CsvRow]], masks: Path, images: list[SourceImage], problems: list[str]
) -> dict[tuple[str, int], tuple[np.ndarray, str, int]]:
    """``{(SOPInstanceUID, frame): (mask, SEG name, its first line)}``; an image two SEGs
    cover is a problem."""
    by_uid = {im.sop_uid: im for im in images}
    found: dict[tuple[str, int], tuple[np.ndarray, str, int]] = {}
    for path, listed in sorted(segs.items(), key=lambda item: item[1][0].line):
        name = relative_or_name(path, masks.parent)
        line = listed[0].line
        if not path.is_file():
            problems.append(f"{name} (line {line}): file not found")
            continue
        try:
            got = read_seg_masks(path, name, images)
        except RadpipeError as err:
            problems.append(f"{err} (line {line})")
            continue
        clashes: dict[str, list[str]] = defaultdict(list)  # the other SEG: images
        for key, mask in got.items():
            if key in found:
                clashes[found[key][1]].append(f"{by_uid[key[0]].rel} frame {key[1]}")
                continue
            found[key] = (mask, name, line)
        for other, both in clashes.items():
            problems.append(f"{name} (line {line}): {other} covers {len(both)} of its images "
                            f"too ({', '.join(both[:3])}{' ...' * (len(both) > 3)}): one mask "
                            "per image")  # fmt: skip
        covered = {by_uid[uid].rel for uid, _ in got}
        for row in listed:  # a row's own key, where given, is an image of the SEG
            named = _row_image(row, masks, by_uid, {im.rel: im for im in images})
            if named is not None and named.rel not in covered:
                problems.append(f"{name} (line {row.line}): its row names {named.rel}, which "
                                "is not in a series the SEG covers")  # fmt: skip
    return found


def _top_classes(
    found: dict[tuple[str, int], tuple[np.ndarray, str, int]], data: DataConfig,
    problems: list[str],
) -> dict[str, int]:  # fmt: skip
    """Each SEG's highest class: its segment numbers as they stand (segment N is class N;
    never the 0/255 binary reading of image masks), or as ``data.mask_values`` maps them; a
    segment number that map leaves out is a problem naming the SEG."""
    values = data.mask_values
    top: dict[str, int] = defaultdict(int)
    unmapped: dict[tuple[str, int], set[int]] = defaultdict(set)
    for mask, name, line in found.values():
        present = [int(v) for v in np.unique(mask)]
        if values is not None:
            unmapped[(name, line)].update(v for v in present if v and v not in values)
            present = [values[v] for v in present if v in values]
        top[name] = max([top[name], *present])
    for (name, line), numbers in sorted(unmapped.items()):
        if numbers:
            problems.append(f"{name} (line {line}): segment numbers {sorted(numbers)} are not "
                            f"in data.mask_values (which maps {sorted(values or {})})")  # fmt: skip
    return top


def _row_image(
    row: CsvRow, masks: Path, by_uid: dict[str, SourceImage], by_rel: dict[str, SourceImage]
) -> SourceImage | None:
    """The image a row's key names, or None (empty, or not an image found here)."""
    if (row.get("file") or "").strip():
        return by_rel.get(_relative(row["file"].strip(), masks, by_rel))
    for column in ("sop_instance_uid", "instance_key"):
        cell = (row.get(column) or "").strip()
        if cell:
            try:
                key = csv_uid(cell, column)
            except ValueError:
                return None
            return by_uid.get(key if column == "sop_instance_uid" else "") or next(
                (im for im in by_uid.values() if hash_key(im.sop_uid) == key), None
            )
    return None


def _relative(name: str, masks: Path, by_rel: dict[str, SourceImage]) -> str:
    """A ``file`` cell as the images' relative path (from data.source or the CSV's folder)."""
    name = name.replace("\\", "/")
    if name in by_rel:
        return name
    for rel in by_rel:  # relative to the CSV's folder instead
        if Path(masks.parent, name).resolve().as_posix().endswith("/" + rel):
            return rel
    return name


def _seg_rows(
    found: dict[tuple[str, int], tuple[np.ndarray, str, int]], images: list[SourceImage]
) -> list[dict[str, str]]:
    by_uid = {im.sop_uid: im for im in images}
    return [
        {"instance_key": hash_key(uid), "frame": str(frame), "mask": "",
         FILE_COLUMN: by_uid[uid].rel, LINE_COLUMN: str(line), "_key": f"{uid}|{frame}"}
        for (uid, frame), (_, _, line) in sorted(found.items(), key=lambda i: (i[1][2], i[0]))
    ]  # fmt: skip


def _other_rows(
    rows: list[CsvRow],
    masks: Path,
    segs: dict[Path, list[CsvRow]],
    images: list[SourceImage],
    found: dict[tuple[str, int], Any],
    problems: list[str],
) -> list[dict[str, str]]:
    """The rows naming PNG, NPY or NIfTI masks, keyed by ``instance_key``."""
    seg_lines = {r.line for listed in segs.values() for r in listed}
    by_uid = {im.sop_uid: im for im in images}
    by_rel = {im.rel: im for im in images}
    covered = {(hash_key(uid), frame) for uid, frame in found}
    out = []
    for row in rows:
        if row.line in seg_lines:
            continue
        try:
            frame = csv_frame(row.get("frame"))
        except ValueError as err:
            problems.append(f"line {row.line}: {err}")
            continue
        im = _row_image(row, masks, by_uid, by_rel)
        column = next((c for c in _KEYS if (row.get(c) or "").strip()), None)
        if column is None or (column == "file" and im is None):
            problems.append(f"line {row.line}: no image named (its {column or 'key'} cell is "
                            "empty, or names no image under data.source)")  # fmt: skip
            continue
        try:
            key = hash_key(im.sop_uid) if im is not None else csv_uid(row[column], column)
        except ValueError as err:
            problems.append(f"line {row.line}: {err}")
            continue
        if column == "sop_instance_uid" and im is None:
            key = hash_key(key)
        if (key, frame) in covered:
            where = im.rel if im is not None else f"the {column} of line {row.line}"
            problems.append(f"line {row.line}: {where} frame {frame} has a SEG mask too "
                            "(one mask per image)")  # fmt: skip
            continue
        if not (row.get("mask") or "").strip():
            problems.append(f"line {row.line}: the mask cell is empty")
            continue
        mask = csv_path(masks.parent, row["mask"].strip()).resolve()
        rel = im.rel if im is not None else ""
        out.append({"instance_key": key, "frame": str(frame), "mask": str(mask),
                    FILE_COLUMN: rel, LINE_COLUMN: str(row.line)})  # fmt: skip
    return out


def _say_empty(shown: str, found: dict[tuple[str, int], tuple[np.ndarray, str, int]]) -> None:
    empty = sorted({name for mask, name, _ in found.values() if not mask.any()})
    count = sum(not mask.any() for mask, _, _ in found.values())
    if count:
        log.info(
            "%s: %d of the %d images its DICOM SEGs cover hold no segment (no SEG frame "
            "references them, or their frames are empty): background only (%s)", shown,
            count, len(found), ", ".join(empty[:3]) + (" ..." if len(empty) > 3 else ""),
        )  # fmt: skip


def _say_labels(paths: dict[str, Path], data: DataConfig) -> None:
    """Warn where a segment's SegmentLabel is not the name ``data.class_names`` gives its
    class (segment N is class N, or ``data.mask_values[N]``): segments numbered in another
    order than the classes would train on swapped classes, unsaid."""
    if not data.class_names:
        return
    values, names_of = data.mask_values or {}, data.class_names
    said: dict[str, list[str]] = defaultdict(list)  # the labels that differ: their SEGs
    for name, path in sorted(paths.items()):
        differ = []
        for number, label in sorted(segment_labels(path).items()):
            index = values.get(number, number)
            if label and index < len(names_of) and _plain(label) != _plain(names_of[index]):
                differ.append(f"segment {number} {label!r} is class {index} "
                              f"{names_of[index]!r}")  # fmt: skip
        if differ:
            said["; ".join(differ)].append(name)
    for text, segs in said.items():
        log.warning("%s: segment labels that are not data.class_names: %s (segment number N "
                    "is class N%s; check the order, or map them with data.mask_values)",
                    ", ".join(segs[:3]) + (f" and {len(segs) - 3} more SEGs" * (len(segs) > 3)),
                    text, ", mapped by data.mask_values" * bool(values))  # fmt: skip


def _plain(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _write(
    folder: Path,
    table: list[dict[str, str]],
    found: dict[tuple[str, int], tuple[np.ndarray, str, int]],
) -> Path:
    """``folder/masks_from_seg.csv`` and the SEGs' masks as NPY files beside it."""
    out = folder / "masks_from_seg"
    out.mkdir(parents=True, exist_ok=True)
    for row in table:
        key = row.pop("_key", None)
        if key is not None:
            uid, frame = key.rsplit("|", 1)
            target = out / f"{hash_key(key)}.npy"
            save_npy(target, found[(uid, int(frame))][0])
            row["mask"] = str(target)
        row["mask"] = Path(os.path.relpath(row["mask"], folder)).as_posix()  # no absolute path
    path = folder / "masks_from_seg.csv"
    with atomic_path(path) as tmp, tmp.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=["instance_key", "frame", "mask", FILE_COLUMN,
                                                LINE_COLUMN])  # fmt: skip
        writer.writeheader()
        writer.writerows(table)
    return path
