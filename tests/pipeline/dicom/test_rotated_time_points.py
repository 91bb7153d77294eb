"""Time points whose slices a motion correction rotated: their own volumes, said as such.

Each time point t of an fMRI-like series is rotated 0.01 rad further about the normal (0.573
degrees), beyond the 1e-3 orientation tolerance: each is its own orientation group, as
dcm2niix splits them ("orientation varies (vNav or localizer?)"). The note called them "a
localizer or another stack" (or, three of one size, nothing); it now gives the angle between
the planes: time points 0 and 2 are 0.02 rad apart, 1.146 degrees (by hand).
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.dicom import index_folder
from tests.pipeline.dicom.geometry_cases import LPS_TO_RAS, convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.9191"
SAID = (
    "split: 3 orientations, image sizes or pixel spacings in one series, one volume each "
    "(orientations differing by up to 1.1 degrees between time points by "
    "TemporalPositionIdentifier: slices rotated between acquisitions, as a motion correction "
    "rotates them, not stacked together)"
)


def _iop(t: int) -> tuple[float, ...]:
    c, s = np.cos(0.01 * t), np.sin(0.01 * t)
    return (c, s, 0.0, -s, c, 0.0)


def _rotated(slices: tuple[int, ...]) -> list:
    """Time point t (``slices[t]`` slices, 3 mm apart) in plane ``_iop(t)``; 100 t + z + 1."""
    return [plane((0.0, 0.0, 3.0 * z), iop=_iop(t), value=100 * t + z + 1, series=SERIES,
                  RepetitionTime=2000.0, InstanceNumber=10 * t + z + 1,
                  TemporalPositionIdentifier=t + 1)
            for t, n in enumerate(slices) for z in range(n)]  # fmt: skip


@pytest.mark.parametrize("slices", [(4, 4, 4), (4, 4, 3)], ids=["whole", "interrupted"])
def test_time_points_rotated_between_them_are_said_so(tmp_path: Path, slices: tuple) -> None:
    src = save(tmp_path / "src", _rotated(slices))
    rows, errors, code = convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors
    outputs = sorted({r["output"] for r in rows})
    assert len(outputs) == 3
    for t, name in enumerate(outputs):  # the largest first, then in the order found
        img = nib.load(tmp_path / "out" / name)
        assert np.asarray(img.dataobj)[0, 0].tolist() == [100 * t + z + 1 for z in
                                                          range(slices[t])]  # fmt: skip
        lps = LPS_TO_RAS @ img.affine  # columns: row and column cosines x 1 mm, normal x 3 mm
        assert np.allclose(lps[:3, 0], _iop(t)[:3]) and np.allclose(lps[:3, 1], _iop(t)[3:])
    assert {r["problems"] for r in rows} == {SAID}
    (series,) = index_folder(src).series  # inspect says the same
    assert SAID in series.problems


def test_a_localizer_in_another_plane_is_still_called_one(tmp_path: Path) -> None:
    """A coronal image among four axial slices: 90 degrees off, no rotated time point."""
    axial = [plane((0.0, 0.0, 3.0 * z), value=z + 1, series=SERIES) for z in range(4)]
    coronal = plane(
        (0.0, 0.0, 0.0), iop=(1, 0, 0, 0, 0, -1), value=9, series=SERIES, SliceThickness=3.0
    )
    rows, errors, code = convert_nifti(save(tmp_path / "src", [*axial, coronal]), tmp_path / "o")
    assert code == 0 and not errors
    assert {r["problems"] for r in rows} == {
        "split: 2 orientations, image sizes or pixel spacings in one series, one volume each (1 "
        "image in another plane than the 4 of the first volume, a localizer or another stack: "
        "not stacked with them)"
    }
