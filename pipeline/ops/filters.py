"""Pure noise-reduction and contrast operations (scikit-image and SciPy underneath).

Inputs are channel-first images, ``(C, H, W)`` or ``(C, D, H, W)``; every filter acts on each
channel separately and returns float32. 2-D filters (non-local means, total variation, CLAHE)
run on every ``(H, W)`` plane.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "denoise_gaussian",
    "denoise_median",
    "denoise_nl_means",
    "denoise_tv",
    "equalize_clahe",
]


def _per_plane(image: np.ndarray, fn: object) -> np.ndarray:
    planes = np.asarray(image, dtype=np.float32).reshape((-1, *image.shape[-2:]))
    out = np.stack([fn(p) for p in planes])  # type: ignore[operator]
    return out.reshape(image.shape).astype(np.float32, copy=False)


def denoise_gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian smoothing with ``sigma`` pixels along every spatial axis (not across channels).

    Examples
    --------
    >>> x = np.zeros((1, 11, 11)); x[0, 5, 5] = 1
    >>> float(round(denoise_gaussian(x, 1.0).sum(), 4))
    1.0
    """
    if sigma < 0:
        raise ValueError(f"sigma must be >= 0; got {sigma}.")
    img = np.asarray(image, dtype=np.float32)
    from scipy import ndimage  # imported here: keeps config validation fast

    return ndimage.gaussian_filter(img, sigma=(0, *[sigma] * (img.ndim - 1)), mode="nearest")


def denoise_median(image: np.ndarray, size: int = 3) -> np.ndarray:
    """Median filter over a ``size``-wide window along every spatial axis."""
    if size < 1:
        raise ValueError(f"size must be >= 1; got {size}.")
    img = np.asarray(image, dtype=np.float32)
    from scipy import ndimage

    return ndimage.median_filter(img, size=(1, *[size] * (img.ndim - 1)), mode="nearest")


def denoise_nl_means(
    image: np.ndarray, h: float, patch_size: int = 5, patch_distance: int = 6
) -> np.ndarray:
    """Non-local means (Buades et al., CVPR 2005) on every plane; ``h`` in image units."""
    from skimage import restoration

    return _per_plane(
        image,
        lambda p: restoration.denoise_nl_means(
            p, h=h, patch_size=patch_size, patch_distance=patch_distance, fast_mode=True
        ),
    )


def denoise_tv(image: np.ndarray, weight: float) -> np.ndarray:
    """Total-variation denoising (Chambolle, JMIV 2004) on every plane.

    ``weight`` is relative to the plane's intensity range, so it means the same for HU and
    for ``[0, 1]`` images: the plane is scaled to ``[0, 1]``, denoised and scaled back.
    """
    from skimage import restoration

    def one(p: np.ndarray) -> np.ndarray:
        lo, hi = float(p.min()), float(p.max())
        if hi == lo:
            return p
        unit = (p - lo) / (hi - lo)
        return restoration.denoise_tv_chambolle(unit, weight=weight) * (hi - lo) + lo

    return _per_plane(image, one)


def equalize_clahe(
    image: np.ndarray, clip_limit: float = 0.01, kernel_size: int | None = None
) -> np.ndarray:
    """Contrast-limited adaptive histogram equalisation (Zuiderveld, Graphics Gems IV 1994).

    Each plane is min-max scaled to ``[0, 1]`` first; the result is in ``[0, 1]``.
    """
    from skimage import exposure

    def one(p: np.ndarray) -> np.ndarray:
        lo, hi = float(p.min()), float(p.max())
        if hi == lo:
            return np.zeros_like(p)
        unit = (p - lo) / (hi - lo)
        return exposure.equalize_adapthist(unit, kernel_size=kernel_size, clip_limit=clip_limit)

    return _per_plane(image, one)
