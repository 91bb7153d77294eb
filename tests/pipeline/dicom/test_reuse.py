"""Buffers reused within a conversion never change what is read.

:mod:`pipeline.dicom.reuse`: a buffer with a view left is never handed out again; a reading
inside ``reusing`` gives the same values, digest and volumes as one outside; a volume a caller
holds is never written over by the next series; the pool stays within its limit.
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom import plain, reuse
from pipeline.dicom.volume import read_volumes
from tests.pipeline.dicom.plain_files import ct_dataset, save


def _series(folder: Path, first: int, slices: int = 4) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    names = []
    for k in range(slices):
        pixels = (np.arange(30, dtype="<u2") * (first + k) % 4096).astype("<u2").tobytes()
        ds = ct_dataset(SOPInstanceUID=f"1.2.3.{first}.{k}", SeriesInstanceUID=f"1.2.3.{first}",
                        InstanceNumber=str(k + 1), PixelData=pixels,
                        ImageOrientationPatient=["1", "0", "0", "0", "1", "0"],
                        ImagePositionPatient=["0", "0", str(k)])  # fmt: skip
        names.append(save(ds, folder / f"{first}_{k}.dcm").name)
    return names


def test_a_buffer_with_a_view_left_is_not_taken_again() -> None:
    with reuse.reusing() as pool:
        first = pool.take(64)
        array = np.frombuffer(memoryview(first).toreadonly(), np.uint8)
        second = pool.take(64)
        assert second is not first  # first still has a view: a fresh buffer
        del array
        assert pool.take(64) in (first, second)  # no view left: reused
        assert pool.take(64) is not pool.take(32)


def test_empty_buffers_are_given_again_and_again() -> None:
    """Pixel data of 0 bytes (an empty PixelData, a volume of no slice): the view test pops
    a byte, and the second empty buffer asked for raised IndexError."""
    with reuse.reusing() as pool:
        assert [len(pool.take(0)) for _ in range(3)] == [0, 0, 0]
        assert [reuse.empty((0, 4), np.int16).shape for _ in range(2)] == [(0, 4), (0, 4)]


def test_outside_reusing_nothing_is_kept() -> None:
    pool = reuse.BufferPool()
    assert not pool.active
    a = pool.take(16)
    assert pool.take(16) is not a


def test_reusing_is_this_threads_only() -> None:
    seen: list[bool] = []
    with reuse.reusing():
        worker = threading.Thread(target=lambda: seen.append(reuse.POOL.active))
        worker.start()
        worker.join()
        assert reuse.POOL.active
    assert seen == [False]
    assert not reuse.POOL.active


def test_pixels_and_digest_are_the_same_inside_reusing(tmp_path: Path) -> None:
    path = save(ct_dataset(), tmp_path / "a.dcm")
    outside = plain.read_plain(path, pixels=True)
    header = plain.read_plain(path)
    with reuse.reusing():
        inside = plain.read_plain(path, pixels=True)
    assert outside is not None and inside is not None and header is not None
    assert bytes(inside.pixel_bytes()) == bytes(outside.pixel_bytes())
    assert inside.header_digest == outside.header_digest == header.header_digest
    assert inside.get("RescaleIntercept") == outside.get("RescaleIntercept") == -1024
    with pytest.raises(TypeError):  # read-only: the pool's buffer is not written through it
        inside.pixel_bytes()[0] = 1  # type: ignore[index]


def test_a_file_longer_than_its_pixel_data_says_is_refused(tmp_path: Path) -> None:
    path = save(ct_dataset(), tmp_path / "a.dcm")
    head = path.read_bytes()
    found = plain.read_plain(path)
    assert found is not None
    start = len(head) - 60  # 30 pixels of 2 bytes
    with reuse.reusing(), path.open("rb", buffering=0) as fh:  # read_tail reads a descriptor
        fh.read(start)
        assert reuse.read_tail(fh.fileno(), head[:start], start, 60) is not None
    with path.open("ab") as fh:
        fh.write(b"\0\0")  # grown since its size was taken
    with reuse.reusing(), path.open("rb", buffering=0) as fh:
        fh.read(start)
        assert reuse.read_tail(fh.fileno(), head[:start], start, 60) is None


def test_volumes_are_the_same_and_a_held_volume_is_not_written_over(tmp_path: Path) -> None:
    a, b = _series(tmp_path, 3), _series(tmp_path, 7)
    plain_a = read_volumes(tmp_path, a, exact_integers=True)[1][0].image
    plain_b = read_volumes(tmp_path, b, exact_integers=True)[1][0].image
    with reuse.reusing():
        held = read_volumes(tmp_path, a, exact_integers=True)[1][0].image
        kept = held.copy()
        other = read_volumes(tmp_path, b, exact_integers=True)[1][0].image
        assert np.shares_memory(held, other) is False
        np.testing.assert_array_equal(held, kept)
    assert held.dtype == plain_a.dtype and other.dtype == plain_b.dtype
    np.testing.assert_array_equal(held, plain_a)
    np.testing.assert_array_equal(other, plain_b)
    assert not np.array_equal(plain_a, plain_b)


def test_the_pool_holds_at_most_its_limit_and_lets_free_buffers_go() -> None:
    pool = reuse.BufferPool(limit_bytes=100)
    with reuse.reusing(pool):
        first = pool.take(60)
        view = memoryview(first)
        second = pool.take(60)  # over the limit with first in use: not kept
        assert second is not first and pool.take(60) is not second
        del view
        assert pool.take(60) is first  # kept, and free again
        third = pool.take(80)  # another size: the free 60-byte buffer is let go for it
        assert pool.take(80) is third
        assert pool.take(60) is not first
