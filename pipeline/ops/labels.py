"""Pure operations on predicted label maps (class indices, 0 = background).

The clean-up steps users of segmentation tools expect after the argmax (MONAI's
``KeepLargestConnectedComponent`` and ``FillHoles``), on SciPy's ``ndimage.label``. A label map
is spatial only, ``(H, W)`` or ``(D, H, W)`` (any number of axes): a volume's components are
3-D. ``connectivity`` is the largest number of orthogonal hops between neighbours, 1 to
``ndim`` (``None``: ``ndim``, every diagonal neighbour counts, as MONAI's default; for the
background regions of :func:`fill_holes`, 1, their complement).
:func:`fit_ellipse` is a shape prior for one convex object per class (a fetal head), not a
generic clean-up step.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import product

import numpy as np

__all__ = ["fill_holes", "fit_ellipse", "keep_largest_component"]


def _structure(ndim: int, connectivity: int | None) -> np.ndarray:
    from scipy import ndimage  # imported here: keeps config validation fast

    hops = ndim if connectivity is None else connectivity
    if not 1 <= hops <= ndim:
        raise ValueError(
            f"connectivity must be in [1, {ndim}] for a {ndim}-D label map; got {connectivity}."
        )
    return np.asarray(ndimage.generate_binary_structure(ndim, hops))


def _labels(labels: np.ndarray) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.ndim < 1 or not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"Expected an integer label map of shape (H, W) or (D, H, W); got {arr.dtype} "
            f"{arr.shape}."
        )
    return arr


def keep_largest_component(
    labels: np.ndarray, classes: Sequence[int] | None = None, connectivity: int | None = None
) -> np.ndarray:
    """Keep only the largest connected component of each foreground class.

    Every other component of the class becomes background (0), as MONAI's
    ``KeepLargestConnectedComponent`` with ``independent=True`` does. Between components of
    equal size the first in raster (C) order is kept.

    Parameters
    ----------
    labels
        Integer label map ``(H, W)`` or ``(D, H, W)``; not modified.
    classes
        The classes to clean (default: every foreground class present).
    connectivity
        Neighbourhood of a component (see the module notes); default ``labels.ndim``.

    Returns
    -------
    numpy.ndarray
        A new label map, same shape and dtype, in which pixels only ever become background.

    Examples
    --------
    >>> x = np.array([[1, 1, 0, 1], [1, 1, 0, 0]])
    >>> keep_largest_component(x).tolist()
    [[1, 1, 0, 0], [1, 1, 0, 0]]
    """
    from scipy import ndimage

    arr = _labels(labels)
    structure = _structure(arr.ndim, connectivity)
    out = arr.copy()
    for c in _foreground(arr, classes):
        comp, n = ndimage.label(arr == c, structure=structure)
        if n > 1:
            keep = int(np.argmax(np.bincount(comp.ravel())[1:])) + 1  # first of the largest
            out[(comp > 0) & (comp != keep)] = 0
    return out


def fill_holes(
    labels: np.ndarray, classes: Sequence[int] | None = None, connectivity: int | None = None
) -> np.ndarray:
    """Fill every background hole that one foreground class alone encloses with that class.

    A hole is a connected region of background that does not touch the edge of the map (an
    open region is never filled). It is filled when all its neighbouring pixels belong to one
    class; a region bordered by two classes is left alone. Unlike MONAI's ``FillHoles``, which
    also overwrites the pixels of other classes enclosed by a class (a lesion inside an
    organ), only background pixels ever change.

    Parameters
    ----------
    labels
        Integer label map ``(H, W)`` or ``(D, H, W)``; not modified.
    classes
        The classes whose holes are filled (default: every foreground class).
    connectivity
        Neighbourhood of the background regions and of their borders (see the module
        notes); default 1 (face neighbours: 4 in 2-D, 6 in 3-D), see Notes.

    Returns
    -------
    numpy.ndarray
        A new label map, same shape and dtype, in which only background pixels change.

    Notes
    -----
    The background is face-connected by default, the complement of the objects' full
    connectivity (:func:`keep_largest_component`'s default): in digital topology an
    8-connected outline encloses the 4-connected background inside it (Rosenfeld, "Digital
    topology", Amer. Math. Monthly 86, 1979). With a fully connected background, as MONAI's
    ``FillHoles`` propagates it, a diagonal step in an outline opens the hole: a ring that
    ``largest_component`` keeps as one object kept its hole unfilled. The default is
    :func:`scipy.ndimage.binary_fill_holes`'s (``connectivity=1`` structure); pass
    ``connectivity=labels.ndim`` for MONAI's.

    Examples
    --------
    >>> x = np.array([[0, 0, 0, 0], [0, 2, 2, 2], [0, 2, 0, 2], [0, 2, 2, 2]])
    >>> fill_holes(x).tolist()  # the centre pixel is enclosed; the outer band reaches the edge
    [[0, 0, 0, 0], [0, 2, 2, 2], [0, 2, 2, 2], [0, 2, 2, 2]]
    """
    from scipy import ndimage

    arr = _labels(labels)
    structure = _structure(arr.ndim, 1 if connectivity is None else connectivity)
    comp, n = ndimage.label(arr == 0, structure=structure)
    if n == 0:
        return arr.copy()
    fill = _enclosing_class(arr, comp, n, structure)
    for axis in range(arr.ndim):  # a region on the edge of the map is open
        fill[np.take(comp, [0, -1], axis=axis)] = 0
    allowed = np.zeros(int(arr.max()) + 1, dtype=bool)
    allowed[list(_foreground(arr, classes))] = True
    fill[~allowed[fill]] = 0
    fill[0] = 0
    out = arr.copy()
    background = comp > 0
    out[background] = fill[comp[background]].astype(arr.dtype)
    return out


def fit_ellipse(labels: np.ndarray, classes: Sequence[int] | None = None) -> np.ndarray:
    """Replace each foreground class by the ellipse with the same second moments.

    The ellipse (an ellipsoid for a volume) has the region's centroid and covariance ``S`` of
    pixel coordinates, each pixel taken as a unit square (``S`` gains ``1/12`` on the
    diagonal), so a single pixel stays a single pixel. A uniform solid ellipsoid in ``n``
    dimensions has covariance ``A / (n + 2)`` for its shape matrix ``A`` (semi-axes ``a_i``:
    variance ``a_i**2 / (n + 2)`` along each, e.g. ``a**2 / 4`` for an ellipse), so the
    pixels ``p`` with ``(p - c)^T S^-1 (p - c) <= n + 2`` make up the ellipse: the
    "same normalized second central moments" ellipse of MATLAB's and scikit-image's
    ``regionprops``. It suits masks of one convex object per class drawn as ellipses, such
    as the fetal heads of HC18 (van den Heuvel et al., PLoS ONE 2018, whose head
    circumference is that of an ellipse fitted to the skull): it smooths the ragged edge of
    a mask predicted at a low resolution. Every pixel counts in the moments, so a large bulge
    or a missing piece moves and resizes the whole ellipse; other shapes are distorted.

    Parameters
    ----------
    labels
        Integer label map ``(H, W)`` or ``(D, H, W)``; not modified.
    classes
        The classes to replace (default: every foreground class present), in increasing order.

    Returns
    -------
    numpy.ndarray
        A new label map, same shape and dtype. A class's ellipse takes only pixels that were
        background or that class; where two ellipses overlap on background, the later class
        keeps the pixel.

    Examples
    --------
    >>> x = np.zeros((5, 5), dtype=np.uint8)
    >>> x[2, :] = x[:, 2] = 1  # a plus: variance 10/9 + 1/12 along each axis, threshold 4
    >>> fit_ellipse(x).tolist()  # dy**2 + dx**2 <= 4 * 43/36: the plus's corners join it
    [[0, 0, 1, 0, 0], [0, 1, 1, 1, 0], [1, 1, 1, 1, 1], [0, 1, 1, 1, 0], [0, 0, 1, 0, 0]]
    """
    arr = _labels(labels)
    out = arr.copy()
    n = arr.ndim
    for c in _foreground(arr, classes):
        points = np.argwhere(arr == c).astype(np.float64)  # (P, n) pixel coordinates
        centre = points.mean(axis=0)
        cov = np.atleast_2d(np.cov(points, rowvar=False, bias=True)) + np.eye(n) / 12
        # only the ellipse's bounding box is searched: half-widths sqrt((n + 2) S_ii)
        half = np.sqrt((n + 2) * np.diag(cov))
        lo = np.clip(np.floor(centre - half), 0, None).astype(int)
        hi = np.minimum(np.ceil(centre + half).astype(int) + 1, arr.shape)
        box = tuple(slice(a, b) for a, b in zip(lo, hi))
        # (N, n) offsets of every pixel of the box from the centroid
        grid = np.indices(tuple(hi - lo), dtype=np.float64).reshape(n, -1).T + lo
        distance = np.einsum("pi,ij,pj->p", grid - centre, np.linalg.inv(cov), grid - centre)
        inside = np.zeros(arr.shape, dtype=bool)
        inside[box] = (distance <= n + 2).reshape(hi - lo)
        out[out == c] = 0
        out[inside & ((arr == 0) | (arr == c))] = c
    return out


def _enclosing_class(
    arr: np.ndarray, comp: np.ndarray, n: int, structure: np.ndarray
) -> np.ndarray:
    """Per background region (index = region number): the one class next to it, else 0."""
    k = int(arr.max()) + 1
    pairs = []
    for offset in product((-1, 0, 1), repeat=arr.ndim):
        if offset == (0,) * arr.ndim or not structure[tuple(o + 1 for o in offset)]:
            continue
        # region number at p and label at its neighbour p + offset, for every p inside the map
        here = tuple(slice(max(0, -o), s - max(0, o)) for o, s in zip(offset, arr.shape))
        there = tuple(slice(max(0, o), s - max(0, -o)) for o, s in zip(offset, arr.shape))
        region, neighbour = comp[here].ravel(), arr[there].ravel().astype(np.int64)
        touch = (region > 0) & (neighbour > 0)
        pairs.append(np.unique(region[touch].astype(np.int64) * k + neighbour[touch]))
    codes = np.unique(np.concatenate(pairs)) if pairs else np.zeros(0, dtype=np.int64)
    region, cls = codes // k, codes % k
    count = np.bincount(region, minlength=n + 1)
    fill = np.zeros(n + 1, dtype=np.int64)
    single = count[region] == 1
    fill[region[single]] = cls[single]
    return fill


def _foreground(arr: np.ndarray, classes: Sequence[int] | None) -> list[int]:
    present = [int(c) for c in np.unique(arr) if c > 0]
    if classes is None:
        return present
    return [int(c) for c in classes if int(c) in present]
