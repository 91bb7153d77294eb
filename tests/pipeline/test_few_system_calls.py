"""Per-file system calls of a conversion: an NPY written by one ``writev`` through the
temporary's descriptor, a plain file read by ``os.read`` without a file object (issue 15).

``np.save`` through a file object took 16 system calls per output (status, terminal and
position queries, numpy duplicating the descriptor to write the data); the buffered read of a
DICOM file 9. The bytes must be exactly ``np.save``'s, whatever the shape, type or layout.
"""

from __future__ import annotations

import errno
import io
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipeline.dicom import plain, reuse
from pipeline.writers import write_npy
from tests.pipeline.dicom.plain_files import ct_dataset, save

ARRAYS = {
    "slice": np.arange(64 * 64, dtype=np.float32).reshape(64, 64) - 1024,
    "volume": np.linspace(-1, 1, 3 * 5 * 7).reshape(3, 5, 7),  # float64: written as float32
    "rgb": np.arange(4 * 6 * 3, dtype=np.uint8).reshape(4, 6, 3),
    "uint32": np.array([[0, 2**24 + 1], [2**32 - 1, 7]], dtype=np.uint32),  # kept uint32
    "strided": np.arange(48, dtype=np.int16).reshape(6, 8)[:, ::2],
    "fortran": np.asfortranarray(np.arange(12, dtype=np.float32).reshape(3, 4)),
    "empty": np.zeros((0, 5), dtype=np.float32),
}


def _np_save(array: np.ndarray) -> bytes:
    kind = np.uint32 if array.dtype == np.uint32 else np.float32
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=kind), allow_pickle=False)
    return buffer.getvalue()


def _counted(monkeypatch: pytest.MonkeyPatch, name: str, most: int | None = None) -> list[int]:
    """Count the calls of ``os.<name>``; ``most``: each writes at most that many bytes."""
    calls: list[int] = []
    original = getattr(os, name)

    def counting(fd: int, data: Any, *args: Any) -> Any:
        calls.append(1)
        if most is not None:
            return original(fd, [memoryview(b"".join(bytes(d) for d in data))[:most]])
        return original(fd, data, *args)

    monkeypatch.setattr(os, name, counting)
    return calls


@pytest.mark.parametrize("name", sorted(ARRAYS))
def test_the_bytes_are_np_saves(tmp_path: Path, name: str) -> None:
    write_npy(tmp_path / "a.npy", ARRAYS[name])
    assert (tmp_path / "a.npy").read_bytes() == _np_save(ARRAYS[name])
    kind = np.uint32 if ARRAYS[name].dtype == np.uint32 else np.float32
    assert np.array_equal(np.load(tmp_path / "a.npy"), ARRAYS[name].astype(kind))
    assert [p.name for p in tmp_path.iterdir()] == ["a.npy"]  # no temporary left


def test_an_output_is_one_writev(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch, "writev")
    write_npy(tmp_path / "a.npy", ARRAYS["slice"])
    assert len(calls) == 1


def test_short_writes_are_continued(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = _counted(monkeypatch, "writev", most=1000)  # 128 + 16,384 bytes, 1,000 a call
    write_npy(tmp_path / "a.npy", ARRAYS["slice"])
    assert len(calls) == 17
    assert (tmp_path / "a.npy").read_bytes() == _np_save(ARRAYS["slice"])


def test_a_full_disk_names_the_output_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")  # as write() says it: no file

    monkeypatch.setattr(os, "writev", full)
    with pytest.raises(OSError) as caught:
        write_npy(tmp_path / "a.npy", ARRAYS["slice"])
    assert caught.value.filename == str(tmp_path / "a.npy")
    assert list(tmp_path.iterdir()) == []


def test_a_plain_file_is_read_in_two_reads(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Its bytes, then one more to see that it ends there (it did not grow since its size was
    taken); the pixels are the file's last 60 bytes (6 x 5 of 16 bits)."""
    path = save(ct_dataset(), tmp_path / "a.dcm")
    reads: list[int] = []
    read = os.read
    monkeypatch.setattr(os, "read", lambda fd, n: reads.append(n) or read(fd, n))
    with reuse.reusing():
        found = plain.read_plain(path, pixels=True)
        assert found is not None and bytes(found.pixel_bytes()) == path.read_bytes()[-60:]
    assert reads == [path.stat().st_size, 1]
