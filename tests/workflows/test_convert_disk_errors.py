"""A full disk or a read-only OUT stops a conversion with one line naming the file and the
reason, exit code 1, never a traceback; nothing half-written is left, and a rerun once there
is room converts."""

from __future__ import annotations

import csv
import errno
import os
import sqlite3
from pathlib import Path

import pytest

from tests.workflows.test_convert_robust import _ct
from workflows.cli import main
from workflows.convert.store import NAME as SCRATCH
from workflows.convert.store import Store


def _full(*_args: object, **_kwargs: object) -> None:
    raise OSError(errno.ENOSPC, "No space left on device")  # as a write() reports it: no file


def _src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    _ct(src / "a.dcm", 3)
    _ct(src / "b.dcm", 5)
    return src


def test_a_full_disk_at_the_manifest_names_it_and_a_rerun_converts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    src, out = _src(tmp_path), tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # paths said relative to it (no absolute path: 2026-12-03)
    with monkeypatch.context() as patch:
        patch.setattr(csv.DictWriter, "writerows", _full)
        code = main(["convert", str(src), str(out), "--quiet"])
    err = capsys.readouterr().err
    assert code == 1
    assert "radpipe convert: error: out/manifest.csv: No space left on device" in err
    assert "make room" in err and "Traceback" not in err
    assert not (out / "manifest.csv").exists()
    assert not [p for p in out.rglob(".*.tmp*")]  # no temporary left behind
    assert main(["convert", str(src), str(out), "--quiet"]) == 0
    with (out / "manifest.csv").open(newline="") as fh:
        assert sorted(r["source"] for r in csv.DictReader(fh)) == ["a.dcm", "b.dcm"]


def test_a_full_scratch_store_names_it_and_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def full(*_args: object) -> None:
        raise sqlite3.OperationalError("database or disk is full")

    src, out = _src(tmp_path), tmp_path / "out"
    monkeypatch.chdir(tmp_path)  # paths said relative to it (no absolute path: 2026-12-03)
    monkeypatch.setattr(Store, "update_rows_of", full)  # update_rows calls it too
    assert main(["convert", str(src), str(out), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"out/{SCRATCH}: database or disk is full" in err
    assert "Traceback" not in err and "sqlite3" not in err
    assert not (out / SCRATCH).exists()


def test_a_read_only_out_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def read_only(self: Path, *_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system", str(self))

    src, out = _src(tmp_path), tmp_path / "ro" / "out"
    monkeypatch.chdir(tmp_path)  # paths said relative to it (no absolute path: 2026-12-03)
    monkeypatch.setattr(Path, "mkdir", read_only)
    assert main(["convert", str(src), str(out), "--quiet"]) == 1
    err = capsys.readouterr().err.strip()
    assert err == (
        "radpipe convert: error: ro/out: Read-only file system; choose another output folder "
        "(or allow writing to it) and run it again"
    )


def test_another_os_error_keeps_its_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: object, **_kwargs: object) -> None:
        raise OSError(errno.EIO, "Input/output error")

    monkeypatch.setattr(csv.DictWriter, "writerows", broken)
    with pytest.raises(OSError, match="Input/output error"):
        main(["convert", str(_src(tmp_path)), str(tmp_path / "out"), "--quiet"])


def test_a_read_only_folder_names_the_file_meant_below_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Writing into a folder without write permission named the hidden temporary file
    (`ro/.index.10925-0-f6dbd5.tmp.csv`), and the absolute path of a file radpipe made
    absolute (`/home/me/ro/.radpipe-convert.lock`); README: the file meant, shown relative to
    the working directory when below it."""
    import os

    from pipeline import io_atomic

    real_open = os.open

    def denied(name: str, *args: object, **kwargs: object) -> int:
        if ".tmp" in os.path.basename(name):  # as the kernel refuses a file in a 0555 folder
            raise PermissionError(errno.EACCES, "Permission denied", name)
        return real_open(name, *args, **kwargs)  # type: ignore[arg-type]

    src = _src(tmp_path)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(io_atomic.os, "open", denied)
    assert main(["inspect", str(src), "--index", str(tmp_path / "ro" / "index.csv")]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == ("radpipe inspect: error: ro/index.csv: Permission denied; choose another "
                   "output folder (or allow writing to it) and run it again")  # fmt: skip


@pytest.mark.parametrize(
    "code", [errno.ENOSPC, errno.EROFS, errno.EACCES], ids=["ENOSPC", "EROFS", "EACCES"]
)
def test_a_full_disk_at_an_output_stops_the_batch_and_a_rerun_resumes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], code: int
) -> None:
    """The disk filled up (or OUT turned read-only) at the second of three outputs: each later
    file failed on its own with the same reason, recorded one by one in errors.csv (thousands
    in a large folder), and the batch went on. Now it stops at once with one line naming the
    output (relative), nothing half-written is left, the finished file is kept for the
    rerun, and the rerun converts the other two only."""
    from pipeline import writers

    src, out = _src(tmp_path), tmp_path / "out"
    _ct(src / "c.dcm", 7)
    real, calls = writers.write_all, []

    def full(fd: int, *chunks: object) -> None:
        calls.append(fd)
        if len(calls) == 2:
            real(fd, *chunks[:1])  # part of it written, then the disk is full
            raise OSError(code, os.strerror(code))  # as write() reports it: no file named
        real(fd, *chunks)

    monkeypatch.chdir(tmp_path)
    with monkeypatch.context() as patch:
        patch.setattr(writers, "write_all", full)
        status = main(["convert", "src", "out", "--format", "npy", "--quiet"])
    (line,) = capsys.readouterr().err.strip().splitlines()
    assert status == 1 and len(calls) == 2  # the third file was not tried
    named = line.removeprefix("radpipe convert: error: ").split(":")[0]
    assert named.startswith("out/") and named.endswith(".npy"), line
    assert line.endswith(
        f": {os.strerror(code)}; "
        + (
            "make room (or choose another output folder)"
            if code == errno.ENOSPC
            else "choose another output folder (or allow writing to it)"
        )
        + " and run it again"
    )
    assert not (tmp_path / named).exists()
    assert [p.name for p in out.rglob("*.npy")] != []  # the first output is there
    assert not [p for p in out.rglob(".*.tmp*")]  # no temporary left behind
    assert not (out / "errors.csv").exists() or "a.dcm" not in (out / "errors.csv").read_text()
    assert main(["convert", "src", "out", "--format", "npy", "--quiet"]) == 0
    out_text = capsys.readouterr().out
    assert "(2 converted, 1 already done)" in out_text, out_text
    assert (tmp_path / named).is_file()
    with (out / "manifest.csv").open(newline="") as fh:
        assert sorted(r["source"] for r in csv.DictReader(fh)) == ["a.dcm", "b.dcm", "c.dcm"]
