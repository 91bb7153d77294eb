"""Benchmark: the training data path, ``ManifestDataset`` (cache on) -> DataLoader.

Items are 64x64 float32 slices with a label, written as one ``.npy`` per slice with a
conversion manifest (what ``radpipe convert --format npy`` leaves). Per epoch (shuffled,
batch 64), samples/s of:

  radpipe   ManifestDataset(cache_dir=...) with ``collate_fn=collate_items`` (the train loop's
            loader); the cache is built before timing
  peer      a plain Dataset over one memory-mapped ``(N, 1, 64, 64)`` NumPy array returning
            ``(torch.from_numpy(x[i]), y[i])``, torch's default collate
  floor     the batches gathered straight from the same memory-mapped array, no DataLoader

with ``num_workers`` 0 and 2 (persistent workers for both, so worker start-up is not timed).
Target: radpipe >= 0.5x the peer in both.

    .venv/bin/python benchmarks/dataset.py [--n 16384] [--rounds 7]
"""

from __future__ import annotations

import argparse
import csv
import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch
from _bench import HEADER, alternate, machine, row
from torch.utils.data import DataLoader, Dataset

from pipeline.data import ManifestDataset, collate_items
from pipeline.data.io import MANIFEST_COLUMNS
from pipeline.keys import hash_key

SIZE = 64
BATCH = 64


def write_items(root: Path, n: int) -> tuple[np.ndarray, np.ndarray]:
    """``n`` slices as NPY files + manifest + labels; returns the stacked arrays too."""
    rng = np.random.default_rng(0)
    images = rng.normal(0, 1, (n, 1, SIZE, SIZE)).astype(np.float32)
    labels = (np.arange(n) // 16 % 2).astype(np.int64)  # one label per 16-slice series
    (root / "img").mkdir(parents=True)
    rows, label_rows = [], {}
    for i in range(n):
        series = f"s{i // 16}"
        rel = f"img/{i:06d}.npy"
        np.save(root / rel, images[i, 0])
        rows.append({c: "" for c in MANIFEST_COLUMNS} | {
            "output": rel, "series_key": hash_key(series), "instance_key": hash_key(f"i{i}"),
            "frame": 0, "slice_index": i % 16, "num_slices": 16, "shape": f"{SIZE}x{SIZE}",
            "format": "npy",
        })  # fmt: skip
        label_rows[hash_key(series)] = int(labels[i])
    for name, fields, data in (
        ("manifest.csv", list(MANIFEST_COLUMNS), rows),
        ("labels.csv", ["series_key", "label"],
         [{"series_key": k, "label": v} for k, v in label_rows.items()]),
    ):  # fmt: skip
        with (root / name).open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=fields)
            w.writeheader()
            w.writerows(data)
    return images, labels


class MemmapDataset(Dataset[tuple[torch.Tensor, torch.Tensor]]):
    """The peer: what a user writes over one memory-mapped array."""

    def __init__(self, images: Path, labels: np.ndarray) -> None:
        self.x = np.load(images, mmap_mode="r")
        self.y = torch.from_numpy(labels)

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        return torch.from_numpy(np.array(self.x[i])), self.y[i]


def epoch(loader: DataLoader) -> int:  # type: ignore[type-arg]
    n = 0
    for batch in loader:
        n += len(batch[0] if isinstance(batch, (list, tuple)) else batch["image"])
    return n


def floor(images: np.ndarray, gen: np.random.Generator) -> int:
    order = gen.permutation(len(images))
    for i in range(0, len(order), BATCH):
        torch.from_numpy(np.take(images, order[i : i + BATCH], axis=0))
    return len(order)


def setting(
    ds: ManifestDataset, peer: MemmapDataset, mm: np.ndarray, workers: int, rounds: int
) -> str:
    """One table row: both loaders with ``workers`` workers, and the floor."""
    gen = np.random.default_rng(0)
    kw = {"batch_size": BATCH, "shuffle": True, "num_workers": workers,
          "persistent_workers": workers > 0}  # fmt: skip
    ours = DataLoader(ds, collate_fn=collate_items, **kw)  # type: ignore[arg-type]
    theirs = DataLoader(peer, **kw)  # type: ignore[arg-type]
    rates = alternate({"radpipe": lambda: epoch(ours), "peer": lambda: epoch(theirs),
                       "floor": lambda: floor(mm, gen)}, rounds)  # fmt: skip
    return row(f"ManifestDataset cache on -> DataLoader, num_workers={workers}", rates,
               "radpipe", "peer", "floor", ">= 0.5x peer")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=16384)
    ap.add_argument("--rounds", type=int, default=7)
    args = ap.parse_args()
    torch.set_num_threads(1)
    tmp = Path(tempfile.mkdtemp(prefix="radpipe-bench-data-"))
    try:
        images, labels = write_items(tmp / "out", args.n)
        np.save(tmp / "all.npy", images)
        ds = ManifestDataset(tmp / "out", labels=tmp / "out" / "labels.csv",
                             cache_dir=tmp / "cache")  # fmt: skip
        ds[0]  # builds the cache (not timed: it is paid once per preprocessing)
        peer = MemmapDataset(tmp / "all.npy", labels)
        mm = np.load(tmp / "all.npy", mmap_mode="r")
        print(f"{machine()}\n{args.n} items of 1x{SIZE}x{SIZE} float32, batch {BATCH}\n")
        print(HEADER)
        for workers in (0, 2):
            print(setting(ds, peer, mm, workers, args.rounds))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
