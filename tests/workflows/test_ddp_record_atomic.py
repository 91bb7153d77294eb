"""A rank's failure record (``rank<N>.json``, read by the launcher with ``json.loads``) is
written atomically: a rank killed mid-write left half a JSON document, and the launcher
stopped on a JSONDecodeError instead of saying which rank failed."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Any

import pytest

from workflows.commands.ddp_launch import FAILURES_ENV, record_rank_failure


def test_a_rank_record_cut_short_by_a_crash_is_not_left_for_the_launcher(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(FAILURES_ENV, str(tmp_path))

    def half(self: Path, data: Any, *args: Any, **kwargs: Any) -> None:
        with open(self, "w" if isinstance(data, str) else "wb") as fh:
            fh.write(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Path, "write_text", half)
    monkeypatch.setattr(Path, "write_bytes", half)
    with pytest.raises(OSError):
        record_rank_failure(1, 2, ValueError("boom"))
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == []
