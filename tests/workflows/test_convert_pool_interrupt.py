"""Ctrl-C during a batch on the process pool: the caller stops it, no worker is waited for.

A terminal's Ctrl-C signals the whole process group. Before 2026-12-03 the pool's fork server
and workers took it too: a fork server still importing printed a ``KeyboardInterrupt``
traceback, and ``radpipe convert --workers 2`` interrupted mid-batch could hang for good
after printing ``interrupted`` (a worker stopped inside the pool's queue).
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from workflows import cli


def test_workers_and_their_fork_server_ignore_ctrl_c() -> None:
    # a fresh process: the fork server is started once per process, by whoever comes first
    code = textwrap.dedent(
        """
        from tests.workflows.crash_task import sigint_ignored
        from workflows.convert.pool import map_tasks
        print(sorted(set(map_tasks(sigint_ignored, list(range(8)), workers=2))))
        """
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=120, env=env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    worker, server = ast.literal_eval(done.stdout)[0]  # (worker ignores it, fork server ignores it)
    assert worker is True
    if sys.platform.startswith("linux"):
        assert server is True


def test_the_fork_server_starts_with_ctrl_c_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    # it ignores Ctrl-C itself only once its preload is imported (seconds on a busy machine);
    # a disposition of SIG_IGN is kept across exec, so it must be started with that one
    import multiprocessing.forkserver
    import signal

    from workflows.convert import pool

    seen: list[object] = []
    monkeypatch.setattr(multiprocessing.forkserver, "ensure_running",
                        lambda: seen.append(signal.getsignal(signal.SIGINT)))  # fmt: skip
    before = signal.getsignal(signal.SIGINT)
    pool._pool(2).shutdown()
    assert seen == [signal.SIG_IGN]
    assert signal.getsignal(signal.SIGINT) is before  # the caller's own Ctrl-C is back


def test_a_pool_left_early_runs_no_more_of_its_queued_tasks(tmp_path: Path) -> None:
    from tests.workflows.crash_task import mark_and_sleep
    from workflows.convert.pool import map_tasks

    # 200 tasks on 2 workers: chunks of 12, a window of 4 chunks (48 tasks) submitted at once;
    # the first chunk is quick, every later task takes 0.5 s
    results = map_tasks(mark_and_sleep, [(str(tmp_path), i) for i in range(200)], workers=2)
    assert next(results) == 0
    results.close()  # as Ctrl-C (KeyboardInterrupt) or an error in the caller leaves it
    time.sleep(1.0)
    started = len(list(tmp_path.iterdir()))
    # the first chunk (12) and the task or two of the next chunks begun by then; waiting
    # for the window, as before, ran all 48 (9 s)
    assert started < 30, started


def test_ctrl_c_while_the_commands_load_is_said_without_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "build_parser", interrupted)
    try:
        status = cli.main(["inspect", "x"])
    except KeyboardInterrupt:  # not let through: it would stop pytest itself
        pytest.fail("KeyboardInterrupt came out of main (a traceback for the user)")
    assert status == 130
    assert capsys.readouterr().err == "radpipe: interrupted\n"


def test_a_worker_cut_off_while_it_starts_prints_no_traceback() -> None:
    """Ctrl-C as the pool started a worker: the caller stopped the pool and removed its
    semaphores while the fork server's child still read them, and the child printed a
    ``SemLock._rebuild`` ``FileNotFoundError`` traceback under the one ``interrupted`` line
    (found with ``timeout -s INT 2 radpipe convert --workers 2``). Made certain here: the
    semaphore a child is given is removed before it starts."""
    code = textwrap.dedent(
        """
        import multiprocessing, os, sys, _multiprocessing
        from multiprocessing import resource_tracker
        from workflows.convert import pool
        pool._pool(1).shutdown()  # the fork server, with radpipe's preload
        context = multiprocessing.get_context("forkserver")
        gone = context.Semaphore()
        _multiprocessing.sem_unlink(gone._semlock.name)  # as the stopped caller's exit does
        resource_tracker.unregister(gone._semlock.name, "semaphore")
        child = context.Process(target=print, args=(gone,))
        child.start()
        child.join()
        print(child.exitcode, flush=True)
        sys.stderr.flush()
        os._exit(0)  # the semaphore's own clean-up would fail: it is gone already
        """
    )
    root = Path(__file__).resolve().parents[2]
    env = dict(os.environ, PYTHONPATH=str(root))
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True,
                          text=True, timeout=120, env=env)  # fmt: skip
    assert done.stdout.strip() == "1"  # the child did not start, and said nothing
    assert done.stderr == ""
