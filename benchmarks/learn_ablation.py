"""Why the pipeline's MLP lost to a bare PyTorch loop: one change at a time, on BreastMNIST.

Starts from the shipped ``xray_classify`` config as it was before issue 17 (MLP 256-64,
flip + affine + noise augmentation, early stopping with patience 8 on the raw validation
accuracy, constant LR) and the loop without ``set_epoch`` (every epoch replayed the same
augmentation draws), then adds one fix per row. Each row is a ``run_study`` + ``predict_folder``
in this process, scored with scikit-learn's ROC AUC on the official test images.

Usage::

    python benchmarks/learn_ablation.py --work /tmp/learn
"""

from __future__ import annotations

import argparse
import copy
import time
from collections.abc import Callable
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

import torch
import yaml

from benchmarks.learn import ROOT, adapt, score
from benchmarks.learn_data import breast_archives

OLD_AUGMENT = [
    {"type": "random_flip", "p": 0.5, "axes": [-1]},
    {"type": "random_affine", "p": 0.5, "rotation": 10, "scale": 0.1, "translate": 0.05},
    {"type": "random_gaussian_noise", "p": 0.3, "std": [0.0, 0.1]},
]
OLD_TRAIN = {"epochs": 25, "batch_size": 32, "optimizer": "adam", "lr": 0.001,
             "weight_decay": 0.0001, "early_stopping": 8}  # fmt: skip
SMOOTH = {"monitor": "val_loss", "monitor_ema": 0.6, "min_epochs": 10, "early_stopping": 10}
SCHEDULE = {"optimizer": "adamw", "weight_decay": 0.05, "schedule": "cosine", "warmup_epochs": 3,
            "label_smoothing": 0.1, "epochs": 40}  # fmt: skip
MILD = [OLD_AUGMENT[0], {**OLD_AUGMENT[1], "scale": 0.05, "translate": 0.03}]

Change = Callable[[dict[str, Any]], None]


def _train(**kw: Any) -> Change:
    return lambda c: c["train"].update(kw)


def _augment(stages: list[dict[str, Any]]) -> Change:
    return lambda c: c.__setitem__("augment", copy.deepcopy(stages))


def _size(n: int) -> Change:
    return lambda c: c["preprocess"][0].__setitem__("shape", [n, n])


# (label, changes on top of the old config, keep set_epoch)
VARIANTS: list[tuple[str, list[Change], bool]] = [
    ("old config, no set_epoch (before)", [], False),
    ("+ set_epoch (new draws every epoch)", [], True),
    ("old config, no augmentation", [_augment([])], True),
    ("+ set_epoch + smoothed monitor (val_loss EMA 0.6, min 10 epochs)", [_train(**SMOOTH)], True),
    ("+ warm-up/cosine, AdamW, label smoothing 0.1, 40 epochs",
     [_train(**SMOOTH, **SCHEDULE)], True),
    ("+ milder augmentation (no noise, scale 0.05, shift 0.03) = new xray_classify",
     [_train(**SMOOTH, **SCHEDULE), _augment(MILD)], True),
    ("new xray_classify at the native 28x28", [_train(**SMOOTH, **SCHEDULE), _augment(MILD),
                                              _size(28)], True),
    ("new training defaults, no augmentation", [_train(**SMOOTH, **SCHEDULE), _augment([])],
     True),
]  # fmt: skip


def main() -> None:
    from workflows.run.config import validate_config
    from workflows.run.predict import predict_folder
    from workflows.run.runner import run_study

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=ROOT.parent.parent / "shared" / "data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/radpipe-learn"))
    ap.add_argument("--only", type=int, nargs="*", help="variant numbers (0-based)")
    args = ap.parse_args()
    args.epochs, args.size = None, (128, 128)
    torch.set_num_threads(1)
    out = args.work / "ablation"
    out.mkdir(parents=True, exist_ok=True)
    dev, test, _ = breast_archives(args.data / "medmnist_breastmnist" / "breastmnist.npz",
                                   args.work)  # fmt: skip
    base = yaml.safe_load(adapt("xray_classify", "breast", dev, out, args).read_text())
    base["augment"], base["train"] = OLD_AUGMENT, OLD_TRAIN
    print("| variant | test AUC | best / run epochs | time s |")
    print("| --- | ---: | ---: | ---: |")
    for i, (label, changes, keep) in enumerate(VARIANTS):
        if args.only and i not in args.only:
            continue
        raw = copy.deepcopy(base) | {"name": f"ablation{i}"}
        for change in changes:
            change(raw)
        patch = nullcontext() if keep else mock.patch("workflows.train.loop._set_epoch")
        t0 = time.perf_counter()
        with patch:
            outcome = run_study(validate_config(raw), progress=False)
        assert outcome is not None
        pred = predict_folder(outcome.run_dir, test.dicom, out / f"pred{i}", progress=False)
        auc = score("breast", pred.out, test.truth)
        rows = (outcome.run_dir / "log.jsonl").read_text().splitlines()
        from benchmarks.learn import _best_epoch

        print(f"| {label} | {auc:.3f} | {_best_epoch(outcome.run_dir)} / {len(rows)} | "
              f"{time.perf_counter() - t0:.0f} |", flush=True)  # fmt: skip


if __name__ == "__main__":
    main()
