"""What a fitted stage (``mode="dataset"`` normalisers, PCA) accepts as training samples."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np

from pipeline.errors import RadpipeError
from pipeline.sample import Sample


def fit_images(stage: str, samples: Iterable[Sample]) -> Iterator[np.ndarray]:
    """The samples' images, one at a time, for ``stage``'s ``fit``.

    A NaN or infinite pixel would make the fitted statistic (a pooled mean, a percentile, a
    principal component) NaN, and with it every image the stage then transforms, the clean
    ones too; it is refused here, naming the sample, instead of being learnt.

    Raises
    ------
    RadpipeError
        A sample with NaN or infinite pixel values (its id and the count), or no samples.

    Examples
    --------
    >>> good = Sample(image=np.ones((1, 1, 2)), meta={"id": "s6"})
    >>> bad = Sample(image=np.array([[[1.0, np.nan]]]), meta={"id": "s7"})
    >>> list(fit_images("ZScore", [good, bad]))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    pipeline.errors.RadpipeError: Cannot fit ZScore on samples[1] ('s7'): 1 of its 2 pixel ...
    """
    count = 0
    for count, sample in enumerate(samples, start=1):
        image = np.asarray(sample.image)
        if image.dtype.kind in "fc":
            bad = int(image.size - np.count_nonzero(np.isfinite(image)))
            if bad:
                name = "" if "id" not in sample.meta else f" ({sample.id!r})"
                raise RadpipeError(
                    f"Cannot fit {stage} on samples[{count - 1}]{name}: {bad} of its "
                    f"{image.size} pixel values {'is' if bad == 1 else 'are'} NaN or infinite, "
                    "which would make the fitted statistics NaN, and every image the stage "
                    "transforms NaN with them; replace them (numpy.nan_to_num, or a value of "
                    "your choice) or leave the sample out."
                )
        yield image
    if count == 0:
        raise RadpipeError(f"Cannot fit {stage} on an empty set of samples.")
