"""Geometry edges a mutation sweep of ``pipeline.dicom.{geometry,spacing,stack}`` and
``pipeline.writers`` found untested: the affine's columns with anisotropic pixels in a plane
other than axial (a column of the identity passed where the pixel size is 1 mm), the tilt angle
of a stack away from the origin, and NIfTI headers without a place or outside the patient's
coordinates. Expected values by hand (PS3.3 C.7.6.2.1.1; NIfTI-1 header) and from nibabel's
own DICOM reader."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.dicom.geometry import affine_lps
from pipeline.dicom.stack import tilt_angle
from pipeline.writers import write_nifti


def test_affine_of_a_coronal_image_with_anisotropic_pixels() -> None:
    """Row cosines (1, 0, 0), column cosines (0, 0, -1), PixelSpacing 0.5 (between rows) by
    0.8 (between columns), step 2: column i moves 0.8 along x, row j 0.5 down z, the slice
    normal is row x column = (0, 1, 0), times 2; the corner is the first position."""
    got = affine_lps([1, 0, 0, 0, 0, -1], [10, 20, 30], [0.5, 0.8], 2.0)
    expected = [[0.8, 0, 0, 10], [0, 0, 2, 20], [0, -0.5, 0, 30], [0, 0, 0, 1]]
    np.testing.assert_allclose(got, expected, atol=1e-12)


def test_affine_agrees_with_nibabels_dicom_reader() -> None:
    """nibabel's ``dicomwrappers`` (an independent reading of PS3.3 C.7.6.2.1.1) gives the
    same in-plane columns and corner for an oblique image with anisotropic pixels (nibabel
    orders the spacing (row, column) as PixelSpacing and returns LPS)."""
    from nibabel.nicom.dicomwrappers import wrapper_from_data
    from pydicom.dataset import Dataset

    ds = Dataset()
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    ds.ImageOrientationPatient = [c, s, 0.0, 0.0, 0.0, -1.0]
    ds.ImagePositionPatient = [-12.5, 40.0, 7.25]
    ds.PixelSpacing = [0.6, 0.9]
    ds.Rows, ds.Columns = 4, 5
    ds.SliceThickness = 3.0
    theirs = wrapper_from_data(ds).affine
    ours = affine_lps(ds.ImageOrientationPatient, ds.ImagePositionPatient, ds.PixelSpacing, 3.0)
    # nibabel's voxel axes are (row, column, slice); ours (column, row, slice)
    np.testing.assert_allclose(ours[:3, 0], theirs[:3, 1], atol=1e-9)
    np.testing.assert_allclose(ours[:3, 1], theirs[:3, 0], atol=1e-9)
    np.testing.assert_allclose(ours[:3, 3], theirs[:3, 3], atol=1e-9)


def test_tilt_angle_of_a_stack_away_from_the_origin() -> None:
    """Slices 2 mm apart along the normal (0, 0, 1), each shifted 2 * tan(15 degrees) along
    y, the first at (-120, -150, 400): the first-to-last direction is 15 degrees off the
    normal, wherever the stack lies."""
    shift = 2 * np.tan(np.radians(15))
    positions = np.array([[-120.0, -150.0 + k * shift, 400.0 + 2 * k] for k in range(6)])
    assert tilt_angle(positions, np.array([0.0, 0.0, 1.0])) == pytest.approx(15.0)


def test_a_volume_without_a_place_keeps_its_zooms_and_unknown_codes(tmp_path: Path) -> None:
    """No affine but a spacing (slice 3, row 2, column 1 mm): the affine is the zooms alone,
    diag(1, 2, 3, 1) in NIfTI's (i, j, k) = (column, row, slice) order, stored as the sform
    with code 0 (nibabel's ``image.affine`` then falls back to its own base affine)."""
    path = write_nifti(
        tmp_path / "v.nii", np.zeros((2, 3, 4), np.int16), None, spacing=(3.0, 2.0, 1.0)
    )
    image = nib.load(path)
    np.testing.assert_allclose(image.header.get_sform(), np.diag([1.0, 2.0, 3.0, 1.0]))
    assert image.header.get_zooms() == (1.0, 2.0, 3.0)
    assert (int(image.header["sform_code"]), int(image.header["qform_code"])) == (0, 0)


@pytest.mark.parametrize(("patient", "codes"), [(True, (1, 1)), (False, (2, 0))])
def test_coordinates_other_than_the_patients_get_sform_code_2_and_no_qform(
    tmp_path: Path, patient: bool, codes: tuple[int, int]
) -> None:
    """NIfTI-1: sform code 1 (scanner anatomical) with a qform for patient coordinates;
    another frame of reference is code 2 (aligned anatomical), its qform code 0."""
    affine = np.diag([0.5, 0.5, 2.0, 1.0])
    path = write_nifti(tmp_path / "v.nii", np.zeros((2, 3, 4), np.int16), affine, patient=patient)
    header = nib.load(path).header
    assert (int(header["sform_code"]), int(header["qform_code"])) == codes
