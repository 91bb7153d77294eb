"""Normalized surface Dice (NSD) at a tolerance in millimetres.

The fraction of both masks' boundary elements that lie within ``tolerance`` mm of the other
mask's boundary (Nikolov et al., "Clinically applicable segmentation of head and neck anatomy
for radiotherapy", JMIR 23 (2021) e26151; the element-count form of MONAI's
``compute_surface_dice(..., use_subvoxels=False)``)::

    NSD = (|{p in dP : d(p, dT) <= tol}| + |{t in dT : d(t, dP) <= tol}|) / (|dP| + |dT|)

Boundaries and distances are those of :func:`pipeline.metrics.surface_distances` (in mm with
the spacing, anisotropic voxels measured correctly). Empty masks, as MONAI: NaN when the class
is in neither mask, 0 when it is in exactly one (every boundary element is infinitely far from
a boundary that does not exist: the score is bounded, so a miss is a 0, not a failure left out
as HD95's infinite distance is).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from pipeline.metrics._arrays import ArrayOrTensor
from pipeline.metrics.surface import (
    check_tolerance,
    label_maps,
    nsd_from_distances,
    surface_distances,
)


def normalized_surface_dice(
    true: ArrayOrTensor,
    pred: ArrayOrTensor,
    tolerance: float,
    spacing: Sequence[float] | float | None = None,
) -> float:
    """Normalized surface Dice of two binary masks at ``tolerance`` (in the spacing's unit).

    Parameters
    ----------
    true, pred
        Binary masks of one shape (as :func:`pipeline.metrics.surface_distances` takes them).
    tolerance
        Finite distance >= 0, in mm when ``spacing`` is in mm (voxels without a spacing).
    spacing
        Element size per axis, in array order, or one number for every axis.

    Returns
    -------
    float
        In [0, 1]; NaN when both masks are empty, 0 when exactly one is.

    Raises
    ------
    ValueError
        If ``tolerance`` is negative or not finite, or the masks are refused by
        :func:`pipeline.metrics.surface_distances`.

    Examples
    --------
    >>> a = np.zeros((1, 9), bool); a[0, 2:5] = True
    >>> b = np.zeros((1, 9), bool); b[0, 4:7] = True
    >>> round(normalized_surface_dice(a, b, tolerance=1.0), 4)  # 4 of 6 within 1 element
    0.6667
    """
    check_tolerance(tolerance)
    return nsd_from_distances(*surface_distances(true, pred, spacing), tolerance)


def surface_dice_per_class(
    true: ArrayOrTensor,
    pred: ArrayOrTensor,
    num_classes: int,
    tolerance: float | Sequence[float],
    spacing: Sequence[float] | float | None = None,
    *,
    include_background: bool = False,
) -> list[float]:
    """:func:`normalized_surface_dice` of each scored class of two integer label maps.

    ``tolerance`` is one value for every class or one per scored class (classes ``1..K-1``,
    or ``0..K-1`` with ``include_background``), as MONAI's ``class_thresholds``. Label maps
    are refused as by :func:`pipeline.metrics.dice_score` (values outside ``[0, K)``).
    """
    t, p = label_maps(true, pred, num_classes)
    classes = range(0 if include_background else 1, num_classes)
    if isinstance(tolerance, int | float | np.number):
        tolerances = [float(tolerance)] * len(classes)
    else:
        tolerances = [float(v) for v in tolerance]
        if len(tolerances) != len(classes):
            raise ValueError(
                f"The 'tolerance' parameter must be one value or one per scored class "
                f"({len(classes)}); got {len(tolerances)}."
            )
    return [
        normalized_surface_dice(t == c, p == c, tol, spacing)
        for c, tol in zip(classes, tolerances, strict=True)
    ]
