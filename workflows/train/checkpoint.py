"""Checkpoints that load with ``torch.load(..., weights_only=True)`` and nothing else.

A checkpoint is a dict of tensors and plain Python values (numbers, strings, lists, dicts,
``None``): model, optimizer, scheduler and grad-scaler state, the epoch, every RNG state
(torch, CUDA, numpy, python; stored as tensors and ints), the early-stopping state and the
resolved config. Loading never unpickles arbitrary objects: a file that needs any other
global is refused with :class:`CheckpointError`.
"""

from __future__ import annotations

import io
import logging
import pickle
import random
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import torch

from pipeline.errors import RadpipeError
from pipeline.interrupts import held_interrupts
from pipeline.io_atomic import atomic_write_bytes, atomic_write_with

FORMAT = "radpipe-checkpoint-1"

log = logging.getLogger("radpipe")


class CheckpointError(RadpipeError):
    """A checkpoint is missing, not a radpipe checkpoint, or would need unpickling."""


def save_checkpoint(path: str | Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` (plus a format tag) atomically with ``torch.save``."""
    atomic_write_with(path, lambda tmp: torch.save({"format": FORMAT, **payload}, tmp))


class CheckpointWriter:
    """Writes checkpoints on a background thread, off the training loop's hot path, and at
    most every ``interval_s`` seconds.

    :meth:`submit` copies the payload's tensors (a memory copy, so training may go on
    changing the live ones) and holds the copy as the newest state for each path given.
    The held copies are written when ``interval_s`` seconds have passed since the last write
    (``0``: at once, every time), when :meth:`submit` is called with ``final=True``, by
    :meth:`flush`, and when the ``with`` block is left, also on an error: a run stopped by
    an exception keeps the state of its last finished epoch. A thread serialises each copy
    once and writes it atomically to its paths in the order given (``best.pt`` and ``last.pt``
    of one epoch share one serialisation), older copies first, so ``best.pt`` is never
    behind the best epoch that ``last.pt`` records. At most one write is in flight.
    :meth:`wait` blocks until the write in flight (if any) is on disk and re-raises any
    error the thread met.
    """

    def __init__(self, interval_s: float = 0.0) -> None:
        self.interval_s = interval_s
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self._held: dict[Path, tuple[int, dict[str, Any]]] = {}  # path -> (order, copy)
        self._count = 0
        self._written_at = time.monotonic()

    def submit(self, paths: list[Path], payload: dict[str, Any], *, final: bool = False) -> None:
        """Hold ``payload`` (plus the format tag) as the newest state for each of ``paths``;
        start writing what is held if ``final`` or the interval has passed."""
        if paths:
            self._count += 1
            snapshot = (self._count, {"format": FORMAT, **_detached_copy(payload)})
            for path in paths:  # re-inserted: a state's files are written in the order given
                self._held.pop(Path(path), None)  # (best.pt before last.pt; a held last.pt
                self._held[Path(path)] = snapshot  # key would otherwise keep its old place)
        if final or time.monotonic() - self._written_at >= self.interval_s:
            self._start()

    def flush(self) -> None:
        """Write everything held now and block until it is on disk."""
        self._start()
        self.wait()

    def _start(self) -> None:
        self.wait()  # one write in flight at a time
        if not self._held:
            return
        groups: dict[int, tuple[dict[str, Any], list[Path]]] = {}
        for path, (order, snapshot) in self._held.items():
            groups.setdefault(order, (snapshot, []))[1].append(path)
        self._held = {}
        self._written_at = time.monotonic()
        jobs = [groups[order] for order in sorted(groups)]  # older states first
        self._thread = threading.Thread(target=self._write, args=(jobs,), name="checkpoint-writer")
        self._thread.start()

    def _write(self, jobs: list[tuple[dict[str, Any], list[Path]]]) -> None:
        try:
            for payload, paths in jobs:
                buf = io.BytesIO()
                torch.save(payload, buf)
                data = buf.getvalue()
                for path in paths:
                    atomic_write_bytes(path, data)
        except BaseException as err:  # re-raised in the training thread by wait()
            self._error = err

    def wait(self) -> None:
        """Block until the write in flight (if any) is done; re-raise its error."""
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
            self.flush()
            return
        with held_interrupts():  # a second Ctrl-C waits: the last finished epoch is written
            try:  # an earlier write's error: reported here, the held states are still written
                self.wait()
            except Exception as err:
                log.warning("A checkpoint write failed before the run stopped: %s", err)
            try:  # write the last finished epoch's state, then let the original error go on
                self.flush()
            except Exception as err:
                log.warning("Could not write the held checkpoints after an error: %s", err)


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


def checkpoint_name(path: Path) -> str:
    """``path`` as error messages show it: relative to the working directory when it lies below
    it, else its last three parts (``fold-1/checkpoints/best.pt``): no absolute local path."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except (ValueError, OSError):
        return Path(*path.parts[1:][-3:]).as_posix() if path.is_absolute() else path.as_posix()


def load_checkpoint(
    path: str | Path, map_location: str | torch.device = "cpu", name: str | None = None
) -> dict[str, Any]:
    """Load a checkpoint with ``weights_only=True``; refuse anything that is not plain data.

    ``name`` is how errors name the file (default :func:`checkpoint_name`).

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
    name = name or checkpoint_name(path)
    if not path.is_file():
        raise CheckpointError(f"{name}: no such checkpoint file.")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise CheckpointError(
            f"{name}: refused; it holds objects that only a full unpickle could load "
            f"(weights_only=True said: {first})"
        ) from None
    except (RuntimeError, EOFError, OSError) as err:
        raise CheckpointError(f"{name}: not a readable checkpoint, cut short or damaged (torch "
                              f"said: {err}); restore it from a copy.") from None  # fmt: skip
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT:
        raise CheckpointError(f"{name}: not a radpipe checkpoint (no format tag {FORMAT!r}).")
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
