"""``run_task`` stamps its result with the seconds the task took (workflows.convert.tasks),
copying the result without ``dataclasses.replace``: every other field must be as made."""

from __future__ import annotations

import time
from pathlib import Path

from tests.pipeline.dicom.plain_files import ct_dataset, save
from workflows.convert.tasks import ConvertOptions, ConvertTask, TaskResult, run_task


def test_a_result_carries_its_seconds_and_everything_else_as_made(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    save(ct_dataset(), src / "a.dcm")
    options = ConvertOptions(format="npy", window="none").resolved()
    start = time.perf_counter()
    res = run_task(ConvertTask(str(src), str(tmp_path / "out"), ("a.dcm",)), options)
    took = time.perf_counter() - start
    assert type(res) is TaskResult and 0 < res.seconds <= took
    assert res.error is None and res.task_id == "a.dcm" and res.problems == ()
    (row,) = res.rows
    assert (row["source"], row["shape"], row["modality"], row["units"]) == (
        "a.dcm",
        "6x5",
        "CT",
        "HU",
    )
    assert res.instance is not None and res.instance.sop_uid == "1.2.3.4.5.6"
    assert (tmp_path / "out" / row["output"]).is_file()
    failed = run_task(ConvertTask(str(src), str(tmp_path / "out"), ("gone.dcm",)), options)
    assert failed.error and failed.rows == () and failed.seconds > 0
