"""Benchmark: the overhead of ``workflows.train.train`` over a bare PyTorch loop.

The same MLP (``mlp_classifier``, 32x32 inputs, hidden 256/128), the same batches (32),
Adam, cross-entropy, on the same stacked tensors. The framework gets them through a Dataset
that fetches whole batches (``__getitems__`` -> ``collate_items``, what ``ManifestDataset``
with its cache does; the data path itself is ``benchmarks/dataset.py``'s row), and does
everything it always does: the set-up, log rows, ``last.pt``/``best.pt`` (with the default
``checkpoint_interval_s`` of 60 s: written once, at the end, for a run this short; the rows
"a checkpoint every epoch" set it to 0).

  epoch loop   samples/s of one training epoch: the framework's ``time_s`` against the bare
               loop's epoch (index, forward, loss, backward, step)
  whole call   samples/s of the whole ``train()`` call (set-up, every epoch, checkpoint and
               log writes, until the files are on disk) against the whole bare loop
               (optimizer set-up and the same epochs, no checkpoint)

  CPU time     samples per CPU-second of the whole call (``time.process_time``, every thread
               of the process): on a shared machine another process's load stretches wall
               time but not the CPU time a run itself uses, so this ratio is the steadier
               one; the whole call includes set-up and writes, so it bounds the epoch loop's
               overhead from above. ``--threads 1`` makes it exact (no idle spinning of
               torch's worker threads is counted)

Runs alternate, each on a freshly seeded model. Targets: framework >= 1/1.05 (epoch loop)
and >= 1/1.10 (whole call) of the bare loop.

    .venv/bin/python benchmarks/loop.py [--n 4096] [--epochs 3] [--rounds 5] [--threads N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from typing import Any

import torch
import torch.nn.functional as F
from _bench import HEADER, fmt, machine, ratio
from torch.utils.data import Dataset

from models import build_model
from pipeline.data import ItemBatch
from workflows.train.loop import TrainConfig, train

SIZE, BATCH = 32, 32


class BatchTensors(Dataset[dict[str, Any]]):
    """Stacked tensors, fetched a batch at a time."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor) -> None:
        self.x, self.y = x, y

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.x[i], "label": self.y[i], "id": str(i)}

    def __getitems__(self, idx: list[int]) -> ItemBatch:
        index = torch.as_tensor(idx)
        return ItemBatch({"image": self.x[index], "label": self.y[index],
                          "id": [str(i) for i in idx]})  # fmt: skip


def model() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(256, 128))


def bare(ds: BatchTensors, epochs: int) -> tuple[float, list[float]]:
    """Whole seconds and per-epoch seconds of the plainest loop."""
    t_start = time.perf_counter()
    net = model()
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    net.train()
    gen = torch.Generator().manual_seed(0)
    per_epoch = []
    for _ in range(epochs):
        t0 = time.perf_counter()
        order = torch.randperm(len(ds), generator=gen)
        for i in range(0, len(ds), BATCH):
            idx = order[i : i + BATCH]
            loss = F.cross_entropy(net(ds.x[idx]), ds.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        per_epoch.append(time.perf_counter() - t0)
    return time.perf_counter() - t_start, per_epoch


def framework(ds: BatchTensors, epochs: int, interval_s: float = 60.0) -> tuple[float, list[float]]:
    config = TrainConfig(epochs=epochs, batch_size=BATCH, loss="ce", progress=False,
                         lr=1e-3, optimizer="adam", checkpoint_interval_s=interval_s)  # fmt: skip
    net = model()
    with tempfile.TemporaryDirectory() as run_dir:
        t0 = time.perf_counter()
        result = train(net, ds, None, config, run_dir)
        whole = time.perf_counter() - t0
    return whole, [r["time_s"] for r in result.history]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=4096)
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    gen = torch.Generator().manual_seed(1)
    ds = BatchTensors(torch.randn(args.n, 1, SIZE, SIZE, generator=gen),
                      torch.randint(0, 2, (args.n,), generator=gen))  # fmt: skip
    runs = {"fw": framework, "bare": bare, "every": lambda d, e: framework(d, e, interval_s=0)}
    keys = [k for name in runs for k in (name, f"{name}_epoch", f"{name}_cpu")]
    rates: dict[str, list[float]] = {k: [] for k in keys}
    framework(ds, 1), bare(ds, 1)  # warm-up
    rates.update(fw_slope=[], bare_slope=[])
    for _ in range(args.rounds):
        for name, run in runs.items():
            cpu = time.process_time()
            whole, epochs = run(ds, args.epochs)
            cpu = time.process_time() - cpu
            rates[name].append(args.n * args.epochs / whole)
            rates[f"{name}_epoch"].append(args.n / statistics.median(epochs))
            rates[f"{name}_cpu"].append(args.n * args.epochs / cpu)
            if name in ("fw", "bare") and args.epochs > 1:
                one = time.process_time()
                run(ds, 1)
                one = time.process_time() - one
                rates[f"{name}_slope"].append(args.n * (args.epochs - 1) / max(cpu - one, 1e-9))
    print(f"{machine()}\nmlp_classifier 32x32, {args.n} samples, batch {BATCH}, "
          f"{args.epochs} epochs, {args.rounds} alternating rounds\n")  # fmt: skip
    print(HEADER)
    for label, fw, peer, target in (
        ("epoch loop", "fw_epoch", "bare_epoch", "<= 5% slower"),
        ("whole call", "fw", "bare", "<= 10% slower"),
        ("epoch loop, a checkpoint every epoch", "every_epoch", "bare_epoch", "-"),
        ("whole call, a checkpoint every epoch", "every", "bare", "-"),
        ("epoch loop, CPU time (slope)", "fw_slope", "bare_slope", "<= 5% slower"),
        ("whole call, CPU time", "fw_cpu", "bare_cpu", "<= 10% slower"),
    ):
        print(f"| train() {label} (samples/s) | {fmt(rates[fw])} | {fmt(rates[peer])} | - | "
              f"{ratio(rates[fw], rates[peer])} | - | {target} |")  # fmt: skip


if __name__ == "__main__":
    main()
