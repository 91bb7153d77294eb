"""``write_all`` writes every byte in order: through short writes (a file system may write
less than asked) and without ``os.writev`` (not on every platform). The expected bytes are
``np.save``'s."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest

from pipeline.writers import write_npy


def _saved(array: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_short_writes_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    real = os.writev

    def at_most_7_bytes(fd: int, buffers: list[memoryview]) -> int:
        return real(fd, [bytes(buffers[0])[:7]])

    monkeypatch.setattr(os, "writev", at_most_7_bytes)
    array = np.arange(30, dtype=np.float32).reshape(5, 6)
    write_npy(tmp_path / "a.npy", array)
    assert (tmp_path / "a.npy").read_bytes() == _saved(array)


def test_without_writev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(os, "writev")
    array = np.arange(12, dtype=np.float32).reshape(3, 4)
    write_npy(tmp_path / "b.npy", array)
    assert (tmp_path / "b.npy").read_bytes() == _saved(array)
