"""The truth masks a run writes for itself (a DICOM SEG's masks as NPY, NIfTI masks put on
their images' grids) are written atomically: a crash mid-write leaves the previous file whole
and no partial file under the final name (they were written with ``np.save`` straight into
place), and their tables name the masks relative to the table, not by absolute path.
"""

from __future__ import annotations

import csv
import errno
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.runner.conftest import seg_config
from tests.runner.test_volume_mask_grids import _volumes
from workflows.run.config import validate_config
from workflows.run.seg_rows import _write
from workflows.run.study import prepare_study
from workflows.run.truth_rows import FILE_COLUMN, LINE_COLUMN


def _crash_mid_write(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every array writer writes half its bytes, then fails as a full disk does."""

    def half_save(file: Any, arr: Any, *args: Any, **kwargs: Any) -> None:
        with open(file, "wb") as fh:
            fh.write(np.asarray(arr).tobytes()[: np.asarray(arr).nbytes // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    def half_write_all(fd: int, *chunks: Any) -> None:
        os.write(fd, b"".join(bytes(memoryview(c).cast("B")) for c in chunks)[:40])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", half_save)
    monkeypatch.setattr("pipeline.writers.write_all", half_write_all)


def _seg_table() -> list[dict[str, str]]:
    return [{"_key": "1.2.3|0", "instance_key": "k", "frame": "0", "mask": "",
             FILE_COLUMN: "s.dcm", LINE_COLUMN: "2"}]  # fmt: skip


def test_a_crash_writing_a_segs_mask_leaves_the_previous_mask_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = np.array([[0, 1], [2, 0]], np.uint8)
    found = {("1.2.3", 0): (first, "s.dcm", 2)}
    table = _write(tmp_path, _seg_table(), found)
    (npy,) = (tmp_path / "masks_from_seg").iterdir()
    with table.open(newline="") as fh:
        assert next(csv.DictReader(fh))["mask"] == f"masks_from_seg/{npy.name}"
    _crash_mid_write(monkeypatch)
    with pytest.raises(OSError):
        _write(tmp_path, _seg_table(), {("1.2.3", 0): (first * 3, "s.dcm", 2)})
    monkeypatch.undo()
    assert [p.name for p in (tmp_path / "masks_from_seg").iterdir()] == [npy.name]
    got = np.load(npy)
    assert got.dtype == np.uint8 and np.array_equal(got, first)


def _nifti_config(study: Path, tmp_path: Path) -> Any:
    """A run over ``study`` whose masks are one NIfTI volume per series."""
    raw = seg_config(study, tmp_path / "out", [])
    raw["data"]["masks"] = str(_volumes(study, tmp_path / "truth", lps=False))
    return validate_config(raw)


def test_a_crash_putting_nifti_masks_on_their_images_leaves_no_partial_mask(
    mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _nifti_config(mr_seg, tmp_path)
    for name in ("first", "run"):
        (tmp_path / name).mkdir()
    prepare_study(config, tmp_path / "first", progress=False)  # converted once
    _crash_mid_write(monkeypatch)
    with pytest.raises(OSError):
        prepare_study(config, tmp_path / "run", progress=False)
    monkeypatch.undo()
    placed = tmp_path / "run" / "truth" / "masks_on_images"
    assert [p.name for p in placed.iterdir()] == []  # no partial file, no temporary


def test_the_table_of_masks_put_on_images_names_them_relative_to_itself(
    mr_seg: Path, tmp_path: Path
) -> None:
    (tmp_path / "run").mkdir()
    prepare_study(_nifti_config(mr_seg, tmp_path), tmp_path / "run", progress=False)
    table = tmp_path / "run" / "truth" / "masks_on_images.csv"
    text = table.read_text()
    assert str(tmp_path) not in text
    with table.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == 24
    assert all(r["mask"].startswith("masks_on_images/") for r in rows)
    assert all((table.parent / r["mask"]).is_file() for r in rows)
