"""A bare PyTorch loop for radpipe's CNN and ResNet on BreastMNIST, one radpipe habit at a time.

The network is built with :func:`models.build_model` from the shipped config's ``model:``
(the same layers, the same initialisation for the same seed), fed the official splits
(546 train, 78 val, 156 test) through radpipe's own preprocessing stages (the config's
``resize``; ``--norm zscore`` its ``z_score`` fitted on the training images), and scored with
scikit-learn's ROC AUC on the official test set. Nothing else of radpipe is used: the loop,
the selection of the epoch, checkpoint averaging and batch-norm re-estimation are written
out here, so that each of radpipe's training habits can be switched on alone and its effect
measured against the plain loop (Adam, cosine, flips, last epoch):

    --norm zscore            dataset z-score (radpipe's preprocess) instead of x / 255
    --aug config|none        the config's augment stages instead of left-right flips
    --wd 1e-4                L2 weight decay inside Adam (radpipe's ``weight_decay``)
    --warmup 2               linear warm-up epochs before the cosine
    --label-smoothing 0.1    cross-entropy label smoothing
    --class-weights A B      weighted cross-entropy
    --batch-size N           minibatch size (default 32)
    --drop-last              drop a short last batch
    --select ema|acc|auc     the epoch kept: smoothed val_loss (``--ema``), val accuracy
                             (radpipe's default monitor) or val AUC; ``--patience``,
                             ``--min-epochs``: early stopping as radpipe's
    --average K              mean weights of the K epochs ending at the kept one;
    --avg-bn recompute|keep  batch-norm statistics re-estimated on one training pass, or kept
    --val-train-mode         validation forward passes in train mode (no model.eval())
    --tta                    mean of the image's and its mirror's probabilities
    --like CONFIG_ONLY       every habit the shipped config asks for, at once

Usage (not a test; needs ``/work/shared/data`` or ``--data``)::

    OMP_NUM_THREADS=1 python benchmarks/learn_bare.py cnn --seeds 0 1 2
    OMP_NUM_THREADS=1 python benchmarks/learn_bare.py cnn --seeds 0 1 2 --average 5 --avg-bn keep
    OMP_NUM_THREADS=1 python benchmarks/learn_bare.py resnet --seeds 0 --like
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
import yaml
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.learn import _shared_data
from models import build_model
from pipeline.sample import Sample
from pipeline.stage import Pipeline

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = {"cnn": "xray_classify_cnn", "resnet": "xray_classify_resnet"}
#: The loop's switches (see the module docstring); defaults: the plain loop.
OPTIONS: list[tuple[str, dict[str, Any]]] = [
    ("--lr", {"type": float, "default": 1e-3}),
    ("--schedule", {"choices": ["cosine", "none"], "default": "cosine"}),
    ("--norm", {"choices": ["unit", "zscore"], "default": "unit"}),
    ("--aug", {"choices": ["flips", "config", "none"], "default": "flips"}),
    ("--wd", {"type": float, "default": 0.0}),
    ("--warmup", {"type": int, "default": 0}),
    ("--label-smoothing", {"type": float, "default": 0.0}),
    ("--class-weights", {"type": float, "nargs": 2}),
    ("--batch-size", {"type": int, "default": 32}),
    ("--drop-last", {"action": "store_true"}),
    ("--select", {"choices": ["last", "ema", "auc", "acc"], "default": "last"}),
    ("--ema", {"type": float, "default": 0.0}),
    ("--patience", {"type": int}),
    ("--min-epochs", {"type": int, "default": 0}),
    ("--average", {"type": int, "default": 0}),
    ("--avg-bn", {"choices": ["recompute", "keep"], "default": "recompute"}),
    ("--val-train-mode", {"action": "store_true"}),
    ("--tta", {"action": "store_true"}),
]


def load_splits(npz: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{part: (images (N, 1, 28, 28) float32 in stored values 0-255, labels (N,))}``."""
    data = np.load(npz)
    return {p: (data[f"{p}_images"][:, None].astype(np.float32),
                data[f"{p}_labels"].reshape(-1).astype(np.int64))
            for p in ("train", "val", "test")}  # fmt: skip


