"""What the runner hands the training loop: each test names the mutations it kills. The
expected values are worked out here from the run's files (``split.csv``, ``stages/``) and the
configured stages, not read back from the datasets the runner built."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

import workflows.run.checks as checks
import workflows.train.loop as loop
from pipeline.split import read_split_csv
from pipeline.stage import Pipeline
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.runner import build_model, run_study

AUGMENT = [{"type": "random_affine", "p": 1.0, "rotation": 30}]


@pytest.fixture(scope="module")
def handed(
    cr16: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    """A run (seed 5, a random affine) whose call of the training loop was recorded:
    the run directory, its raw config, and the model's initial weights and both datasets."""
    seen: dict[str, Any] = {}
    real = loop.train

    def spy(model: Any, train_ds: Any, val_ds: Any, *args: Any, **kwargs: Any) -> Any:
        seen.update(weights={k: v.clone() for k, v in model.state_dict().items()},
                    train=train_ds, val=val_ds)  # fmt: skip
        return real(model, train_ds, val_ds, *args, **kwargs)

    checked = checks.check_training_classes

    def spy_classes(config: Any, study: Any, train_keys: list[str], *args: Any) -> Any:
        seen["class_checked"] = list(train_keys)
        return checked(config, study, train_keys, *args)

    raw = base_config(cr16, tmp_path_factory.mktemp("wiring")) | {"seed": 5, "augment": AUGMENT}
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(loop, "train", spy)
        patch.setattr(checks, "check_training_classes", spy_classes)
        outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    return outcome.run_dir, raw, seen


def _series(ds: Any) -> list[str]:
    return [str(ds.raw_sample(i).meta["series_key"]) for i in range(len(ds))]


def test_training_and_validation_are_the_split_csv_parts(
    handed: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    """Mutation: validation and test swapped for training (early stopping and ``best.pt``
    then chosen on the test split the run is scored on)."""
    run, _, seen = handed
    split = read_split_csv(run / "split.csv")
    for part in ("train", "val"):
        expected = sorted(r["series_key"] for r in split if r["split"] == part)
        assert expected and sorted(_series(seen[part])) == expected, part


def test_the_training_classes_are_checked_on_the_training_split(
    handed: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    """Mutation: the check of classes without a training series given another part's keys
    (the validation split's): a class missing from training then went unsaid."""
    run, _, seen = handed
    train = sorted(
        r["series_key"] for r in read_split_csv(run / "split.csv") if r["split"] == "train"
    )
    assert train and sorted(seen["class_checked"]) == train


def test_training_is_augmented_and_validation_is_not(
    handed: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    """Mutations: the configured augmentation dropped from training; augmentation applied to
    the validation images (a random validation score choosing ``best.pt``). Expected: the
    saved preprocessing, then (training only) the affine drawn from
    ``default_rng([seed, epoch, index])``, the datasets' documented seeding."""
    run, _, seen = handed
    prep = Pipeline.load(run / "stages")
    augment = Pipeline.from_config(AUGMENT)
    train_ds, val_ds = seen["train"], seen["val"]
    for i in range(len(train_ds)):
        plain = prep(train_ds.raw_sample(i))
        expected = augment(plain, np.random.default_rng([5, 1, i])).image
        assert not np.allclose(expected, plain.image)  # the affine changes the image
        np.testing.assert_allclose(train_ds.sample(i, epoch=1).image, expected, rtol=1e-6)
    for i in range(len(val_ds)):
        expected = prep(val_ds.raw_sample(i)).image
        np.testing.assert_allclose(val_ds.sample(i, epoch=1).image, expected, rtol=1e-6)


def test_initial_weights_come_from_the_run_seed(
    handed: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    """Mutation: the model built without seeding from the run's ``seed`` (every seed then
    starts from the same weights, or from whatever the global generator held)."""
    run, raw, seen = handed

    info = json.loads((run / "stages" / "data.json").read_text())
    torch.manual_seed(5)
    expected = build_model(raw["model"], info["shape"], info["num_classes"]).state_dict()
    assert expected.keys() == seen["weights"].keys()
    for name, value in expected.items():
        torch.testing.assert_close(seen["weights"][name], value, rtol=0, atol=0)
    torch.manual_seed(6)
    other = build_model(raw["model"], info["shape"], info["num_classes"]).state_dict()
    assert any(not torch.equal(other[k], v) for k, v in expected.items())


def test_the_run_seed_is_recorded_and_reaches_the_training_loop(
    handed: tuple[Path, dict[str, Any], dict[str, Any]],
) -> None:
    """Mutations: ``provenance.json`` recording another seed than the run's (5); the training
    loop given another seed (its shuffling and dropout then ignore ``seed``)."""
    run, _, _ = handed
    assert json.loads((run / "provenance.json").read_text())["seed"] == 5
    saved = torch.load(run / "checkpoints" / "last.pt", weights_only=True)
    assert saved["train_config"]["seed"] == 5
