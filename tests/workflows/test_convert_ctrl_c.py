"""Ctrl-C during ``radpipe convert``: one line, no traceback, and nothing finished is lost.

Found by interrupting ``radpipe convert`` (``timeout -s INT``) at several points: while the
commands loaded it printed a ``KeyboardInterrupt`` traceback; the pool's workers and its fork
server got the signal too (each printed a traceback, and a worker cut off in a write left its
temporary file among the outputs); and the results collected since the last partial flush
(up to 2 s of work) were converted again by the rerun."""

from __future__ import annotations

from pathlib import Path

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
