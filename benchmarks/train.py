"""Training throughput and model quality on synthetic phantoms (CPU).

Speed (default): for each model, training samples/s through ``workflows.train.loop.train`` (the
framework: DataLoader over dict items, metrics bookkeeping, logging) against a bare PyTorch
loop over the same stacked tensors (index, forward, cross-entropy, backward, Adam step), and
the share of the framework's epoch spent waiting for data. The first epoch of each is a
warm-up; the fastest of the timed epochs counts (the VM's other tenants make single
epochs up to 3x slower at random).

Quality (``--figures``): a longer run of every model on train/validation/test phantoms drawn
with :func:`pipeline.synth.make_phantom` (the generator behind ``radpipe synth``); reports the
test accuracy (classification) or mean organ+lesion Dice (segmentation) of the best-validation
checkpoint.

Usage::

    python benchmarks/train.py            # speed table
    python benchmarks/train.py --figures  # quality table (a few minutes)
"""

from __future__ import annotations

import argparse
import tempfile
import time
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from models import build_model
from pipeline.metrics import ConfusionAccumulator
from pipeline.synth import make_phantom
from workflows.train.infer import load_model_from_checkpoint, predict
from workflows.train.loop import TrainConfig, train


class Tensors(torch.utils.data.Dataset[dict[str, Any]]):
    """Stacked tensors served as the agreed dict items."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, key: str) -> None:
        self.x, self.y, self.key = x, y, key

    def __len__(self) -> int:
        return len(self.x)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.x[i], self.key: self.y[i], "id": str(i)}


def phantoms(n: int, size: int, slices: int, task: str, seed: int) -> Tensors:
    """``n`` phantoms (labels alternate 0/1; segmentation: MR with a lesion, masks 0/1/2)."""
    rng = np.random.default_rng(seed)
    xs, ys = [], []
    for i in range(n):
        if task == "classification":
            ph = make_phantom(rng, modality="CT", size=size, slices=slices, label=i % 2)
            ys.append(i % 2)
        else:
            ph = make_phantom(rng, modality="MR", size=size, slices=slices, lesion=True)
            ys.append(ph.mask if slices > 1 else ph.mask[0])
        xs.append((ph.image if slices > 1 else ph.image[0])[None] / 1000.0)
    key = "label" if task == "classification" else "mask"
    return Tensors(torch.from_numpy(np.stack(xs)), torch.from_numpy(np.array(ys, np.int64)), key)


def cases(size: int) -> list[tuple[str, dict[str, Any], int, str]]:
    """(model, params, slices, task); series models see 8 slices."""
    return [
        ("mlp_classifier", {"in_features": size * size, "hidden": (256, 128)}, 1, "classification"),
        ("recurrent_classifier", {"in_features": size * size, "encoder": (128,)}, 8,
         "classification"),
        ("cnn_classifier", {}, 1, "classification"),
        ("mlp_segmenter", {}, 1, "segmentation"),
        ("renet_segmenter", {}, 1, "segmentation"),
        ("unet", {}, 1, "segmentation"),
    ]  # fmt: skip


def bare_loop(model: nn.Module, ds: Tensors, epochs: int, batch_size: int) -> float:
    """Samples/s of the plainest loop: no DataLoader, no metrics, no checkpoints."""
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()
    gen = torch.Generator().manual_seed(0)
    seconds = []
    for epoch in range(epochs + 1):
        t0 = time.perf_counter()
        order = torch.randperm(len(ds), generator=gen)
        for i in range(0, len(ds), batch_size):
            idx = order[i : i + batch_size]
            loss = F.cross_entropy(model(ds.x[idx]), ds.y[idx])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if epoch > 0:  # epoch 0 is the warm-up
            seconds.append(time.perf_counter() - t0)
    return len(ds) / min(seconds)


def speed(size: int, n: int, epochs: int, batch_size: int) -> None:
    print("| model | input | framework samples/s | bare loop samples/s | extra time | data wait |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for name, params, slices, task in cases(size):
        ds = phantoms(n, size, slices, task, seed=0)
        torch.manual_seed(0)
        model = build_model(name, **params)
        config = TrainConfig(epochs=epochs + 1, batch_size=batch_size, loss="ce", progress=False)
        with tempfile.TemporaryDirectory() as run_dir:
            rows = train(model, ds, None, config, run_dir).history[1:]
        fastest = min(rows, key=lambda r: r["time_s"])
        framework = n / fastest["time_s"]
        data_share = fastest["data_s"] / fastest["time_s"]
        torch.manual_seed(0)
        bare = bare_loop(build_model(name, **params), ds, epochs, batch_size)
        shape = "x".join(map(str, ds.x.shape[1:]))
        print(
            f"| {name} | {shape} | {framework:,.0f} | {bare:,.0f} | "
            f"{100 * (bare / framework - 1):+.0f}% | {100 * data_share:.0f}% |"
        )


def figures(size: int, n_train: int, epochs: int, only: list[str] | None = None) -> None:
    print("| model | task | train / val / test | epochs | best epoch | test metric | time |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: |")
    for name, params, slices, task in cases(size):
        if only and name not in only:
            continue
        n = n_train if task == "classification" and slices == 1 else n_train // 2
        tr, va, te = (
            phantoms(k, size, slices, task, seed=s) for k, s in ((n, 1), (200, 2), (200, 3))
        )
        torch.manual_seed(0)
        model = build_model(name, **params)
        config = TrainConfig(epochs=epochs, batch_size=32, lr=3e-3 if "renet" not in name else 1e-2,
                             schedule="cosine", progress=False)  # fmt: skip
        t0 = time.perf_counter()
        with tempfile.TemporaryDirectory() as run_dir:
            result = train(model, tr, va, config, run_dir)
            best = load_model_from_checkpoint(f"{run_dir}/checkpoints/best.pt")
        probs = predict(best, te, batch_size=64)
        acc = ConfusionAccumulator(probs.shape[1], include_background=task != "segmentation")
        acc.update(te.y.numpy(), probs.argmax(axis=1))
        m = acc.compute()
        metric = (
            f"Dice {m['dice_macro']:.3f} (organ {m['dice'][1]:.3f}, lesion {m['dice'][2]:.3f})"
            if task == "segmentation"
            else f"accuracy {m['accuracy']:.3f}"
        )
        print(
            f"| {name} | {task} | {len(tr)} / {len(va)} / {len(te)} | {epochs} | "
            f"{result.best_epoch} | {metric} | {time.perf_counter() - t0:.0f} s |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--figures", action="store_true", help="quality run instead of speed")
    parser.add_argument("--size", type=int, default=32, help="image rows/columns (32)")
    parser.add_argument("--n", type=int, default=512, help="training samples (512)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs / training epochs")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--models", nargs="*", help="only these models (--figures)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    if args.figures:
        figures(args.size, args.n, args.epochs, args.models)
    else:
        speed(args.size, args.n, args.epochs, args.batch_size)


if __name__ == "__main__":
    main()
