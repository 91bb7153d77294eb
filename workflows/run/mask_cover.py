"""A DICOM segmentation's masks CSV against the source's headers, before a run directory.

A masks CSV without a row for one image of a series it gives masks for (or of a series the
labels CSV labels) was refused only once the run directory was made and the source converted
(``masks.csv has no mask row for 1 of the 24 converted images``, exit 1).
:func:`uncovered_images` finds it with the other input checks from the source's headers
(SOPInstanceUID, SeriesInstanceUID, NumberOfFrames; no pixel data read), exit 2 before
anything is made. It leaves to the run what the headers cannot settle: a masks CSV keyed by
``file`` or naming DICOM SEGs (resolved at run time), a SOPInstanceUID two files share (the
run's message says how to key them), and a multi-frame image with no row at all (whose frames
the conversion may not give as images).
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from pipeline.cells import CsvRow, csv_frame, csv_uid
from pipeline.data.io import csv_path
from pipeline.errors import RadpipeError
from pipeline.keys import hash_keys
from pipeline.words import are, counted
from workflows.run.paths import said

__all__ = ["picture_mask_problems", "uncovered_images"]

_SHOWN = 10


def uncovered_images(
    masks: Path, rows: list[CsvRow], source: Path, labelled: set[str] | None = None
) -> list[str]:
    """The images of the masked (or ``labelled``: hashed series keys) series that no row of
    the masks CSV ``masks`` (its ``rows``) names, as one problem, each image by its path below
    ``source`` and frame; ``[]`` when none, or when the CSV is keyed otherwise."""
    from pipeline.dicom.seg_masks import is_dicom_file, scan_images
    from pipeline.dicom.walk import source_files

    root = source.resolve()
    if any(is_dicom_file(csv_path(masks.parent, (r.get("mask") or "").strip()))
           for r in rows if (r.get("mask") or "").strip()):  # fmt: skip
        try:  # SEG rows: matched to their images at run time, from these headers (memoized)
            scan_images(root, source_files(root))
        except RadpipeError as err:  # was said once the run directory was made
            return [f"data.source {said(source)}: {err}"]
        return []
    if not rows or "file" in rows[0] or not {"instance_key", "sop_instance_uid"} & set(rows[0]):
        return []
    listed = _listed(rows)
    if listed is None:
        return []  # a bad cell: said by the other checks
    try:
        scanned = scan_images(root, source_files(root))
    except RadpipeError as err:  # a broken header: said before the run, not as a traceback
        return [f"data.source {said(source)}: {err}"]
    images = [i for i in scanned if i.sop_uid and i.series_uid]
    sops = hash_keys([i.sop_uid for i in images])
    series = hash_keys([i.series_uid for i in images])
    files: dict[str, int] = defaultdict(int)
    for key in sops:
        files[key] += 1
    instances = {k for k, _ in listed}
    masked = {s for k, s in zip(sops, series) if k in instances} | (labelled or set())
    lacking = []
    for image, key, serie in zip(images, sops, series):
        if serie not in masked or files[key] > 1:
            continue
        if image.frames > 1 and key not in instances:
            continue  # its frames may be no images of the conversion: the run checks them
        lacking += [(image.rel, f) for f in range(image.frames) if (key, f) not in listed]
    if not lacking:
        return _wrong_sizes(masks, rows, images, sops, files)
    total = sum(i.frames for i, s in zip(images, series) if s in masked)
    named = ", ".join(f"{rel} frame {f}" for rel, f in sorted(lacking)[:_SHOWN])
    more = f" and {len(lacking) - _SHOWN} more" if len(lacking) > _SHOWN else ""
    return [
        f"data.masks: {said(masks)} has no row for {len(lacking)} of the {total} images of "
        "the series it gives masks for or the labels CSV labels (every image of such a "
        "series needs one, matched by sop_instance_uid and frame; the first frame is 0): "
        f"{named}{more} (below {said(source)})"
    ]


def _wrong_sizes(
    masks: Path, rows: list[CsvRow], images: list[Any], sops: list[str], files: dict[str, int]
) -> list[str]:
    """PNG/NPY masks (read from their headers) of single-frame images (whose Rows x Columns
    the conversion keeps) that are not their image's size, as the run words it."""
    from pipeline.data.masks import stored_shape
    from workflows.run.mask_rows import per_file

    cells = _listed(rows, cells=True)
    wrong: dict[str, list[str]] = {}
    for image, key in sorted(zip(images, sops), key=lambda p: p[0].rel):
        cell = cells.get((key, 0)) if cells and image.frames == 1 and files[key] == 1 else None
        if not cell or not cell.lower().endswith((".png", ".npy")):
            continue
        got = stored_shape(csv_path(masks.parent, cell))
        if got is not None and got[:2] != (image.rows, image.columns) and len(got) == 2:
            wrong.setdefault(cell, []).append(
                f"{cell} is {'x'.join(map(str, got))}, its image {image.rel} frame 0 "
                f"{image.rows}x{image.columns}")  # fmt: skip
    if not wrong:
        return []
    n = sum(map(len, wrong.values()))
    return [
        f"data.masks: {said(masks)}: {counted(n, 'mask')} {are(n, 'is', 'are')} not the size "
        "of its image (rows x columns; a mask is drawn on its image's own pixels: not "
        "resized, not cropped, not for another image): " + "; ".join(per_file(wrong)[:_SHOWN])
    ]


