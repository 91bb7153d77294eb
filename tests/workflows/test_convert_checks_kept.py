"""convert keeps a series' header checks for its next file, as inspect does.

A plain reading that holds the pixels (convert's) read the pixel data element's value to
learn its length, which made every check that looks at the length uncacheable: the header
checks, frame facts and series facts ran again for every file of a series (about 0.15 ms a
file, a fifth of a 64x64 conversion).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom import frames, header_checks, plain_memo
from tests.pipeline.dicom.plain_files import counted, ct_dataset, nothing_kept, save
from workflows.convert.batch import ConvertOptions, convert_folder

STORED = np.arange(30, dtype="<u2") * 97 % 4096  # ct_dataset's pixels, 6 rows x 5 columns


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    yield from nothing_kept()


def _series(folder: Path, count: int) -> list[Path]:
    folder.mkdir()
    return [save(ct_dataset(SOPInstanceUID=f"1.2.3.4.5.{20 + k}", InstanceNumber=str(k + 1),
                            ImagePositionPatient=["-125.5", "-130", str(k * 1.25)]),
                 folder / f"{k}.dcm") for k in range(count)]  # fmt: skip


def _npy(out: Path) -> list[np.ndarray]:
    return [np.load(p) for p in sorted(out.rglob("*.npy"))]


def test_the_checks_run_once_per_series_when_pixels_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = _counted_all(monkeypatch)
    _series(tmp_path / "src", 4)
    npy = ConvertOptions(format="npy", window="none")
    result = convert_folder(tmp_path / "src", tmp_path / "out", npy, progress=False)
    assert result.failures == [] and result.outputs == 4
    assert [len(c) for c in checks] == [1, 1, 1]  # once for the series, not once per file
    expected = (STORED.astype(np.float32) - 1024).reshape(6, 5)  # slope 1, intercept -1024
    assert all(np.array_equal(a, expected) for a in _npy(tmp_path / "out"))


def test_a_file_whose_pixel_data_is_longer_is_checked_again(tmp_path: Path) -> None:
    """Same header bytes but for the pixel element's length: the kept checks do not apply."""
    _series(tmp_path / "src", 3)
    long = ct_dataset(SOPInstanceUID="1.2.3.4.5.90", InstanceNumber="9",
                      ImagePositionPatient=["-125.5", "-130", "10"])  # fmt: skip
    long.PixelData = long.PixelData + bytes(4)  # 64 bytes where the header needs 60
    save(long, tmp_path / "src" / "9.dcm")
    rows = {}
    for kept in (True, False):
        plain_memo.ENABLED = kept
        plain_memo.clear()
        out = tmp_path / f"out{kept}"
        convert_folder(tmp_path / "src", out, ConvertOptions(format="npy", window="none"),
                       progress=False)  # fmt: skip
        rows[kept] = (out / "manifest.csv").read_text()
    assert rows[True] == rows[False]
    line = next(r for r in rows[True].splitlines() if r.split(",")[1] == "9.dcm")
    assert "holds 64 bytes, 4 more than the header needs (60)" in line


def _counted_all(monkeypatch: pytest.MonkeyPatch) -> list[list[int]]:
    return [counted(monkeypatch, header_checks, "image_checks"),
            counted(monkeypatch, header_checks, "value_checks"),
            counted(monkeypatch, frames, "_stack_facts")]  # fmt: skip
