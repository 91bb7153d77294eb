"""Two fields of view side by side at the same slice positions in one series are two volumes.

A bilateral breast MR (or both legs, both hands) can file the left and the right field of
view in one series: at each slice position two images whose in-plane origins lie far apart.
radpipe took them for co-located images, "split: 2 images at one position (time points or
duplicates)", told apart by acquisition order, ties broken by file name, so a volume could
take the right image at one slice and the left at the next. Expected values by hand: each
block's own slices, its affine from its own ImagePositionPatient (LPS -> RAS: x, y negated).
"""

from __future__ import annotations

import math
from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G

RIGHT, LEFT = (-150.0, -50.0), (20.0, -50.0)  # LPS x, y of each block's first pixel


_convert = G.convert_cli


def _bilateral(folder: Path, points: int = 1) -> Path:
    """4 axial slices 3 mm apart per block (and time point); block b slice k holds
    100 b + 10 t + k. File names alternate between the blocks from slice to slice, and
    nothing else orders the two images at one position."""
    series, slices, names = generate_uid(), [], []
    for b, (x, y) in enumerate((RIGHT, LEFT)):
        for t in range(points):
            for k in range(4):
                tags = {"RepetitionTime": 3000.0, "TemporalPositionIdentifier": t + 1}
                slices.append(G.plane((x, y, 3.0 * k), value=100 * b + 10 * t + k,
                                      series=series, **(tags if points > 1 else {})))  # fmt: skip
                names.append(f"{'ab'[(b + k) % 2]}{k}{t}{b}")
    return G.save(folder, slices, names)


def test_left_and_right_blocks_are_one_volume_each(tmp_path: Path) -> None:
    rows = _convert(_bilateral(tmp_path / "in"), tmp_path / "out")
    assert {r["problems"] for r in rows} == {
        "split: 2 blocks of slices side by side at the same slice positions (their in-plane "
        "origins 170 mm apart: separate fields of view, such as left and right in a bilateral "
        "acquisition, not time points), one volume each"
    }  # was 'split: 2 images at one position (time points or duplicates), told apart by ...'
    names = sorted({r["output"] for r in rows})
    assert len(names) == 2
    for name, (x, y), b in zip(names, (RIGHT, LEFT), (0, 1), strict=True):
        img = nib.load(str(tmp_path / "out" / name))
        assert img.shape == (8, 8, 4)
        data = np.asarray(img.dataobj)
        assert np.array_equal(data, np.broadcast_to(100 * b + np.arange(4), (8, 8, 4)))
        expected = np.array([[-1.0, 0, 0, -x], [0, -1.0, 0, -y], [0, 0, 3.0, 0], [0, 0, 0, 1]])
        assert np.allclose(img.affine, expected, atol=1e-4)


def test_bilateral_time_points_are_a_4d_volume_per_side(tmp_path: Path) -> None:
    rows = _convert(_bilateral(tmp_path / "in", points=2), tmp_path / "out")
    names = sorted({r["output"] for r in rows})
    assert len(names) == 2
    for name, (x, _), b in zip(names, (RIGHT, LEFT), (0, 1), strict=True):
        img = nib.load(str(tmp_path / "out" / name))
        assert img.shape == (8, 8, 4, 2) and img.affine[0, 3] == -x
        data = np.asarray(img.dataobj)[0, 0]  # (4 slices, 2 time points)
        assert data.T.tolist() == [[100 * b + 10 * t + k for k in range(4)] for t in (0, 1)]
        assert math.isclose(float(img.header.get_zooms()[3]), 3.0)


def test_a_tilted_time_series_is_no_blocks(tmp_path: Path) -> None:
    # each slice's in-plane origin moves with its distance (a 15-degree tilt); the two time
    # points at one position share it: a tilt, one 4-D volume, as before
    c, s = math.cos(math.radians(15)), math.sin(math.radians(15))
    series, slices = generate_uid(), []
    for t in range(2):
        for k in range(4):
            slices.append(G.plane((0.0, 0.0, 5.0 * k), (1.0, 0.0, 0.0, 0.0, c, -s), value=k,
                                  series=series, RepetitionTime=2000.0,
                                  TemporalPositionIdentifier=t + 1))  # fmt: skip
    rows = _convert(G.save(tmp_path / "in", slices), tmp_path / "out")
    (problem,) = {r["problems"] for r in rows}
    assert problem.startswith("tilt corrected: 15.0 degrees") and "side by side" not in problem
    (name,) = {r["output"] for r in rows}
    assert nib.load(str(tmp_path / "out" / name)).shape[3] == 2


def test_tilted_left_and_right_blocks_are_one_volume_each(tmp_path: Path) -> None:
    # a 15-degree gantry tilt: the table moves 5 mm along z, so each slice's in-plane origin
    # moves 5 sin(15) cos(15) = 1.25 mm from the last (more than half a pixel); both blocks
    # were stacked as 'time points' by file name, each volume taking the left image at one
    # slice and the right at the next, and the mix corrected as an '85.1 degree' tilt
    c, s = math.cos(math.radians(15)), math.sin(math.radians(15))
    iop = (1.0, 0.0, 0.0, 0.0, c, -s)
    series, slices, names = generate_uid(), [], []
    for b, (x, y) in enumerate((RIGHT, LEFT)):
        for k in range(4):
            slices.append(G.plane((x, y, 5.0 * k), iop, size=24, series=series))  # gradient
            names.append(f"{'ab'[(b + k) % 2]}{k}{b}")
    rows = _convert(G.save(tmp_path / "in", slices, names), tmp_path / "out")
    (problem,) = {r["problems"] for r in rows}
    assert problem.startswith("split: 2 blocks of slices side by side")
    assert "tilt corrected: 15.0 degrees" in problem and "acquisition order" not in problem
    names = sorted({r["output"] for r in rows})
    assert len(names) == 2
    for name, (x, y) in zip(names, (RIGHT, LEFT), strict=True):
        path = tmp_path / "out" / name
        img = nib.load(str(path))
        assert img.shape == (24, 24, 4)
        # by hand (LPS -> RAS: x, y negated): columns the row cosine, the column cosine and
        # the normal (0, s, c) times the spacing along it, 5 cos(15); origin the first slice's
        step = 5.0 * c
        expected = np.array([[-1.0, 0, 0, -x], [0, -c, -step * s, -y], [0, -s, step * c, 0],
                             [0, 0, 0, 1]])  # fmt: skip
        assert np.allclose(img.affine, expected, atol=1e-4)
        # resampled values are the linear function of each voxel's own LPS position
        assert G.assert_linear_in_world(path, margin=5) > 0  # shift up to 3.75 mm
