"""``compute.threads`` / ``--threads``: a default that does not oversubscribe the cores."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import torch
from torch.utils.data import DataLoader, Dataset

from workflows.run import threads as threads_mod
from workflows.run.threads import default_threads, set_threads


@pytest.fixture(autouse=True)
def _restore_threads() -> Iterator[None]:
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    "cores, workers, ranks, expected",
    [(2, 0, 1, 2), (2, 1, 1, 1), (2, 2, 1, 1), (8, 1, 1, 4), (8, 1, 2, 2), (16, 3, 1, 4)],
)
def test_default_divides_the_cores(cores: int, workers: int, ranks: int, expected: int) -> None:
    assert default_threads(cores, workers, ranks) == expected


def test_set_threads_applies_and_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(threads_mod.os, "sched_getaffinity", lambda pid: set(range(8)))
    monkeypatch.setattr(threads_mod.os, "getloadavg", lambda: (0.5, 0.5, 0.5))
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    info = set_threads(None, num_workers=1, local_ranks=2)
    assert torch.get_num_threads() == 2
    assert info == {
        "threads": 2,
        "threads_from": "default",
        "cores": 8,
        "local_ranks": 2,
        "dataloader_workers": 1,
        "threads_per_dataloader_worker": 1,
    }
    info = set_threads(3, num_workers=1)
    assert torch.get_num_threads() == 3 and info["threads_from"] == "compute.threads"
    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # the user's standard setting, when no config
    info = set_threads(None, num_workers=1, local_ranks=2)
    assert torch.get_num_threads() == 1 and info["threads_from"] == "OMP_NUM_THREADS"
    info = set_threads(3, num_workers=1)  # the config's wins
    assert torch.get_num_threads() == 3 and info["threads_from"] == "compute.threads"
    for junk in ("0", "two", ""):  # not a positive integer: the default
        monkeypatch.setenv("OMP_NUM_THREADS", junk)
        assert set_threads(None, num_workers=1, local_ranks=2)["threads_from"] == "default"


class _Threads(Dataset[int]):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, index: int) -> int:
        return torch.get_num_threads()


def test_dataloader_workers_run_one_thread_each() -> None:
    # The default counts each DataLoader worker as one thread: torch sets it in the worker.
    torch.set_num_threads(2)
    seen = [int(v) for batch in DataLoader(_Threads(), num_workers=1) for v in batch]
    assert seen == [1, 1] and torch.get_num_threads() == 2


def test_a_busy_machine_is_reported_not_followed(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads_mod.os, "sched_getaffinity", lambda pid: {0, 1})
    monkeypatch.setattr(threads_mod.os, "getloadavg", lambda: (9.5, 8.0, 4.0))
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert set_threads(None, num_workers=0)["threads"] == 2  # the same on any load
    assert "busy (load average 9.5 on 2 cores): 2 torch threads" in caplog.text
    assert "--threads 1" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        set_threads(1, num_workers=0)
    assert caplog.text == ""
