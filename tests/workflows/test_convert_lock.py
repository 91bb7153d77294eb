"""Who holds OUT: a refused ``radpipe convert`` names the conversion that writes there.

Until 2026-12-03 it said only "another radpipe conversion is writing into OUT", so the user
could not tell which process to wait for, nor whether a stopped one left something to remove.
Now the process that holds ``OUT/.radpipe-convert.lock`` is named (pid, host, start time, from
``OUT/.radpipe-convert.holder.json``), a record whose process is gone is said to be gone, and
the advice says the truth about ``flock``: the lock ends with its process, so nothing is
removed by hand. The holder runs in its own process, as another terminal's conversion would.
"""

from __future__ import annotations

import csv
import json
import shutil
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from pipeline.lock_holder import holder_words
from workflows.cli import main
from workflows.convert.batch import LOCK_NAME

ROOT = Path(__file__).resolve().parents[2]
HOLDER = ".radpipe-convert.holder.json"
ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
#: Holds the lock as ``radpipe convert`` does (the shared helper, without the heavy imports
#: of the converter) until stdin closes; ``plain`` holds it as a radpipe that records nobody.
HOLD = ("import sys; from pathlib import Path\n"
        "if sys.argv[2] == 'plain':\n"
        "    from filelock import FileLock; lock = FileLock(sys.argv[1]); lock.acquire()\n"
        "    print('held', flush=True); sys.stdin.read(); sys.exit()\n"
        "from pipeline.lock_holder import holding\n"
        "with holding(Path(sys.argv[1]), str):\n"
        "    print('held', flush=True); sys.stdin.read()")  # fmt: skip
ADVICE = ("; it holds .radpipe-convert.lock): wait for it to finish, or choose another output "
          "folder. If that process was stopped, nothing needs removing: the lock ends with its "
          "process, so run this again.")  # fmt: skip


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    shutil.copy(get_testdata_file("CT_small.dcm"), folder / "a.dcm")
    return folder


def _hold(lock: Path, how: str = "recorded") -> subprocess.Popen[str]:
    lock.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(lock), how], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, cwd=ROOT, env=ENV)  # fmt: skip
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    proc = _hold(tmp_path / "out" / LOCK_NAME)
    yield proc
    proc.communicate("", timeout=30)


def test_a_refused_conversion_names_the_one_writing_into_out(
    src: Path, tmp_path: Path, holder: subprocess.Popen[str]
) -> None:
    """As the user sees it: ``radpipe convert src out`` in a second process."""
    done = subprocess.run([sys.executable, "-m", "workflows.cli", "convert", "src", "out",
                           "--quiet"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 1
    (line,) = done.stderr.strip().splitlines()
    assert line.startswith(
        "radpipe convert: error: another radpipe conversion is writing into out (pid "
        f"{holder.pid} on host {socket.gethostname()} since 20"
    )
    assert line.endswith(" UTC" + ADVICE)
    assert (tmp_path / "out" / HOLDER).is_file()  # the holder's, left alone
    holder.communicate("", timeout=30)
    assert not (tmp_path / "out" / HOLDER).exists()  # removed on release


def test_a_record_whose_process_is_gone_is_not_named_as_the_holder(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The lock is held by a process that recorded nobody (an older radpipe); the record
    left beside it names a process that has ended: that is said, not "pid N is writing"."""
    out = tmp_path / "out"
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)  # fmt: skip
    pid = int(gone.stdout)
    plain = _hold(out / LOCK_NAME, "plain")
    try:
        record = f'{{"pid": {pid}, "host": "{socket.gethostname()}", "since": "then"}}'
        (out / HOLDER).write_text(record)
        assert main(["convert", str(src), str(out), "--quiet"]) == 1
    finally:
        plain.communicate("", timeout=30)
    err = capsys.readouterr().err
    assert (f"(another process; the last one recorded, pid {pid} on host "
            f"{socket.gethostname()} since then, has ended{ADVICE}") in err  # fmt: skip


def test_a_killed_conversion_leaves_out_free_and_its_record_unread(
    src: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A conversion killed outright leaves its record in OUT (here inside SRC); the next one
    takes the lock at once (flock ends with its process, as the advice says), never reads
    or lists the record, and removes it."""
    out = src / "out"
    assert main(["convert", str(src), str(out), "--quiet", "--format", "npy"]) == 0
    killed = _hold(out / LOCK_NAME)
    killed.send_signal(signal.SIGKILL)
    killed.communicate(timeout=30)
    assert (out / HOLDER).is_file()  # stale: its process is gone
    assert main(["convert", str(src), str(out), "--quiet", "--format", "npy"]) == 0
    assert "another radpipe conversion" not in capsys.readouterr().err
    with (out / "manifest.csv").open(newline="") as fh:
        assert [row["source"] for row in csv.DictReader(fh)] == ["a.dcm"]
    for name in ("manifest.csv", "errors.csv"):
        assert "holder" not in (out / name).read_text()  # nor listed as skipped
    assert not (out / HOLDER).exists()


def test_a_record_whose_pid_was_reused_is_not_named_as_the_holder(
    src: Path, tmp_path: Path
) -> None:
    """The record names a pid that a later, unrelated process now has (here a ``sleep``,
    whose start differs from the one recorded): until 2026-12-03 that process was named as
    the holder, because a pid was all the record held. As the user sees it, in a second
    ``radpipe convert``, with the lock held by a radpipe that recorded nobody."""
    out = tmp_path / "out"
    unrelated = subprocess.Popen(["sleep", "60"])
    plain = _hold(out / LOCK_NAME, "plain")
    try:
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        started = f"{boot}:1"  # tick 1 after boot: not the sleep's start
        record = {"pid": unrelated.pid, "host": socket.gethostname(), "since": "then",
                  "started": started}  # fmt: skip
        (out / HOLDER).write_text(json.dumps(record))
        done = subprocess.run([sys.executable, "-m", "workflows.cli", "convert", "src", "out",
                               "--quiet"], cwd=tmp_path, env=ENV, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
    finally:
        plain.communicate("", timeout=30)
        unrelated.kill()
        unrelated.wait()
    assert done.returncode == 1
    assert (f"(another process; the last one recorded, pid {unrelated.pid} on host "
            f"{socket.gethostname()} since then, has ended (pid {unrelated.pid} now belongs "
            f"to an unrelated process){ADVICE}") in done.stderr  # fmt: skip


def test_a_holder_records_when_its_process_started(tmp_path: Path) -> None:
    """The record's ``started`` is the holder's boot id and start time from ``/proc`` (field
    22 of ``/proc/PID/stat``), read here independently, so a live holder is still named."""
    proc = _hold(tmp_path / "out" / LOCK_NAME)
    try:
        record = json.loads((tmp_path / "out" / HOLDER).read_text())
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        ticks = Path(f"/proc/{proc.pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
        assert record["started"] == f"{boot}:{ticks}"
        assert holder_words(tmp_path / "out" / LOCK_NAME).startswith(f"pid {proc.pid} on host")
    finally:
        proc.communicate("", timeout=30)
