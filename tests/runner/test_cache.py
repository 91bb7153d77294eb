"""The shared conversion cache (issue 13, item 6): one run converts at a time (filelock), a
cache is reused only when it agrees with its manifest, the radpipe version is part of its key,
failures are still reported on reuse, and run directories made in the same second differ."""

from __future__ import annotations

import logging
import shutil
import threading
import time
from pathlib import Path

import pytest
from filelock import FileLock

from tests.runner.conftest import base_config, read_rows
from workflows.run import convert_cache, rundir
from workflows.run.config import validate_config
from workflows.run.study import Study, cache_problem, prepare_study


def _prepare(source: Path, labels: Path, output: Path, run: Path) -> Study:
    run.mkdir(parents=True, exist_ok=True)
    raw = base_config(source.parent, output)
    raw["data"] |= {"source": str(source), "labels": str(labels)}
    return prepare_study(validate_config(raw), run, progress=False)


@pytest.fixture
def fresh(cr16: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the CR study plus one file that is not DICOM (one conversion failure)."""
    source = tmp_path / "src"
    shutil.copytree(cr16 / "dicom", source)
    (source / "broken.dcm").write_bytes(b"not a DICOM file" * 10)
    return source, cr16 / "labels.csv"


def test_a_file_rewritten_with_size_and_mtime_kept_converts_afresh(
    fresh: tuple[Path, Path], tmp_path: Path
) -> None:
    """Pixels changed in place, size and mtime restored (as ``cp -p`` or ``rsync -a`` over a
    changed file leave it): the fingerprint sees the new ctime, so the run converts again;
    an untouched folder reuses its cache."""
    import os

    import numpy as np

    source, labels = fresh
    out = tmp_path / "out"
    first = _prepare(source, labels, out, tmp_path / "r1")
    again = _prepare(source, labels, out, tmp_path / "r2")
    assert again.reused_conversion and again.root == first.root  # untouched: reused
    row = next(r for r in read_rows(first.root / "manifest.csv") if r["source"] != "broken.dcm")
    path = source / row["source"]
    before, st = np.load(first.root / row["output"]), path.stat()
    data = bytearray(path.read_bytes())
    data[-2:] = bytes(255 - b for b in data[-2:])  # the last stored value: another pixel
    time.sleep(0.01)  # the rewrite gets a later ctime than the first conversion saw
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert (path.stat().st_size, path.stat().st_mtime_ns) == (st.st_size, st.st_mtime_ns)
    third = _prepare(source, labels, out, tmp_path / "r3")
    assert not third.reused_conversion and third.root != first.root
    after = np.load(third.root / row["output"])
    assert np.count_nonzero(after != before) == 1  # just the rewritten pixel
    fourth = _prepare(source, labels, out, tmp_path / "r4")
    assert fourth.reused_conversion and fourth.root == third.root


def test_cache_is_reused_only_when_it_matches_its_manifest(
    fresh: tuple[Path, Path], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    source, labels = fresh
    out = tmp_path / "out"
    first = _prepare(source, labels, out, tmp_path / "r1")
    assert not first.reused_conversion and len(first.failures) == 1
    again = _prepare(source, labels, out, tmp_path / "r2")
    assert again.reused_conversion and again.root == first.root
    assert [f[0] for f in again.failures] == ["broken.dcm"]  # still reported on reuse
    # One output lost (a run killed mid-write, another run's cleanup): not reused, repaired.
    rows = read_rows(first.root / "manifest.csv")
    assert len(rows) == 16
    (first.root / rows[3]["output"]).unlink()
    assert (
        cache_problem(first.root) == f"1 of 16 output files are missing (e.g. {rows[3]['output']})"
    )
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        third = _prepare(source, labels, out, tmp_path / "r3")
    assert not third.reused_conversion and (first.root / rows[3]["output"]).is_file()
    assert "1 of 16 output files are missing" in caplog.text
    assert cache_problem(first.root) is None
    # A manifest that lost a row no longer matches the .complete mark.
    text = (first.root / "manifest.csv").read_text().splitlines(keepends=True)
    (first.root / "manifest.csv").write_text("".join(text[:-1]))
    assert cache_problem(first.root) == "manifest.csv lists 15 outputs, the conversion made 16"
    # An errors.csv that lost its row: reused, the run would say no file failed (and exit 0).
    (first.root / "manifest.csv").write_text("".join(text))
    errors = first.root / "errors.csv"
    errors.write_text(errors.read_text().splitlines(keepends=True)[0])  # the header alone
    assert cache_problem(first.root) == "errors.csv lists 0 failures, the conversion had 1"


def test_the_radpipe_version_is_part_of_the_cache_key(
    cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    first = _prepare(cr16 / "dicom", cr16 / "labels.csv", out, tmp_path / "r1")
    monkeypatch.setattr(convert_cache, "radpipe_version", lambda: "99.0")
    other = _prepare(cr16 / "dicom", cr16 / "labels.csv", out, tmp_path / "r2")
    assert not other.reused_conversion and other.root != first.root


def test_a_second_run_waits_for_the_one_converting(
    cr16: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    out = tmp_path / "out"
    first = _prepare(cr16 / "dicom", cr16 / "labels.csv", out, tmp_path / "r1")
    (first.root / ".complete").unlink()  # as if a run were still converting
    lock = FileLock(first.root.with_name(first.root.name + ".lock"))
    lock.acquire()
    got: list[Study] = []
    with caplog.at_level(logging.INFO, logger="radpipe"):
        worker = threading.Thread(
            target=lambda: got.append(
                _prepare(cr16 / "dicom", cr16 / "labels.csv", out, tmp_path / "r2")
            )
        )
        worker.start()
        deadline = time.monotonic() + 60  # the line comes after a moment of waiting
        while "waiting for another run" not in caplog.text and time.monotonic() < deadline:
            time.sleep(0.05)
        assert worker.is_alive() and not (first.root / ".complete").exists()  # it waits
        lock.release()
        worker.join(60)
    assert "waiting for another run converting the same data" in caplog.text
    assert got and not got[0].reused_conversion and cache_problem(first.root) is None


def test_run_directories_started_in_the_same_second_differ(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(rundir.time, "strftime", lambda fmt: "20260101-120000")
    # Both runs looked before either made its folder: neither saw the other's.
    monkeypatch.setattr(Path, "exists", lambda self: False)
    a = rundir.new_run_dir(tmp_path, "run")
    b = rundir.new_run_dir(tmp_path, "run")
    assert (a.name, b.name) == ("run-20260101-120000", "run-20260101-120000-2")
    assert a.is_dir() and b.is_dir()
