"""Array writers: PNG (8/16-bit), NPY (float32) and NIfTI; every write is atomic.

A reader never sees a half-written output: each writer goes through
:func:`pipeline.io_atomic.atomic_path` (a temporary file beside the target, then a rename).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.io_atomic import atomic_path

#: Output formats and their file suffixes.
SUFFIXES = {"png": ".png", "png16": ".png", "npy": ".npy", "nifti": ".nii.gz"}


def write_png(path: str | Path, image: np.ndarray, *, compression: int = 6) -> Path:
    """Write a ``(H, W)`` uint8/uint16 or ``(H, W, 3)`` uint8 image as PNG.

    Parameters
    ----------
    compression
        zlib level 0-9; 1 is about 30% faster than 6 for a few percent more bytes.
    """
    from PIL import Image

    if not 0 <= compression <= 9:
        raise ValueError(f"PNG compression must be in 0..9; got {compression}.")
    if image.dtype == np.uint16 and image.ndim == 2:
        pil = Image.fromarray(image)  # mode I;16
    elif image.dtype == np.uint8 and (image.ndim == 2 or (image.ndim == 3 and image.shape[2] == 3)):
        pil = Image.fromarray(image)
    else:
        raise ValueError(
            f"PNG needs (H, W) uint8/uint16 or (H, W, 3) uint8; got {image.shape} {image.dtype}."
        )
    with atomic_path(path) as tmp:
        pil.save(tmp, format="PNG", compress_level=compression)
    return Path(path)


def write_npy(path: str | Path, image: np.ndarray) -> Path:
    """Write an array as ``.npy`` float32 (loadable with ``allow_pickle=False``)."""
    with atomic_path(path) as tmp, tmp.open("wb") as fh:
        np.save(fh, np.ascontiguousarray(image, dtype=np.float32), allow_pickle=False)
    return Path(path)


def write_nifti(path: str | Path, volume: np.ndarray, affine_ras: np.ndarray | None) -> Path:
    """Write a ``(D, H, W)`` volume as NIfTI-1 with a RAS affine.

    The array is stored as ``(W, H, D)`` (NIfTI's i = column, j = row, k = slice), so that
    ``affine_ras @ [i, j, k, 1]`` is the RAS position of column ``i``, row ``j``, slice ``k``.
    Without an affine, the identity is used (and the NIfTI qform code is 0, "unknown").
    """
    import nibabel as nib

    if volume.ndim != 3:
        raise ValueError(f"Expected volume of shape (D, H, W); got {volume.shape}.")
    data = np.ascontiguousarray(np.asarray(volume, dtype=np.float32).transpose(2, 1, 0))
    image = nib.Nifti1Image(data, np.eye(4) if affine_ras is None else affine_ras)
    code = 0 if affine_ras is None else 1  # 1: scanner anatomical coordinates
    image.set_qform(image.affine, code=code)
    image.set_sform(image.affine, code=code)
    with atomic_path(path) as tmp:
        nib.save(image, tmp)
    return Path(path)
