"""Boundaries of the training loop's checks that a mutation sweep of ``workflows/train``
found untested (each test red on the mutant named in it): a lone sample per process, the
shard size of a DDP rank, the "never improved" warning and the diverged-weights message,
and a mask of another size than the output's told apart from a mask with a channel axis."""

from __future__ import annotations

import pytest
import torch

from models import build_model
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.ddp import DistributedContext
from workflows.train.epoch import TrainingDiverged, check_finite, say_if_never_improved
from workflows.train.lone_batch import drop_lone_batch
from workflows.train.loop import TrainConfig
from workflows.train.optim import pick_device
from workflows.train.targets import check_targets

SIZE = 16


def _mlp() -> torch.nn.Module:
    return build_model("mlp_classifier", in_features=SIZE * SIZE, num_classes=2, hidden=(8,),
                       batch_norm=True)  # fmt: skip


def _ranks(world_size: int) -> DistributedContext:
    return DistributedContext(rank=0, world_size=world_size, local_rank=0, backend="gloo",
                              device=torch.device("cpu"))  # fmt: skip


def test_one_training_sample_with_batch_norm_is_refused() -> None:
    """One training sample and batch_size 8: every batch holds one sample, as with
    batch_size 1 (``n == 1`` read as ``n == 2``, or the ``n == 0`` shortcut taken for 1,
    dropped that batch: an epoch of no batches)."""
    with pytest.raises(ConfigError, match=r"batch_size 8 gives batches of one sample"):
        drop_lone_batch(_mlp(), PhantomDataset(1, size=SIZE), TrainConfig(batch_size=8))


def test_a_ranks_lone_sample_is_counted_on_its_shard() -> None:
    """9 samples on 2 ranks: each rank's padded shard holds ceil(9 / 2) = 5 and its share of
    a global batch of 8 is 4, so each rank's last batch holds 5 - 4 = 1 sample (by hand). In
    one process the same 9 in batches of 4 leave 9 - 8 = 1 too, but 10 leave 2: with 10
    samples, 2 ranks have 5 each, again a lone one (``n * world_size`` gave 20, none)."""
    config = TrainConfig(batch_size=8)
    assert drop_lone_batch(_mlp(), PhantomDataset(9, size=SIZE), config, _ranks(2))
    assert drop_lone_batch(_mlp(), PhantomDataset(10, size=SIZE), config, _ranks(2))
    assert not drop_lone_batch(_mlp(), PhantomDataset(10, size=SIZE), TrainConfig(batch_size=4))
    # 12 on 2 ranks: shards of 6, batches of 4 and 2: nothing lone
    assert not drop_lone_batch(_mlp(), PhantomDataset(12, size=SIZE), config, _ranks(2))


def test_never_improved_is_said_only_when_no_epoch_was_best(said: list[str]) -> None:
    """The warning is for a monitor that was NaN in every epoch (no best epoch) of a run
    that trained; a run with a best epoch, or no epochs, says nothing (``and`` read as
    ``or`` warned on every run)."""
    history = [{"epoch": 1, "val_dice": 0.5}, {"epoch": 2, "val_dice": 0.6}]
    say_if_never_improved("val_dice", 2, history)
    say_if_never_improved("val_dice", 0, [])
    assert not [m for m in said if "NaN in every epoch" in m]
    say_if_never_improved("val_dice", 0, history)
    assert [m for m in said if "NaN in every epoch" in m] == [
        "train.monitor val_dice was NaN in every epoch (2): no best.pt was written and the "
        "run's model is last.pt; a validation split without any foreground gives val_dice "
        "NaN: monitor val_loss, or add cases with foreground to the validation split."
    ]


def test_diverged_weights_name_the_first_bad_tensor() -> None:
    """Two of four parameter tensors NaN: the message counts 2 and names the first in the
    model's order (``0.bias``), not the last (``1.weight``)."""
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    with torch.no_grad():
        model[0].bias[1] = float("nan")
        model[1].weight[0, 0] = float("inf")
    with pytest.raises(TrainingDiverged) as err:
        check_finite(model, 3, {"train_loss": 0.5}, losses=True, best_epoch=2)
    assert "NaN/inf in 2 weight tensors (0.bias, ...)" in str(err.value)
    assert "best.pt is epoch 2" in str(err.value)


def test_weights_screened_by_their_sums_are_still_checked_exactly() -> None:
    """The screen sums each tensor: +inf and -inf in one tensor sum to NaN (caught); finite
    weights whose float32 sum overflows (2 x 3e38 = inf) are not diverged (the exact check
    clears them); a tensor of one NaN among finite values is named."""
    model = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Linear(2, 2))
    with torch.no_grad():
        model[0].weight[0] = torch.tensor([float("inf"), float("-inf")])
        model[1].weight[0] = torch.tensor([3e38, 3e38])
    with pytest.raises(TrainingDiverged) as err:
        check_finite(model, 1, {}, losses=False, best_epoch=0)
    assert "NaN/inf in 1 weight tensors (0.weight, ...)" in str(err.value)
    with torch.no_grad():
        model[0].weight.fill_(0.5)
    check_finite(model, 1, {}, losses=False, best_epoch=0)  # overflowing sum, finite weights
    with torch.no_grad():
        model[1].bias[1] = float("nan")
    with pytest.raises(TrainingDiverged) as err:
        check_finite(model, 1, {}, losses=False, best_epoch=0)
    assert "NaN/inf in 1 weight tensors (1.bias, ...)" in str(err.value)


def test_a_mask_of_another_size_is_not_called_a_channel_axis() -> None:
    """Masks (2, 8, 8) for an output (2, 3, 16, 16): the size differs, there is no channel
    axis to drop (``and`` read as ``or`` said "drop axis 1" for every mask mismatch); masks
    (2, 1, 16, 16) do have one."""
    batch = {"image": torch.zeros(2, 1, 16, 16), "mask": torch.zeros(2, 8, 8, dtype=torch.long)}
    with pytest.raises(ValueError) as err:
        check_targets(batch, (2, 3, 16, 16))
    assert str(err.value).endswith(
        "The batch's masks have shape (2, 8, 8); the model's output (2, 3, 16, 16) needs "
        "(2, 16, 16)."
    )
    batch["mask"] = torch.zeros(2, 1, 16, 16, dtype=torch.long)
    with pytest.raises(ValueError, match=r"without a channel axis: got \(2, 1, 16, 16\) for "
                                          r"\(2, 16, 16\); drop axis 1"):  # fmt: skip
        check_targets(batch, (2, 3, 16, 16))


@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU is present: 'cuda' is valid")
def test_cuda_without_a_gpu_is_a_config_error() -> None:
    """``train.device: cuda`` on a machine without CUDA is refused in words (with the check
    negated, torch.device('cuda') was returned and training failed inside torch)."""
    with pytest.raises(ConfigError, match=r"'train.device' setting is 'cuda' but no CUDA"):
        pick_device("cuda")
    assert pick_device("auto") == torch.device("cpu")
