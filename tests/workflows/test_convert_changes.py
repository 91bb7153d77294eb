"""A rerun of ``radpipe convert`` converts afresh every file changed since it was converted
(size, mtime, ctime and inode, as git's index sees a rewrite), drops the outputs of files that
are gone, and keeps every untouched file's outputs as they are."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file

from tests.workflows.test_convert_robust import _ct
from workflows.convert import batch, tasks
from workflows.convert.batch import ConvertOptions, convert_folder

ROOT = Path(__file__).parents[2]
SERIES = "1.2.826.0.1.3680043.8.498.501"
OTHER = "1.2.826.0.1.3680043.8.498.502"
NPY = ConvertOptions(format="npy")
PER_SERIES = ConvertOptions(format="npy", per="series")


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _slice(path: Path, value: int, z: int, series: str = SERIES) -> Path:
    """A 4x4 CT slice of stored value ``value`` (no rescale: modality value ``value``)."""
    return _ct(path, value, sop=f"{series}.{z + 1}", series=series, z=float(z))


def _rewrite(path: Path, value: int, z: int, series: str = SERIES) -> None:
    """New pixels in place, with the size and the modification time of the old file."""
    before = path.stat()
    _slice(path, value, z, series)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)


def _outputs(out: Path) -> dict[str, bytes]:
    """The output of each source (per instance: one frame each)."""
    return {r["source"]: (out / r["output"]).read_bytes() for r in _rows(out / "manifest.csv")}


def _cli(src: Path, out: Path, *extra: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet",
           "--format", "npy", *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return done.stdout.splitlines()


def test_changed_file_converts_afresh_untouched_rerun_converts_nothing(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 7, 0)
    _slice(src / "b.dcm", 3, 1)
    lines = _cli(src, out)
    assert "(2 converted, 0 already done)" in lines[0]
    first = _outputs(out)
    manifest = (out / "manifest.csv").read_bytes()
    b_time = (out / _rows(out / "manifest.csv")[1]["output"]).stat().st_mtime_ns

    lines = _cli(src, out)  # untouched: nothing converted, every byte the same
    assert "(0 converted, 2 already done)" in lines[0] and len(lines) == 1, lines
    assert _outputs(out) == first and (out / "manifest.csv").read_bytes() == manifest

    _rewrite(src / "a.dcm", 9, 0)
    lines = _cli(src, out)
    assert "(1 converted, 1 already done)" in lines[0]
    assert (
        "1 file changed since the last run converted them: converted again (their size, "
        "modification or status-change time or inode differ: a copy or chmod counts, as files "
        "are not read to tell)"
    ) in lines
    rows = {r["source"]: r for r in _rows(out / "manifest.csv")}
    np.testing.assert_array_equal(np.load(out / rows["a.dcm"]["output"]), np.full((4, 4), 9.0))
    assert _outputs(out)["b.dcm"] == first["b.dcm"]
    assert (out / rows["b.dcm"]["output"]).stat().st_mtime_ns == b_time  # not rewritten


def test_replaced_file_of_the_same_name_converts_afresh(tmp_path: Path) -> None:
    """Another file moved over the old one (a new inode), size and mtime as before."""
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 7, 0)
    convert_folder(src, out, NPY, progress=False)
    old = out / _rows(out / "manifest.csv")[0]["output"]
    before = (src / "a.dcm").stat()
    _slice(tmp_path / "new.dcm", 4, 0)
    os.utime(tmp_path / "new.dcm", ns=(before.st_atime_ns, before.st_mtime_ns))
    os.replace(tmp_path / "new.dcm", src / "a.dcm")
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.converted, again.skipped, again.changed) == (1, 0, 1)
    np.testing.assert_array_equal(np.load(old), np.full((4, 4), 4.0))


def test_removed_file_outputs_leave_manifest_and_disk(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 7, 0)
    _slice(src / "b.dcm", 3, 1)
    convert_folder(src, out, NPY, progress=False)
    gone = {r["source"]: r["output"] for r in _rows(out / "manifest.csv")}["b.dcm"]
    (src / "b.dcm").unlink()
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.converted, again.skipped, again.removed, again.changed) == (0, 1, 1, 0)
    assert [r["source"] for r in _rows(out / "manifest.csv")] == ["a.dcm"]
    assert not (out / gone).exists()
    assert [r["source"] for r in _rows(out / ".source-stat.csv")] == ["a.dcm"]


def test_failed_file_is_retried_and_converts_once_fixed(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _slice(src / "a.dcm", 7, 0)
    bad = _slice(src / "b.dcm", 3, 1)
    bad.write_bytes(bad.read_bytes()[:-20])  # truncated pixel data
    first = convert_folder(src, out, NPY, progress=False)
    assert [r["source"] for r in _rows(out / "errors.csv")] == ["b.dcm"]
    assert first.exit_code == 1
    _slice(bad, 5, 1)  # fixed
    again = convert_folder(src, out, NPY, progress=False)
    assert (again.converted, again.skipped, again.exit_code) == (1, 1, 0)
    assert _rows(out / "errors.csv") == []
    row = {r["source"]: r for r in _rows(out / "manifest.csv")}["b.dcm"]
    np.testing.assert_array_equal(np.load(out / row["output"]), np.full((4, 4), 5.0))


def test_series_with_one_changed_slice_is_assembled_again(tmp_path: Path) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    for z in range(3):  # slice k holds k + 1
        _slice(src / f"s{z}.dcm", z + 1, z)
        _slice(src / f"o{z}.dcm", 20, z, series=OTHER)
    first = convert_folder(src, out, PER_SERIES, progress=False)
    assert first.converted == 2
    volumes = {r["series_key"]: out / r["output"] for r in _rows(out / "manifest.csv")}
    other = {k: (p.read_bytes(), p.stat().st_mtime_ns) for k, p in volumes.items()}

    untouched = convert_folder(src, out, PER_SERIES, progress=False)
    assert (untouched.converted, untouched.skipped, untouched.changed) == (0, 2, 0)
    assert {k: (p.read_bytes(), p.stat().st_mtime_ns) for k, p in volumes.items()} == other

    _rewrite(src / "s1.dcm", 5, 1)
    again = convert_folder(src, out, PER_SERIES, progress=False)
    assert (again.converted, again.skipped, again.changed) == (1, 1, 1)
    expected = np.stack([np.full((4, 4), v) for v in (1, 5, 3)])  # (D, H, W)
    changed = [k for k in volumes if (volumes[k].read_bytes(), volumes[k].stat().st_mtime_ns)
               != other[k]]  # fmt: skip
    assert len(changed) == 1
    np.testing.assert_array_equal(np.load(volumes[changed[0]]), expected)


def killed_after_one_task(src: Path, out: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Convert ``src`` into ``out`` (npy), killed (``KeyboardInterrupt``) as the second task
    starts, every result flushed at once; returns the task ids started."""
    monkeypatch.setattr(batch, "_FLUSH_SECONDS", 0.0)
    real = tasks.run_task
    calls: list[str] = []

    def run_task(task: tasks.ConvertTask, options: ConvertOptions) -> tasks.TaskResult:
        calls.append(task.task_id)
        if len(calls) > 1:
            raise KeyboardInterrupt  # as a kill after the first task
        return real(task, options)

    monkeypatch.setattr(batch, "run_task", run_task)
    with pytest.raises(KeyboardInterrupt):
        convert_folder(src, out, NPY, progress=False)
    monkeypatch.setattr(batch, "run_task", real)
    return calls


