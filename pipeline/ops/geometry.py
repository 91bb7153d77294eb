"""Pure geometric operations.

Every function acts on the LAST axes of its input, so the same call works on a channel-first
image ``(C, H, W)`` / ``(C, D, H, W)`` and on a mask ``(H, W)`` / ``(D, H, W)``. In-plane
operations (flip, rotate, affine, elastic) act on the last two axes ``(H, W)`` and repeat the
same transform for every leading index (channels, slices). Images are interpolated with
``order=1`` (linear); masks must be given ``order=0`` (nearest neighbour) so that class
indices are never blended.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.ops.warp import elastic_displacement, warp_affine, warp_displacement

__all__ = [
    "affine_matrix",
    "crop",
    "crop_or_pad",
    "elastic_displacement",
    "fit_depth",
    "flip",
    "foreground_bbox",
    "resample_to_spacing",
    "resize",
    "rotate90",
    "warp_affine",
    "warp_displacement",
]


def flip(array: np.ndarray, axes: Sequence[int]) -> np.ndarray:
    """Flip along spatial ``axes`` counted from the end (``-1`` = W, ``-2`` = H, ``-3`` = D).

    Examples
    --------
    >>> flip(np.array([[1, 2], [3, 4]]), [-1]).tolist()
    [[2, 1], [4, 3]]
    """
    out = array
    for ax in axes:
        if ax >= 0:
            raise ValueError(f"flip axes are counted from the end (-1, -2, ...); got {ax}.")
        out = np.flip(out, axis=ax)
    return np.ascontiguousarray(out)


def rotate90(array: np.ndarray, k: int) -> np.ndarray:
    """Rotate the ``(H, W)`` plane by ``k`` quarter turns (counter-clockwise, as ``np.rot90``).

    Examples
    --------
    >>> rotate90(np.array([[1, 2], [3, 4]]), 1).tolist()
    [[2, 4], [1, 3]]
    """
    return np.ascontiguousarray(np.rot90(array, k=k, axes=(-2, -1)))


def affine_matrix(
    shape: Sequence[int],
    rotation: float = 0.0,
    scale: Sequence[float] = (1.0, 1.0),
    translate: Sequence[float] = (0.0, 0.0),
    shear: float = 0.0,
) -> np.ndarray:
    """The 3x3 matrix mapping OUTPUT ``(row, col, 1)`` to INPUT coordinates.

    The forward transform, about the plane's centre, is ``T(translate) R(rotation)
    Sh(shear) S(scale)``; this returns its inverse, which is what resampling needs.

    Parameters
    ----------
    shape
        ``(H, W)`` of the plane.
    rotation
        Degrees, counter-clockwise as displayed (row axis down).
    scale
        ``(sy, sx)``; values > 1 enlarge the content.
    translate
        ``(ty, tx)`` in pixels.
    shear
        Degrees of shear of the columns along the rows.
    """
    h, w = float(shape[-2]), float(shape[-1])
    centre = np.array([(h - 1) / 2, (w - 1) / 2])
    t = np.deg2rad(rotation)
    # (row, col) with row pointing down: a counter-clockwise display rotation.
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    sh = np.array([[1.0, 0.0], [np.tan(np.deg2rad(shear)), 1.0]])
    forward = rot @ sh @ np.diag([float(scale[0]), float(scale[1])])
    inverse = np.linalg.inv(forward)
    offset = centre - inverse @ (centre + np.asarray(translate, dtype=float))
    matrix = np.eye(3)
    matrix[:2, :2] = inverse
    matrix[:2, 2] = offset
    # Rounding removes float noise (cos 90 deg = 6e-17) so that quarter turns stay exact.
    return np.round(matrix, 12) + 0.0


def resize(
    array: np.ndarray, shape: Sequence[int], order: int = 1, anti_aliasing: bool = False
) -> np.ndarray:
    """Resize the last ``len(shape)`` axes to ``shape`` (pixel centres aligned).

    ``order=0`` keeps the dtype (masks) and is never smoothed; other orders return float32.
    With ``anti_aliasing`` an axis shrunk by a factor ``f`` is first smoothed with a Gaussian
    of sigma ``(f - 1) / 2`` pixels (scikit-image's ``resize(anti_aliasing=True)``, as MONAI's
    ``Resize``); without it, a linear downsampling by more than 2 skips input pixels (aliasing).
    """
    shape = tuple(int(s) for s in shape)
    if any(s < 1 for s in shape):
        raise ValueError(f"resize needs a positive shape; got {shape}.")
    lead = array.shape[: array.ndim - len(shape)]
    src = array if order == 0 else array.astype(np.float32, copy=False)
    from skimage.transform import resize as _sk_resize

    smooth = anti_aliasing and order > 0
    out = _sk_resize(src, (*lead, *shape), order=order, preserve_range=True, anti_aliasing=smooth)
    return out.astype(array.dtype if order == 0 else np.float32, copy=False)


def resample_to_spacing(
    array: np.ndarray,
    spacing: Sequence[float],
    new_spacing: Sequence[float],
    order: int = 1,
    anti_aliasing: bool = False,
) -> tuple[np.ndarray, tuple[float, ...]]:
    """Resample the last ``len(spacing)`` axes from ``spacing`` to about ``new_spacing`` (mm).

    Returns the array and the spacing it really has (sizes are rounded to whole pixels);
    ``anti_aliasing`` as in :func:`resize`.
    """
    if len(spacing) != len(new_spacing):
        raise ValueError(f"spacing {tuple(spacing)} and new_spacing {tuple(new_spacing)} differ.")
    old_shape = array.shape[-len(spacing) :]
    shape = [max(1, round(n * s / t)) for n, s, t in zip(old_shape, spacing, new_spacing)]
    actual = tuple(float(n * s / m) for n, s, m in zip(old_shape, spacing, shape))
    return resize(array, shape, order=order, anti_aliasing=anti_aliasing), actual


def crop(array: np.ndarray, start: Sequence[int], size: Sequence[int]) -> np.ndarray:
    """The window ``[start, start + size)`` of the last ``len(size)`` axes."""
    lead = (slice(None),) * (array.ndim - len(size))
    window = tuple(slice(int(a), int(a) + int(n)) for a, n in zip(start, size))
    return np.ascontiguousarray(array[lead + window])


def crop_or_pad(array: np.ndarray, shape: Sequence[int], value: float = 0) -> np.ndarray:
    """Centre-crop or pad (with ``value``) the last ``len(shape)`` axes to ``shape``.

    Odd differences put the extra pixel at the end.

    Examples
    --------
    >>> crop_or_pad(np.array([[1, 2, 3, 4]]), (1, 2)).tolist()
    [[2, 3]]
    >>> crop_or_pad(np.array([[1]]), (1, 3)).tolist()
    [[0, 1, 0]]
    """
    n = len(shape)
    lead = array.ndim - n
    pads = [(0, 0)] * lead
    cuts: list[slice] = [slice(None)] * lead
    for size, target in zip(array.shape[lead:], shape):
        diff = int(target) - size
        if diff >= 0:
            pads.append((diff // 2, diff - diff // 2))
            cuts.append(slice(None))
        else:
            start = (-diff) // 2
            pads.append((0, 0))
            cuts.append(slice(start, start + int(target)))
    out = array[tuple(cuts)]
    if any(p != (0, 0) for p in pads):
        out = np.pad(out, pads, constant_values=value)
    return np.ascontiguousarray(out)


def foreground_bbox(
    array: np.ndarray, threshold: float = 0.0, margin: int = 0
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """``(start, size)`` of the box holding every value ``> threshold``, plus ``margin``.

    ``array`` is spatial (no channel axis). An empty foreground gives the whole array.
    """
    nz = np.nonzero(array > threshold)
    if nz[0].size == 0:
        return tuple(0 for _ in array.shape), tuple(array.shape)
    start = tuple(max(0, int(ax.min()) - margin) for ax in nz)
    stop = tuple(min(n, int(ax.max()) + 1 + margin) for ax, n in zip(nz, array.shape))
    return start, tuple(b - a for a, b in zip(start, stop))


def fit_depth(
    array: np.ndarray, depth: int, method: str = "crop_pad", order: int = 1, axis: int = -3
) -> np.ndarray:
    """Bring ``axis`` (the slice axis D) to ``depth`` slices.

    ``method="crop_pad"`` centre-crops or zero-pads; ``"resample"`` interpolates along D
    (``order=0`` for masks).
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1; got {depth}.")
    moved = np.moveaxis(array, axis, -1)
    if method == "crop_pad":
        out = crop_or_pad(moved, (depth,))
    elif method == "resample":
        out = resize(moved, (depth,), order=order)
    else:
        raise ValueError(f"method must be 'crop_pad' or 'resample'; got {method!r}.")
    return np.ascontiguousarray(np.moveaxis(out, -1, axis))
