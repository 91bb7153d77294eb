"""Time points whose slices moved between them (prospective motion correction) stay apart.

An fMRI series whose slice positions a prospective motion correction (Siemens PACE) moved by
0.3 mm along the normal from one time point to the next has no two images at one position:
nothing in the co-located step told the time points apart, so one stack took every time
point's slices (0, 0.3, 0.6, 3, 3.3, ... mm), resampled as "uneven slice spacing" with the
time points interpolated into each other. Each TemporalPositionIdentifier is its own volume,
as each b-value of a DWI whose b = 0 volumes sit elsewhere (dcm2niix #888) already was.

Expected by construction: time point t's slice z holds 100 t + z + 1 at z = 3 z + 0.3 t mm.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.geometry_cases import convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.8602"


def _moved(shift: tuple[float, float, float], **per: object) -> list:
    out = []
    for t in range(3):
        for z in range(4):
            where = (shift[0] * t, shift[1] * t, 3.0 * z + shift[2] * t)
            tags = {key: f(t) for key, f in per.items()}  # type: ignore[operator]
            out.append(plane(where, value=100 * t + z + 1, series=SERIES, RepetitionTime=2000.0,
                             InstanceNumber=4 * t + z + 1, **tags))  # fmt: skip
    return out


def test_time_points_moved_along_the_normal_are_a_volume_each(tmp_path: Path) -> None:
    src = save(
        tmp_path / "src", _moved((0.0, 0.0, 0.3), TemporalPositionIdentifier=lambda t: t + 1)
    )
    rows, errors, code = convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors
    outputs = sorted({r["output"] for r in rows})
    assert len(outputs) == 3  # was one volume of 33 slices 0.3 mm apart
    for t, name in enumerate(outputs):
        img = nib.load(tmp_path / "out" / name)
        data = np.asarray(img.dataobj)
        assert data.shape == (8, 8, 4)
        assert data[0, 0].tolist() == [100 * t + z + 1 for z in range(4)]
        assert np.allclose(img.affine[2, 2:], [3.0, 0.3 * t])
    assert rows[0]["problems"].startswith(
        "split: 3 stacks by TemporalPositionIdentifier at positions that do not coincide"
    )
    assert "resampled" not in rows[0]["problems"]


def test_time_points_moved_in_plane_are_no_blocks_side_by_side(tmp_path: Path) -> None:
    """Moved 0.4 mm right and 0.2 mm back per time point (an 8 mm field of view): origins up
    to 0.89 mm apart, over half a pixel, were taken for blocks side by side and the time
    points chained into them position by position, one time point's slices shared out
    between two volumes (one resampled over a "missing slice")."""
    src = save(
        tmp_path / "src", _moved((0.4, 0.2, 0.0), TemporalPositionIdentifier=lambda t: t + 1)
    )
    rows, errors, code = convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors
    outputs = sorted({r["output"] for r in rows})
    assert len(outputs) == 3
    for t, name in enumerate(outputs):
        img = nib.load(tmp_path / "out" / name)
        assert np.asarray(img.dataobj)[0, 0].tolist() == [100 * t + z + 1 for z in range(4)]
        assert np.allclose(img.affine[:3, 3], [-0.4 * t, -0.2 * t, 0.0])  # RAS: x, y negated
    assert rows[0]["problems"] == (
        "split: 3 stacks by TemporalPositionIdentifier written as separate volumes (their "
        "positions differ)"
    )


@pytest.mark.parametrize("key", ["TemporalPositionIdentifier", "AcquisitionNumber"])
def test_time_points_drifting_within_the_step_tolerance_are_one_4d_volume(
    tmp_path: Path, key: str
) -> None:
    """Positions 0.017 mm further per time point (over SAME_POSITION, 0.01 mm, so never
    co-located; within the step tolerance): the series was refused as '3 gaps ... in a 0.017
    mm spacing (about ... slices missing)', or, by TemporalPositionIdentifier, written as 3-D
    volumes. Each slice lies within 0.034 mm of its DICOM position in one 4-D volume on the
    first time point's grid."""
    src = save(tmp_path / "src", _moved((0.0, 0.0, 0.017), **{key: lambda t: t + 1}))
    rows, errors, code = convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors
    (name,) = {r["output"] for r in rows}
    img = nib.load(tmp_path / "out" / name)
    data = np.asarray(img.dataobj)
    assert data.shape == (8, 8, 4, 3)
    assert data[0, 0].T.tolist() == [[100 * t + z + 1 for z in range(4)] for t in range(3)]
    assert np.allclose(img.affine[2, 2:], [3.0, 0.0])
    assert float(img.header.get_zooms()[3]) == 2.0  # the TR, in s