def test_kill_mid_run_keeps_what_was_flushed_and_redoes_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rerun after a kill: a changed file converted and flushed before the kill is kept (its
    facts were flushed after its rows); a changed one not reached is converted then."""
    src, out = tmp_path / "src", tmp_path / "out"
    for z, name in enumerate("abc"):
        _slice(src / f"{name}.dcm", 1, z)
    convert_folder(src, out, NPY, progress=False)
    _rewrite(src / "a.dcm", 6, 0)
    _rewrite(src / "b.dcm", 8, 1)
    calls = killed_after_one_task(src, out, monkeypatch)
    again = convert_folder(src, out, NPY, progress=False)
    assert calls == ["a.dcm", "b.dcm"]
    assert (again.converted, again.skipped, again.changed) == (1, 2, 1)
    rows = {r["source"]: r["output"] for r in _rows(out / "manifest.csv")}
    values = {s: float(np.load(out / o)[0, 0]) for s, o in rows.items()}
    assert values == {"a.dcm": 6.0, "b.dcm": 8.0, "c.dcm": 1.0}


def test_outputs_of_deleted_files_take_their_emptied_folders_with_them(tmp_path: Path) -> None:
    """OUT/<patient_key>/<series_key>/ of a series whose files are all gone was left empty;
    the folders emptied are removed, up to but never OUT itself (and a folder the user made
    in OUT, empty or not, is kept)."""
    src, out = tmp_path / "src", tmp_path / "out"
    _ct(src / "a.dcm", 7, series=SERIES)
    _ct(src / "b.dcm", 3, series=OTHER)
    (out / "mine").mkdir(parents=True)  # the user's own, empty
    _cli(src, out)
    folders = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir()}
    patient = {f for f in folders if "/" not in f} - {"mine"}
    assert len(patient) == 1 and len(folders) == 4  # mine, patient, its two series
    (src / "b.dcm").unlink()
    _cli(src, out)
    left = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_dir()}
    (row,) = _rows(out / "manifest.csv")
    assert left == {"mine", *patient, str(Path(row["output"]).parent.as_posix())}
    (src / "a.dcm").unlink()
    # a SRC without any file is refused before anything is done (test_convert_empty_source):
    # a plan, skipped as no image, keeps it from being empty
    plan = Path(str(get_testdata_file("rtplan.dcm")))
    (src / "rtplan.dcm").write_bytes(plan.read_bytes())
    _cli(src, out)
    assert out.is_dir() and [p.name for p in out.iterdir() if p.is_dir()] == ["mine"]
