"""NIfTI masks of a ``data.kind: images`` list off their NIfTI image's grid, found before a
run directory is made.

Such a mask (another spacing, origin or extent, or an affine in DICOM's LPS) was refused only
when the dataset first loaded it, once the run directory had been made and the run had begun:
the first such mask alone, in a run left failed whose advice (fix the cause, then ``radpipe run
--resume``) could not be followed, as the corrected mask changed the run's mask files. Every
NIfTI mask beside a NIfTI image is now checked as the dataset checks it
(:func:`pipeline.data.orient.align_nifti_mask`), all that do not fit listed with their lines.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from pipeline.cells import csv_rows, csv_text
from pipeline.data.io import csv_path
from pipeline.data.masks import nifti_mask_axes
from pipeline.data.orient import align_nifti_mask, is_nifti
from pipeline.errors import RadpipeError
from pipeline.words import counted

__all__ = ["off_grid_masks"]

_SHOWN = 5


def off_grid_masks(labels: Path, source: Path, columns: list[str]) -> list[str]:
    """Problems of the rows of the list ``labels`` whose NIfTI mask does not lie on its NIfTI
    image's grid (paths relative to ``source``); masks that cannot be read, or of other
    formats, are left to the other checks.

    Returns
    -------
    list of str
        E.g. ``data.labels: 1 of 6 NIfTI masks named in list.csv do not lie on their image's
        grid (nothing was run): m/a.nii.gz (line 3): the mask's NIfTI affine ...``.
    """
    import nibabel as nib

    if "image" not in columns or "mask" not in columns:
        return []
    wrong, checked = [], 0
    for row in csv_rows(csv.DictReader(csv_text(labels))):
        image, mask = (row.get("image") or "").strip(), (row.get("mask") or "").strip()
        image_path, mask_path = csv_path(source, image), csv_path(source, mask)
        if not (image and mask and is_nifti(image) and is_nifti(mask)):
            continue
        try:
            data = np.asanyarray(nib.load(mask_path).dataobj)  # type: ignore[attr-defined]
        except Exception:  # missing or unreadable: the other checks name it
            continue
        checked += 1
        try:
            align_nifti_mask(image_path, mask_path, nifti_mask_axes(data.T), mask)
        except RadpipeError as err:
            said = str(err).removeprefix(mask + ": ").rstrip(".")
            wrong.append(f"{mask} (line {row.line}): {said}")
        except Exception:  # an image nibabel cannot read: the image checks name it
            continue
    if not wrong:
        return []
    more = f"; and {len(wrong) - _SHOWN} more" if len(wrong) > _SHOWN else ""
    return [
        f"data.labels: {len(wrong)} of {counted(checked, 'NIfTI mask')} named in {labels.name} "
        f"do not lie on their image's grid (nothing was run): {'; '.join(wrong[:_SHOWN])}{more}"
    ]
