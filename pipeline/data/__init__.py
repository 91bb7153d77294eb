"""Torch datasets over converted images: :class:`ManifestDataset`, :class:`FolderDataset`.

The names below are imported on first use (PEP 562), so that ``pipeline.data.io`` and the
other torch-free modules of this package (CSV and mask reading, used by a run's checks
before anything trains) do not import torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.data.base import (
        ItemBatch,
        SampleDataset,
        collate_items,
        sample_to_item,
        split_deterministic,
    )
    from pipeline.data.cache import PackedSamples, SampleCache, pipeline_fingerprint
    from pipeline.data.datasets import FolderDataset, ManifestDataset

_WHERE = {
    "ItemBatch": "base",
    "SampleDataset": "base",
    "collate_items": "base",
    "sample_to_item": "base",
    "split_deterministic": "base",
    "PackedSamples": "cache",
    "SampleCache": "cache",
    "pipeline_fingerprint": "cache",
    "FolderDataset": "datasets",
    "ManifestDataset": "datasets",
}


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module 'pipeline.data' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"pipeline.data.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "FolderDataset",
    "ItemBatch",
    "ManifestDataset",
    "PackedSamples",
    "SampleCache",
    "SampleDataset",
    "collate_items",
    "pipeline_fingerprint",
    "sample_to_item",
    "split_deterministic",
]
