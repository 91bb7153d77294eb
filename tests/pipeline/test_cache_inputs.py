"""The sample cache is keyed by the stat facts of the files it was built from: a mask or an
image rewritten in place behind unchanged CSVs is read again, never served from the cache."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline.data import FolderDataset, ManifestDataset
from pipeline.stage import Pipeline
from pipeline.stages import Resize
from tests.pipeline.test_datasets import _build


def _rewrite(path: Path, array: np.ndarray) -> None:
    """``array`` written over ``path`` in place, its size and mtime put back (``cp -p``)."""
    st = path.stat()
    Image.fromarray(array).save(path)
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))


def test_mask_rewritten_behind_the_same_masks_csv_is_read_again(tmp_path: Path) -> None:
    conv = _build(tmp_path / "out", patients=1)
    masks = conv / "gt" / "masks.csv"
    pipe = Pipeline([("resize", Resize(shape=[16, 16]))])
    first = ManifestDataset(conv, masks=masks, pipeline=pipe, cache_dir=tmp_path / "c")
    before = first[0]["mask"].numpy()
    assert before.max() >= 1  # the fixture's masks hold a structure
    # every mask corrected in place: the structure elsewhere, class 2
    fixed = np.zeros((16, 16), np.uint8)
    fixed[10:14, 10:14] = 2
    for row in csv.DictReader(masks.open()):
        _rewrite(masks.parent / row["mask"], fixed)
    again = ManifestDataset(conv, masks=masks, pipeline=pipe, cache_dir=tmp_path / "c")
    got = np.stack([again[i]["mask"].numpy() for i in range(len(again))])
    np.testing.assert_array_equal(got, np.broadcast_to(fixed, got.shape))
    assert again.loads == len(again)  # read from the files, not the cache


def test_folder_image_rewritten_in_place_is_read_again(tmp_path: Path) -> None:
    for name, value in (("a.png", 10), ("b.png", 20)):
        Image.fromarray(np.full((8, 8), value, np.uint8)).save(tmp_path / name)
    (tmp_path / "labels.csv").write_text("image,label\na.png,0\nb.png,1\n")
    first = FolderDataset(tmp_path, "labels.csv", pipeline=Pipeline([]), cache_dir=tmp_path / "c")
    assert float(first[0]["image"].max()) == 10.0
    _rewrite(tmp_path / "a.png", np.full((8, 8), 99, np.uint8))
    again = FolderDataset(tmp_path, "labels.csv", pipeline=Pipeline([]), cache_dir=tmp_path / "c")
    assert float(again[0]["image"].max()) == 99.0
    unchanged = FolderDataset(tmp_path, "labels.csv", pipeline=Pipeline([]),
                              cache_dir=tmp_path / "c")  # fmt: skip
    assert float(unchanged[1]["image"].max()) == 20.0 and unchanged.loads == 0  # a cache hit
