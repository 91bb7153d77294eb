"""Torch datasets over converted images: :class:`ManifestDataset`, :class:`FolderDataset`."""

from __future__ import annotations

from pipeline.data.base import (
    ItemBatch,
    SampleDataset,
    collate_items,
    sample_to_item,
    split_deterministic,
)
from pipeline.data.cache import PackedSamples, SampleCache, pipeline_fingerprint
from pipeline.data.datasets import FolderDataset, ManifestDataset

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
