"""A run waiting for the conversion cache says whom it waits for.

Two runs of the same data and conversion options share ``OUTPUT/.cache/convert-KEY``; the
second waits on ``convert-KEY.lock`` while the first converts. Until 2026-12-03 it said only
"waiting for another run"; now, after a moment of waiting, one line names the run that holds
the lock (pid, host, start time, from ``convert-KEY.holder.json`` beside it), and the wait goes
on. Both sides run in their own process, the waiter with the command line's logging, as two
``radpipe run`` in two terminals would.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from subprocess import Popen

ROOT = Path(__file__).resolve().parents[2]
ENV = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
#: ``locked`` as ``radpipe run`` takes it (workflows.run.study), the logging of the command
#: line set up; ``hold`` keeps it until stdin closes.
TAKE = ("import sys; from pathlib import Path; from workflows.commands.logs import setup_logging\n"
        "from workflows.run.convert_cache import locked\n"
        "setup_logging()\n"
        "with locked(Path(sys.argv[1])):\n"
        "    print('held', flush=True)\n"
        "    if sys.argv[2] == 'hold': sys.stdin.read()")  # fmt: skip


def started(script: str, *args: str) -> subprocess.Popen[str]:
    """``python -c script args...`` with this checkout's code, stdin, stdout and stderr piped."""
    return subprocess.Popen([sys.executable, "-c", script, *args], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                            env=ENV)  # fmt: skip


def waiting_on(
    first: subprocess.Popen[str], ready: str, holder: Path, second: Callable[[], Popen[str]]
) -> tuple[str, str, tuple[int, str, str]]:
    """``first`` says ``ready`` on stdout, holding its lock with ``holder`` recorded; then
    ``second()`` starts and waits for it. Returns the first stderr line of the waiter, the
    rest of ``first``'s stdout once its stdin is closed (then the waiter goes on), and the
    waiter's exit code, stdout and stderr."""
    assert first.stdout is not None and first.stdout.readline() == ready
    assert holder.is_file()
    waiter = second()
    guard = threading.Timer(60, first.kill)  # never hang the suite on a waiter that never says
    guard.start()
    try:
        assert waiter.stderr is not None
        said = waiter.stderr.readline()  # after a moment of waiting
        assert waiter.poll() is None  # still waiting
    finally:
        done, _ = first.communicate("", timeout=30)
        guard.cancel()
    out, err = waiter.communicate(timeout=30)
    return said, done, (waiter.returncode, out, err)


def _start(lock: Path, how: str) -> subprocess.Popen[str]:
    return started(TAKE, str(lock), how)


def test_a_run_waiting_for_the_cache_names_the_run_converting(tmp_path: Path) -> None:
    lock = tmp_path / ".cache" / "convert-0f3a.lock"
    lock.parent.mkdir()
    first = _start(lock, "hold")
    holder = tmp_path / ".cache" / "convert-0f3a.holder.json"
    said, _, second = waiting_on(first, "held\n", holder, lambda: _start(lock, "once"))
    assert said.startswith(
        f"radpipe: waiting for another run converting the same data (pid {first.pid} on host "
        f"{socket.gethostname()} since 20"
    )
    assert said.endswith(" UTC) into the cache convert-0f3a; this run goes on when it is done\n")
    assert second == (0, "held\n", "")  # then it takes the lock
    assert sorted(p.name for p in lock.parent.iterdir()) == ["convert-0f3a.lock"]  # records gone
