"""Masks of NPY and NIfTI volumes that are not the size of their image are refused with the
other checks before a run directory is made (exit 2, every one with its line). Only PNGs and
2-D NPYs were checked so: a volume's mask was refused once the run directory had been made,
and the resume it advised was refused too (the corrected mask changed the run's files)."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from pipeline.data.datasets import FolderDataset
from tests.runner.conftest import images_refusal, write_rows
from workflows.run.image_sizes import mismatched_mask_sizes


def test_npy_volume_masks_of_another_size_are_refused_before_the_run(tmp_path: Path) -> None:
    rows = []
    for i in range(4):
        np.save(tmp_path / f"i{i}.npy", np.zeros((3, 8, 8), np.float32))
        mask = np.zeros((3, 8, 6) if i == 2 else (3, 8, 8), np.uint8)
        np.save(tmp_path / f"m{i}.npy", mask)
        rows.append({"image": f"i{i}.npy", "mask": f"m{i}.npy", "patient_id": f"p{i}"})
    assert images_refusal(tmp_path, rows, segmentation=True) == (
        "data.labels: 1 of 4 masks named in l.csv is not the size of its image (rows x "
        "columns, slices first for a volume; a mask is drawn on its image's own pixels: not "
        "resized, not cropped, not for another image): m2.npy is 3x8x6, its image i2.npy "
        "3x8x8 (line 4)"
    )


def _nifti(path: Path, data: np.ndarray, affine: np.ndarray) -> None:
    img = nib.Nifti1Image(data, affine)
    img.set_sform(affine, code=1)
    img.set_qform(affine, code=1)
    nib.save(img, path)


def test_nifti_masks_are_compared_whatever_their_voxel_order(tmp_path: Path) -> None:
    # image (x 16, y 12, z 3); mask 0 the same grid stored with x and y swapped (reoriented
    # onto the image as it is loaded: no mismatch), mask 1 of 10 rows (a mismatch)
    placed = np.diag([0.5, 0.5, 2.0, 1.0])
    placed[:3, 3] = [-4.0, -3.0, 10.0]  # not nibabel's placeholder identity: a real place
    _nifti(tmp_path / "i.nii.gz", np.zeros((16, 12, 3), np.float32), placed)
    swapped = placed[:, [1, 0, 2, 3]]  # voxel (j, i, k) at the image's voxel (i, j, k)
    truth = np.zeros((16, 12, 3), np.uint8)
    truth[2:6, 3:5, 1] = 1
    _nifti(tmp_path / "m0.nii.gz", np.ascontiguousarray(truth.transpose(1, 0, 2)), swapped)
    _nifti(tmp_path / "m1.nii.gz", np.zeros((16, 10, 3), np.uint8), placed)
    rows = [{"image": "i.nii.gz", "mask": f"m{k}.nii.gz"} for k in (0, 1)]
    listed = write_rows(tmp_path / "list.csv", rows)
    assert mismatched_mask_sizes(listed, tmp_path, ["image", "mask"]) == [
        "data.labels: 1 of 2 masks named in list.csv is not the size of its image (rows x "
        "columns, slices first for a volume; a mask is drawn on its image's own pixels: not "
        "resized, not cropped, not for another image): m1.nii.gz is 3x10x16, its image "
        "i.nii.gz 3x12x16 (line 3)"
    ]
    write_rows(tmp_path / "one.csv", rows[:1])
    sample = FolderDataset(tmp_path, "one.csv")[0]  # the one passed loads, on its image
    assert np.array_equal(np.asarray(sample["mask"]), truth.transpose(2, 1, 0))
