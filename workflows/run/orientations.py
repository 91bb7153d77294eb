"""NIfTI images of an images run stored in different voxel orders.

An images run uses each array as it is stored (no reorientation): NIfTI files written by
different tools (dcm2niix's LPS-flipped rows, an RAS-canonical export, a sagittal acquisition)
put the patient's left on different sides of the array. The model then sees some images
mirrored or turned against the others, and a class tied to a side (left lung, right kidney)
lies on the other side in them (MONAI pipelines reorient first: ``Orientationd(axcodes=
"RAS")``; TorchIO's ``ToCanonical``). :func:`note_orientations` reads the headers and warns.

A placed NIfTI mask (qform or sform code above 0, a real affine) beside an image with no place
(a PNG or NPY, or a NIfTI without qform and sform) cannot be checked against its image, and
is paired as stored; :func:`note_unplaced_masks` says so, as a DICOM run does for radiographs
(:mod:`workflows.run.mask_grid`). Until 2026-12-01 an images run said nothing.
"""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path
from typing import Any

from pipeline.data.orient import is_nifti

__all__ = ["note_orientations", "note_unplaced_masks"]

log = logging.getLogger("radpipe")


def note_orientations(paths: list[Path]) -> Counter[str]:
    """Warn when the placed NIfTI files among ``paths`` are stored in several voxel orders.

    Returns the count of each order (``"RAS"``, ``"LPS"``, ...; files without a known
    orientation, qform and sform codes 0, and other formats are not counted).
    """
    import nibabel as nib

    orders: Counter[str] = Counter()
    example: dict[str, str] = {}
    for path in paths:
        if not is_nifti(path) or not path.is_file():
            continue
        try:
            img: Any = nib.load(path)
            header = img.header
            if int(header["sform_code"]) <= 0 and int(header["qform_code"]) <= 0:
                continue
            order = "".join(nib.aff2axcodes(img.affine)[:3])
        except Exception:  # an unreadable file is said when it is read
            continue
        orders[order] += 1
        example.setdefault(order, path.name)
    if len(orders) > 1:
        shown = ", ".join(
            f"{order} {n} (e.g. {example[order]})" for order, n in orders.most_common()
        )
        log.warning(
            "the NIfTI images are stored in %d voxel orders (%s): radpipe uses each array as "
            "stored, so the model sees some images mirrored or turned against the others (a "
            "class tied to one side lies on the other side in them); reorient them to one "
            "order first (nibabel.as_closest_canonical, or dcm2niix for all)",
            len(orders), shown,
        )  # fmt: skip
    return orders


def note_unplaced_masks(pairs: list[tuple[Path, Path]]) -> list[str]:
    """Warn about the placed NIfTI masks of ``(image, mask)`` whose image has no place.

    Returns the names of those masks (an unreadable file is said when it is read).
    """
    import nibabel as nib

    from pipeline.data.orient import placed

    def has_place(path: Path) -> bool:
        return is_nifti(path) and path.is_file() and placed(nib.load(path))

    unplaced = []
    for image, mask in pairs:
        try:
            if has_place(mask) and not has_place(image):
                unplaced.append(mask.name)
        except Exception:  # an unreadable file is said when it is read
            continue
    if unplaced:
        log.warning(
            "%d NIfTI masks lie in space (a qform or sform affine) but their images do not "
            "(PNG or NPY images, or NIfTI without qform and sform), so the mask's affine cannot "
            "be checked against its image: used as stored, NIfTI i the column and j the row; a "
            "mask drawn on dcm2niix's NIfTI of a DICOM image has its rows flipped (upside "
            "down) against a PNG of it: look at one (%s)", len(unplaced),
            ", ".join(sorted(unplaced)[:3]) + (" ..." if len(unplaced) > 3 else ""),
        )  # fmt: skip
    return unplaced
