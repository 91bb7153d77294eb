"""The files a ``data.kind: images`` list names, checked before a run directory is made.

A row naming an image that is not there stopped the run with a ``FileNotFoundError``
traceback (and the absolute path) while the study was prepared, leaving the new run directory
behind; a missing mask was found only after training, when the test split was scored, and
named by its base name alone. Every path of the ``image`` and ``mask`` columns is now looked
up first, and all that are missing are listed together with their CSV lines.

An image listed twice with two masks (two annotators, a copy-paste slip) trained and was
scored on whichever row came last, without a word; it is refused too, naming both lines, as
an image listed again with another label is.

A DICOM run's masks CSV (``data.masks``) that lists one image (SOP instance, or ``file``, and
frame) again with another mask was refused only once the run directory had been made (exit
1); :func:`conflicting_dicom_masks` finds it with the other checks, before anything is made.
"""

from __future__ import annotations

import csv
import logging
from collections import defaultdict
from pathlib import Path

from pipeline.cells import csv_frame, csv_rows, csv_text, csv_uid, name_lines
from pipeline.data.io import csv_path, readable_format
from pipeline.words import are, counted
from workflows.run.image_list import image_file
from workflows.run.missing_files import case_hint

__all__ = ["conflicting_dicom_masks", "conflicting_masks", "dicom_file", "missing_image_files",
           "unreadable_formats"]  # fmt: skip

log = logging.getLogger("radpipe")


def missing_image_files(labels: Path, source: Path, columns: list[str]) -> list[str]:
    """Problems, one per column, of the ``image``/``mask`` paths of the CSV ``labels``
    (relative to ``source``) that are no file.

    Parameters
    ----------
    labels
        The ``data.labels`` CSV of a ``data.kind: images`` run.
    source
        ``data.source``, the folder its paths are relative to.
    columns
        The CSV's column names (stripped).

    Returns
    -------
    list of str
        E.g. ``data.labels: 2 image files named in list.csv are not files under data.source
        (src/): img/a.png (line 3), img/b.png (line 7)``; empty when every file is there.
    """
    missing: dict[str, dict[str, list[int]]] = {}
    for column in ("image", "mask"):
        if column not in columns:
            continue
        found: dict[str, list[int]] = defaultdict(list)
        for row in csv_rows(csv.DictReader(csv_text(labels))):
            name = (row.get(column) or "").strip()
            if name and not csv_path(source, name).is_file():
                found[name].append(row.line)
        if found:
            missing[column] = found
    problems = []
    for column, found in missing.items():
        listed = [f"{name} ({name_lines(lines)}){case_hint(source, name)}"
                  for name, lines in list(found.items())[:5]]  # fmt: skip
        more = f" and {len(found) - 5} more" if len(found) > 5 else ""
        problems.append(
            f"data.labels: {counted(len(found), column + ' file')} named in {labels.name} "
            f"{are(len(found))} not {'a file' if len(found) == 1 else 'files'} under "
            f"data.source ({source.name}/): {', '.join(listed)}{more}"
        )
    return problems


def unreadable_formats(labels: Path, columns: list[str]) -> list[str]:
    """A problem listing the ``image``/``mask`` cells of the CSV ``labels`` whose format is
    none radpipe reads (``.jpg``, ``.tif``), with their lines; empty when there is none.
    Such a file stopped the run once its directory was made, by its base name alone, with
    advice to resume that could not work (the corrected list changes the run's data)."""
    found: dict[str, list[int]] = defaultdict(list)
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        for column in ("image", "mask"):
            name = (row.get(column) or "").strip() if column in columns else ""
            if name and not readable_format(name):
                found[name].append(row.line)
    if not found:
        return []
    listed = [f"{name} ({name_lines(lines)})" for name, lines in list(found.items())[:5]]
    more = f" and {len(found) - 5} more" if len(found) > 5 else ""
    return [
        f"data.labels: {counted(len(found), 'file')} named in {labels.name} {are(len(found))} "
        f"of no format radpipe reads (.png, .npy, .nii, .nii.gz; save JPEG and TIFF files as "
        f"PNG first): {', '.join(listed)}{more}"
    ]


def conflicting_masks(labels: Path, columns: list[str], source: Path | None = None) -> list[str]:
    """Problems of images the CSV ``labels`` lists more than once with different masks.

    Image and mask cells are compared as the files they name below ``source``
    (``data.source``), as :func:`~workflows.run.image_list.read_image_list` reads them:
    ``img/a.png`` and ``./img/a.png`` are one image (with two masks: refused here, before the
    run, not once its directory was made), ``m/a.png`` and ``./m/a.png`` one mask (no
    conflict). Without ``source`` the cells as written.

    Returns
    -------
    list of str
        E.g. ``data.labels: 1 image of list.csv listed again with another mask (only one
        can be its truth): img/a.png (line 2 img/a_mask.png, line 6 img/b_mask.png)``; empty
        when no image has two masks (a row repeated as it is, mask included, is no conflict).
        Images and masks as first written.
    """
    if "image" not in columns or "mask" not in columns:
        return []

    def file(cell: str) -> str:
        return image_file(source, cell) if source is not None and cell else cell

    first: dict[str, str] = {}  # each image as first written
    masks: dict[str, dict[str, tuple[str, int]]] = defaultdict(dict)
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        image = row.get("image") or ""
        if image.strip():
            first.setdefault(file(image), image)
            mask = (row.get("mask") or "").strip()
            masks[file(image)].setdefault(file(mask), (mask, row.line))
    twice = {image: found for image, found in masks.items() if len(found) > 1}
    if not twice:
        return []
    listed = [f"{first[image]} ({_lines(dict(found.values()))})"
              for image, found in list(twice.items())[:5]]  # fmt: skip
    more = f" and {len(twice) - 5} more" if len(twice) > 5 else ""
    return [
        f"data.labels: {counted(len(twice), 'image')} of {labels.name} listed again with "
        f"another mask (only one can be its truth): {'; '.join(listed)}{more}"
    ]


