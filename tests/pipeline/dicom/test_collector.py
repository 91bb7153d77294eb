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
        assert gc.get_freeze_count() == frozen and made
    assert gc.get_freeze_count() == 0


def test_a_callers_own_frozen_objects_or_switched_off_collector_are_left_alone() -> None:
    gc.freeze()
    try:
        mine = gc.get_freeze_count()
        with older_objects_frozen():
            assert gc.get_freeze_count() == mine
        assert gc.get_freeze_count() == mine  # not unfrozen by the scan
    finally:
        gc.unfreeze()
    gc.disable()
    try:
        with older_objects_frozen():
            assert gc.get_freeze_count() == 0
        assert not gc.isenabled()
    finally:
        gc.enable()


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
