"""Checkpoints that load with ``torch.load(..., weights_only=True)`` and nothing else.

A checkpoint is a dict of tensors and plain Python values (numbers, strings, lists, dicts,
``None``): model, optimizer, scheduler and grad-scaler state, the epoch, every RNG state
(torch, CUDA, numpy, python; stored as tensors and ints), the early-stopping state and the
resolved config. Loading never unpickles arbitrary objects: a file that needs any other
global is refused with :class:`CheckpointError`.
"""

from __future__ import annotations

import io
import pickle
import random
import threading
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import torch

from pipeline.errors import RadpipeError
from pipeline.io_atomic import atomic_write_bytes, atomic_write_with

FORMAT = "radpipe-checkpoint-1"


class CheckpointError(RadpipeError):
    """A checkpoint is missing, not a radpipe checkpoint, or would need unpickling."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus a format tag) atomically with ``torch.save``."""
    atomic_write_with(path, lambda tmp: torch.save({"format": FORMAT, **payload}, tmp))


class CheckpointWriter:
    """Writes checkpoints on a background thread, off the training loop's hot path.

    :meth:`submit` copies the payload's tensors (a memory copy, so training may go on
    changing the live ones) and returns; the thread serialises the copy once and writes it
    atomically to every path given (``best.pt`` and ``last.pt`` of one epoch share one
    serialisation). At most one write is in flight: a second :meth:`submit` first waits for
    the previous one. :meth:`wait` (or leaving the ``with`` block) blocks until the files
    are on disk and re-raises any error the thread met.
    """

    def __init__(self) -> None:
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None

    def submit(self, paths: list[Path], payload: dict[str, Any]) -> None:
        """Queue ``payload`` (plus the format tag) for writing to each of ``paths``."""
        self.wait()
        if not paths:
            return
        snapshot = {"format": FORMAT, **_detached_copy(payload)}
        self._thread = threading.Thread(
            target=self._write, args=(list(paths), snapshot), name="checkpoint-writer"
        )
        self._thread.start()

    def _write(self, paths: list[Path], payload: dict[str, Any]) -> None:
        try:
            buf = io.BytesIO()
            torch.save(payload, buf)
            data = buf.getvalue()
            for path in paths:
                atomic_write_bytes(path, data)
        except BaseException as err:  # re-raised in the training thread by wait()
            self._error = err

    def wait(self) -> None:
        """Block until the pending write (if any) is done; re-raise its error."""
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            err, self._error = self._error, None
            raise err

    def __enter__(self) -> CheckpointWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.wait()
        elif self._thread is not None:  # finish the files, keep the original error
            self._thread.join()
            self._thread = None


def _detached_copy(value: Any) -> Any:
    """``value`` with every tensor replaced by a CPU copy (containers rebuilt)."""
    if isinstance(value, torch.Tensor):
        return value.detach().to("cpu", copy=True)
    if isinstance(value, dict):
        return {k: _detached_copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_detached_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_detached_copy(v) for v in value)
    return value


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