def conflicting_dicom_masks(
    masks: Path, columns: list[str], source: Path | None = None
) -> list[str]:
    """Problems of images a DICOM masks CSV (``data.masks``) lists again with another mask.

    An image is a ``sop_instance_uid`` (or ``instance_key``, or ``file``) and ``frame``; a
    mask is its path relative to the CSV's folder (two spellings of one file are one mask).
    A ``file`` is found as the run finds it, below ``source`` (``data.source``), else below
    the CSV's folder, so two spellings of one file (``a/1.dcm``, ``./a/1.dcm``, ``a\\1.dcm``)
    are one image. Cells that cannot be read are left to the reading of the CSV, which names
    their lines.

    Returns
    -------
    list of str
        E.g. ``data.masks: 1 image of masks.csv listed again with another mask (only one
        can be its truth): the sop_instance_uid of line 2, frame 0 (line 2 m/a.png, line 6
        m/b.png)``, a ``file`` named as written; no UID is shown. Empty when none.
    """
    column = next((c for c in ("instance_key", "sop_instance_uid", "file") if c in columns), "")
    if not column or "mask" not in columns:
        return []
    found: dict[tuple[str, int], dict[Path, tuple[int, str]]] = defaultdict(dict)
    first: dict[tuple[str, int], tuple[int, str]] = {}
    lines: dict[tuple[str, int], list[int]] = defaultdict(list)
    for row in csv_rows(csv.DictReader(csv_text(masks))):
        cell, mask = (row.get(column) or "").strip(), (row.get("mask") or "").strip()
        try:
            image = (
                csv_uid(cell, column) if column != "file" else dicom_file(cell, source, masks),
                csv_frame(row.get("frame")),
            )
        except ValueError:
            continue
        if image[0] and mask:
            first.setdefault(image, (row.line, cell))
            found[image].setdefault(csv_path(masks.parent, mask).resolve(), (row.line, mask))
            lines[image].append(row.line)
    _said_repeats(masks, column, first, {i: n for i, n in lines.items()
                                         if len(n) > 1 and len(found[i]) == 1})  # fmt: skip
    twice = [(image, list(got.values())) for image, got in found.items() if len(got) > 1]
    if not twice:
        return []
    listed = [
        f"{first[i][1] if column == 'file' else f'the {column} of line {first[i][0]}'}, frame "
        f"{i[1]} ({_lines({mask: line for line, mask in got})})" for i, got in twice[:5]
    ]  # fmt: skip
    more = f" and {len(twice) - 5} more" if len(twice) > 5 else ""
    return [
        f"data.masks: {counted(len(twice), 'image')} of {masks.name} listed again with "
        f"another mask (only one can be its truth): {'; '.join(listed)}{more}"
    ]


def _said_repeats(
    masks: Path, column: str, first: dict[tuple[str, int], tuple[int, str]],
    repeats: dict[tuple[str, int], list[int]],
) -> None:  # fmt: skip
    """Warn once of images listed again with the same mask (used once; it was unsaid)."""
    if not repeats:
        return
    listed = [f"{first[i][1] if column == 'file' else f'the {column} of line {first[i][0]}'}, "
              f"frame {i[1]} ({name_lines(n)})" for i, n in list(repeats.items())[:5]]  # fmt: skip
    more = f"; and {len(repeats) - 5} more" if len(repeats) > 5 else ""
    log.warning("%s lists %s again with the same mask: each used once: %s%s", masks.name,
                counted(len(repeats), "image"), "; ".join(listed), more)  # fmt: skip


def dicom_file(cell: str, source: Path | None, masks: Path) -> str:
    """The file a ``file`` cell names, as one string for every spelling of it: the first of
    ``source/cell`` and ``CSV folder/cell`` that is a file, resolved; else the cell."""
    if not cell:
        return cell
    for base in (source, masks.parent):
        if base is not None and (path := csv_path(base, cell)).is_file():
            return str(path.resolve())
    return cell


def _lines(found: dict[str, int]) -> str:
    """``line 2 img/a_mask.png, line 6 (no mask)``: each mask an image was given, by line."""
    return ", ".join(f"line {line} {mask or '(no mask)'}" for mask, line in found.items())