def preprocess(config: dict[str, Any], splits: dict[str, Any], norm: str) -> dict[str, Any]:
    """The config's preprocess stages (radpipe's own code), fitted on the training images;
    ``norm="unit"`` replaces its ``z_score`` by x / 255."""
    specs = [s for s in config["preprocess"] if norm == "zscore" or s["type"] != "z_score"]
    pipe = Pipeline.from_config(specs)
    train = [Sample(x) for x in splits["train"][0]]
    pipe.fit(train)
    out = {}
    for part, (images, labels) in splits.items():
        done = np.stack([pipe(Sample(x)).image for x in images])
        out[part] = (done / 255.0 if norm == "unit" else done).astype(np.float32), labels
    return out


def augmenter(config: dict[str, Any], kind: str) -> Pipeline | None:
    if kind == "none":
        return None
    specs = config["augment"] if kind == "config" else [
        {"type": "random_flip", "p": 0.5, "axes": [-1]}]  # fmt: skip
    return Pipeline.from_config(specs)


def batches(x: np.ndarray, y: np.ndarray, order: list[int], size: int, drop_last: bool,
            aug: Pipeline | None, seed: int, epoch: int) -> Any:  # fmt: skip
    stop = len(order) - len(order) % size if drop_last else len(order)
    for start in range(0, stop, size):
        idx = order[start : start + size]
        if aug is None:
            images = x[idx]
        else:
            images = np.stack([aug(Sample(x[i]), np.random.default_rng([seed, epoch, i])).image
                               for i in idx]).astype(np.float32)  # fmt: skip
        yield torch.from_numpy(np.ascontiguousarray(images)), torch.from_numpy(y[idx])


@torch.no_grad()
def predict(net: nn.Module, x: np.ndarray, tta: bool = False, train_mode: bool = False) -> Any:
    net.train(train_mode)
    xt = torch.from_numpy(x)
    logits = torch.cat([net(b) for b in xt.split(256)])
    if tta:
        flipped = torch.cat([net(b.flip(-1)) for b in xt.split(256)])
        return (logits.softmax(1) + flipped.softmax(1)) / 2, logits
    return logits.softmax(1), logits


def auc(y: np.ndarray, prob: torch.Tensor) -> float:
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, prob[:, 1].numpy()))


