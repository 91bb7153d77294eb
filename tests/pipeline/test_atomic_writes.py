"""Atomic writes: temporary names of dot files, and a failed write naming its output.

The temporary is ``.<stem>.<token>.tmp<suffixes>`` beside the target (pipeline.io_atomic).
"""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

from pipeline.io_atomic import atomic_path


def test_a_dot_files_temporary_keeps_its_whole_name(tmp_path: Path) -> None:
    # ".hidden" has no suffix: its stem is the whole name, not "" before a suffix "hidden"
    with atomic_path(tmp_path / ".hidden") as tmp:
        assert tmp.name.startswith("..hidden.") and tmp.name.endswith(".tmp")
        tmp.write_bytes(b"x")
    assert (tmp_path / ".hidden").read_bytes() == b"x"


def test_a_disk_error_names_the_output_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out.npy"
    with pytest.raises(OSError) as caught, atomic_path(target) as tmp:
        tmp.write_bytes(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")  # a write names no file
    assert caught.value.filename == str(target)
    assert list(tmp_path.iterdir()) == []
