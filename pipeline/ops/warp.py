"""Resampling of ``(H, W)`` planes through a sampling grid, and random displacement fields.

Every function acts on the LAST two axes and repeats the same warp for every leading index
(channels, slices): all planes of an array go through ONE
``torch.nn.functional.grid_sample`` call, as channels of one batch item, and image and mask
can share one grid (:func:`sampling_grid`, :func:`control_point_grid`). A grid is one batched
matrix product of small factors: an affine map is separable, and a control-point field is
its bicubic weights times the offsets (no per-pixel meshgrid arithmetic). Images are
interpolated with ``order=1`` (bilinear); masks must be given ``order=0`` (nearest
neighbour), which keeps their integer labels and dtype.

torch is imported inside the functions: importing this module (config validation) stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import torch

__all__ = [
    "control_grid_shape",
    "control_point_displacement",
    "control_point_grid",
    "elastic_displacement",
    "sample_planes",
    "sampling_grid",
    "warp_affine",
    "warp_displacement",
]

_TORCH_MODE = {0: "nearest", 1: "bilinear", 3: "bicubic"}
_TORCH_PADDING = {"constant": "zeros", "nearest": "border", "reflect": "reflection"}


def _to_unit(matrix: np.ndarray, h: int, w: int) -> np.ndarray:
    """``(3, 2)``: ``(row, col, 1) @ it`` gives grid_sample's ``(x, y)`` in ``[-1, 1]``.

    ``matrix`` maps output ``(row, col, 1)`` to input pixel coordinates (first two rows
    used). With ``align_corners=True``, -1 and 1 are the centres of the edge pixels.
    """
    sy, sx = 2.0 / max(h - 1, 1), 2.0 / max(w - 1, 1)
    out = np.stack([matrix[1, :3] * sx, matrix[0, :3] * sy], axis=1)
    out[2] -= 1.0
    return out


def sampling_grid(
    shape: Sequence[int], matrix: np.ndarray | None = None, displacement: np.ndarray | None = None
) -> torch.Tensor:
    """The grid for :func:`sample_planes`: ``matrix``, then a displacement, per pixel.

    Output pixel ``(row, col)`` samples the input at ``matrix @ (row, col, 1)`` plus
    ``displacement[:, row, col]``.

    Parameters
    ----------
    shape
        ``(..., H, W)``; the last two are used.
    matrix
        ``(3, 3)`` (or ``(2, 3)``) mapping OUTPUT to INPUT pixel coordinates, as
        ``affine_matrix`` gives; ``None`` is the identity.
    displacement
        ``(2, H, W)`` float, in pixels, row offsets first; ``None`` for none.

    Returns
    -------
    torch.Tensor
        ``(1, H, W, 2)`` float32 ``(x, y)`` in ``[-1, 1]`` (``align_corners=True``), a
        view of planar ``(2, H, W)`` memory: each plane is the sum of a row vector's and
        a column vector's share (an affine map is separable), each share computed in
        float64 and rounded to float32.
    """
    import torch

    h, w = int(shape[-2]), int(shape[-1])
    unit = _to_unit(np.eye(3) if matrix is None else np.asarray(matrix, np.float64), h, w)
    planes = _separable_planes(h, w, unit, None, None)
    if displacement is not None:
        d = torch.as_tensor(displacement, dtype=torch.float32)
        planes[0].add_(d[1], alpha=2.0 / max(w - 1, 1))
        planes[1].add_(d[0], alpha=2.0 / max(h - 1, 1))
    return planes.permute(1, 2, 0)[None]  # grid_sample reads strided grids as fast


def _separable_planes(
    h: int, w: int, unit: np.ndarray, w_rows: np.ndarray | None, top: np.ndarray | None
) -> torch.Tensor:
    """``(2, H, W)`` float32 grid planes ``[W_rows | row share | 1] @ [top ; 1 ; col share]``.

    An affine map is separable: plane ``k`` is a row vector's share plus a column vector's
    share (``unit``, from :func:`_to_unit`), so it is a rank-2 matrix product; a
    control-point field adds ``W_rows @ top``. The small factors are built in NumPy (each
    torch call costs microseconds of overhead), then ONE ``torch.bmm`` writes the planes.
    """
    import torch

    n = 0 if w_rows is None else w_rows.shape[1]
    left = np.ones((2, h, n + 2), dtype=np.float32)
    right = np.ones((2, n + 2, w), dtype=np.float32)
    if w_rows is not None and top is not None:
        left[:, :, :n] = w_rows
        right[:, :n] = top
    left[:, :, n] = (np.arange(h)[:, None] * unit[0] + unit[2]).T
    right[:, n + 1] = (np.arange(w)[:, None] * unit[1]).T
    return torch.bmm(torch.from_numpy(left), torch.from_numpy(right))


def sample_planes(
    array: np.ndarray, grid: torch.Tensor, order: int, mode: str, cval: float
) -> np.ndarray:
    """Sample every ``(H, W)`` plane of ``array`` through ``grid``.

    Parameters
    ----------
    array
        ``(..., H, W)``, any real dtype (a mask: integer labels).
    grid
        ``(1, H, W, 2)`` float32 ``(x, y)`` in ``[-1, 1]``, from :func:`sampling_grid` or
        :func:`control_point_grid`; the same grid serves an image and its mask.
    order
        0 (nearest: copies values, so labels stay labels), 1 (bilinear) or 3 (bicubic).
    mode
        Outside the plane: ``"constant"`` gives ``cval`` with the edge pixel blended towards
        it (SciPy's ``grid-constant``), ``"nearest"`` repeats edge values, ``"reflect"``
        mirrors.
    cval
        Fill value of ``mode="constant"``, in the array's units.

    Returns
    -------
    numpy.ndarray
        ``array``'s shape; ``array``'s dtype for ``order=0``, float32 otherwise.
    """
    import torch
    import torch.nn.functional as F

    if order not in _TORCH_MODE:
        raise ValueError(f"order must be 0, 1 or 3; got {order}.")
    if mode not in _TORCH_PADDING:
        raise ValueError(f"mode must be 'constant', 'nearest' or 'reflect'; got {mode!r}.")
    h, w = array.shape[-2:]
    planes_np = np.ascontiguousarray(array).reshape(1, -1, h, w)
    if not planes_np.flags.writeable:  # e.g. a memory-mapped cache: torch wants to own it
        planes_np = planes_np.copy()
    planes = torch.from_numpy(planes_np).to(torch.float32)  # no copy for float32 arrays
    shift = mode == "constant" and cval != 0
    if shift:
        planes = planes - float(cval)
    out = F.grid_sample(
        planes,  # (1, N, H, W): the planes as channels of one item
        grid,  # (1, H, W, 2) as (x, y)
        mode=_TORCH_MODE[order],
        padding_mode=_TORCH_PADDING[mode],
        align_corners=True,
    )[0]
    if shift:
        out += float(cval)
    result = out.numpy().reshape(array.shape)
    if order == 0:
        return result.astype(array.dtype, copy=False)  # nearest copies values: exact
    return result


def warp_affine(
    array: np.ndarray,
    matrix: np.ndarray,
    order: int = 1,
    mode: str = "constant",
    cval: float = 0.0,
) -> np.ndarray:
    """Resample every ``(H, W)`` plane with ``matrix`` (from ``affine_matrix``).

    Parameters
    ----------
    array
        ``(..., H, W)``, any real dtype.
    matrix
        ``(3, 3)`` mapping OUTPUT ``(row, col, 1)`` to INPUT pixel coordinates.
    order
        0 (nearest: keeps integer labels and the dtype), 1 (bilinear) or 3 (bicubic); the
        last two return float32.
    mode
        ``"constant"`` (``cval`` outside), ``"nearest"`` (edge values) or ``"reflect"``.
    cval
        Fill value for ``mode="constant"``.
    """
    return sample_planes(array, sampling_grid(array.shape, matrix), order, mode, cval)


def warp_displacement(
    array: np.ndarray, displacement: np.ndarray, order: int = 1, mode: str = "reflect"
) -> np.ndarray:
    """Sample every plane at ``(row, col) + displacement``.

    ``displacement`` is ``(2, H, W)`` float, in pixels (row offsets first).
    """
    grid = sampling_grid(array.shape, None, displacement)
    return sample_planes(array, grid, order, mode, 0.0)


def elastic_displacement(
    shape: Sequence[int], sigma: float, magnitude: float, seed: int
) -> np.ndarray:
    """A smooth random displacement field ``(2, H, W)`` in pixels (Simard et al., ICDAR 2003).

    Uniform noise in ``[-1, 1]`` per pixel is smoothed with a Gaussian of ``sigma`` pixels
    and scaled so that the largest displacement equals ``magnitude`` pixels.
    """
    rng = np.random.default_rng(seed)
    h, w = int(shape[-2]), int(shape[-1])
    field = rng.uniform(-1.0, 1.0, size=(2, h, w))
    from scipy import ndimage  # imported here: keeps config validation fast

    field = np.stack([ndimage.gaussian_filter(f, sigma, mode="constant") for f in field])
    peak = float(np.abs(field).max())
    return (field * (magnitude / peak if peak > 0 else 0.0)).astype(np.float32)


def control_grid_shape(size: int, spacing: float) -> int:
    """Control points along an axis of ``size`` pixels, ``spacing`` apart (MONAI's count).

    Enough points to cover the axis plus one beyond each end, an even number for an even
    size: ``ceil((size - 1) / (2 spacing) + 0.5) * 2 + 2``, or for an odd size
    ``ceil((size - 1) / (2 spacing)) * 2 + 3``.

    Examples
    --------
    >>> control_grid_shape(256, 32), control_grid_shape(255, 32)
    (12, 11)
    """
    half = (size - 1) / (2.0 * spacing)
    return int(np.ceil(half + 0.5)) * 2 + 2 if size % 2 == 0 else int(np.ceil(half)) * 2 + 3


@lru_cache(maxsize=32)
def _upsampling_weights(size: int, spacing: float) -> np.ndarray:
    """``(size, n)`` float32 (read-only): bicubic upsampling of ``n`` control points by ``spacing``.

    The weights are those of ``torch.nn.functional.interpolate(mode="bicubic",
    align_corners=False)`` from ``n`` to ``floor(n * spacing)`` samples (read off by
    interpolating the identity), centre-cropped to ``size``. Bicubic interpolation is
    separable, so a 2-D field is ``W_rows @ offsets @ W_cols.T``: two small matrix
    products instead of interpolating a large field and cropping it.
    """
    import torch
    import torch.nn.functional as F

    n = control_grid_shape(size, spacing)
    full = int(np.floor(n * spacing))
    eye = torch.eye(n, dtype=torch.float64).reshape(n, 1, 1, n)
    weights = F.interpolate(eye, size=(1, full), mode="bicubic", align_corners=False)
    start = full // 2 - size // 2
    out = weights.reshape(n, full)[:, start : start + size].T.float().numpy().copy()
    out.flags.writeable = False  # cached: shared by every call
    return out


def _control_offsets(
    shape: Sequence[int], spacing: Sequence[float], magnitude: float, seed: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``W_rows (H, n_r)``, ``W_cols (W, n_c)`` and the offsets ``(2, n_r, n_c)`` in pixels."""
    w_rows = _upsampling_weights(int(shape[-2]), float(spacing[0]))
    w_cols = _upsampling_weights(int(shape[-1]), float(spacing[1]))
    size = (2, w_rows.shape[1], w_cols.shape[1])
    offsets = np.random.default_rng(seed).standard_normal(size, dtype=np.float32)
    offsets *= np.float32(magnitude)
    return w_rows, w_cols, offsets


def control_point_displacement(
    shape: Sequence[int], spacing: Sequence[float], magnitude: float, seed: int
) -> np.ndarray:
    """A displacement field ``(2, H, W)`` float32, in pixels, from random control points.

    Control points ``spacing = (row, col)`` pixels apart get independent standard normal
    offsets (from ``numpy.random.default_rng(seed)``) times ``magnitude`` pixels; the field
    is their bicubic interpolation (the parameterisation of MONAI's ``Rand2DElastic``).
    """
    w_rows, w_cols, offsets = _control_offsets(shape, spacing, magnitude, seed)
    return (w_rows @ offsets @ w_cols.T).astype(np.float32, copy=False)  # (2, H, W)


def control_point_grid(
    shape: Sequence[int],
    spacing: Sequence[float],
    magnitude: float,
    seed: int,
    matrix: np.ndarray | None = None,
) -> torch.Tensor:
    """The sampling grid of :func:`control_point_displacement` ``d``, then ``matrix``.

    Output pixel ``p`` samples the input at ``matrix @ (p + d(p))``: the field of the same
    arguments, followed by an affine map (``None``: the identity), as
    ``sampling_grid(shape, matrix, A @ d)`` with ``A`` the matrix's 2x2 part, but built by
    ONE batched matrix product: every grid plane is
    ``[W_rows | row share | 1] @ [offsets' @ W_cols.T ; 1 ; column share]``, where
    ``offsets'`` are the control-point offsets mapped through ``A`` into grid units.

    Returns
    -------
    torch.Tensor
        ``(1, H, W, 2)`` float32, for :func:`sample_planes`.
    """
    h, w = int(shape[-2]), int(shape[-1])
    unit = _to_unit(np.eye(3) if matrix is None else np.asarray(matrix, np.float64), h, w)
    w_rows, w_cols, offsets = _control_offsets(shape, spacing, magnitude, seed)
    mixed = np.einsum("jk,jab->kab", unit[:2], offsets)  # (2, n_r, n_c) in grid units
    planes = _separable_planes(h, w, unit, w_rows, mixed @ w_cols.T)
    return planes.permute(1, 2, 0)[None]  # (1, H, W, 2) view of (2, H, W)
