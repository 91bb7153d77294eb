"""NIfTI writing: the smallest exact dtype (int16/uint16 as dcm2niix stores rescaled integer
images, float32 otherwise), values read back by nibabel equal to the volume, ``.nii`` written
uncompressed and ``.nii.gz`` gzip-compressed."""

from __future__ import annotations

import gzip
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.writers import write_nifti

AFFINE = np.diag([0.7, 0.7, 2.5, 1.0])


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        (np.array([-1024.0, 0.0, 3071.0]), np.int16),  # CT Hounsfield units
        (np.array([0.0, 40000.0, 65535.0]), np.uint16),  # beyond int16, within uint16
        (np.array([-1024.0, 0.5, 10.0]), np.float32),  # resampled: not whole numbers
        (np.array([-40000.0, 0.0, 1.0]), np.float32),  # whole, but no 16-bit type holds it
        (np.array([np.nan, 0.0, 1.0]), np.float32),
    ],
)
def test_smallest_exact_dtype(values: np.ndarray, dtype: type, tmp_path: Path) -> None:
    volume = np.resize(values, (4, 3, 5)).astype(np.float32)  # (D, H, W)
    path = write_nifti(tmp_path / "v.nii.gz", volume, AFFINE)
    image = nib.load(path)
    assert image.get_data_dtype() == np.dtype(dtype)
    back = np.asarray(image.dataobj, dtype=np.float64)
    np.testing.assert_array_equal(back, volume.transpose(2, 1, 0))  # (W, H, D), exact
    assert back[2, 1, 3] == volume[3, 1, 2]  # column 2, row 1, slice 3, by hand


def test_nii_is_uncompressed_and_gz_compressed(tmp_path: Path) -> None:
    volume = np.arange(2 * 3 * 4, dtype=np.float32).reshape(2, 3, 4)
    plain = write_nifti(tmp_path / "v.nii", volume, AFFINE)
    packed = write_nifti(tmp_path / "v.nii.gz", volume, AFFINE)
    raw = plain.read_bytes()
    assert raw[344:348] == b"n+1\0"  # NIfTI-1 single-file magic, uncompressed on disk
    assert len(raw) == 352 + volume.size * 2  # header + extension flag + int16 voxels
    assert gzip.decompress(packed.read_bytes()) == plain.read_bytes()  # same NIfTI, gzipped
    assert int.from_bytes(raw[:4], "little") == 348


@pytest.mark.parametrize(
    ("values", "stored", "dtype"),
    [
        ([0, 1000, 32767], np.uint16, np.int16),  # fits int16: int16 first, as for float32
        ([0, 1000, 32768], np.uint16, np.uint16),
        ([-1024, 0, 3071], np.int16, np.int16),
        ([0, 7, 255], np.uint8, np.int16),
    ],
)
def test_integer_volumes_get_the_type_their_values_would(
    values: list[int], stored: type, dtype: type, tmp_path: Path
) -> None:
    # an integer volume is stored in the type its values as float32 would get: the type
    # depends on the values only, never on the array's own type
    volume = np.resize(np.array(values, dtype=stored), (4, 3, 5))
    image = nib.load(write_nifti(tmp_path / "v.nii", volume, AFFINE))
    floats = nib.load(write_nifti(tmp_path / "f.nii", volume.astype(np.float32), AFFINE))
    assert image.get_data_dtype() == floats.get_data_dtype() == np.dtype(dtype)
    np.testing.assert_array_equal(np.asarray(image.dataobj), volume.transpose(2, 1, 0))


def test_zooms_without_an_affine_are_column_row_slice(tmp_path: Path) -> None:
    # spacing is given as (slice, row, column) = (3, 0.6, 0.9) mm; NIfTI's i is the column,
    # j the row, k the slice, so its zooms are (0.9, 0.6, 3) and the codes stay 0
    path = write_nifti(tmp_path / "flat.nii", np.zeros((2, 3, 4), np.int16), None,
                       spacing=(3.0, 0.6, 0.9))  # fmt: skip
    image = nib.load(path)
    assert image.shape == (4, 3, 2)
    np.testing.assert_allclose(image.header.get_zooms(), (0.9, 0.6, 3.0), rtol=1e-6)
    assert int(image.header["sform_code"]) == 0 and int(image.header["qform_code"]) == 0
