"""Pixel buffers a conversion reuses from file to file instead of fresh memory for each.

Fresh pages cost about 3 us each on a small VM (PERFORMANCE-NOTES.md): a 512x512 slice is 128
pages, and a series' slices are held until its volume is built, so the allocator gives most of
them back to the system in between and faults them in again for the next series. A
:class:`BufferPool` keeps the buffers instead: :meth:`BufferPool.take` hands out one of which
no view is left (an array made from it holds one), so a buffer is never written while anything
can still read it: Python refuses to resize a ``bytearray`` with views, which is the test.

The pool is used only inside :func:`reusing` (``convert`` wraps a run in it), by the thread
that entered it; elsewhere :meth:`BufferPool.take` gives a fresh buffer and keeps nothing.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np


class BufferPool:
    """Buffers by length, taken in turn; one is free when no view of it is left.

    At most ``limit_bytes`` are held; past it, free buffers are let go and new ones not kept.
    """

    def __init__(self, *, limit_bytes: int = 256 * 2**20) -> None:
        self.limit_bytes = limit_bytes
        self._local = threading.local()

    @property
    def active(self) -> bool:
        """Whether this thread is inside :func:`reusing`."""
        return getattr(self._local, "depth", 0) > 0

    def take(self, length: int) -> bytearray:
        """A writable buffer of ``length`` bytes (contents undefined), reused when one is free.

        Buffers come back in about the order they were taken (a series' slices, freed when its
        volume is written), so the oldest two are tried: O(1), whatever the pool holds.
        """
        if not self.active or not length:  # (an empty buffer has no byte to test views by)
            return bytearray(length)
        state = self._local
        held = state.held.setdefault(length, deque())
        for _ in range(min(2, len(held))):
            buf = held.popleft()
            held.append(buf)
            if _unviewed(buf):
                return buf
        buf = bytearray(length)
        if state.bytes + length > self.limit_bytes:
            self._drop_free()
        if state.bytes + length <= self.limit_bytes:
            held.append(buf)
            state.bytes += length
        return buf

    def _drop_free(self) -> None:
        """Let the free buffers go: no memory kept for sizes no longer read (another series')."""
        state = self._local
        for length, held in state.held.items():
            busy = [buf for buf in held if not _unviewed(buf)]
            state.bytes -= length * (len(held) - len(busy))
            held.clear()
            held.extend(busy)

    def enter(self) -> None:
        """Start reusing buffers (nested calls count)."""
        state = self._local
        state.depth = getattr(state, "depth", 0) + 1
        if state.depth == 1:
            state.held, state.bytes = {}, 0

    def leave(self) -> None:
        """Stop; leaving the outermost lets every buffer go (those in use live on)."""
        state = self._local
        state.depth -= 1
        if not state.depth:
            state.held, state.bytes = {}, 0


def _unviewed(buf: bytearray) -> bool:
    """Whether no view of ``buf`` is left (a memoryview, or an array made from one)."""
    try:
        buf.append(buf.pop())  # resizes (within its allocation): refused while a view exists
    except BufferError:
        return False
    return True


POOL = BufferPool()


def read_tail(fd: int, head: bytes, start: int, length: int) -> memoryview | None:
    """The last ``length`` bytes of an open file, from ``start``, in a buffer of :data:`POOL`.

    ``head``: the file's first bytes, read already (``fd`` is at their end). A read-only view,
    or ``None`` when the file does not end there (it changed since its size was taken).
    """
    if start > len(head) or len(head) > start + length:
        return None
    out = POOL.take(length)
    have = head[start:]
    out[: len(have)] = have
    done = len(have)
    while done < length and (got := os.readv(fd, [memoryview(out)[done:]])):
        done += got
    if done != length or os.read(fd, 1):
        return None
    return memoryview(out).toreadonly()


def empty(shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """``numpy.empty``, in a buffer of :data:`POOL` while it is in use."""
    if not POOL.active:
        return np.empty(shape, dtype)
    kind = np.dtype(dtype)
    count = int(np.prod(shape, dtype=np.int64))
    return np.frombuffer(POOL.take(count * kind.itemsize), kind, count).reshape(shape)


@contextmanager
def reusing(pool: BufferPool = POOL) -> Iterator[BufferPool]:
    """Reuse ``pool``'s buffers inside (this thread only)."""
    pool.enter()
    try:
        yield pool
    finally:
        pool.leave()


__all__ = ["POOL", "BufferPool", "empty", "read_tail", "reusing"]
