"""Torch datasets over converted images: :class:`ManifestDataset`, :class:`FolderDataset`."""

from __future__ import annotations

from pipeline.data.base import SampleDataset, sample_to_item, split_deterministic
from pipeline.data.cache import SampleCache, pipeline_fingerprint
from pipeline.data.datasets import FolderDataset, ManifestDataset

__all__ = [
    "FolderDataset",
    "ManifestDataset",
    "SampleCache",
    "SampleDataset",
    "pipeline_fingerprint",
    "sample_to_item",
    "split_deterministic",
]
