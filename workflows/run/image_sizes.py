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
from pipeline.data.masks import stored_shape
from pipeline.data.orient import is_nifti
from pipeline.words import counted

__all__ = ["mismatched_mask_sizes"]

_SHOWN = 5


def _stored(path: Path) -> tuple[int, ...] | None:
    """The shape of a PNG, NPY or NIfTI file from its header, in the axis order the loader
    gives (:func:`pipeline.data.io.load_array`: NIfTI axes reversed); ``None`` if unreadable."""
    if not is_nifti(path):
        return stored_shape(path)
    import nibabel as nib

    try:
        return tuple(int(n) for n in nib.load(path).shape)[::-1]  # type: ignore[attr-defined]
    except Exception:  # nibabel raises its own errors; loading the file says why
        return None


def _image_shape(path: Path) -> tuple[int, ...] | None:
    """The spatial shape :func:`pipeline.data.io.load_image` gives the image: ``(rows,
    columns)`` of a PNG or plane, ``(D, H, W)`` of a volume, a channel axis (channels last
    ``(H, W, C)``, or first in front of a volume) left out; ``None`` when it cannot tell."""
    shape = _stored(path)
    if shape is None:
        return None
    if len(shape) == 3 and shape[-1] <= 4 < min(shape[:2]):
        return shape[:2]  # a picture saved channels last
    nd = min(len(shape), 3)
    return shape if len(shape) == nd else shape[1:] if len(shape) == nd + 1 else None


def _differ(image: Path, mask: Path, want: tuple[int, ...], got: tuple[int, ...]) -> bool:
    """Whether a mask of shape ``got`` cannot lie on an image of spatial shape ``want``: two
    NIfTI files may differ in voxel order (the mask is reoriented onto the image, axes swapped
    or flipped), so theirs are compared as sizes, whatever their order."""
    if is_nifti(image) and is_nifti(mask):
        return sorted(n for n in got if n > 1) != sorted(n for n in want if n > 1)
    return got != want


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
    wrong, checked, volumes = [], 0, False
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        image, mask = (row.get("image") or "").strip(), (row.get("mask") or "").strip()
        if not image or not mask:
            continue
        image_path, mask_path = csv_path(source, image), csv_path(source, mask)
        if not image_path.is_file() or not mask_path.is_file():
            continue
        want, got = _image_shape(image_path), _stored(mask_path)
        if want is None or got is None:
            continue
        checked += 1
        if _differ(image_path, mask_path, want, got):
            volumes = volumes or len(want) == 3
            wrong.append(f"{mask} is {_size(got)}, its image {image} {_size(want)} "
                         f"(line {row.line})")  # fmt: skip
    if not wrong:
        return []
    more = f"; and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
    one = len(wrong) == 1
    return [
        f"data.labels: {len(wrong)} of {counted(checked, 'mask')} named in {labels.name} "
        f"{'is not the size of its image' if one else 'are not the size of their images'} "
        f"(rows x columns{', slices first for a volume' if volumes else ''}; a mask is "
        "drawn on its image's own pixels: not resized, not "
        f"cropped, not for another image): {'; '.join(wrong[:_SHOWN])}{more}"
    ]


def _size(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape)
