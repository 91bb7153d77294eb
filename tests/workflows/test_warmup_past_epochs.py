"""A warm-up as long as the run is said.

``radpipe run configs/xray_classify.yaml --set train.epochs=2`` (a quick try of a shipped
config with ``warmup_epochs: 3``) trained every epoch on the linear ramp, ending at half of
``train.lr``, the cosine schedule never started, and nothing was said. The learning rates
below are worked out by hand: epoch ``e`` of a ramp of ``w`` epochs runs at ``lr * e / (w + 1)``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.runner.conftest import radpipe_in as _cli
from tests.workflows.test_class_name_shared import _study


@pytest.mark.parametrize(
    ("warmup", "lrs", "said"),
    [
        (3, [0.0025, 0.005], "train.warmup_epochs 3 is not below train.epochs 2: the learning "
         "rate ramps up for the whole run and ends at 0.005, below train.lr 0.01; the cosine "
         "schedule never starts. Set warmup_epochs below epochs (0: no ramp)."),
        (1, [0.005, 0.01], None),
    ],
)  # fmt: skip
def test_warmup_not_below_epochs_is_said(
    tmp_path: Path, warmup: int, lrs: list[float], said: str | None
) -> None:
    _study(tmp_path, slipped=False)
    settings = ["train.epochs=2", "train.lr=0.01", "train.schedule=cosine",
                f"train.warmup_epochs={warmup}"]  # fmt: skip
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet", *(a for s in settings for a in ("--set", s)))
    assert proc.returncode == 0, proc.stderr
    (log,) = (tmp_path / "runs").glob("*/log.jsonl")
    epochs = [json.loads(line) for line in log.read_text().splitlines()]
    assert [e["lr"] for e in epochs] == pytest.approx(lrs)
    if said is None:
        assert "warmup_epochs" not in proc.stderr
    else:
        assert f"radpipe: {said}" in proc.stderr


def test_a_cross_validation_says_the_settings_once(tmp_path: Path) -> None:
    """Each fold trains with the run's one config: its warnings were said once per fold
    (twice here) until 2026-12-04."""
    _study(tmp_path, slipped=False)
    settings = ["train.epochs=2", "train.warmup_epochs=3", "train.min_epochs=5",
                "split.folds=2"]  # fmt: skip
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet", *(a for s in settings for a in ("--set", s)))
    assert proc.returncode == 0, proc.stderr
    assert len(list((tmp_path / "runs").glob("*/folds/fold-1/log.jsonl"))) == 1  # both trained
    assert proc.stderr.count("radpipe: train.warmup_epochs 3 is not below train.epochs 2") == 1
    assert proc.stderr.count("radpipe: train.min_epochs 5 is above train.epochs 2") == 1