@torch.no_grad()
def recompute_bn(net: nn.Module, batches_: Any) -> None:
    """Running statistics as the cumulative mean over one pass (momentum None), as SWA's."""
    norms = [m for m in net.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    saved = [m.momentum for m in norms]
    for m in norms:
        m.reset_running_stats()
        m.momentum = None
    net.train()
    for images, _ in batches_:
        net(images)
    for m, momentum in zip(norms, saved, strict=True):
        m.momentum = momentum


def run(args: argparse.Namespace, seed: int, data: dict[str, Any], config: dict[str, Any]) -> dict:
    (xtr, ytr), (xva, yva), (xte, yte) = data["train"], data["val"], data["test"]
    train_cfg = config["train"]
    epochs = args.epochs or train_cfg["epochs"]
    torch.manual_seed(seed)
    np.random.seed(seed)
    spec = dict(config["model"])
    spec |= {"in_channels": 1, "num_classes": 2}
    if spec["type"] == "cnn_classifier":
        spec["spatial_dims"] = 2
    net = build_model(spec.pop("type"), **spec)
    opt = torch.optim.Adam(net.parameters(), lr=args.lr, weight_decay=args.wd)
    warm = args.warmup
    sched = torch.optim.lr_scheduler
    main = (sched.CosineAnnealingLR(opt, T_max=max(epochs - warm, 1))
            if args.schedule == "cosine" else None)  # fmt: skip
    if warm:
        ramp = sched.LinearLR(opt, start_factor=1 / (warm + 1), end_factor=1.0, total_iters=warm)
        scheduler = sched.SequentialLR(opt, [ramp, main], milestones=[warm]) if main else ramp
    else:
        scheduler = main
    weight = torch.tensor(args.class_weights) if args.class_weights else None
    loss_fn = nn.CrossEntropyLoss(weight=weight, label_smoothing=args.label_smoothing)
    aug = augmenter(config, args.aug)
    gen = torch.Generator().manual_seed(seed)
    states: list[tuple[int, dict[str, torch.Tensor]]] = []
    at_best: list[tuple[int, dict[str, torch.Tensor]]] = []
    best, bad, smoothed = math.inf, 0, math.nan
    log = []
    t0 = time.perf_counter()
    for epoch in range(1, epochs + 1):
        net.train()
        order = torch.randperm(len(ytr), generator=gen).tolist()
        for images, labels in batches(xtr, ytr, order, args.batch_size, args.drop_last, aug,
                                      seed, epoch):  # fmt: skip
            loss = loss_fn(net(images), labels)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        if scheduler is not None:
            scheduler.step()
        prob, logits = predict(net, xva, train_mode=args.val_train_mode)
        val_loss = float(loss_fn(logits, torch.from_numpy(yva)))
        val_auc = auc(yva, prob)
        if args.select == "ema":
            smoothed = val_loss if math.isnan(smoothed) else (
                args.ema * smoothed + (1 - args.ema) * val_loss)  # fmt: skip
            value = smoothed
        elif args.select == "acc":
            value = -float((logits.argmax(1).numpy() == yva).mean())
        else:
            value = -val_auc
        state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        states = [*states, (epoch, state)][-max(args.average, 1) :]
        improved = value < best
        if improved:
            best, bad = value, 0
            at_best = list(states)
        else:
            bad += 1
        log.append({"epoch": epoch, "val_loss": round(val_loss, 4), "val_auc": round(val_auc, 4)})
        if (args.select != "last" and args.patience and bad >= args.patience
                and epoch >= args.min_epochs):  # fmt: skip
            break
    window = states if args.select == "last" else at_best
    kept = [e for e, _ in window]
    if len(window) == 1 or args.average < 2:
        net.load_state_dict(window[-1][1])
    else:
        params = {n for n, _ in net.named_parameters()}
        mean = {k: torch.stack([s[k].float() for _, s in window]).mean(0) for k in params}
        last = window[-1][1]
        # buffers (running statistics) of the window's last epoch; then maybe re-estimated
        net.load_state_dict({k: mean.get(k, v) for k, v in last.items()})
        if args.avg_bn == "recompute":
            order = list(range(len(ytr)))
            recompute_bn(net, batches(xtr, ytr, order, args.batch_size, False, aug, seed,
                                      kept[-1]))  # fmt: skip
    prob, _ = predict(net, xte, tta=args.tta)
    return {"seed": seed, "test_auc": auc(yte, prob), "epochs": kept, "run": len(log),
            "seconds": round(time.perf_counter() - t0, 1), "log": log}  # fmt: skip


def like_config(args: argparse.Namespace, config: dict[str, Any]) -> None:
    """Every training habit the shipped config asks radpipe for."""
    t = config["train"]
    args.norm = "zscore" if any(s["type"] == "z_score" for s in config["preprocess"]) else "unit"
    args.aug = "config"
    args.wd = t.get("weight_decay", 0.0)
    args.warmup = t.get("warmup_epochs", 0)
    args.schedule = t.get("schedule", "none")
    args.label_smoothing = t.get("label_smoothing", 0.0)
    args.select = "ema" if t.get("monitor") == "val_loss" else "acc"
    args.ema = t.get("monitor_ema", 0.0)
    args.min_epochs = t.get("min_epochs", 0)
    args.patience = t.get("early_stopping")
    args.average = t.get("average_epochs", 0)
    args.avg_bn = "recompute"
    args.tta = config.get("evaluate", {}).get("tta_flip", False)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model", choices=sorted(CONFIGS))
    ap.add_argument("--data", type=Path, default=_shared_data())
    ap.add_argument("--seeds", type=int, nargs="*", default=[0])
    ap.add_argument("--epochs", type=int, help="default: the config's train.epochs")
    for flag, kwargs in OPTIONS:
        ap.add_argument(flag, **kwargs)
    ap.add_argument("--like", action="store_true", help="every habit of the shipped config")
    ap.add_argument("--tag", default="", help="a name for this variant in the output")
    args = ap.parse_args()
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "1")))
    config = yaml.safe_load((ROOT / "configs" / f"{CONFIGS[args.model]}.yaml").read_text())
    if args.like:
        like_config(args, config)
    data = preprocess(config, load_splits(args.data / "medmnist_breastmnist" /
                                          "breastmnist.npz"), args.norm)  # fmt: skip
    rows = []
    for seed in args.seeds:
        row = run(args, seed, data, config)
        rows.append(row)
        print(json.dumps({k: v for k, v in row.items() if k != "log"}), flush=True)
    aucs = [r["test_auc"] for r in rows]
    print(json.dumps({"variant": args.tag or " ".join(sys.argv[2:]), "model": args.model,
                      "aucs": [round(a, 3) for a in aucs], "mean": round(float(np.mean(aucs)), 3),
                      "seconds": [r["seconds"] for r in rows]}))  # fmt: skip


if __name__ == "__main__":
    main()
