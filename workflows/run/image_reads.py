"""Images of a ``data.kind: images`` list that cannot be loaded, found before a run directory
is made.

An image that could not be loaded (NaN or infinite values, a truncated or pickled NPY, a
damaged PNG) stopped the run once its directory had been made, at the first such file, named
by its base name alone (``train_005.npy: 1 of 784 values are NaN or infinite ...``), and the
advice printed with it (fix the cause, then ``radpipe run --resume``) could not be followed:
the repaired file changed ``data.source``, so the resume was refused. Every image of the list
is now loaded once before the run starts (as every mask file is), and all that cannot be are
listed together, each by its path as the CSV gives it and its line.

So is every mask of the list (:func:`unreadable_masks`): a mask whose values are no class
indices (a 0/128 mask, 255 beside 0 and 1), and for a segmentation masks whose classes do not
fit ``data.class_names`` or do not count from 0 (1/2 masks without a 0), stopped the run once
its directory had been made, naming no CSV line. Each mask file is decoded once: the classes
read here are those the study then takes (:func:`workflows.run.seg_classes.mask_file_classes`).
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from pipeline.cells import csv_rows, csv_text, name_lines
from pipeline.data.io import csv_path, load_image, readable_format
from pipeline.errors import RadpipeError
from pipeline.words import are, counted
from workflows.run.config import DataConfig
from workflows.run.image_storage import say_mixed_storage, storage_kind
from workflows.run.mask_fit import mask_class_problems
from workflows.run.seg_classes import mask_file_classes

__all__ = ["bad_spacings", "unreadable_images", "unreadable_masks"]

_SHOWN = 5


def unreadable_images(
    labels: Path, source: Path, columns: list[str], given: str = "data.labels"
) -> list[str]:
    """A problem listing the images of the list ``labels`` (paths relative to ``source``)
    that cannot be loaded as the run loads them (:func:`pipeline.data.io.load_image`), with
    the reason and the CSV lines of each; empty when every image loads. Files that are not
    there, or of no format radpipe reads, are left to
    :mod:`workflows.run.image_files`, which names them. ``given``: what gave the list, as
    the warning about images stored with different value ranges names it.

    Returns
    -------
    list of str
        E.g. ``data.labels: 1 of 220 images named in list.csv cannot be loaded (nothing was
        run): img/a.npy (line 7): 1 of 784 values are NaN or infinite ...``.
    """
    if "image" not in columns:
        return []
    lines = _lines(labels, "image")
    reasons, loaded = {}, {}  # two spellings of one file (a.png, ./a.png) are loaded once
    kinds: dict[str, list[str]] = defaultdict(list)
    for name in lines:
        path = csv_path(source, name)
        if not readable_format(name) or not path.is_file():
            continue
        key = path.resolve()
        if key not in loaded:
            loaded[key] = _reason(path)
            kinds[storage_kind(path)].append(name)
        if loaded[key]:
            reasons[name] = loaded[key]
    say_mixed_storage(kinds, labels.name, given)
    if not reasons:
        return []
    return [
        f"data.labels: {len(reasons)} of {counted(len(lines), 'image')} named in "
        f"{labels.name} {are(len(reasons))} not loadable (nothing was run): "
        + _listed(reasons, lines)
    ]


def unreadable_masks(
    labels: Path, source: Path, columns: list[str], data: DataConfig, segmentation: bool
) -> list[str]:
    """A problem listing the masks of the list ``labels`` that cannot be read as class
    indices (each by its path in the CSV, its lines and the reason, with the likely cause);
    for a ``segmentation``, also masks whose classes do not fit ``data.class_names`` or do
    not count from 0. Empty when every mask reads and fits; missing files are left to
    :mod:`workflows.run.image_files`.
    """
    if "mask" not in columns:
        return []
    lines = _lines(labels, "mask")
    reasons, classes = {}, {}
    for name in lines:
        path = csv_path(source, name)
        if not readable_format(name) or not path.is_file():
            continue
        try:
            classes[name] = mask_file_classes(path, data)
        except RadpipeError as err:
            reasons[name] = str(err).removeprefix(f"{path.name}: ").rstrip(".")
    if reasons:
        return [
            f"data.labels: {len(reasons)} of {counted(len(lines), 'mask')} named in "
            f"{labels.name} cannot be read as class indices (nothing was run): "
            + _listed(reasons, lines)
        ]
    if not segmentation or not classes:
        return []
    return mask_class_problems(classes, lines, data, labels.name)


def _listed(reasons: dict[str, str], lines: dict[str, list[int]]) -> str:
    """The first files with their lines and reasons, the rest counted."""
    listed = [f"{name} ({name_lines(lines[name])}): {why}"
              for name, why in list(reasons.items())[:_SHOWN]]  # fmt: skip
    return "; ".join(listed) + (
        f"; and {len(reasons) - _SHOWN} more" if len(reasons) > _SHOWN else ""
    )


def _lines(labels: Path, column: str) -> dict[str, list[int]]:
    """Each cell of ``column`` of the list, as written, with the CSV lines it is on."""
    lines: dict[str, list[int]] = defaultdict(list)
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        if name := (row.get(column) or "").strip():
            lines[name].append(row.line)
    return lines


def _reason(path: Path) -> str:
    """Why ``path`` cannot be loaded as an image, without its base name (the caller names it
    by its path in the CSV); empty when it loads."""
    try:
        load_image(path)
    except RadpipeError as err:
        text = str(err)
        return text.removeprefix(f"{path.name}: ").rstrip(".")
    return ""


def bad_spacings(labels: Path, columns: list[str]) -> list[str]:
    """A problem per ``spacing`` cell of the list ``labels`` that is no pixel size (its line
    named), found before the run directory is made: such a cell stopped the run once its
    directory had been made (exit 1), naming a split's own list (``images-train-<hash>.csv``)
    and its line, while ``radpipe predict`` refuses the same cell in its list with exit 2."""
    from pipeline.cells import csv_spacing

    if "spacing" not in columns:
        return []
    problems = []
    for r in csv_rows(csv.DictReader(csv_text(labels))):
        cell = (r.get("spacing") or "").strip()
        try:
            csv_spacing(cell, max(2, len(cell.split("x"))), f"{labels.name} line {r.line}")
        except RadpipeError as err:
            problems.append(f"data.labels: {err}")
    return problems
