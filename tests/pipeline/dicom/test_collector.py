"""The index's scan leaves the objects made before it to the cycle collector's next run."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest

from pipeline.dicom import index
from pipeline.dicom.collector import older_objects_frozen
from tests.workflows.test_inspect_workers import _ct


def test_older_objects_are_frozen_inside_and_unfrozen_after() -> None:
    before = object()  # noqa: F841 (an object made before the scan)
    assert gc.get_freeze_count() == 0
    with older_objects_frozen():
        frozen = gc.get_freeze_count()
        assert frozen > 0  # this test's module and objects among them
        made = [[] for _ in range(10)]  # made inside: not frozen, collected as ever
        assert gc.get_freeze_count() > 0 and made
    assert gc.get_freeze_count() == 0


def test_a_callers_own_frozen_objects_or_switched_off_collector_are_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Objects the caller froze, or a collector it switched off: nothing frozen or unfrozen.
    (Counted by the calls, not by ``get_freeze_count``: frozen objects that are freed leave
    the count, so two readings of it can differ by themselves; they did under xdist.)"""
    calls: list[str] = []
    monkeypatch.setattr(gc, "freeze", lambda: calls.append("freeze"))
    monkeypatch.setattr(gc, "unfreeze", lambda: calls.append("unfreeze"))
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 5)  # the caller froze 5 objects
    with older_objects_frozen():
        pass
    assert calls == []
    monkeypatch.setattr(gc, "get_freeze_count", lambda: 0)
    monkeypatch.setattr(gc, "isenabled", lambda: False)
    with older_objects_frozen():
        pass
    assert calls == []
    monkeypatch.setattr(gc, "isenabled", lambda: True)
    with older_objects_frozen():
        assert calls == ["freeze"]
    assert calls == ["freeze", "unfreeze"]


def test_index_folder_reads_headers_with_older_objects_frozen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for z in range(3):
        _ct(tmp_path / f"{z}.dcm", 0, z, implicit=False)
    seen: list[int] = []
    real = index.scan_headers

    def counted(*args: object, **kwargs: object) -> object:
        for found in real(*args, **kwargs):  # type: ignore[arg-type]
            seen.append(gc.get_freeze_count())
            yield found

    monkeypatch.setattr(index, "scan_headers", counted)
    found = index.index_folder(tmp_path)
    assert [i.path for i in found.series[0].instances] == ["0.dcm", "1.dcm", "2.dcm"]
    assert len(seen) == 3 and all(count > 0 for count in seen)
    assert gc.get_freeze_count() == 0
