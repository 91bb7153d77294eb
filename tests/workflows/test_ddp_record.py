"""``radpipe run --nproc N`` ends by naming the run's ``failed.json`` and the resume command,
as ``radpipe run`` does; it named neither. The record says the cause the launcher found
(rank 0 saw only its lost peer), and is written by the launcher when rank 0 was killed
before it could write it. (The launcher with real ranks: tests/workflows/test_ddp_exit.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workflows.commands.ddp_launch import _run_record
from workflows.run.failure import write_failure

LOST = {"rank": 0, "world_size": 2, "lost_peer": True, "error": "DistBackendError",
        "message": "Connection closed by peer"}  # fmt: skip
CAUSE = {"rank": 1, "error": "RuntimeError", "message": "DDP rank 1: CUDA out of memory"}


@pytest.fixture
def run_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    folder = tmp_path / "runs" / "study-20261201-000000"
    folder.mkdir(parents=True)
    return folder


def _closing(run: Path) -> list[str]:
    return [
        f"radpipe run: the run stopped; runs/{run.name}/failed.json records what happened. "
        "Once the cause is fixed, continue it with:",
        f"  radpipe run --nproc 2 --resume runs/{run.name}",
    ]


def test_rank_0s_record_is_named_and_restated_with_the_cause(run_dir: Path) -> None:
    path = write_failure(run_dir, "DistBackendError", "Connection closed by peer")
    records = [{**LOST, "failed_json": str(path)}]
    assert _run_record(records, CAUSE, 2, run_dir.parent / "none") == _closing(run_dir)
    record = json.loads(path.read_text())
    assert (record["error"], record["message"], record["rank"]) == (
        "RuntimeError", "DDP rank 1: CUDA out of memory", 1)  # fmt: skip
    assert record["resume"] == f"radpipe run --nproc 2 --resume {run_dir.name}"
    assert record["status"] == "failed"


def test_rank_0s_own_cause_stays_as_it_wrote_it(run_dir: Path) -> None:
    path = write_failure(run_dir, "ValueError", "bad value")
    records = [{**LOST, "lost_peer": False, "failed_json": str(path)}]
    own = {"rank": 0, "error": "ValueError", "message": "DDP rank 0: bad value"}
    assert _run_record(records, own, 2, run_dir.parent / "none") == _closing(run_dir)
    record = json.loads(path.read_text())
    assert (record["error"], record["message"]) == ("ValueError", "bad value")
    assert "rank" not in record


def test_a_killed_rank_0s_run_directory_gets_the_record(run_dir: Path, tmp_path: Path) -> None:
    announced = tmp_path / "run_dir"
    announced.write_text(str(run_dir.resolve()))
    said = "DDP rank 0 ended with signal SIGKILL before it could say why"
    killed = {"rank": 0, "error": "ChildFailedError", "message": said}
    assert _run_record([], killed, 2, announced) == _closing(run_dir)
    record = json.loads((run_dir / "failed.json").read_text())
    assert (record["error"], record["rank"]) == ("ChildFailedError", 0)
    assert record["message"] == killed["message"]
    assert record["resume"] == f"radpipe run --nproc 2 --resume {run_dir.name}"


def test_no_record_without_a_run_directory_or_when_rank_0_chose_none(
    run_dir: Path, tmp_path: Path
) -> None:
    announced = tmp_path / "run_dir"
    assert _run_record([], CAUSE, 2, announced) == []  # rank 0 had no run directory yet
    announced.write_text(str(tmp_path / "runs" / "removed"))  # a refused run: removed
    assert _run_record([], CAUSE, 2, announced) == []
    announced.write_text(str(run_dir.resolve()))
    refused = {**LOST, "lost_peer": False}  # rank 0 said why, and recorded nothing (a refusal)
    assert _run_record([refused], CAUSE, 2, announced) == []
    assert not (run_dir / "failed.json").exists()
