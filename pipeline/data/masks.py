"""Mask files as users save them: class indices, binary 0/255 images, grey RGB PNGs.

:func:`mask_classes` decides what a mask file's values mean, and refuses what it cannot read
unambiguously rather than guessing (a 0/255 mask read as class indices is a 256-class
problem; see issue 18).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from pipeline.errors import RadpipeError

__all__ = ["MAX_CLASSES", "collapse_channels", "mask_classes", "nifti_mask_axes"]

MAX_CLASSES = 32  # default cap on the number of segmentation classes (data.max_classes)


def nifti_mask_axes(arr: np.ndarray) -> np.ndarray:
    """A NIfTI mask as loaded (axes reversed) without its length-1 axes past the third.

    Tools that keep a time axis save a 3-D mask as ``(x, y, z, 1)``; read as ``(1, z, y, x)``
    it was refused beside its ``(x, y, z)`` image (``mask shape (1, 4, 6, 8) != image shape
    (4, 6, 8)``) until 2026-12-04. A 4th axis of more than one entry is kept (and refused).
    The one implementation of this rule: :func:`~pipeline.data.io.load_mask`, the up-front
    grid check of an images list and the NIfTI masks of a DICOM run
    (:mod:`workflows.run.mask_grid`, on ``arr.T`` of the stored order) all call it.

    Examples
    --------
    >>> nifti_mask_axes(np.zeros((1, 4, 6, 8))).shape
    (4, 6, 8)
    >>> nifti_mask_axes(np.zeros((2, 4, 6, 8))).shape
    (2, 4, 6, 8)
    """
    while arr.ndim > 3 and arr.shape[0] == 1:
        arr = arr[0]
    return arr


def collapse_channels(arr: np.ndarray, name: str) -> np.ndarray:
    """A grey ``(H, W)`` mask from a PNG array ``(H, W, C)`` whose colour channels agree.

    Parameters
    ----------
    arr
        ``(H, W)``, or ``(H, W, C)`` with C = 2 (grey + alpha), 3 (RGB) or 4 (RGBA); any dtype.
    name
        The file, for messages.

    Returns
    -------
    numpy.ndarray
        ``(H, W)``, the first channel; alpha is ignored.

    Raises
    ------
    RadpipeError
        When the colour channels differ (a colour-coded mask: map it to indices first).
    """
    if arr.ndim != 3:
        return arr
    colour = arr[..., :1] if arr.shape[-1] == 2 else arr[..., :3]
    if not (colour == colour[..., :1]).all():
        raise RadpipeError(
            f"{name}: a colour mask (its RGB channels differ); save one channel of class "
            "indices (or a grey 0/255 image for one foreground class)."
        )
    return np.ascontiguousarray(colour[..., 0])


def mask_classes(
    arr: np.ndarray,
    name: str,
    values: Mapping[int, int] | None = None,
    max_classes: int = MAX_CLASSES,
) -> np.ndarray:
    """Class indices (uint8) from a mask's stored values.

    Parameters
    ----------
    arr
        The mask's values, any shape, integer/bool/float dtype.
    name
        The file, for messages.
    values
        Explicit map from stored value to class index (``data.mask_values``); every value
        found must be in it.
    max_classes
        Without ``values``, stored values must be below this to be read as class indices.

    Returns
    -------
    numpy.ndarray
        uint8, same shape. Without ``values``: a mask holding only {0, 1} or only {0, 255}
        is background/foreground (255 -> 1); values that are integers in
        ``0 .. max_classes - 1`` are class indices; anything else is refused.

    Raises
    ------
    RadpipeError
        Naming the file, the values found and the ``data.mask_values`` option.
    """
    if arr.dtype == np.bool_:
        arr = arr.astype(np.uint8)
    found = np.unique(arr)
    if values is not None:
        return _mapped(arr, found, name, values)
    whole = bool(np.array_equal(found, np.round(found))) if arr.dtype.kind == "f" else True
    present = {int(v) for v in found} if whole else set()
    if whole and present <= {0, 255} and 255 in present:
        return (arr == 255).astype(np.uint8)
    if whole and found.size and found.min() >= 0 and found.max() < max_classes:
        return arr.astype(np.uint8)
    shown = ", ".join(f"{v:g}" for v in found[:12]) + (", ..." if found.size > 12 else "")
    if not whole:  # data.mask_values maps whole numbers: its advice cannot apply
        raise RadpipeError(
            f"{name}: mask values {{{shown}}} include fractions (or NaN), which no class index "
            "is: a probability map, or a mask resized or saved with smoothing (interpolation). "
            "Threshold it, or export it again resized with nearest neighbour if at all; "
            "radpipe does not guess how to round it."
        )
    if found.size > max_classes:  # no mapping makes this a label map: say what it looks like
        raise RadpipeError(
            f"{name}: {found.size} distinct mask values ({{{shown}}}), more than a label map of "
            f"at most {max_classes} classes (data.max_classes) holds: an image, or a mask "
            "resized or saved with smoothing (interpolation, JPEG, anti-aliased drawing), not "
            "class indices. Export the mask again at its image's size, losslessly (PNG), "
            "resized with nearest neighbour if at all."
        )
    raise RadpipeError(
        f"{name}: mask values {{{shown}}} are neither class indices 0..{max_classes - 1} nor a "
        "binary 0/255 (or 0/1) mask; map them explicitly with data.mask_values, e.g. "
        f"{{{_example(found)}}}." + (_VOID if 255 in present else "")
    )


def _mapped(arr: np.ndarray, found: np.ndarray, name: str, values: Mapping[int, int]) -> np.ndarray:
    unknown = [v for v in found.tolist() if v not in values]
    if unknown:
        white = 255 in unknown and 0 in values  # a 0/255 mask where 0/1 ones were mapped
        raise RadpipeError(
            f"{name}: mask values {unknown[:12]} are not in data.mask_values "
            f"(which maps {sorted(values)})." + (_WHITE if white else "")
        )
    lut_keys = np.array(sorted(values), dtype=np.float64)
    lut_vals = np.array([values[int(k)] for k in lut_keys], dtype=np.uint8)
    return lut_vals[np.searchsorted(lut_keys, arr)]


#: Why a mask may hold 255 beside other values, and what to write.
_VOID = (
    " 255 beside other values is a 0/255 (white on black) mask mixed with other labels in one "
    "file, or 255 marking pixels to ignore (Pascal VOC's void): say which class it is, e.g. "
    "255: 1 in data.mask_values if it is foreground."
)
_WHITE = (
    " 255 is the foreground of a 0/255 (white on black) mask: add 255: 1 to data.mask_values, "
    "or leave data.mask_values out (a mask holding only 0 and 255, or only 0 and 1, is then "
    "read as background and foreground)."
)


def _example(found: np.ndarray) -> str:
    items = [f"{v:g}: {i}" for i, v in enumerate(found[:4])]
    return ", ".join(items) + (", ..." if found.size > 4 else "")


def stored_mask_shape(path: Path) -> tuple[int, int] | None:
    """The (rows, columns) of a PNG or NPY mask file, read from its header alone.

    ``None`` for other formats (NIfTI masks are reoriented onto their image first) or an
    unreadable file (reading it fully says why).

    Parameters
    ----------
    path
        The mask file.
    """
    shape = stored_shape(path)
    return (shape[0], shape[1]) if shape is not None and len(shape) >= 2 else None


def stored_shape(path: Path) -> tuple[int, ...] | None:
    """The shape of a PNG (rows, columns) or NPY file, read from its header alone.

    ``None`` for other formats or an unreadable file.
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".png":
            from PIL import Image

            with Image.open(path) as im:
                return im.height, im.width
        if suffix == ".npy":
            return tuple(int(n) for n in np.load(path, mmap_mode="r").shape)
    except (OSError, ValueError, EOFError):  # EOFError: an empty .npy (reading it says so)
        return None
    return None
