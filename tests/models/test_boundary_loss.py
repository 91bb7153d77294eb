"""``train.boundary_weight``: the cross-entropy of pixels near an outline of the target counts
``1 + b`` times in its mean. Expected values by hand (numpy), not from the loss itself."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from models.losses import TrainingLoss, boundary_band
from pipeline.errors import ConfigError
from workflows.train.config import TrainConfig
from workflows.train.optim import make_loss


def test_the_band_covers_both_sides_of_an_outline_and_not_the_image_edge() -> None:
    target = torch.zeros(1, 6, 6, dtype=torch.int64)
    target[0, 2:4, 2:4] = 1  # a 2x2 square in the middle
    expected = np.zeros((6, 6), bool)
    expected[1:5, 1:5] = True  # within one pixel (a 3x3 box) of the other class
    np.testing.assert_array_equal(boundary_band(target, 2, 1)[0].numpy(), expected)
    # width 2: the whole 6x6 is within two pixels of the square; one class alone: no band
    assert boundary_band(target, 2, 2).all()
    assert not boundary_band(torch.ones(1, 6, 6, dtype=torch.int64), 2, 1).any()
    volume = torch.zeros(1, 5, 5, 5, dtype=torch.int64)
    volume[0, 2, 2, 2] = 1  # 3D: the 3x3x3 box around one voxel
    assert int(boundary_band(volume, 2, 1).sum()) == 27


@pytest.mark.parametrize("kind", ["ce", "dice_ce"])
def test_outline_pixels_weigh_one_plus_b_in_the_cross_entropy(kind: str) -> None:
    """Mutation: the weight ignored (the plain mean, 0.4562 here, not 0.6173)."""
    a = np.array([2.0, 1.0, -0.5, 0.3, 1.5, -2.0])  # class-0 logit minus class-1 logit
    y = np.array([0, 0, 0, 1, 1, 1])  # one row of pixels, the outline between 2 and 3
    nll = np.log1p(np.exp(np.where(y == 0, -a, a)))  # -log softmax of the true class
    w = np.array([1, 1, 4, 4, 1, 1])  # band of width 1: pixels 2 and 3, weight 1 + 3
    expected = float((w * nll).sum() / w.sum())
    logits = torch.tensor(np.stack([a, np.zeros(6)]), dtype=torch.float32).reshape(1, 2, 1, 6)
    target = torch.tensor(y).reshape(1, 1, 6)
    loss = TrainingLoss(kind, boundary_weight=3.0, boundary_width=1)(logits, target)
    plain = TrainingLoss(kind)(logits, target)
    dice = float(plain) - float(nll.mean()) if kind == "dice_ce" else 0.0
    assert float(loss) == pytest.approx(expected + dice, rel=1e-5)
    assert float(plain) == pytest.approx(float(nll.mean()) + dice, rel=1e-5)
    # class weights multiply in, as in PyTorch's weighted mean: sum(w c l) / sum(w c)
    cw = np.array([1.0, 2.0])[y]
    both = TrainingLoss("ce", torch.tensor([1.0, 2.0]), boundary_weight=3.0, boundary_width=1)
    assert float(both(logits, target)) == pytest.approx(
        float((w * cw * nll).sum() / (w * cw).sum()), rel=1e-5
    )


def test_the_setting_reaches_the_loss_and_is_refused_where_it_cannot_act() -> None:
    loss = make_loss("segmentation", TrainConfig(boundary_weight=2.0, boundary_width=3))
    assert (loss.boundary_weight, loss.boundary_width) == (2.0, 3)
    with pytest.raises(ConfigError, match="boundary_weight act on the cross-entropy"):
        TrainConfig(loss="dice", boundary_weight=1.0)
    with pytest.raises(ConfigError, match=r"train.boundary_weight: must be >= 0"):
        TrainConfig(boundary_weight=-1.0)
    with pytest.raises(ConfigError, match=r"train.boundary_width: must be > 0"):
        TrainConfig(boundary_width=0)
    with pytest.raises(ConfigError, match="needs a segmentation task"):
        make_loss("classification", TrainConfig(boundary_weight=1.0))
