"""Tiny in-memory datasets of synthetic phantoms, in the agreed batch-item format."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset

from pipeline.synth import make_phantom

# Roughly unit-scale inputs: CT in HU / 1000, MR in its arbitrary unit / 1000.
_SCALE = 1000.0


class PhantomDataset(Dataset[dict[str, Any]]):
    """``n`` phantoms: 2-D slices ``(1, H, W)`` or series ``(1, D, H, W)``.

    ``task="classification"``: labels alternate 0 (no lesion) / 1 (round lesion), so a
    constant predictor scores 0.5. ``task="segmentation"``: MR slices, every one with a
    lesion, masks {0 background, 1 organ, 2 lesion}.
    """

    def __init__(
        self,
        n: int,
        *,
        size: int = 24,
        slices: int = 1,
        task: str = "classification",
        seed: int = 0,
    ) -> None:
        rng = np.random.default_rng(seed)
        images, targets = [], []
        for i in range(n):
            if task == "classification":
                label = i % 2
                ph = make_phantom(rng, modality="CT", size=size, slices=slices, label=label)
                targets.append(torch.tensor(label, dtype=torch.int64))
            else:
                ph = make_phantom(rng, modality="MR", size=size, slices=slices, lesion=True)
                mask = ph.mask if slices > 1 else ph.mask[0]
                targets.append(torch.from_numpy(mask.astype(np.int64)))
            image = ph.image / _SCALE
            images.append(torch.from_numpy(image if slices > 1 else image[0])[None])
        self.images = images
        self.targets = targets
        self.key = "label" if task == "classification" else "mask"

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.images[i], self.key: self.targets[i], "id": f"case{i}"}
