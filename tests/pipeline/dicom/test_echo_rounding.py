"""Echo times that differ only by their rounding are one echo (:mod:`pipeline.dicom.echo_times`).

Two echoes (4.92 and 9.84 ms) of four slices, every other slice's EchoTime written with a
fourth decimal (4.9201, 9.8401), and the first echo's second slice missing: its images were
grouped by value and each echo became two volumes of two slices and one (``split: 4 stacks
by EchoTime``). Each slice holds 10 x echo + slice, so the volumes' voxels say which slices
each holds.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.geometry_cases import convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.1172"


def _slices(times: list[float], rounding: float, missing: tuple[int, int] | None) -> list:
    return [plane((0.0, 0.0, 2.0 * z), value=10 * (e + 1) + z, series=SERIES,
                  EchoTime=f"{te + (rounding if z % 2 else 0.0):.6f}")
            for e, te in enumerate(times) for z in range(4) if (e, z) != missing]  # fmt: skip


def _volumes(tmp_path: Path, slices: list) -> list[tuple[str, list[int]]]:
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out")
    assert code == 0 and not errors
    found = []
    for row in rows:
        data = np.asarray(nib.load(tmp_path / "out" / row["output"]).dataobj)
        found.append((row["distinct"], data[0, 0].ravel().tolist()))
    return sorted(found, key=lambda f: f[1])


@pytest.mark.parametrize("rounding", [1e-4, -1e-6, 0.004])
def test_an_echo_written_with_other_decimals_is_one_volume(tmp_path: Path, rounding: float) -> None:
    found = _volumes(tmp_path, _slices([4.92, 9.84], rounding, missing=(0, 1)))
    # the first echo without slice 1 (z = 2 mm): resampled onto the 2 mm grid, its z = 2
    # slice halfway between 10 (z = 0) and 12 (z = 4); never split by decimals
    assert found == [("EchoTime=4.92", [10, 11, 12, 13]), ("EchoTime=9.84", [20, 21, 22, 23])]


def test_echoes_further_apart_stay_apart(tmp_path: Path) -> None:
    """1.00 and 1.02 ms: two echoes (beyond 0.01 ms), each complete."""
    found = _volumes(tmp_path, _slices([1.0, 1.02], 0.0, missing=None))
    assert found == [("EchoTime=1", [10, 11, 12, 13]), ("EchoTime=1.02", [20, 21, 22, 23])]


def test_one_echo_is_said_as_one_value(tmp_path: Path) -> None:
    """Complete echoes were right, but said as ``EchoTime=4.92..4.9201 (2 values)``."""
    found = _volumes(tmp_path, _slices([4.92, 9.84], 1e-4, missing=None))
    assert found == [("EchoTime=4.92", [10, 11, 12, 13]), ("EchoTime=9.84", [20, 21, 22, 23])]
