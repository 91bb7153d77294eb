"""Files a run copies into place (the index into RUN/, the run's classes into an external
evaluation's folder) are copied atomically: a crash mid-copy leaves no half file under the
final name (``shutil.copyfile`` wrote straight into it)."""

from __future__ import annotations

import errno
import shutil
from pathlib import Path
from typing import Any

import pytest

from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.external import evaluate_external
from workflows.run.runner import run_study


def _half_copy(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """``shutil.copyfile`` of a file called ``name`` writes half of it, then fails."""
    real = shutil.copyfile

    def half(src: Any, dst: Any, **kwargs: Any) -> Any:
        if Path(src).name != name:
            return real(src, dst, **kwargs)
        data = Path(src).read_bytes()
        Path(dst).write_bytes(data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(shutil, "copyfile", half)


def test_a_crash_copying_the_index_into_the_run_leaves_no_half_index(
    cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _half_copy(monkeypatch, "index.csv")
    with pytest.raises(OSError):
        run_study(validate_config(base_config(cr16, tmp_path / "runs")), progress=False)
    (run_dir,) = (p for p in (tmp_path / "runs").iterdir() if not p.name.startswith("."))
    assert not (run_dir / "index.csv").exists()
    assert not [p.name for p in run_dir.iterdir() if p.name.startswith(".index")]


def test_a_crash_copying_the_runs_classes_leaves_no_half_file(
    cr_run: Path, cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert (cr_run / "classes.json").is_file()
    _half_copy(monkeypatch, "classes.json")
    out = tmp_path / "ext"
    with pytest.raises(OSError):
        evaluate_external(cr_run, cr16 / "dicom", cr16 / "labels.csv", out=out, progress=False)
    assert sorted(p.name for p in out.iterdir() if "classes" in p.name) == []
