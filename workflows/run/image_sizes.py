"""Masks of a ``data.kind: images`` list that are not the size of their image, found before
a run directory is made.

Such a mask was refused only while the study was prepared, once the run directory had been
made, by its path alone (``m.png: mask shape (270, 400) != image shape (540, 800).``), and the
advice printed with it (fix the cause, then ``radpipe run --resume``) could not be followed:
the corrected mask changed the run's mask files, so the resume was refused. A DICOM run's
masks CSV is checked so before the split (:mod:`workflows.run.mask_rows`); an image list now
is too, from the files' headers, every mismatch listed with its CSV line.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.cells import csv_rows, csv_text
from pipeline.data.io import csv_path
from pipeline.data.masks import stored_mask_shape, stored_shape
from pipeline.words import counted

__all__ = ["mismatched_mask_sizes"]

_SHOWN = 5


def _image_shape(path: Path) -> tuple[int, int] | None:
    """(rows, columns) of a PNG or 2-D NPY image from its header; ``None`` for others (an
    NPY volume or channels-last picture, a NIfTI: checked as they are loaded)."""
    shape = stored_shape(path)
    return (shape[0], shape[1]) if shape is not None and len(shape) == 2 else None


def mismatched_mask_sizes(labels: Path, source: Path, columns: list[str]) -> list[str]:
    """Problems of rows of the list ``labels`` whose PNG/NPY mask has other rows x columns
    than its PNG/2-D NPY image (paths relative to ``source``); files that are not there are
    left to :func:`~workflows.run.image_files.missing_image_files`.

    Returns
    -------
    list of str
        E.g. ``data.labels: 1 of 48 masks named in list.csv is not the size of its image
        (...): img/a_mask.png is 270x400, its image img/a.png 540x800 (line 3)``; empty when
        every mask that can be checked so fits.
    """
    if "image" not in columns or "mask" not in columns:
        return []
    wrong, checked = [], 0
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        image, mask = (row.get("image") or "").strip(), (row.get("mask") or "").strip()
        if not image or not mask:
            continue
        image_path, mask_path = csv_path(source, image), csv_path(source, mask)
        if not image_path.is_file() or not mask_path.is_file():
            continue
        want, got = _image_shape(image_path), stored_mask_shape(mask_path)
        if want is None or got is None:
            continue
        checked += 1
        if got != want:
            wrong.append(f"{mask} is {got[0]}x{got[1]}, its image {image} "
                         f"{want[0]}x{want[1]} (line {row.line})")  # fmt: skip
    if not wrong:
        return []
    more = f"; and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
    one = len(wrong) == 1
    return [
        f"data.labels: {len(wrong)} of {counted(checked, 'mask')} named in {labels.name} "
        f"{'is not the size of its image' if one else 'are not the size of their images'} "
        "(rows x columns; a mask is drawn on its image's own pixels: not resized, not "
        f"cropped, not for another image): {'; '.join(wrong[:_SHOWN])}{more}"
    ]
