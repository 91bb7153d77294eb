"""Blocks of slices placed apart in-plane, filed in one series, are no gantry tilt.

dcm2niix #1009: an enhanced series holding two geometries (a brain and a spinal-cord block,
same orientation, other in-plane origin) came out as one volume in one geometry. radpipe took
the origin jump for a gantry tilt: it named an angle (25 degrees), shifted the second block
by its 50 mm offset (out of the field of view) and resampled across the gap. Each block is
now its own volume, every voxel on its DICOM pixel (checked by geometry, not by value); a
real tilt (offsets in proportion to the distance) is still corrected as before.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


def _convert(src: Path, out: Path) -> list[dict[str, str]]:
    result = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 0
    with (out / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


def _blocks(folder: Path, origins: list[tuple[float, float, float]]) -> Path:
    """4 slices 2 mm apart at each origin, one series (a gradient of LPS position in them)."""
    series = generate_uid()
    slices = [G.plane((x, y, z + 2.0 * k), series=series) for x, y, z in origins for k in range(4)]
    return G.save(folder, slices)


def test_blocks_apart_in_plane_are_one_volume_each(tmp_path: Path) -> None:
    src = _blocks(tmp_path / "in", [(0.0, 0.0, 0.0), (50.0, -20.0, 100.0)])
    rows = _convert(src, tmp_path / "out")
    outputs = sorted({r["output"] for r in rows})
    assert len(outputs) == 2  # was 1: 'tilt corrected: 25.3 degrees', 54 slices resampled
    assert all("split: 2 blocks of slices placed apart in-plane" in r["problems"] for r in rows)
    assert not any("tilt" in r["problems"].replace("gantry tilt's", "") for r in rows)
    frames = G.dicom_frames(src)
    for name in outputs:
        G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / name, frames)


def test_interleaved_blocks_are_told_apart(tmp_path: Path) -> None:
    # the second block's slices fall between the first's along the normal
    src = _blocks(tmp_path / "in", [(0.0, 0.0, 0.0), (30.0, 0.0, 1.0)])
    rows = _convert(src, tmp_path / "out")
    assert len({r["output"] for r in rows}) == 2
    frames = G.dicom_frames(src)
    for name in {r["output"] for r in rows}:
        G.assert_every_voxel_on_a_dicom_pixel(tmp_path / "out" / name, frames)


def test_a_real_tilt_is_still_corrected(tmp_path: Path) -> None:
    c, s = np.cos(np.radians(15)), np.sin(np.radians(15))
    series = generate_uid()
    slices = [G.plane((0.0, 0.0, 5.0 * k), (1.0, 0.0, 0.0, 0.0, c, -s), size=24, series=series)
              for k in range(4)]  # fmt: skip
    rows = _convert(G.save(tmp_path / "in", slices), tmp_path / "out")
    (row,) = rows
    assert row["problems"].startswith("tilt corrected: 15.0 degrees")


@pytest.mark.parametrize(("degrees", "step"), [(3.0, 0.625), (7.0, 0.5), (0.5, 1.0)])
def test_a_tilt_with_positions_rounded_to_a_tenth_is_no_blocks(degrees: float, step: float) -> None:
    # rounded to 0.1 mm, a tilt's offsets step in stairs that are off its line by up to
    # 0.05 mm: not blocks (split into 4 to 31 of them when judged by 0.05 mm alone)
    from pipeline.dicom.stack import in_plane_blocks

    t = np.tan(np.radians(degrees))
    positions = np.array([[0.0, round(-k * step * t, 1), round(k * step, 1)] for k in range(40)])
    normal = np.array([0.0, 0.0, 1.0])
    rel = (positions - positions[0]) @ normal
    assert in_plane_blocks(positions, rel, normal, pixel=0.5 * 0.7) is None
    aside = np.array([[50.0, 0.0, 0.0]] * 20 + [[0.0, 0.0, 0.0]] * 20)
    straight = positions * [0.0, 0.0, 1.0] + aside
    blocks = in_plane_blocks(straight, rel, normal, pixel=0.35)  # a block 50 mm aside: blocks
    assert blocks is not None and [len(b) for b in blocks] == [20, 20]
