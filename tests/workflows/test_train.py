"""Training: each fully connected / recurrent model learns; resume == uninterrupted; safe loads."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pytest
import torch

from models import build_model
from pipeline.errors import ConfigError
from tests.workflows.phantom_data import PhantomDataset
from workflows.train.checkpoint import CheckpointError, load_checkpoint
from workflows.train.loop import TrainConfig, train
from workflows.train.optim import EarlyStopping

SIZE = 24


@pytest.fixture(scope="module")
def images() -> tuple[PhantomDataset, PhantomDataset]:
    return PhantomDataset(600, size=SIZE, seed=1), PhantomDataset(100, size=SIZE, seed=2)


@pytest.fixture(scope="module")
def series() -> tuple[PhantomDataset, PhantomDataset]:
    return (
        PhantomDataset(400, size=SIZE, slices=6, seed=1),
        PhantomDataset(100, size=SIZE, slices=6, seed=2),
    )


@pytest.fixture(scope="module")
def masks() -> tuple[PhantomDataset, PhantomDataset]:
    return (
        PhantomDataset(48, size=SIZE, task="segmentation", seed=1),
        PhantomDataset(16, size=SIZE, task="segmentation", seed=2),
    )


# Chance levels: the labels alternate 0/1, so a constant classifier scores accuracy 0.5; a
# constant "background" segmenter scores foreground Dice 0 (organ+lesion mean).
LEARNING_CASES = [
    ("mlp_classifier", {"in_features": SIZE * SIZE, "hidden": (64,), "dropout": 0.1},
     "images", 12, 3e-3, "val_accuracy", 0.8),
    ("recurrent_classifier", {"in_features": SIZE * SIZE, "encoder": (64,), "hidden_size": 32},
     "series", 12, 3e-3, "val_accuracy", 0.75),
    ("mlp_segmenter", {"hidden": (64, 32), "context": 16},
     "masks", 8, 3e-3, "val_dice", 0.7),
    ("renet_segmenter", {"hidden_size": 16, "num_layers": 1, "up_channels": 16},
     "masks", 8, 1e-2, "val_dice", 0.7),
]  # fmt: skip


@pytest.mark.parametrize(
    ("name", "params", "data", "epochs", "lr", "metric", "threshold"),
    LEARNING_CASES,
    ids=[c[0] for c in LEARNING_CASES],
)
def test_model_learns_well_above_chance(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    name: str,
    params: dict[str, Any],
    data: str,
    epochs: int,
    lr: float,
    metric: str,
    threshold: float,
) -> None:
    train_ds, val_ds = request.getfixturevalue(data)
    torch.manual_seed(0)  # the initial weights, independent of the tests that ran before
    model = build_model(name, **params)
    config = TrainConfig(epochs=epochs, batch_size=16 if data != "masks" else 8, lr=lr)
    result = train(model, train_ds, val_ds, config, tmp_path)
    best = max(row[metric] for row in result.history)
    assert best >= threshold, f"{name}: best {metric} {best:.3f} < {threshold}"
    assert result.best_metric == best and result.monitor == metric


def _tiny_run(tmp_path: Path, masks: Any, **overrides: Any) -> tuple[torch.nn.Module, Any]:
    train_ds, val_ds = masks
    torch.manual_seed(123)  # a different init each call unless restored from a checkpoint
    model = build_model("mlp_segmenter", hidden=(16,), context=4, dropout=0.2)
    settings: dict[str, Any] = {"epochs": 4, "batch_size": 8, "lr": 3e-3, "schedule": "cosine"}
    config = TrainConfig(**(settings | {"seed": 7} | overrides))
    return model, (train_ds, val_ds, config)


class _Killed(Exception):
    pass


def _train_killed_after_epoch_2(
    model: torch.nn.Module, tr: Any, va: Any, config: TrainConfig, folder: Path
) -> None:
    """Train in ``folder`` and stop after epoch 2, as a killed process would."""

    def kill_after_epoch_2(epoch: int, row: dict[str, Any]) -> None:
        if epoch == 2:
            raise _Killed

    with pytest.raises(_Killed):
        train(model, tr, va, config, folder, on_epoch_end=kill_after_epoch_2)


def test_resume_after_kill_equals_uninterrupted_run(tmp_path: Path, masks: Any) -> None:
    model_a, (tr, va, config) = _tiny_run(tmp_path, masks)
    straight = train(model_a, tr, va, config, tmp_path / "a")
    _train_killed_after_epoch_2(_tiny_run(tmp_path, masks)[0], tr, va, config, tmp_path / "b")
    torch.manual_seed(999)  # the resumed process starts from other global RNG states
    model_c = build_model("mlp_segmenter", hidden=(16,), context=4, dropout=0.2)
    resumed = train(model_c, tr, va, config, tmp_path / "b", resume=True)

    sa, sc = model_a.state_dict(), model_c.state_dict()
    assert sa.keys() == sc.keys()
    for key in sa:
        assert torch.equal(sa[key], sc[key]), key
    assert [r["train_loss"] for r in resumed.history] == [r["train_loss"] for r in straight.history]
    log = [json.loads(x) for x in (tmp_path / "b" / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2, 3, 4]


def test_resumed_run_keeps_the_best_epoch_and_the_patience(tmp_path: Path, masks: Any) -> None:
    """Mutation: resuming without the early-stopping state (best value, best epoch, epochs
    without gain). The first epoch after the restart would then always be a gain: it
    overwrites ``best.pt`` with a worse model and restarts the patience. Maximising the
    validation loss while training lowers it: epoch 1 is the best, patience 2 stops after 3."""
    settings = {"epochs": 6, "early_stopping": 2, "monitor": "val_loss", "mode": "max",
                "checkpoint_interval_s": 0}  # fmt: skip
    model_a, (tr, va, config) = _tiny_run(tmp_path, masks, **settings)
    straight = train(model_a, tr, va, config, tmp_path / "a")
    losses = [r["val_loss"] for r in straight.history]
    assert losses[1] < losses[0] and losses[2] < losses[0]  # the premise: no gain after 1
    assert (straight.best_epoch, straight.epochs_run, straight.stopped_early) == (1, 3, True)
    model_b, _ = _tiny_run(tmp_path, masks)
    _train_killed_after_epoch_2(model_b, tr, va, config, tmp_path / "b")
    resumed = train(model_b, tr, va, config, tmp_path / "b", resume=True)
    assert (resumed.best_epoch, resumed.epochs_run, resumed.stopped_early) == (1, 3, True)
    assert resumed.best_metric == pytest.approx(losses[0], rel=1e-6)
    assert load_checkpoint(tmp_path / "b" / "checkpoints" / "best.pt")["epoch"] == 1


def test_early_stop_writes_last_pt_of_the_stopping_epoch(tmp_path: Path, masks: Any) -> None:
    """Mutation: ``last.pt`` due only every ``checkpoint_every`` epochs and at ``epochs``, not
    when early stopping ends the run. Stopped at epoch 3 with ``checkpoint_every`` 2, it held
    epoch 2: weights the run did not end with (the model scored when there is no best.pt).
    Maximising the falling validation loss: epoch 1 is the best, patience 2 stops after 3."""
    settings = {"epochs": 6, "early_stopping": 2, "monitor": "val_loss", "mode": "max",
                "checkpoint_every": 2, "checkpoint_interval_s": 0}  # fmt: skip
    model, (tr, va, config) = _tiny_run(tmp_path, masks, **settings)
    result = train(model, tr, va, config, tmp_path)
    assert (result.epochs_run, result.stopped_early) == (3, True)
    last = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert last["epoch"] == 3
    assert all(torch.equal(last["model"][k], v) for k, v in model.state_dict().items())


def test_same_seed_same_weights_on_cpu(tmp_path: Path, masks: Any) -> None:
    m1, (tr, va, config) = _tiny_run(tmp_path, masks, epochs=2)
    train(m1, tr, va, config, tmp_path / "1")
    m2, _ = _tiny_run(tmp_path, masks, epochs=2)
    train(m2, tr, va, config, tmp_path / "2")
    assert all(
        torch.equal(a, b) for a, b in zip(m1.state_dict().values(), m2.state_dict().values())
    )


def test_checkpoint_contents_and_log(tmp_path: Path, masks: Any) -> None:
    model, (tr, va, config) = _tiny_run(tmp_path, masks, epochs=2)
    train(model, tr, va, config, tmp_path, resolved_config={"name": "demo", "seed": 7})
    ckpt = load_checkpoint(tmp_path / "checkpoints" / "last.pt")
    assert ckpt["epoch"] == 2
    assert ckpt["model_spec"]["type"] == "mlp_segmenter"
    assert ckpt["resolved_config"] == {"name": "demo", "seed": 7}
    assert ckpt["train_config"]["schedule"] == "cosine"
    assert set(ckpt["rng"]) == {"torch", "numpy", "python", "cuda"}
    assert (tmp_path / "checkpoints" / "best.pt").is_file()
    rows = [json.loads(x) for x in (tmp_path / "log.jsonl").read_text().splitlines()]
    for key in ("epoch", "train_loss", "val_loss", "val_dice", "lr", "time_s"):
        assert key in rows[0], key
    # cosine schedule over 4 epochs... here 2: lr(1) = 3e-3, lr(2) = 3e-3 * (1 + cos(pi/2)) / 2
    assert rows[1]["lr"] == pytest.approx(1.5e-3)


class _Boom:
    def __reduce__(self) -> tuple[Any, ...]:
        # Unpickling this would create a file: a stand-in for arbitrary code execution.
        return (Path.touch, (Path(_Boom.target),))

    target = ""


def test_pickle_bearing_checkpoint_is_refused(tmp_path: Path) -> None:
    _Boom.target = str(tmp_path / "pwned")
    evil = tmp_path / "evil.pt"
    torch.save({"format": "radpipe-checkpoint-1", "model": {}, "x": _Boom()}, evil)
    with pytest.raises(CheckpointError, match=r"evil\.pt: refused"):
        load_checkpoint(evil)
    assert not (tmp_path / "pwned").exists()
    # The same object through plain pickle would have run: the test's premise holds.
    pickle.loads(pickle.dumps(_Boom()))
    assert (tmp_path / "pwned").exists()


def test_not_a_checkpoint_and_urls_are_refused(tmp_path: Path) -> None:
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="not a radpipe checkpoint"):
        load_checkpoint(tmp_path / "other.pt")
    with pytest.raises(CheckpointError, match="only local"):
        load_checkpoint("https://example.org/model.pt")
    with pytest.raises(CheckpointError, match="no such checkpoint"):
        load_checkpoint(tmp_path / "missing.pt")


def test_early_stopping_counts_epochs_without_gain() -> None:
    stopper = EarlyStopping("val_loss", "auto", patience=2)
    gains = [stopper.update(e, v) for e, v in enumerate([1.0, 0.8, 0.9, 0.8, 0.7], start=1)]
    assert stopper.mode == "min"
    assert gains == [True, True, False, False, True]
    # Stopped after the 4th value (two epochs without beating 0.8; equal is no gain).
    stopper = EarlyStopping("val_dice", "auto", patience=2)
    for e, v in enumerate([0.5, 0.6, 0.6, 0.55], start=1):
        stopper.update(e, v)
    assert stopper.mode == "max" and stopper.should_stop
    assert (stopper.best, stopper.best_epoch) == (0.6, 2)


def test_early_stopping_in_training_keeps_best_checkpoint(tmp_path: Path, masks: Any) -> None:
    model, (tr, va, _) = _tiny_run(tmp_path, masks)
    # Maximising the validation loss while training lowers it: no gain after epoch 1.
    config = TrainConfig(
        epochs=10, batch_size=8, lr=3e-3, early_stopping=2, monitor="val_loss", mode="max"
    )
    result = train(model, tr, va, config, tmp_path)
    assert result.stopped_early
    assert result.epochs_run == result.best_epoch + 2 < 10
    assert load_checkpoint(tmp_path / "checkpoints" / "best.pt")["epoch"] == result.best_epoch
    assert load_checkpoint(tmp_path / "checkpoints" / "last.pt")["epoch"] == result.epochs_run


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"optimizer": "rmsprop"}, "train.optimizer"),
        ({"schedule": "linear"}, "train.schedule"),
        ({"lr": 0}, "train.lr"),
        ({"nesterov": True, "optimizer": "adam"}, "train.nesterov"),
    ],
)
def test_bad_settings_name_the_key(overrides: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**overrides)


def test_dice_loss_on_classification_is_an_error(tmp_path: Path, images: Any) -> None:
    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(4,))
    with pytest.raises(ConfigError, match="segmentation"):
        train(model, images[0], None, TrainConfig(loss="dice", epochs=1), tmp_path)


def test_training_without_validation_says_best_pt_follows_the_training_loss(
    tmp_path: Path, images: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Without validation data best.pt (and early stopping) silently followed train_loss."""
    import logging

    model = build_model("mlp_classifier", in_features=SIZE * SIZE, hidden=(4,))
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        train(model, images[0], None, TrainConfig(epochs=1, early_stopping=3), tmp_path)
    assert [r.getMessage() for r in caplog.records] == [
        "no validation data: best.pt and early stopping follow the training loss, which "
        "cannot show overfitting; a validation split (split.val > 0) chooses the model on "
        "held-out patients."
    ]
