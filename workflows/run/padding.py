"""What ``crop_or_pad`` / ``fit_depth`` padded, so that no figure scores it.

Padding is no part of an image: ``radpipe predict`` cuts it away, so evaluation scores it as
background in truth and prediction alike (a model's false positives on the 8 padded slices of
an 8-slice series fitted to 16 halved its Dice). The validation Dice of training (early
stopping, ``best.pt``, the learning curves) must count the same voxels: :class:`PaddingMarked`
hands the training loop masks whose padded voxels hold :data:`~workflows.train.epoch.PADDED`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.data import ItemBatch
from workflows.train.epoch import PADDED

__all__ = ["PaddingMarked", "image_regions", "marked_validation"]

#: Where an item's image lies in the model grid: a box (one slice per axis), or a bool array.
Region = tuple[slice, ...] | np.ndarray


def image_regions(dataset: Any) -> list[np.ndarray | None]:
    """Per item of a :class:`~pipeline.data.SampleDataset`, the pixels of the model grid that
    hold its image: ``(*spatial)`` bool, or ``None`` when nothing was padded.

    Each item is run once through the dataset's pipeline with its geometry recorded
    (:func:`workflows.run.invert.traced`); without a ``crop_or_pad`` or ``fit_depth`` stage
    nothing is run and every entry is ``None``.
    """
    from pipeline.stages.geometry import CropOrPad, FitDepth
    from workflows.run.invert import image_region, traced

    prep = dataset.pipeline
    if prep is None or not any(isinstance(stage, CropOrPad | FitDepth) for _, stage in prep):
        return [None] * len(dataset)
    return [
        image_region(traced(prep, dataset.raw_sample(i)).meta["spatial"])
        for i in range(len(dataset))
    ]


class PaddingMarked(Dataset[dict[str, Any]]):
    """``dataset``'s items with :data:`~workflows.train.epoch.PADDED` (-1) in the ``mask``
    voxels outside each item's image region (``regions[i]``: ``None`` for none padded).

    Whole batches (``__getitems__``) are marked too, so the loaders' one-gather path stays.
    ``items`` (the patient of each item, for DDP's evaluation shards) is passed through.
    """

    def __init__(self, dataset: Any, regions: Sequence[np.ndarray | None]) -> None:
        self.dataset = dataset
        self.items = getattr(dataset, "items", None)
        self.regions: list[Region | None] = [None if r is None else _box(r) for r in regions]

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> dict[str, Any]:
        item = dict(self.dataset[index])
        item["mask"] = _marked(item["mask"].clone(), self.regions[index])
        return item

    def __getitems__(self, indices: Sequence[int]) -> Any:
        fetch = getattr(self.dataset, "__getitems__", None)
        got = fetch(list(indices)) if fetch else [self.dataset[i] for i in indices]
        if isinstance(got, ItemBatch):  # its columns are new tensors: marked in place
            for row, index in enumerate(indices):
                _marked(got.columns["mask"][row], self.regions[index])
            return got
        return [
            {**item, "mask": _marked(item["mask"].clone(), self.regions[index])}
            for item, index in zip(got, indices)
        ]


def marked_validation(dataset: Any, task: str) -> Any:
    """``dataset`` as training validates on it: a segmentation dataset whose preprocessing
    pads gets its padding marked (:class:`PaddingMarked`); anything else is returned as is."""
    if task != "segmentation":
        return dataset
    regions = image_regions(dataset)
    return dataset if all(r is None for r in regions) else PaddingMarked(dataset, regions)


def _box(region: np.ndarray) -> Region:
    """``region`` as one slice per axis when it is a box (padding is: centred pads, resizes
    and crops of a box stay boxes), else the array itself (kept small for large sets)."""
    spans = []
    for axis in range(region.ndim):
        others = tuple(a for a in range(region.ndim) if a != axis)
        found = np.flatnonzero(region.any(axis=others))
        spans.append(slice(int(found[0]), int(found[-1]) + 1) if found.size else slice(0, 0))
    box = tuple(spans)
    return box if int(region.sum()) == region[box].size else region


def _marked(mask: torch.Tensor, region: Region | None) -> torch.Tensor:
    """``mask`` (``(*spatial)`` int64) with PADDED outside ``region``, in place."""
    if region is None:
        return mask
    if isinstance(region, np.ndarray):
        mask[~torch.from_numpy(region)] = PADDED
        return mask
    kept = mask[region].clone()
    mask.fill_(PADDED)
    mask[region] = kept
    return mask
