"""Ctrl-C during ``radpipe convert``: one line, no traceback, and nothing finished is lost.

Found by interrupting ``radpipe convert`` (``timeout -s INT``) at several points: while the
commands loaded it printed a ``KeyboardInterrupt`` traceback; the pool's workers and its fork
server got the signal too (each printed a traceback, and a worker cut off in a write left its
temporary file among the outputs); and the results collected since the last partial flush
(up to 2 s of work) were converted again by the rerun."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.workflows.crash_task import ctrl_c_mid_task
from tests.workflows.test_convert_changes import NPY, _slice
from workflows.convert import batch, tasks
from workflows.convert.batch import convert_folder
from workflows.convert.pool import map_tasks

pytestmark = pytest.mark.usefixtures("ctrl_c_raises")


def test_a_worker_finishes_its_task_through_ctrl_c() -> None:
    """The worker ignores the SIGINT it gets: its task ends with its result (the caller
    alone stops the batch), not with a KeyboardInterrupt cut into it."""
    try:
        results = list(map_tasks(ctrl_c_mid_task, [1, 2, 3, 4], workers=2))
    except KeyboardInterrupt:  # kept from stopping the test session
        pytest.fail("a worker's task was cut off by the Ctrl-C")
    assert results == [10, 20, 30, 40]


def test_a_rerun_after_ctrl_c_converts_nothing_finished_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ctrl-C as the third of five files starts: the two finished are in a partial manifest
    (the periodic flush had not come), so the rerun keeps them and converts three; every
    output is byte for byte an uninterrupted conversion's."""
    src = tmp_path / "src"
    for z in range(5):
        _slice(src / f"{z}.dcm", z + 1, z)
    reference = tmp_path / "reference"
    convert_folder(src, reference, NPY, progress=False)
    real, started = tasks.run_task, []

    def run_task(task: tasks.ConvertTask, options: batch.ConvertOptions) -> tasks.TaskResult:
        started.append(task.task_id)
        if len(started) == 3:
            raise KeyboardInterrupt
        return real(task, options)

    monkeypatch.setattr(batch, "_FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(batch, "run_task", run_task)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        convert_folder(src, out, NPY, progress=False)
    assert len(list(out.rglob("[!.]*.npy"))) == 2
    monkeypatch.setattr(batch, "run_task", real)
    result = convert_folder(src, out, NPY, progress=False)
    assert (result.converted, result.skipped) == (3, 2)
    made = {p.relative_to(reference): p.read_bytes() for p in reference.rglob("*.npy")}
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.npy")} == made
    assert len(made) == 5


@pytest.mark.parametrize(
    ("per", "second_ctrl_c"), [("instance", False), ("series", False), ("instance", True)]
)
def test_ctrl_c_in_the_callers_loop_keeps_the_chunks_that_finished_behind_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per: str, second_ctrl_c: bool
) -> None:
    """``--workers 2``: Ctrl-C while the caller recorded a result (not while it waited on the
    pool), as the chunks behind it had finished. Their results were dropped with the pool,
    unrecorded, so the rerun converted them again; now they are recorded before the stop, and
    the rerun skips them. Each file is its own series here (chunks of one task, four in
    flight): the file in hand when Ctrl-C came is the one the rerun must convert again.

    ``second_ctrl_c``: a second Ctrl-C (a real SIGINT) while the first of those is recorded.
    Until 2026-12-03 it cut the salvage short, its flush never made, so the rerun converted
    all 8 again; now it waits for the record (then stops the batch all the same)."""
    import os
    import signal
    import time
    from dataclasses import replace

    src = tmp_path / "src"
    for z in range(8):
        _slice(src / f"{z}.dcm", z + 1, z, series=f"1.2.3.{z}")
    options = replace(NPY, workers=2, per=per)
    reference = tmp_path / "reference"
    convert_folder(src, reference, replace(NPY, per=per), progress=False)
    out, real, calls = tmp_path / "out", batch.collect, []

    def collect(*args: Any) -> None:
        calls.append(args)
        if len(calls) > 1:  # the results recorded after the Ctrl-C
            if second_ctrl_c and len(calls) == 2:
                os.kill(os.getpid(), signal.SIGINT)
            return real(*args)
        deadline = time.monotonic() + 60
        while len(list(out.rglob("[!.]*.npy"))) < 4 and time.monotonic() < deadline:
            time.sleep(0.05)  # the four chunks in flight have written their outputs
        time.sleep(0.5)  # and their results came back to the pool
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "_FLUSH_SECONDS", 3600.0)
    monkeypatch.setattr(batch, "collect", collect)
    with pytest.raises(KeyboardInterrupt):
        convert_folder(src, out, options, progress=False)
    monkeypatch.setattr(batch, "collect", real)
    result = convert_folder(src, out, options, progress=False)
    assert (result.converted, result.skipped) == (5, 3)
    made = {p.relative_to(reference): p.read_bytes() for p in reference.rglob("*.npy")}
    assert {p.relative_to(out): p.read_bytes() for p in out.rglob("*.npy")} == made
