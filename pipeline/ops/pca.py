"""Principal component analysis of flattened images (pure NumPy).

PCA (Pearson 1901; Jolliffe, *Principal Component Analysis*, 2002) via the thin SVD of the
centred data matrix ``X - mean = U S Vt``: the components are the rows of ``Vt`` and the
explained variances ``S**2 / (N - 1)``, as in scikit-learn's ``PCA``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["PCAFit", "fit_pca", "project_pca", "reconstruct_pca"]


class PCAFit(NamedTuple):
    """The result of :func:`fit_pca`: ``mean (F,)``, ``components (K, F)`` and variances."""

    mean: np.ndarray
    components: np.ndarray
    explained_variance: np.ndarray
    explained_variance_ratio: np.ndarray


def fit_pca(
    data: np.ndarray, n_components: int | None = None, variance: float | None = None
) -> PCAFit:
    """Fit PCA on ``data`` of shape ``(N, F)``.

    Parameters
    ----------
    data
        One flattened sample per row.
    n_components
        Number of components to keep (at most ``min(N, F)``).
    variance
        Instead: keep the fewest components whose explained-variance ratios sum to at least
        this fraction, in ``(0, 1]``.

    Notes
    -----
    Component signs are fixed so that the largest-magnitude loading of each is positive
    (scikit-learn flips by ``U`` instead, so signs may differ from it; the subspace does not).
    """
    x = np.asarray(data, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"fit_pca needs data of shape (N >= 2, F); got {x.shape}.")
    if (n_components is None) == (variance is None):
        raise ValueError("Give exactly one of n_components and variance.")
    mean = x.mean(axis=0)
    _, s, vt = np.linalg.svd(x - mean, full_matrices=False)
    var = s**2 / (x.shape[0] - 1)
    total = var.sum()
    ratio = var / total if total > 0 else np.zeros_like(var)
    if variance is not None:
        if not 0 < variance <= 1:
            raise ValueError(f"variance must be in (0, 1]; got {variance}.")
        k = int(np.searchsorted(np.cumsum(ratio), variance - 1e-12) + 1)
    else:
        k = int(n_components)  # type: ignore[arg-type]
        if not 1 <= k <= len(s):
            raise ValueError(f"n_components must be in [1, {len(s)}]; got {k}.")
    k = min(k, len(s))
    comps = vt[:k]
    signs = np.sign(comps[np.arange(k), np.abs(comps).argmax(axis=1)])
    comps = comps * signs[:, None]
    return PCAFit(mean, comps, var[:k], ratio[:k])


def project_pca(data: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """Scores ``(N, K)`` of ``data (N, F)`` on the components."""
    return (np.asarray(data, dtype=np.float64) - mean) @ components.T


def reconstruct_pca(scores: np.ndarray, mean: np.ndarray, components: np.ndarray) -> np.ndarray:
    """The inverse of :func:`project_pca`: ``(N, F)`` back in the data space."""
    return np.asarray(scores, dtype=np.float64) @ components + mean
