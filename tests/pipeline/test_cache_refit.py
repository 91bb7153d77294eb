"""A dataset with ``cache_dir`` follows its pipeline when it is refitted or changed after the
first item was read, instead of serving the cached items of the earlier fit.

Before: fitting ``z_score(mode="dataset")`` on one subset, reading an item, then refitting on
another subset (the next fold, a corrected split) left the dataset serving the first fit's
normalisation without a word (an item's mean -0.608 where the refitted stages give -0.682 on
a synthetic CR study) until ``refresh_cache_key()`` was called.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.data import FolderDataset
from pipeline.stage import Pipeline
from pipeline.stages import RandomFlip, Resize, ZScore


def _folder(root: Path) -> Path:
    from PIL import Image

    lines = ["image,label"]
    for i, value in enumerate((10, 20, 30, 40)):  # images of one value each
        Image.fromarray(np.full((8, 8), value, np.uint8)).save(root / f"{i}.png")
        lines.append(f"{i}.png,{i % 2}")
    (root / "labels.csv").write_text("\n".join(lines) + "\n")
    return root


def test_a_refit_after_the_first_item_is_served(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    pipe = Pipeline([("norm", ZScore(mode="dataset")), ("flip", RandomFlip(p=0.5))])
    ds = FolderDataset(root, "labels.csv", pipeline=pipe, cache_dir=tmp_path / "c")
    raw = list(ds.raw_samples())
    pipe.fit(raw[:2])  # values 10 and 20: mean 15, std 5
    assert float(ds[0]["image"][0, 0, 0]) == (10 - 15) / 5
    pipe.fit(raw[2:])  # values 30 and 40: mean 35, std 5
    assert float(ds[0]["image"][0, 0, 0]) == (10 - 35) / 5
    assert float(ds.__getitems__([3])[0]["image"][0, 0, 0]) == (40 - 35) / 5


def test_new_parameters_and_a_replaced_stage_are_served(tmp_path: Path) -> None:
    root = _folder(tmp_path)
    pipe = Pipeline([("resize", Resize(shape=[4, 4]))])
    ds = FolderDataset(root, "labels.csv", pipeline=pipe, cache_dir=tmp_path / "c")
    assert tuple(ds[1]["image"].shape) == (1, 4, 4)
    pipe.set_params(resize__shape=[6, 6])
    assert tuple(ds[1]["image"].shape) == (1, 6, 6)
    pipe.set_params(resize="passthrough")
    assert tuple(ds[1]["image"].shape) == (1, 8, 8)
    loads = ds.loads
    assert float(ds[2]["image"].max()) == 30.0 and ds.loads == loads  # unchanged: cache hits
