"""NIfTI masks whose grids differ from their images' by a little: refused or placed.

Helpers and the study (4 patients x 2 MR series x 3 slices of 32x32) as in
test_nifti_masks_on_dicom; each case changes one mask's affine by a known amount.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.errors import RadpipeError
from tests.runner.conftest import seg_config
from tests.runner.test_nifti_masks_on_dicom import (
    BLOCK,
    _dataset,
    _nifti,
    _ras,
    _write_masks,
    series_by_position,
)
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


def _refusal(study: Path, tmp_path: Path, change: Callable[[np.ndarray], None]) -> str:
    """The refusal when file 4's mask (stored as its image is) gets ``change`` on its affine."""
    rows = []
    (tmp_path / "truth" / "m").mkdir(parents=True)
    for n, f in enumerate(sorted((study / "dicom").rglob("*.dcm"))):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        affine = _ras(ds)
        if n == 4:
            change(affine)
        _nifti(tmp_path / "truth" / "m" / f"{n}.nii.gz", BLOCK.T.copy(), affine)
        rows.append([ds.SOPInstanceUID, 0, f"m/{n}.nii.gz"])
    raw = seg_config(study, tmp_path / "out", [])
    raw["data"]["masks"] = str(_write_masks(tmp_path / "truth", rows))
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError, match="1 NIfTI masks do not lie") as info:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    return str(info.value)


def _double_column_step(affine: np.ndarray) -> None:
    affine[:3, 0] *= 2


def _tilt_slice_axis(affine: np.ndarray) -> None:
    affine[:3, 2] = affine[:3, 2] + affine[:3, 1]  # k leans along the rows: another plane stack


def _half_a_pixel_along_a_row(affine: np.ndarray) -> None:
    affine[:3, 3] += 0.5 * affine[:3, 0]


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (_double_column_step, "(another spacing, size or in-plane direction)"),
        (_tilt_slice_axis, "its grid does not hold"),
        (_half_a_pixel_along_a_row, "its grid does not hold"),
    ],
    ids=["spacing", "tilted-slices", "half-pixel"],
)
def test_a_mask_grid_off_by_a_little_is_refused(
    mr_seg: Path, tmp_path: Path, change: Callable[[np.ndarray], None], said: str
) -> None:
    text = _refusal(mr_seg, tmp_path, change)
    assert "m/4.nii.gz: " in text and said in text


def test_a_volume_a_hair_off_its_slices_gives_each_its_nearest_plane(
    mr_seg: Path, tmp_path: Path
) -> None:
    """The volume's origin 1 % of a slice step past the first slice: each frame lies just
    below its plane (slice k at k - 0.01), within the tolerance; its nearest plane is k."""
    rows, want = [], {}
    (tmp_path / "truth" / "m").mkdir(parents=True)
    for n, items in enumerate(series_by_position(mr_seg)):
        affine = _ras(items[0])
        affine[:3, 2] = _ras(items[1])[:3, 3] - _ras(items[0])[:3, 3]
        affine[:3, 3] += 0.01 * affine[:3, 2]
        volume = np.stack([(BLOCK * (k + 1)).T for k in range(len(items))], axis=-1)
        _nifti(tmp_path / "truth" / "m" / f"s{n}.nii.gz", volume, affine)
        for k, ds in enumerate(items):
            rows.append([ds.SOPInstanceUID, 0, f"m/s{n}.nii.gz"])
            want[str(ds.SOPInstanceUID)] = k + 1
    dataset = _dataset(mr_seg, _write_masks(tmp_path / "truth", rows), tmp_path)
    got = sorted(int(dataset.raw_sample(i).mask.max()) for i in range(len(dataset)))
    assert got == sorted(want.values())
