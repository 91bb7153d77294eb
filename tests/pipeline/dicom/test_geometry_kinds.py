"""Kinds of slice geometry from dcm2niix / nibabel issues, pinned with values by hand.

- SpacingBetweenSlices written negative (GE, Philips: a descending acquisition; PS3.3
  C.8.3.1 wants it positive): the volume follows the positions, and the magnitude agrees
  with their step, so nothing is said.
- A gantry tilt with uneven spacing (CT; dcm2niix issue 253 on tilt correction): sheared
  in-plane first, then resampled along the normal; slice
  values 1..5 at 0, 3, 6, 10, 13 mm resampled onto 3.25 mm steps are, linearly,
  1, 2 + 0.25/3, 3 + 0.5/4, 3 + 3.75/4 and 5.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from tests.pipeline.dicom.geometry_cases import CT, LPS_TO_RAS, convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.9494"


def test_negative_spacing_between_slices_follows_the_positions(tmp_path: Path) -> None:
    slices = [plane((0.0, 0.0, -3.0 * z), value=z + 1, series=SERIES, SliceThickness=3.0,
                    SpacingBetweenSlices=-3.0, InstanceNumber=z + 1) for z in range(4)]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "s", slices), tmp_path / "o")
    assert code == 0 and not errors
    (row,) = rows
    img = nib.load(tmp_path / "o" / row["output"])
    assert np.asarray(img.dataobj)[0, 0].tolist() == [4, 3, 2, 1]  # -9 mm first
    lps = LPS_TO_RAS @ img.affine
    assert np.allclose(lps[:3, 2], [0, 0, 3]) and np.allclose(lps[:3, 3], [0, 0, -9])
    assert row["problems"] == ""


def test_gantry_tilt_with_uneven_spacing_is_resampled_and_said(tmp_path: Path) -> None:
    shear = np.tan(np.radians(15.0))
    slices = [plane((0.0, shear * z, float(z)), value=k + 1, series=SERIES, sop_class=CT,
                    GantryDetectorTilt=15.0) for k, z in enumerate([0, 3, 6, 10, 13])]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "s", slices), tmp_path / "o")
    assert code == 0 and not errors
    (row,) = rows
    img = nib.load(tmp_path / "o" / row["output"])
    want = [1.0, 2 + 0.25 / 3, 3 + 0.5 / 4, 3 + 3.75 / 4, 5.0]
    assert np.allclose(np.asarray(img.dataobj)[0, 0], want, atol=1e-5)
    assert np.allclose((LPS_TO_RAS @ img.affine)[:3, 2], [0, 0, 3.25])
    assert row["problems"].startswith("tilt corrected: 15.0 degrees")
    assert "resampled: uneven slice spacing: steps from 3 to 4 mm" in row["problems"]
