"""Fitted dimensionality reduction: :class:`PCA` over flattened images."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Self

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.ops.pca import fit_pca, project_pca, reconstruct_pca
from pipeline.registry import STAGES
from pipeline.sample import Sample
from pipeline.stage import Stage
from pipeline.stages._checks import check_number
from pipeline.stages._fit import fit_images


@STAGES.register("pca")
class PCA(Stage):
    """Project each flattened image onto principal components fitted on the training set.

    The output image is the score vector as ``(K, 1, 1)`` (K "channels" of one pixel, what a
    fully connected model flattens anyway); the mask is dropped because it no longer has a
    matching spatial shape. :meth:`inverse` maps scores back to an image for inspection.

    Parameters
    ----------
    n_components
        Components kept.
    variance
        Instead of ``n_components``: the explained-variance fraction to reach, in ``(0, 1]``.

    Notes
    -----
    Fitted state: ``mean_ (F,)``, ``components_ (K, F)``, ``explained_variance_ (K,)``,
    ``explained_variance_ratio_ (K,)`` and ``shape_`` (the image shape it was fitted on).
    Every training image must have the same shape (resize or crop before this stage).
    """

    kind = "other"
    needs_fit = True

    def __init__(self, *, n_components: int | None = None, variance: float | None = None) -> None:
        if (n_components is None) == (variance is None):
            raise ValueError("PCA takes exactly one of 'n_components' and 'variance'.")
        if n_components is not None:
            check_number("PCA", "n_components", n_components, low=1, integer=True)
        self.n_components = n_components
        self.variance = variance

    @classmethod
    def example(cls) -> Self:
        return cls(n_components=2)

    def fit(self, samples: Iterable[Sample]) -> Self:
        images = list(fit_images("PCA", samples))
        shapes = {im.shape for im in images}
        if len(shapes) != 1:
            raise RadpipeError(f"PCA needs training images of one shape; got {sorted(shapes)}.")
        data = np.stack([im.reshape(-1) for im in images])
        result = fit_pca(data, self.n_components, self.variance)
        self.mean_ = result.mean
        self.components_ = result.components
        self.explained_variance_ = result.explained_variance
        self.explained_variance_ratio_ = result.explained_variance_ratio
        self.shape_ = np.array(images[0].shape, dtype=np.int64)
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        expected = tuple(int(n) for n in self.shape_)
        if sample.image.shape != expected:
            raise RadpipeError(f"Expected image of shape {expected}; got {sample.image.shape}.")
        scores = project_pca(sample.image.reshape(1, -1), self.mean_, self.components_)
        image = scores.reshape(-1, 1, 1).astype(np.float32)
        meta = {k: v for k, v in sample.meta.items() if k != "spacing"}
        return sample.replace(image=image, mask=None, meta=meta)

    def inverse(self, scores: Sample | np.ndarray) -> np.ndarray:
        """Reconstruct the image (fitted shape, float32) from a PCA sample or score vector."""
        values = scores.image if isinstance(scores, Sample) else np.asarray(scores)
        flat = reconstruct_pca(values.reshape(1, -1), self.mean_, self.components_)
        return flat.reshape(tuple(int(n) for n in self.shape_)).astype(np.float32)
