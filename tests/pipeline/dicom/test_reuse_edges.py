"""Edges of :class:`pipeline.dicom.reuse.BufferPool` and :func:`read_tail`: which buffer is
handed out, what leaving lets go, and that a refused read leaves the pool's buffers whole."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from pipeline.dicom import reuse


def test_the_second_oldest_buffer_is_taken_when_the_oldest_is_viewed() -> None:
    pool = reuse.BufferPool()
    with reuse.reusing(pool):
        a = pool.take(64)
        view = memoryview(a)
        b = pool.take(64)  # a has a view: a fresh buffer, kept after it
        assert b is not a
        assert pool.take(64) is b  # a still has a view; b, the next in turn, is free
        view.release()


def test_leaving_lets_every_buffer_go() -> None:
    pool = reuse.BufferPool()
    with reuse.reusing(pool):
        buf = pool.take(64)
        held = sys.getrefcount(buf)
    assert sys.getrefcount(buf) == held - 1  # the pool's reference is gone


def test_a_head_past_the_end_is_refused_and_the_pool_keeps_its_lengths(tmp_path: Path) -> None:
    """A head longer than ``start + length`` (the file is not where its size said): ``None``,
    and no buffer of the pool grows to take it."""
    data = bytes(range(20))
    (tmp_path / "empty").write_bytes(b"")
    (tmp_path / "tail").write_bytes(data[18:])  # what is left to read after the head
    pool = reuse.POOL
    with reuse.reusing(), (tmp_path / "empty").open("rb") as empty:
        assert reuse.read_tail(empty.fileno(), data, 10, 8) is None
        assert [len(pool.take(8)) for _ in range(3)] == [8, 8, 8]
        with (tmp_path / "tail").open("rb") as fh:
            found = reuse.read_tail(fh.fileno(), data[:18], 10, 10)
        assert found is not None and bytes(found) == data[10:]


def test_a_nested_reusing_keeps_the_outer_ones_buffers() -> None:
    pool = reuse.BufferPool()
    with reuse.reusing(pool):
        a = pool.take(64)
        with reuse.reusing(pool):
            assert pool.take(64) is a
        assert pool.active and pool.take(64) is a


def test_an_empty_array_is_made_in_a_buffer_of_its_size_and_reused() -> None:
    with reuse.reusing():
        array = reuse.empty((2, 3), np.int16)
        buf: object = array
        while not isinstance(buf, bytearray):  # array -> frombuffer's array -> view -> bytes
            buf = buf.base if isinstance(buf, np.ndarray) else buf.obj  # type: ignore[attr-defined]
        assert isinstance(buf, bytearray) and len(buf) == 12
        del array
        assert reuse.POOL.take(12) is buf
