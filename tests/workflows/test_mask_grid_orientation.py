"""A NIfTI mask is placed on its image's grid as the converter places the image.

ImageOrientationPatient a little off orthonormal (written to 2 decimals: row . column =
0.01) is made orthonormal by the converter (the nearest orthonormal pair, noted), while the
grid a NIfTI mask was compared with used the cosines as written: a mask saved on the
converted image's affine and its image disagreed on the pixel steps. The expected affine is
the one ``convert --format nifti`` writes, read back with nibabel.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.convert.batch import ConvertOptions, convert_folder
from workflows.run.mask_grid import _frame_affine


def test_the_mask_grid_is_the_converted_images(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 6, 6)
    ds.ImageOrientationPatient = [1, 0.01, 0, 0, 1, 0]  # |row . column| = 0.01: noted, fixed
    ds.ImagePositionPatient, ds.PixelSpacing = [10, 20, 30], [0.5, 0.5]
    ds.PixelData = np.arange(36, dtype="<u2").tobytes()
    ds.save_as(src / "x.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    (row,) = read_manifest(out / "manifest.csv")
    assert "orientation made orthonormal" in row["problems"]
    written = nib.load(out / row["output"]).affine
    grid = _frame_affine({"source": "x.dcm", "frame": 0}, src, {})
    assert grid is not None
    np.testing.assert_allclose(grid[:3, [0, 1, 3]], written[:3, [0, 1, 3]], atol=1e-9)
