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
    rows, found = _volumes(src, tmp_path / "out")
    assert len(found) == 3
    for t, (profile, affine) in enumerate(found):
        assert profile == [100 * t + z + 1 for z in range(4)]
        assert np.allclose(affine[:3, 3], [-0.4 * t, -0.2 * t, 0.0])  # RAS: x, y negated
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
    img = _one_4d(src, tmp_path / "out", slices=4, times=3, step=3.0)
    assert float(img.header.get_zooms()[3]) == 2.0  # the TR, in s


def _one_4d(src: Path, out: Path, slices: int, times: int, step: float) -> nib.Nifti1Image:
    """The one NIfTI converted from ``src``: (8, 8, slices, times), slice z of time point t
    holding 100 t + z + 1, ``step`` mm apart from z = 0 (the first time point's grid)."""
    rows, errors, code = convert_nifti(src, out)
    assert code == 0 and not errors
    (name,) = {r["output"] for r in rows}
    img = nib.load(out / name)
    data = np.asarray(img.dataobj)
    assert data.shape == (8, 8, slices, times)
    assert data[0, 0].T.tolist() == [[100 * t + z + 1 for z in range(slices)]
                                     for t in range(times)]  # fmt: skip
    assert np.allclose(img.affine[2, 2:], [step, 0.0])
    return img


def _volumes(src: Path, out: Path) -> tuple[list[dict[str, str]], list[tuple[list, np.ndarray]]]:
    """Manifest rows and (profile of pixel (0, 0), affine) of each NIfTI, in name order."""
    rows, errors, code = convert_nifti(src, out)
    assert code == 0 and not errors
    found = []
    for name in sorted({r["output"] for r in rows}):
        img = nib.load(out / name)
        found.append((np.asarray(img.dataobj)[0, 0].tolist(), img.affine))
    return rows, found


def _passes(offset: float, step: float, lost: int | None = None) -> list:
    """AcquisitionNumber t + 1: slice z at ``step * z + offset * t`` mm holds 100 t + z + 1
    (z 0 to 4; the second pass without slice ``lost``)."""
    return [plane((0.0, 0.0, step * z + offset * t), value=100 * t + z + 1, series=SERIES,
                  RepetitionTime=2000.0, InstanceNumber=10 * t + z + 1, AcquisitionNumber=t + 1)
            for t in range(2) for z in range(5) if (t, z) != (1, lost)]  # fmt: skip


def test_passes_whose_offset_divides_the_step_are_time_points(tmp_path: Path) -> None:
    """Two passes 0.02 mm apart with 2.96 mm slices: every step of their union (0.02, 2.94)
    is a whole multiple of 0.02 mm, so they were taken for one interleaved volume with slices
    missing and the series refused as '4 gaps of up to 2.94 mm in a 0.02 mm spacing (about
    584 slices missing)'. They cover the same positions within the step tolerance: one 4-D
    volume, as passes drifting 0.017 mm are."""
    _one_4d(save(tmp_path / "src", _passes(0.02, 2.96)), tmp_path / "out", 5, 2, step=2.96)


def test_a_short_pass_offset_by_a_divisor_of_the_step_is_its_own_volume(tmp_path: Path) -> None:
    """The same with the second pass's middle slice lost (no longer the same positions):
    each pass its own volume at its own positions, where the series was refused for missing
    slices. The second pass is resampled over its own gap."""
    src = save(tmp_path / "src", _passes(0.02, 2.96, lost=2))
    rows, found = _volumes(src, tmp_path / "out")
    assert len(found) == 2
    for t, (profile, affine) in enumerate(found):
        assert profile[:2] + profile[3:] == [100 * t + z + 1 for z in (0, 1, 3, 4)]
        assert np.allclose(affine[2, 2:], [2.96, 0.02 * t])
    said = {r["problems"] for r in rows}
    assert all(p.startswith("split: 2 passes by AcquisitionNumber whose slices interleave, one "
                            "volume each") for p in said)  # fmt: skip
    assert sum("missing slices: 1 gap of up to 5.92 mm in a 2.96 mm spacing" in p
               for p in said) == 1  # fmt: skip


def test_time_points_without_a_repetition_time_say_the_split_in_each_cell(
    tmp_path: Path,
) -> None:
    """Two time points at the same positions, told apart by TemporalPositionIdentifier but
    with no RepetitionTime (no time step for a 4-D header): a 3-D volume each, and the
    decision was only in the series' info line, each volume's problems cell empty, so
    nothing in the manifest said the volume is one of two time points."""
    slices = [plane((0.0, 0.0, 3.0 * z), value=100 * t + z + 1, series=SERIES,
                    InstanceNumber=4 * t + z + 1, TemporalPositionIdentifier=t + 1)
              for t in range(2) for z in range(4)]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out")
    assert code == 0 and not errors
    assert len({r["output"] for r in rows}) == 2
    said = ("split: 2 stacks by TemporalPositionIdentifier written as separate volumes (no "
            "RepetitionTime for a 4-D header)")  # fmt: skip
    assert [r["problems"] for r in rows] == [said, said]