def _listed(rows: list[CsvRow], cells: bool = False) -> Any:
    """``{(instance_key, frame)}`` of the rows (``cells``: ``{(instance_key, frame): mask
    cell}``); ``None`` when a key or frame cell is bad."""
    column = "instance_key" if "instance_key" in rows[0] else "sop_instance_uid"
    keys: list[str] = []
    frames: list[int] = []
    try:
        for r in rows:
            keys.append(csv_uid(r.get(column), column))
            frames.append(csv_frame(r.get("frame")))
    except ValueError:
        return None
    if not all(keys):
        return None
    if column == "sop_instance_uid":
        keys = hash_keys(keys)
    if cells:
        return dict(zip(zip(keys, frames), ((r.get("mask") or "").strip() for r in rows)))
    return set(zip(keys, frames))


def picture_mask_problems(masks: Path, rows: list[CsvRow], data: Any) -> list[str]:
    """The mask files of a DICOM masks CSV keyed by instance that cannot be read as class
    indices (empty, not what the suffix says, grey levels, colour, 16-bit values), read as
    the run reads them (:func:`workflows.run.truth.check_mask_values`) when every mask is a
    PNG or NPY (one image's pixels each: cheap to read twice); NIfTI volumes are left to the
    run. They were refused once the run directory was made (exit 1)."""
    from workflows.run.mask_fit import mask_class_problems
    from workflows.run.seg_classes import mask_file_classes
    from workflows.run.truth import check_mask_values

    if not rows or "file" in rows[0] or not {"instance_key", "sop_instance_uid"} & set(rows[0]):
        return []
    cells = [(r.get("mask") or "").strip() for r in rows]
    if not all(c.lower().endswith((".png", ".npy")) for c in cells):
        return []
    if not all(csv_path(masks.parent, c).is_file() for c in set(cells)):
        return []  # a missing mask file: said by the other checks
    try:
        check_mask_values(masks, data, said(masks))
    except RadpipeError as err:
        return [f"data.masks: {err}"]
    if data.class_names:  # a class beyond them: said by check_mask_values
        return []
    classes: dict[str, set[int]] = {}  # read once per process: check_mask_values read them
    lines: dict[str, list[int]] = defaultdict(list)
    for row, cell in zip(rows, cells, strict=True):
        classes.setdefault(cell, mask_file_classes(csv_path(masks.parent, cell), data))
        lines[cell].append(row.line)
    # values not counting from 0 without a gap were refused once the run directory was made
    return mask_class_problems(classes, lines, data, said(masks), key="data.masks",
                               before="converted")  # fmt: skip
