"""Batch-level fetching (``__getitems__``) and the packed cache give the items of the
one-by-one path, in the order the sampler asks for, with or without workers."""

from __future__ import annotations

import multiprocessing as mp
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader, default_collate

from pipeline.data import (
    ItemBatch,
    ManifestDataset,
    PackedSamples,
    SampleCache,
    collate_items,
    sample_to_item,
)
from pipeline.errors import BatchError
from pipeline.sample import Sample
from pipeline.stage import Pipeline
from pipeline.stages import FitDepth, RandomFlip, Resize, ZScore
from tests.pipeline.test_datasets import SIZE, SLICES, _build, _Logged


@pytest.fixture
def conv(tmp_path: Path) -> Path:
    return _build(tmp_path / "out")


def _one_by_one(ds: ManifestDataset, order: list[int]) -> dict[str, Any]:
    """The reference batch: per-item dicts through torch's default_collate."""
    return default_collate([sample_to_item(ds.sample(i)) for i in order])


def _same(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert sorted(a) == sorted(b)
    assert a["id"] == b["id"]
    for key in ("image", "label", "mask"):
        if key in a:
            assert a[key].dtype == b[key].dtype and torch.equal(a[key], b[key]), key


@pytest.mark.parametrize("workers", [0, 2])
def test_cached_batches_equal_the_item_path_in_sampler_order(
    conv: Path, tmp_path: Path, workers: int
) -> None:
    kw: dict[str, Any] = {"labels": conv / "labels.csv", "masks": conv / "gt" / "masks.csv"}
    pipe = Pipeline([("resize", Resize(shape=[8, 8])), ("z", ZScore())])
    plain = ManifestDataset(conv, pipeline=pipe, **kw)
    cached = ManifestDataset(conv, pipeline=pipe, cache_dir=tmp_path / "c", **kw)
    order = torch.randperm(len(plain), generator=torch.Generator().manual_seed(3)).tolist()
    loader = DataLoader(cached, batch_size=5, sampler=order, num_workers=workers,
                        collate_fn=collate_items)  # fmt: skip
    batches = list(loader)
    assert [len(b["id"]) for b in batches] == [5, 5, 5, 5, 4]
    for k, batch in enumerate(batches):
        want = _one_by_one(plain, order[5 * k : 5 * k + 5])
        _same(batch, want)
        assert batch["image"].shape[1:] == (1, 8, 8) and batch["mask"].shape[1:] == (8, 8)
    # torch's default collate over the same dataset gives the same batches.
    default = list(DataLoader(cached, batch_size=5, sampler=order))
    for a, b in zip(batches, default):
        _same(a, b)


def test_random_stages_after_the_cache_keep_their_seeds(conv: Path, tmp_path: Path) -> None:
    masks = conv / "gt" / "masks.csv"
    pipe = Pipeline([("z", ZScore()), ("flip", RandomFlip(p=0.5, axes=[-1, -2]))])
    plain = ManifestDataset(conv, masks=masks, pipeline=pipe, seed=4)
    cached = ManifestDataset(conv, masks=masks, pipeline=pipe, seed=4, cache_dir=tmp_path)
    for ds in (plain, cached):
        ds.set_epoch(1)
    got = list(DataLoader(cached, batch_size=6, num_workers=2, collate_fn=collate_items))
    for k, batch in enumerate(got):
        _same(batch, _one_by_one(plain, list(range(6 * k, 6 * k + 6))))
    flipped = {tuple(plain.sample(i).meta["applied"][-1]["axes"]) for i in range(24)}
    assert len(flipped) > 1  # the draws differ between items


def test_items_of_different_shapes_are_served_singly(conv: Path, tmp_path: Path) -> None:
    rows = (conv / "manifest.csv").read_text().splitlines()
    keys = sorted({r.split(",")[4] for r in rows[1:]})
    lines = [rows[0]] + [r for r in rows[1:] if not (r.split(",")[4] == keys[0]
                                                    and r.split(",")[7] == "3")]  # fmt: skip
    (conv / "short.csv").write_text("\n".join(lines) + "\n")
    ds = ManifestDataset(conv, "short.csv", mode="series", cache_dir=tmp_path)
    depths = sorted(int(b["image"].shape[2]) for b in DataLoader(ds, batch_size=1))
    assert depths == [SLICES - 1] + [SLICES] * 5
    (packed,) = [PackedSamples(p.parent) for p in tmp_path.rglob("index.json")]
    assert packed.images is None  # no common shape: no stacked view
    with pytest.raises(ValueError, match="differ in image shape"):
        next(iter(DataLoader(ds, batch_size=6, collate_fn=collate_items)))
    fitted = ManifestDataset(conv, "short.csv", mode="series", cache_dir=tmp_path,
                             pipeline=Pipeline([("d", FitDepth(depth=SLICES))]))  # fmt: skip
    batch = next(iter(DataLoader(fitted, batch_size=6, collate_fn=collate_items)))
    assert batch["image"].shape == (6, 1, SLICES, SIZE, SIZE)


def test_item_batch_refuses_mixed_items() -> None:
    a = Sample(np.zeros((1, 2, 2), np.float32), label=1, meta={"id": "a"})
    b = Sample(np.ones((1, 2, 2), np.float32), meta={"id": "b"})
    with pytest.raises(BatchError, match=r"have a label and others not \(b has none\)"):
        ItemBatch.of_samples([a, b])
    rgb = Sample(np.zeros((3, 2, 2), np.float32), label=0, meta={"id": "k", "source": "c.png"})
    with pytest.raises(BatchError, match=r"differ in image shape: \(1, 2, 2\) \(a\), \(3, 2, 2\) "
                       r"\(c.png\); give them"):  # fmt: skip
        ItemBatch.of_samples([a, a, rgb])  # a radpipe error (no traceback), each shape named
    batch = ItemBatch.of_samples([a, a.replace(label=0)])
    assert batch.columns["label"].tolist() == [1, 0] and batch[1]["label"].item() == 0
    assert next(iter(batch))["id"] == "a" and batch.columns["image"].dtype == torch.float32


def test_packed_views_keep_dtype_shape_and_alignment(tmp_path: Path) -> None:
    samples = [
        Sample(np.full((1, 3, 3), i, np.float64), mask=np.full((3, 3), i, np.uint8), label=i,
               meta={"id": f"s{i}", "spacing": (0.5, 0.5)})
        for i in range(4)
    ]  # fmt: skip
    packed = SampleCache(tmp_path, "k").open_or_build(4, samples.__getitem__)
    assert packed.images is not None and packed.masks is not None
    assert packed.images.dtype == np.float64 and packed.images.shape == (4, 1, 3, 3)
    assert packed.masks.shape == (4, 3, 3)  # 9-byte masks padded to 16 between items
    assert packed.masks[:, 0, 0].tolist() == [0, 1, 2, 3]
    assert packed.images[:, 0, 2, 2].tolist() == [0.0, 1.0, 2.0, 3.0]
    one = packed.sample(2)
    assert one.meta == {"id": "s2", "spacing": (0.5, 0.5)} and one.label == 2
    assert np.shares_memory(packed.images, one.image) or one.image.base is not None
    with pytest.raises(ValueError, match="holds 4 items; the dataset has 5"):
        SampleCache(tmp_path, "k").open_or_build(5, samples.__getitem__)


def _rank(args: tuple[Path, Path, Path]) -> float:
    conv, cache, log = args
    ds = _Logged(conv, pipeline=Pipeline([("z", ZScore())]), cache_dir=cache, log=log)
    return float(ds[7]["image"].sum())


def test_ranks_of_one_node_share_one_build(conv: Path, tmp_path: Path) -> None:
    """Two processes (as two DDP ranks) open the cache at once: one decodes, both read."""
    log = tmp_path / "decoded.txt"
    with mp.get_context("spawn").Pool(2) as pool:
        sums = pool.map(_rank, [(conv, tmp_path / "c", log)] * 2)
    assert sums[0] == sums[1]
    assert sorted(log.read_text().split()) == sorted(str(i) for i in range(3 * 2 * SLICES))


def test_subsets_sharing_a_cache_folder_keep_their_own_items(conv: Path, tmp_path: Path) -> None:
    keys = sorted({r["series_key"] for rows in ManifestDataset(conv).items for r in rows})
    pipe = Pipeline([("z", ZScore())])
    for subset in (keys[:2], keys[2:], keys):
        cached = ManifestDataset(conv, series_keys=subset, pipeline=pipe, cache_dir=tmp_path)
        plain = ManifestDataset(conv, series_keys=subset, pipeline=pipe)
        assert len(cached) == len(plain) == SLICES * len(subset)
        got = next(iter(DataLoader(cached, batch_size=len(cached), collate_fn=collate_items)))
        _same(got, _one_by_one(plain, list(range(len(plain)))))
    assert len(list(tmp_path.rglob("index.json"))) == 3


class _OwnItems(ManifestDataset):
    """A subclass with its own items: batches must be made of them."""

    def __getitem__(self, index: int) -> dict[str, Any]:
        return {"image": torch.full((1, 2, 2), float(index)), "id": f"own{index}"}


def test_a_subclass_with_its_own_items_gets_them_in_batches(conv: Path, tmp_path: Path) -> None:
    ds = _OwnItems(conv, cache_dir=tmp_path)
    batch = next(iter(DataLoader(ds, batch_size=3, collate_fn=collate_items)))
    assert batch["id"] == ["own0", "own1", "own2"]
    assert batch["image"][:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0]


def test_a_killed_builders_temporaries_are_removed_by_the_next_build(tmp_path: Path) -> None:
    (tmp_path / "k").mkdir()
    stale = [
        tmp_path / "k" / ".image.4242-1-ab12.tmp.bin",
        tmp_path / "k" / ".mask.4242-2-cd34.tmp.bin",
    ]
    for path in stale:
        path.write_bytes(b"half an image")
    samples = [Sample(np.full((1, 2, 2), i, np.float32), label=i, meta={"id": f"s{i}"})
               for i in range(3)]  # fmt: skip
    packed = SampleCache(tmp_path, "k").open_or_build(3, samples.__getitem__)
    assert packed.images is not None and packed.images[:, 0, 0, 0].tolist() == [0.0, 1.0, 2.0]
    assert sorted(p.name for p in (tmp_path / "k").iterdir()) == ["image.bin", "index.json",
                                                                  "mask.bin"]  # fmt: skip
