"""Loading checkpoints: what is refused and why, and the random states restored.

Files are written with ``torch.save`` here, as another tool or an older run would write them.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from workflows.train.checkpoint import (
    FORMAT,
    CheckpointError,
    get_rng_state,
    load_checkpoint,
    set_rng_state,
)


class Pickled:
    """An object only a full unpickle can load."""


def test_a_file_without_the_format_tag_is_refused(tmp_path: Path) -> None:
    torch.save({"model": {"w": torch.zeros(1)}}, tmp_path / "a.pt")
    with pytest.raises(CheckpointError, match="not a radpipe checkpoint"):
        load_checkpoint(tmp_path / "a.pt")


def test_a_file_holding_other_objects_is_refused_unloaded(tmp_path: Path) -> None:
    torch.save({"format": FORMAT, "extra": Pickled()}, tmp_path / "a.pt")
    with pytest.raises(
        CheckpointError, match="refused; it holds objects that only a full unpickle"
    ):
        load_checkpoint(tmp_path / "a.pt")


def test_a_url_is_refused_as_such() -> None:
    with pytest.raises(CheckpointError, match="only local checkpoint files are accepted"):
        load_checkpoint("https://example.org/best.pt")


def test_every_random_state_is_restored() -> None:
    state = get_rng_state()
    first = (np.random.random(), random.random(), torch.rand(1).item())
    set_rng_state(state)
    assert (np.random.random(), random.random(), torch.rand(1).item()) == first
