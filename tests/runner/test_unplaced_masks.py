"""An images run whose placed NIfTI masks (a real affine) belong to images with no place (PNG,
NPY, NIfTI without qform and sform) says that they are used as stored, as a DICOM run does
for radiographs; it said nothing."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from PIL import Image

from pipeline.data import FolderDataset
from tests.runner.conftest import images_study_warnings, write_rows


def _study(folder: Path) -> Path:
    """Six 8x6 images, each with a 2-D NIfTI mask: the PNG images' masks and those of the
    unplaced NIfTI image are placed (a dcm2niix-like LPS affine), the rest have no place."""
    placed_affine = np.diag([-0.7, -0.7, 1.0, 1.0])
    placed_affine[:3, 3] = [90.0, 120.0, -30.0]
    rows = []
    for i in range(6):
        pixels = np.zeros((8, 6), np.uint8)
        pixels[1:3, :] = 1  # rows 1-2 of the picture
        if i < 4:  # PNG images
            image = f"i{i}.png"
            Image.fromarray(pixels * 200).save(folder / image)
        else:  # NIfTI images without a place (codes 0), axes (column, row) as NIfTI keeps them
            image = f"i{i}.nii.gz"
            nib.save(nib.Nifti1Image(pixels.T.astype(np.float32), None), folder / image)
        affine = placed_affine if i in (0, 1, 4) else None  # three placed masks
        nib.save(nib.Nifti1Image(pixels.T.copy(), affine), folder / f"m{i}.nii.gz")
        rows.append({"image": image, "mask": f"m{i}.nii.gz", "label": i % 2, "patient_id": f"p{i}"})
    return write_rows(folder / "list.csv", rows)


def test_placed_masks_of_unplaced_images_are_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    image_list = _study(tmp_path)
    split = {"test": 0.34, "val": 0.0}
    # a segmentation: a classification leaves the masks out, unread (they are not its truth)
    said = images_study_warnings(tmp_path, image_list, split, caplog, "lie in space",
                                 "segmentation")  # fmt: skip
    assert said == [
        "3 NIfTI masks lie in space (a qform or sform affine) but their images do not (PNG or "
        "NPY images, or NIfTI without qform and sform), so the mask's affine cannot be checked "
        "against its image: used as stored, NIfTI i the column and j the row; a mask drawn on "
        "dcm2niix's NIfTI of a DICOM image has its rows flipped (upside down) against a PNG of "
        "it: look at one (m0.nii.gz, m1.nii.gz, m4.nii.gz)"
    ]
    # used as stored: each mask on its image's rows 1-2
    ds = FolderDataset(tmp_path, "list.csv")
    for i in range(len(ds)):
        mask = ds.sample(i).mask
        assert mask is not None and mask.shape == (8, 6)
        assert mask[1:3].all() and not mask[3:].any() and not mask[0].any()
