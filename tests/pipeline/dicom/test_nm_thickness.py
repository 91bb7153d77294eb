"""An NM reconstruction without SpacingBetweenSlices (Type 2 in the NM Reconstruction module,
PS3.3 C.8.4.15: present but empty, or left out by exporters) beside a SliceThickness.

Slicer #3457 (SPECT loaded with a wrong z spacing): radpipe wrote such a SPECT volume
without geometry, a frame step of 1, with the note "images without
ImagePositionPatient/ImageOrientationPatient", for a file that gives both in its Detector
Information Sequence. Its frames are now placed SliceThickness apart along the slice normal,
as ITK takes a multi-frame file's z spacing without SpacingBetweenSlices (ITK PR #243), and
the note says so; with neither value the frames stay unplaced and the note says why.
Expected by hand: first slice's corner at (-6.6, -6.6, 100) LPS, frame k at z = 100 + 4.4 k.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.test_nm_geometry import _convert, _nm


@pytest.mark.parametrize("spacing", [None, ""], ids=["absent", "empty"])
def test_frames_placed_slice_thickness_apart(tmp_path: Path, spacing: str | None) -> None:
    ds = _nm(4.4)
    if spacing is None:
        del ds.SpacingBetweenSlices
    else:
        ds.SpacingBetweenSlices = spacing
    out, (row,) = _convert(tmp_path, ds, "nifti")
    img = nib.load(out / row["output"])
    assert np.asarray(img.dataobj)[0, 0, :].tolist() == [0, 10, 20, 30]
    expected = np.diag([-4.4, -4.4, 4.4, 1.0])  # LPS -> RAS flips the first two axes
    expected[:3, 3] = [6.6, 6.6, 100.0]
    assert img.affine == pytest.approx(expected, abs=1e-4)
    assert int(img.header["qform_code"]) == 1 and row["spacing"] == "4.4x4.4x4.4"
    assert "SliceThickness (0018,0050) 4.4 mm" in row["problems"]
    assert "no geometry" not in row["problems"]


def test_without_thickness_the_note_says_why(tmp_path: Path) -> None:
    ds = _nm(4.4)
    del ds.SpacingBetweenSlices, ds.SliceThickness
    _, (row,) = _convert(tmp_path, ds, "nifti")
    assert "no SpacingBetweenSlices (0018,0088) nor SliceThickness" in row["problems"]
    assert "images without ImagePositionPatient/ImageOrientationPatient" not in row["problems"]
