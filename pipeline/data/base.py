"""The torch ``Dataset`` base: stages per sample, worker-independent seeds, optional cache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.data.cache import SampleCache, pipeline_fingerprint
from pipeline.sample import Sample
from pipeline.stage import Pipeline

__all__ = ["SampleDataset", "sample_to_item", "split_deterministic"]


def split_deterministic(pipeline: Pipeline | None) -> tuple[Pipeline | None, Pipeline | None]:
    """``(prefix, rest)``: the leading non-random stages (cacheable) and everything after."""
    if pipeline is None:
        return None, None
    n = 0
    for _, stage in pipeline:
        if stage.random:
            break
        n += 1
    prefix = pipeline[:n] if n else None
    rest = pipeline[n:] if n < len(pipeline) else None
    return prefix, rest


def sample_to_item(sample: Sample) -> dict[str, Any]:
    """The batch item of the team contract: float32 image, int64 label and mask, str id."""
    item: dict[str, Any] = {
        "image": torch.from_numpy(np.array(sample.image, dtype=np.float32)),
        "id": sample.id,
    }
    if sample.label is not None:
        item["label"] = torch.tensor(int(sample.label), dtype=torch.int64)
    if sample.mask is not None:
        item["mask"] = torch.from_numpy(np.array(sample.mask, dtype=np.int64))
    return item


class SampleDataset(Dataset[dict[str, Any]]):
    """Base class: subclasses say how many items there are and how to load one.

    Parameters
    ----------
    pipeline
        Stages applied to every sample. Its leading deterministic stages (everything before
        the first random one) are what ``cache_dir`` stores; fit it on the TRAINING dataset
        (``pipeline.fit(list(train.raw_samples()))``) before building other datasets with it.
    seed
        Random stages get ``numpy.random.default_rng([seed, epoch, index])``: the same item
        in the same epoch is augmented identically whichever worker loads it.
    cache_dir
        Folder for memory-mapped NPY copies of the preprocessed samples; ``None``: no cache.

    Notes
    -----
    ``loads`` counts the samples decoded from disk by this process (cache hits do not).
    The cache fingerprint (stages, fitted state, inputs) is computed on first use; call
    :meth:`refresh_cache_key` if the pipeline is refitted afterwards.
    """

    def __init__(
        self,
        *,
        pipeline: Pipeline | None = None,
        seed: int = 0,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.seed = int(seed)
        self.epoch = 0
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.loads = 0
        self._fingerprint: str | None = None

    # -- for subclasses ----------------------------------------------------------------------
    def __len__(self) -> int:
        raise NotImplementedError

    def _load(self, index: int) -> Sample:
        """Read item ``index`` from disk as a :class:`Sample` (no stages applied)."""
        raise NotImplementedError

    def item_key(self, index: int) -> str:
        """A stable, opaque key of item ``index`` (its cache file name)."""
        raise NotImplementedError

    def source_id(self) -> str:
        """What identifies the dataset's inputs (part of the cache fingerprint)."""
        raise NotImplementedError

    # -- public ------------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose random parameters items get (call before each epoch)."""
        self.epoch = int(epoch)

    def raw_sample(self, index: int) -> Sample:
        """Item ``index`` as loaded, before any stage."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items.")
        self.loads += 1
        return self._load(index)

    def raw_samples(self) -> Iterator[Sample]:
        """Every item as loaded, for :meth:`Pipeline.fit` on a training dataset."""
        for i in range(len(self)):
            yield self.raw_sample(i)

    def preprocessed(self, index: int) -> Sample:
        """Item ``index`` after the deterministic leading stages (from the cache if set)."""
        prefix, _ = split_deterministic(self.pipeline)
        cache = self._cache(prefix)
        key = self.item_key(index)
        if cache is not None:
            hit = cache.get(key)
            if hit is not None:
                return hit
        sample = self.raw_sample(index)
        if prefix is not None:
            sample = prefix(sample, None)
        if cache is not None:
            cache.put(key, sample)
        return sample

    def sample(self, index: int, epoch: int | None = None) -> Sample:
        """Item ``index`` through the whole pipeline, seeded by ``(seed, epoch, index)``."""
        sample = self.preprocessed(index)
        _, rest = split_deterministic(self.pipeline)
        if rest is None:
            return sample
        ep = self.epoch if epoch is None else int(epoch)
        return rest(sample, np.random.default_rng([self.seed, ep, index]))

    def __getitem__(self, index: int) -> dict[str, Any]:
        return sample_to_item(self.sample(index))

    def _cache(self, prefix: Pipeline | None) -> SampleCache | None:
        if self.cache_dir is None:
            return None
        if self._fingerprint is None:
            self._fingerprint = pipeline_fingerprint(prefix, self.source_id())
        return SampleCache(self.cache_dir, self._fingerprint)

    def refresh_cache_key(self) -> None:
        """Recompute the cache fingerprint (after refitting or changing the pipeline)."""
        self._fingerprint = None
