"""``val_loss`` with class weights: the weighted mean over the whole validation set,
``sum_i w[y_i] ce_i / sum_i w[y_i]``, whatever the batch size.

Until 2026-12-04 it was the batches' weighted means averaged by batch size, which moved with
``train.batch_size`` (and so did ``best.pt`` and early stopping on ``val_loss``).
"""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from models.losses import TrainingLoss
from workflows.train.epoch import evaluate

# logits (ln 3, 0): p = (3/4, 1/4); logits (0, 0): p = (1/2, 1/2)
LOGITS = [[math.log(3), 0.0], [math.log(3), 0.0], [0.0, 0.0]]
LABELS = [0, 1, 0]
WEIGHTS = [1.0, 3.0]
# ce: ln(4/3) (weight 1), ln 4 (weight 3), ln 2 (weight 1)
EXPECTED = (math.log(4 / 3) + 3 * math.log(4) + math.log(2)) / 5


class _Given(nn.Module):
    """Returns its input as the logits."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


def _batches(size: int) -> list[dict[str, torch.Tensor]]:
    return [{"image": torch.tensor(LOGITS[i : i + size]),
             "label": torch.tensor(LABELS[i : i + size])}
            for i in range(0, len(LABELS), size)]  # fmt: skip


@pytest.mark.parametrize("size", [1, 2, 3])
def test_weighted_val_loss_is_the_set_mean_at_any_batch_size(size: int) -> None:
    loss = TrainingLoss("ce", torch.tensor(WEIGHTS))
    out = evaluate(_Given(), _batches(size), loss, "classification", torch.device("cpu"))
    assert out["val_loss"] == pytest.approx(EXPECTED, rel=1e-6)


def test_unweighted_val_loss_is_the_plain_mean() -> None:
    out = evaluate(_Given(), _batches(2), TrainingLoss("ce"), "classification",
                   torch.device("cpu"))  # fmt: skip
    expected = (math.log(4 / 3) + math.log(4) + math.log(2)) / 3
    assert out["val_loss"] == pytest.approx(expected, rel=1e-6)


def test_a_loss_module_without_terms_is_weighed_by_batch_size() -> None:
    """A researcher's own loss: its batch means, by batch size (the only weights known)."""
    out = evaluate(_Given(), _batches(2), nn.CrossEntropyLoss(), "classification",
                   torch.device("cpu"))  # fmt: skip
    expected = (math.log(4 / 3) + math.log(4) + math.log(2)) / 3
    assert out["val_loss"] == pytest.approx(expected, rel=1e-6)


def test_dice_ce_terms_each_over_the_set() -> None:
    """Segmentation ``dice_ce`` with class weights: the CE term over all pixels by their class
    weights, plus the per-image Dice term (``dice_batch=False``) averaged over images."""
    # two 1x2 images; pixel logits (ln 3, 0) everywhere: p(class 0) = 3/4
    logits = torch.tensor([[math.log(3), 0.0]]).T.expand(2, 2).reshape(1, 2, 1, 2)
    images = torch.cat([logits, logits])  # (2, 2, 1, 2)
    masks = torch.tensor([[[0, 1]], [[0, 0]]])
    loss = TrainingLoss("dice_ce", torch.tensor(WEIGHTS), dice_batch=False)
    ce = (3 * math.log(4 / 3) + 3 * math.log(4)) / (1 + 3 + 1 + 1)
    # image 1: class 1 soft Dice (2*1/4 + eps) / (2/4 + 1 + eps); image 2: no class 1,
    # (0 + eps) / (2/4 + 0 + eps)
    eps = 1e-5
    dice = 1 - ((0.5 + eps) / (1.5 + eps) + eps / (0.5 + eps)) / 2
    for size in (1, 2):
        batches = [{"image": images[i : i + size], "mask": masks[i : i + size]}
                   for i in range(0, 2, size)]  # fmt: skip
        out = evaluate(_Given(), batches, loss, "segmentation", torch.device("cpu"))
        assert out["val_loss"] == pytest.approx(ce + dice, rel=1e-5), size
