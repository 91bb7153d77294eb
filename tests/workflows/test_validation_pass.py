"""The validation pass of the training loop (:func:`workflows.train.epoch.evaluate`) against
figures worked out by hand (mutation sweep mut88: each of these mutants survived
``tests/workflows/test_optim.py``, ``test_train_boundaries.py``, ``test_train_defaults.py``
and the epoch tests).

The model is a fixed table of logits, so every prediction is known before the pass runs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from workflows.train.epoch import PADDED, evaluate


class _Fixed(nn.Module):
    """Returns ``logits`` for every batch, whatever the image (``(B, K, ...)``)."""

    def __init__(self, logits: torch.Tensor) -> None:
        super().__init__()
        self.logits = logits

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.logits.expand(len(image), *self.logits.shape[1:])


class _MeanTarget(nn.Module):
    """A 'loss' whose value is the batch's mean target: known per batch by hand."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return target.float().mean()


def test_val_loss_is_the_mean_over_samples_and_val_accuracy_is_not_balanced() -> None:
    """Batches of 3 (labels 1, 1, 1: loss 1) and 1 (label 0: loss 0): the sample mean is 3/4,
    the mean of the batch losses 1/2 and their sum over samples 1/4 (mutant: a batch's loss
    not weighted by its size). The model says class 1 for all four: accuracy 3/4, balanced
    accuracy (1 + 0) / 2 (mutant: val_accuracy read from balanced_accuracy)."""
    model = _Fixed(torch.tensor([[0.0, 1.0]]))
    batches = [
        {"image": torch.zeros(3, 1, 2, 2), "label": torch.tensor([1, 1, 1]), "id": ["a"] * 3},
        {"image": torch.zeros(1, 1, 2, 2), "label": torch.tensor([0]), "id": ["b"]},
    ]
    out = evaluate(model, batches, _MeanTarget(), "classification", torch.device("cpu"))
    assert out["val_loss"] == pytest.approx(0.75)
    assert out["val_accuracy"] == pytest.approx(0.75)
    assert out["val_balanced_accuracy"] == pytest.approx(0.5)


def test_val_dice_scores_padding_as_background_and_leaves_the_background_out() -> None:
    """Five voxels: truth 1, 1, 0, 0 and padding; the model says 1, 0, 1, 0, 1. Padding is
    background in both, so the prediction scored is 1, 0, 1, 0, 0: class 1 has TP 1, FP 1,
    FN 1, Dice 2/4 = 0.5, and val_dice is that alone (background Dice 4/6: with it, the mean
    is 7/12; mutant: include_background). Without the padding filled, the padded voxel is a
    false positive: Dice 2/5 (mutant: masked_fill dropped). Accuracy 3/5."""
    pred = torch.tensor([1, 0, 1, 0, 1])
    logits = torch.stack([1.0 - pred.float(), pred.float()])[None, :, None, :]  # (1, 2, 1, 5)
    mask = torch.tensor([[[1, 1, 0, 0, PADDED]]])  # (B=1, 1, 5)
    batch = {"image": torch.zeros(1, 1, 1, 5), "mask": mask, "id": ["s"]}
    out = evaluate(_Fixed(logits), [batch], _MeanTarget(), "segmentation", torch.device("cpu"))
    assert out["val_dice"] == pytest.approx(0.5)
    assert out["val_accuracy"] == pytest.approx(0.6)
    assert out["val_loss"] == pytest.approx(2 / 5)  # the padding taken as background (0)
