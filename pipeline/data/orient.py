"""A NIfTI mask stored in another orientation than its NIfTI image, put on the image's grid.

Images and masks of a folder dataset are compared as arrays, so a mask written by another
tool in another voxel order (a LAS or LPS array beside an RAS one, rows flipped as dcm2niix
stores them, axes swapped) would be paired voxel by voxel with the wrong image voxels, as
long as the shapes agree. When both files are NIfTI with a known orientation (:func:`placed`),
the mask's affine is compared with the image's: a mask on the same grid in another axis
order or direction is reoriented onto the image's grid (nibabel's orientation transforms,
the same move MONAI's ``Orientation`` makes), with a warning (once per file: the dataset
loads an item again each epoch without a cache); a mask on another grid (other
spacing, origin or shape) is refused.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.errors import RadpipeError

__all__ = ["align_nifti_mask", "axis_codes", "is_nifti", "placed", "reorient"]

log = logging.getLogger("radpipe")

#: Affines that agree within this (mm, and direction cosines x spacing) are the same grid.
AFFINE_TOLERANCE = 1e-3

#: The (mask, image, their axis codes) reorientations said in this process: each said once.
_SAID: set[tuple[str, str, str, str]] = set()


def is_nifti(path: str | Path) -> bool:
    """Whether ``path`` names a NIfTI file (``.nii`` or ``.nii.gz``, any case)."""
    return os.path.basename(path).lower().endswith((".nii", ".nii.gz"))


def reorient(
    data: np.ndarray, stored: np.ndarray, target: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``data`` reoriented from ``stored``'s voxel axes to ``target``'s, with its new affine.

    ``data`` is 3-D in NIfTI axis order on the affine ``stored``; it is flipped and its axes
    swapped (nibabel's orientation tools: exact, nothing resampled).
    """
    from nibabel import orientations as ornts

    move = ornts.ornt_transform(ornts.io_orientation(stored), ornts.io_orientation(target))
    return ornts.apply_orientation(data, move), stored @ ornts.inv_ornt_aff(move, data.shape)


def placed(img: Any) -> bool:
    """Whether a loaded NIfTI image says where it lies.

    A qform or sform code above 0 and an affine other than a placeholder (positive zooms on
    the diagonal, origin 0: what nibabel writes, with sform code 2, for an array saved as
    ``Nifti1Image(mask, np.eye(4))``; no scanner geometry looks like that).
    """
    header = img.header
    if int(header["sform_code"]) <= 0 and int(header["qform_code"]) <= 0:
        return False
    affine = np.asarray(img.affine, dtype=np.float64)
    linear = affine[:3, :3]
    placeholder = (np.count_nonzero(linear - np.diag(np.diag(linear))) == 0
                   and bool((np.diag(linear) > 0).all()) and not affine[:3, 3].any())  # fmt: skip
    return not placeholder


def align_nifti_mask(image_path: Path, mask_path: Path, mask: np.ndarray, name: str) -> np.ndarray:
    """The ``mask`` on the grid of the image at ``image_path``.

    ``mask`` is as loaded (NIfTI axes reversed: ``(D, H, W)`` or ``(H, W)``, uint8). Returns
    ``mask`` unchanged unless both files are NIfTI with a known orientation and their affines
    differ; then the mask reoriented (flips and axis swaps only, exact).

    Raises
    ------
    RadpipeError
        The affines differ by more than a reorientation: the mask lies on another grid.
    """
    if not (is_nifti(image_path) and is_nifti(mask_path)):
        return mask
    import nibabel as nib

    image: Any = nib.load(image_path)
    stored: Any = nib.load(mask_path)
    if not (placed(image) and placed(stored)):
        return mask
    a, b = np.asarray(image.affine), np.asarray(stored.affine)
    if np.allclose(a, b, rtol=0, atol=AFFINE_TOLERANCE):
        return mask
    data = mask.transpose(tuple(range(mask.ndim))[::-1])  # back to NIfTI (x, y, z) order
    flat = data.ndim == 2
    if flat:
        data = data[..., None]
    moved, moved_affine = reorient(data, b, a)
    grid = tuple(image.shape[:3]) + (1,) * (3 - len(image.shape[:3]))
    if moved.shape != grid or not np.allclose(moved_affine, a, rtol=0, atol=AFFINE_TOLERANCE):
        raise RadpipeError(
            f"{name}: the mask's NIfTI affine puts it on another grid than its image "
            f"(mask {axis_codes(b)}, shape {stored.shape}; image {axis_codes(a)}, "
            f"shape {image.shape}{_how_off(data, b, a, grid)}."
        )
    said = (str(mask_path.resolve()), str(image_path.resolve()), axis_codes(b), axis_codes(a))
    if said not in _SAID:  # once per file, not on every load (each epoch without a cache)
        _SAID.add(said)
        log.warning(
            "%s: mask stored as %s, its image as %s: the mask is reoriented onto the image's "
            "grid", name, axis_codes(b), axis_codes(a),
        )  # fmt: skip
    if flat:
        moved = moved[..., 0]
    return np.ascontiguousarray(moved.transpose(tuple(range(moved.ndim))[::-1]))


def _how_off(data: np.ndarray, b: np.ndarray, a: np.ndarray, grid: tuple[int, ...]) -> str:
    """The end of the message that a mask is off its image's grid, with what to do.

    ``data`` at affine ``b``, the image at ``a`` (shape ``grid``). An affine in DICOM's LPS
    (x and y not negated) is said as such, and so is the same grid moved (by how many mm);
    else the mask is to be resampled onto the image.
    """
    resample = "): resample the mask onto the image (nearest neighbour) first"
    moved, affine = reorient(data, np.diag([-1.0, -1.0, 1.0, 1.0]) @ b, a)
    if moved.shape == grid and np.allclose(affine, a, rtol=0, atol=AFFINE_TOLERANCE):
        return (
            "): its affine is in DICOM's LPS coordinates, not NIfTI's RAS: with x and y "
            "negated it lies on its image; save it with the RAS affine (nibabel: "
            "np.diag([-1, -1, 1, 1]) @ affine)"
        )
    moved, affine = reorient(data, b, a)
    if moved.shape == grid and np.allclose(affine[:3, :3], a[:3, :3], atol=AFFINE_TOLERANCE):
        return (
            f"; the same grid moved by {np.linalg.norm(affine[:3, 3] - a[:3, 3]):.2f} mm{resample}"
        )
    return resample


def axis_codes(affine: np.ndarray) -> str:
    """The affine's axis codes (``"RAS"``, ``"LPS"``...), nibabel's ``aff2axcodes`` joined."""
    from nibabel import orientations as ornts

    return "".join(ornts.aff2axcodes(affine))
