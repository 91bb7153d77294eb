"""A slice a small fraction of the step from another is a stray, never a finer spacing.

Five slices 3 mm apart and one 0.3 mm from its neighbour were resampled onto 0.3 mm steps
(5 slices became 32, interpolated, said as "missing slices"), and at 0.03 mm the series was
refused as some 300 missing slices. A slice nearer another than a fifth of the usual step
is now left out when the others are evenly spaced without it (named in the problems cell
and in errors.csv as skipped), and the series refused, naming both files, when which one
belongs cannot be told. Expected volumes by hand: each slice's value says its z.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom.geometry_cases import save
from tests.pipeline.dicom.test_passes import _convert, _slice


def _series(zs: list[float]) -> tuple[list, list[str]]:  # type: ignore[type-arg]
    series = generate_uid()
    slices = [_slice(series, z, 100 + i, i + 1, AcquisitionNumber=1) for i, z in enumerate(zs)]
    return slices, [f"s{i}" for i in range(len(zs))]


def _errors(out: Path) -> dict[str, tuple[str, str]]:
    with (out / "errors.csv").open() as fh:
        return {r["source"]: (r["reason"], r["kind"]) for r in csv.DictReader(fh)}


@pytest.mark.parametrize(
    ("zs", "stray", "profile"),
    [
        ([0.0, 3.0, 6.0, 9.0, 9.3], 4, [100, 101, 102, 103]),
        ([0.0, 3.0, 6.0, 9.0, 9.03], 4, [100, 101, 102, 103]),  # was refused
        ([0.0, 3.0, 6.0, 6.3, 9.0, 12.0], 3, [100, 101, 102, 104, 105]),
        ([0.0, 2.7, 3.0, 6.0, 9.0], 1, [100, 102, 103, 104]),
    ],
    ids=["end-0.3", "end-0.03", "middle", "before"],
)
def test_a_stray_slice_is_left_out_and_named(
    tmp_path: Path, zs: list[float], stray: int, profile: list[int]
) -> None:
    slices, names = _series(zs)
    ((found, zooms, problems),) = _convert(save(tmp_path / "src", slices, names), tmp_path / "out")
    assert found == profile and zooms[2] == 3.0  # was 0.3 mm steps, 32 slices
    gap = round(abs(zs[stray] - min((z for z in zs if z != zs[stray]),
                                    key=lambda z: abs(z - zs[stray]))), 6)  # fmt: skip
    assert problems == (
        "near-duplicate positions: 1 slice left out, off the 3 mm grid of the others: "
        f"s{stray}.dcm ({gap:g} mm from another)"
    )
    assert _errors(tmp_path / "out") == {
        f"s{stray}.dcm": ("near-duplicate position: a slice off the evenly spaced grid of its "
                          "series' others, left out (the manifest's problems say it)", "skipped")
    }  # fmt: skip


def test_two_slices_neither_on_the_grid_refuse_the_series_naming_both(tmp_path: Path) -> None:
    # 0, 3, 3.3, 6.3: without 3 the steps are 3.3 and 3, without 3.3 they are 3 and 3.3
    slices, names = _series([0.0, 3.0, 3.3, 6.3])
    src = save(tmp_path / "src", slices, names)
    assert _convert(src, tmp_path / "out") == []
    reason = _errors(tmp_path / "out")["s0.dcm"][0]
    assert reason.endswith(
        "refused: near-duplicate positions: s1.dcm and s2.dcm lie 0.3 mm apart where the "
        "slices are 3 mm apart (a repeated or stray slice, not a finer spacing): remove one, "
        "or use --uneven split"
    )
