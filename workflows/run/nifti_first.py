"""NIfTI masks of a DICOM run checked against their images before a run directory is made.

A masks CSV's NIfTI masks were read only once the run directory was made and the source
converted: one on another grid than its image (another size, spacing, in-plane direction or
origin; an affine in DICOM's LPS), a probability map (fractions) or one holding a class past
``data.class_names`` stopped the run there (exit 1), the directory made and removed again.
:func:`nifti_mask_problems` reads them up front as the run reads them (the class indices:
:func:`workflows.run.truth.check_mask_values`; the grid: :func:`workflows.run.mask_grid.
mask_on_image`, from the images' headers instead of the conversion's manifest), so they are
refused with the other inputs, exit 2. Each mask's classes are kept for the run (read once per
process); its volume is read again by the run to put it on its images.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.cells import CsvRow, csv_frame, csv_uid
from pipeline.data.io import csv_path
from pipeline.data.orient import is_nifti
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from workflows.run.mask_grid import frame_ref, grid_refusal, mask_on_image
from workflows.run.paths import relative_or_name, said

__all__ = ["nifti_mask_problems"]


def nifti_mask_problems(masks: Path, rows: list[CsvRow], data: Any) -> list[str]:
    """The problems of the NIfTI masks named by a DICOM run's masks CSV ``masks`` (its
    ``rows``): files that are no class indices or hold a class past ``data.class_names``,
    then masks that do not lie on their image's pixel grid, every such mask listed with its
    image; ``[]`` when none, or when no row names a NIfTI mask that exists (a missing one is
    said by the other checks; a row naming a DICOM SEG is resolved by the run)."""
    from pipeline.dicom.seg_masks import is_dicom_file
    from workflows.run.seg_classes import read_mask_classes

    named = [(r, (r.get("mask") or "").strip()) for r in rows]
    nifti = [(r, c) for r, c in named if c and is_nifti(c) and csv_path(masks.parent, c).is_file()]
    if not nifti:
        return []
    # every mask file beside them (not only the NIfTI ones: "1 of 1 mask files" of 24 read
    # as if the CSV named one), as check_mask_values reads them
    paths = sorted({p.resolve() for _, c in named if c and (p := csv_path(masks.parent, c))
                    .is_file() and not is_dicom_file(p)})  # fmt: skip
    names = [relative_or_name(p, masks.parent) for p in paths]
    try:  # as the run reads them: its check then takes these classes from the cache
        read_mask_classes(paths, data, said(masks), names=names)
    except RadpipeError as err:
        return [f"data.masks: {err}"]
    images = _images(masks, [r for r, _ in nifti], data.source.resolve())
    wrong: dict[str, list[str]] = {}
    headers: dict[str, Any] = {}
    memo: dict[str, Any] = {}  # the last mask's volume: a series' mask is listed per slice
    for row, cell in sorted(nifti, key=lambda rc: (rc[1], rc[0].line)):
        image = images.get(row.line)
        if image is None:  # not found, or not one image: said by the other checks or the run
            continue
        path = csv_path(masks.parent, cell)
        name = relative_or_name(path.resolve(), masks.parent)
        try:
            mask_on_image(path, name, _manifest_row(image, headers, data.source.resolve()),
                          data.source.resolve(), headers, memo)  # fmt: skip
        except RadpipeError as err:
            wrong.setdefault(name, []).append(str(err))
    if not wrong:
        return []
    return [f"data.masks: {grid_refusal(said(masks), wrong)}"]


def _images(masks: Path, rows: list[CsvRow], root: Path) -> dict[int, tuple[str, int]]:
    """``{line: (image file relative to root, frame)}`` of the rows whose key names one image
    of ``root`` (by ``file``, or by ``sop_instance_uid``/``instance_key`` through the
    headers, read once per process); rows whose key or frame is bad are left out."""
    from pipeline.dicom.seg_masks import scan_images
    from pipeline.dicom.walk import source_files
    from workflows.run.truth import FILE_COLUMN, relative_file

    out: dict[int, tuple[str, int]] = {}
    column = next((c for c in ("instance_key", "sop_instance_uid") if c in rows[0]), None)
    by_key: dict[str, list[str]] = {}
    if FILE_COLUMN not in rows[0] and column is not None:
        try:
            scanned = scan_images(root, source_files(root))
        except RadpipeError:  # said by the masks CSV's other checks
            return {}
        for image in scanned:
            by_key.setdefault(hash_key(image.sop_uid), []).append(image.rel)
    for row in rows:
        try:
            frame = csv_frame(row.get("frame"))
            if FILE_COLUMN in row:
                rel = relative_file((row.get(FILE_COLUMN) or "").strip(), root,
                                    masks.parent.resolve())  # fmt: skip
            elif column is not None:
                key = csv_uid(row.get(column), column)
                key = hash_key(key) if column == "sop_instance_uid" else key
                files = by_key.get(key, [])
                rel = files[0] if len(files) == 1 else None  # two files: said by the run
            else:
                rel = None
        except ValueError:
            continue
        if rel is not None:
            out[row.line] = (rel, frame)
    return out


def _manifest_row(image: tuple[str, int], headers: dict[str, Any], root: Path) -> dict[str, Any]:
    """The image as the conversion's manifest gives it to :func:`mask_on_image`: its file,
    frame and ``rows x columns`` (those of its frame: a mosaic's tile), from its header (read
    once: ``mask_on_image`` takes it from ``headers``)."""
    rel, frame = image
    ref = frame_ref(rel, frame, root, headers)
    shape = f"{ref.rows}x{ref.columns}" if ref is not None else "0x0"
    return {"source": rel, "frame": frame, "shape": shape}
