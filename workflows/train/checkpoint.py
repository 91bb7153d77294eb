"""Checkpoints that load with ``torch.load(..., weights_only=True)`` and nothing else.

A checkpoint is a dict of tensors and plain Python values (numbers, strings, lists, dicts,
``None``): model, optimizer, scheduler and grad-scaler state, the epoch, every RNG state
(torch, CUDA, numpy, python; stored as tensors and ints), the early-stopping state and the
resolved config. Loading never unpickles arbitrary objects: a file that needs any other
global is refused with :class:`CheckpointError`.
"""

from __future__ import annotations

import pickle
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_with

FORMAT = "radpipe-checkpoint-1"


class CheckpointError(RadpipeError):
    """A checkpoint is missing, not a radpipe checkpoint, or would need unpickling."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus a format tag) atomically with ``torch.save``."""
    atomic_write_with(path, lambda tmp: torch.save({"format": FORMAT, **payload}, tmp))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; refuse anything that is not plain data.

    Raises
    ------
    CheckpointError
        The file is missing, is not a local file, holds pickled objects other than tensors
        and plain containers, or is not a radpipe checkpoint.
    """
    text = str(path)
    if "://" in text:
        raise CheckpointError(f"{text}: only local checkpoint files are accepted, not URLs.")
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"{path}: no such checkpoint file.")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{path}: refused; it holds objects that only a full unpickle could load "
            f"(weights_only=True said: {first})"
        ) from None
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f"{path}: not a readable checkpoint ({err}).") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a radpipe checkpoint (no format tag {FORMAT!r}).")
    return ckpt


def seed_everything(seed: int) -> None:
    """Seed python, numpy and torch (CPU and CUDA) global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def get_rng_state() -> dict[str, Any]:
    """Every global RNG state as tensors and plain values (``weights_only`` friendly)."""
    _, keys, pos, has_gauss, gauss = np.random.get_state(legacy=True)
    version, words, gauss_next = random.getstate()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "numpy": {
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "gauss": float(gauss),
        },
        "python": {
            "version": int(version),
            "words": torch.tensor(words, dtype=torch.int64),
            "gauss": gauss_next,
        },
        "cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
    }
    return state


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned."""
    torch.set_rng_state(state["torch"])
    n = state["numpy"]
    keys = n["keys"].numpy().astype(np.uint32)
    np.random.set_state(("MT19937", keys, n["pos"], n["has_gauss"], n["gauss"]))
    p = state["python"]
    random.setstate((p["version"], tuple(int(w) for w in p["words"].tolist()), p["gauss"]))
    if state["cuda"] and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])
