"""``train()`` against a bare PyTorch loop written out here (mutation sweep mut119): the same
weights, training losses and validation metrics, epoch by epoch, with every optimisation
setting on at once; and the monitor a segmentation run follows by default.

The bare loop: ``torch.manual_seed(seed)`` (dropout's draws), the batches of a
``DataLoader(shuffle=True, generator=torch.Generator().manual_seed(seed * 1_000_003 + e))``
in epoch ``e`` (the order the module docs promise), ``F.cross_entropy`` with the class
weights and label smoothing plus ``l1 * sum |W|`` over weight matrices (no biases), gradients
clipped to a global norm, ``torch.optim.SGD`` with Nesterov momentum and L2 weight decay,
the validation loss as the training loss over the whole validation set at once (with class
weights, ``sum w[y_i] ce_i / sum w[y_i]``; until 2026-12-04 radpipe took the mean of the
batches' weighted losses by their sizes, which moved with the batch size), and the learning
rate of epoch ``e`` worked out by hand: a linear warm-up of ``w`` epochs, ``lr e / (w + 1)``,
then a cosine over the remaining ``E - w`` epochs, ``lr (1 + cos(pi (e - w - 1) / (E - w))) / 2``.
"""

from __future__ import annotations

import copy
import math
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, Dataset

from workflows.train.loop import TrainConfig, train

SEED, EPOCHS, WARM, LR, L1, CLIP = 3, 4, 1, 0.2, 1e-3, 0.5
WEIGHTS = [1.0, 2.0, 0.5]


class _Items(Dataset[dict[str, Any]]):
    def __init__(self, n: int, seed: int) -> None:
        gen = torch.Generator().manual_seed(seed)
        self.images = torch.randn(n, 1, 2, 4, generator=gen)  # (N, C, H, W)
        self.labels = (self.images.sum((1, 2, 3)) > 0).long() + (self.images[:, 0, 0, 0] > 1)

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {"image": self.images[i], "label": self.labels[i], "id": f"case{i}"}


def _model() -> nn.Module:
    torch.manual_seed(0)
    return nn.Sequential(nn.Flatten(), nn.Linear(8, 6), nn.Dropout(0.3), nn.ReLU(), nn.Linear(6, 3))


def _lr(epoch: int) -> float:
    if epoch <= WARM:
        return LR * epoch / (WARM + 1)
    return LR * (1 + math.cos(math.pi * (epoch - WARM - 1) / (EPOCHS - WARM))) / 2


def _bare(model: nn.Module, data: _Items, val: _Items) -> list[dict[str, float]]:
    weight = torch.tensor(WEIGHTS)
    opt = torch.optim.SGD(model.parameters(), lr=LR, momentum=0.9, nesterov=True,
                          weight_decay=0.01)  # fmt: skip
    torch.manual_seed(SEED)
    rows = []
    for epoch in range(1, EPOCHS + 1):
        for group in opt.param_groups:
            group["lr"] = _lr(epoch)
        gen = torch.Generator().manual_seed(SEED * 1_000_003 + epoch)
        model.train()
        total, count = 0.0, 0
        for batch in DataLoader(data, batch_size=4, shuffle=True, generator=gen):
            x, y = batch["image"], batch["label"]
            loss = F.cross_entropy(model(x), y, weight=weight, label_smoothing=0.1)
            loss = loss + L1 * (model[1].weight.abs().sum() + model[4].weight.abs().sum())
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), CLIP)
            opt.step()
            total, count = total + float(loss.detach()) * len(y), count + len(y)
        model.eval()
        with torch.no_grad():  # val_loss: torch's weighted mean over the whole set
            logits = model(val.images)
            val_loss = F.cross_entropy(logits, val.labels, weight=weight, label_smoothing=0.1)
            right = (logits.argmax(1) == val.labels).float()
        rows.append({"lr": _lr(epoch), "train_loss": total / count, "val_loss": float(val_loss),
                     "val_accuracy": float(right.mean())})  # fmt: skip
    return rows


def test_train_is_the_bare_pytorch_loop(tmp_path: Path) -> None:
    data, val = _Items(10, 1), _Items(6, 2)
    model = _model()
    bare = copy.deepcopy(model)
    config = TrainConfig(
        epochs=EPOCHS, batch_size=4, lr=LR, optimizer="sgd", momentum=0.9, nesterov=True,
        weight_decay=0.01, l1=L1, grad_clip=CLIP, label_smoothing=0.1, class_weights=WEIGHTS,
        warmup_epochs=WARM, schedule="cosine", seed=SEED, device="cpu", progress=False,
        monitor="val_loss",
    )  # fmt: skip
    result = train(model, data, val, config, tmp_path / "run")
    expected = _bare(bare, data, val)
    for got, want in zip(result.history, expected, strict=True):
        for key, value in want.items():
            assert math.isclose(got[key], value, rel_tol=1e-5, abs_tol=1e-7), (key, got, want)
    for (name, a), b in zip(model.state_dict().items(), bare.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=1e-5, atol=1e-6, msg=name)


def test_segmentation_follows_val_dice_by_default(tmp_path: Path) -> None:
    """Mutation sweep mut119: the default monitor 'val_accuracy' for every task passed every
    test; a segmentation run without ``train.monitor`` follows the Dice (TrainConfig's
    docs), not the pixel accuracy that a model predicting background everywhere scores well."""
    from tests.workflows.phantom_data import PhantomDataset

    data = PhantomDataset(4, size=8, task="segmentation", seed=1)
    torch.manual_seed(0)
    model = nn.Conv2d(1, 3, 1)  # (B, 1, H, W) -> (B, 3, H, W) logits
    config = TrainConfig(epochs=1, batch_size=4, seed=1, device="cpu", progress=False)
    result = train(model, data, data, config, tmp_path)
    assert result.monitor == "val_dice"
    assert result.best_metric == result.history[0]["val_dice"]
