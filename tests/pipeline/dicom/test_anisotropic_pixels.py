"""Series of pixels taller than wide on images wider than tall: every row spacing stays a row
spacing (PixelSpacing is row spacing first, PS3.3 C.7.6.2.1.1), in the affine, the zooms,
the tilt shifts and the volume's spacing.

With square pixels on square images, a row spacing used for the columns (or rows and columns
swapped) changes nothing, so the rest of the suite could not see it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from pipeline.dicom.volume import SeriesVolume, read_volumes
from pipeline.writers import write_nifti
from tests.pipeline.dicom import geometry_cases as G

ROW_SPACING, COL_SPACING = 0.6, 0.9  # mm between rows, mm between columns
ROWS, COLS = 12, 16
C15, S15 = np.cos(np.radians(15)), np.sin(np.radians(15))
OBLIQUE = (0.866025, 0.5, 0.0, -0.12941, 0.224144, -0.965926)
TILTED = (1.0, 0.0, 0.0, 0.0, C15, -S15)


def _plane(position: Sequence[float], iop: Sequence[float], series: str) -> Dataset:
    """One slice whose pixels hold :data:`G.GRADIENT` . P + :data:`G.OFFSET` of their own LPS
    position P (pydicom and numpy only: P = S + i dc X + j dr Y)."""
    o = np.asarray(iop, dtype=np.float64)
    j, i = np.mgrid[0:ROWS, 0:COLS]  # row j, column i
    world = np.asarray(position)[None, None] + (
        i[..., None] * COL_SPACING * o[:3] + j[..., None] * ROW_SPACING * o[3:]
    )
    pixels = np.rint(100 * (world @ G.GRADIENT + G.OFFSET)).astype(np.uint16)
    return G.image(pixels, G.CT, series, ImagePositionPatient=[float(v) for v in position],
                   ImageOrientationPatient=[float(v) for v in iop],
                   PixelSpacing=[ROW_SPACING, COL_SPACING], RescaleSlope=0.01,
                   RescaleIntercept=0.0)  # fmt: skip


def _convert(src: Path, out: Path) -> tuple[Path, SeriesVolume]:
    """The series read as one volume and written as ``out`` (as ``convert`` writes it)."""
    _plan, (volume,) = read_volumes(src, sorted(p.name for p in src.iterdir()))
    return write_nifti(out, volume.image, volume.affine_ras), volume


def test_oblique_stack_of_oblong_pixels_every_voxel_on_its_dicom_pixel(tmp_path: Path) -> None:
    normal = np.cross(OBLIQUE[:3], OBLIQUE[3:])
    series = generate_uid()
    slices = [_plane(np.array([3.0, -7.0, 11.0]) + 2.5 * k * normal, OBLIQUE, series)
              for k in range(4)]  # fmt: skip
    src = G.save(tmp_path / "in", slices[::-1])
    path, volume = _convert(src, tmp_path / "out.nii")
    # spacing: slice, row, column; the array: slices, rows, columns
    assert volume.spacing == pytest.approx((2.5, ROW_SPACING, COL_SPACING))
    assert volume.image.shape == (4, ROWS, COLS)
    image = nib.load(path)
    assert image.shape == (COLS, ROWS, 4)  # NIfTI i = column, j = row, k = slice
    np.testing.assert_allclose(image.header.get_zooms(), (COL_SPACING, ROW_SPACING, 2.5), atol=1e-5)
    G.assert_every_voxel_on_a_dicom_pixel(path, G.dicom_frames(src))
    assert G.assert_linear_in_world(path, margin=0) == ROWS * COLS * 4


@pytest.mark.parametrize("iop", [TILTED], ids=["tilt-15"])
def test_tilt_shifts_of_oblong_pixels_follow_world_positions(
    tmp_path: Path, iop: Sequence[float]
) -> None:
    # the tilt moves each slice along the column direction, by rows of 0.6 mm (not 0.9)
    series = generate_uid()
    src = G.save(tmp_path / "in", [_plane((0.0, 0.0, 2.0 * k), iop, series) for k in range(4)])
    path, volume = _convert(src, tmp_path / "out.nii")
    assert volume.problems[0].startswith("tilt corrected: 15.0 degrees")
    np.testing.assert_allclose(nib.load(path).header.get_zooms()[:2], (COL_SPACING, ROW_SPACING))
    # the last slice moves 3 x 2 sin 15 = 1.55 mm, 2.6 rows: four rows of margin hold it
    assert G.assert_linear_in_world(path, margin=4) > 0
