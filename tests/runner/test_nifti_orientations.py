"""An images run over NIfTI files stored in several voxel orders says so (each array is used
as stored, so some images are mirrored against the others)."""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.conftest import write_nifti
from tests.runner.conftest import images_study_warnings
from workflows.run.orientations import note_orientations


def test_images_in_two_voxel_orders_are_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    rows = []
    for i in range(6):  # four RAS files, two LPS ones (dcm2niix-like rows and columns)
        affine = np.diag([-1.0, -1.0, 1.0, 1.0]) if i >= 4 else np.eye(4)
        write_nifti(tmp_path / f"i{i}.nii.gz", affine)
        rows.append({"image": f"i{i}.nii.gz", "label": i % 2, "patient_id": f"p{i}"})
    with (tmp_path / "list.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    split = {"test": 0.34, "val": 0.0}
    said = images_study_warnings(tmp_path, tmp_path / "list.csv", split, caplog, "voxel orders")
    assert said == [
        "the NIfTI images are stored in 2 voxel orders (RAS 4 (e.g. i0.nii.gz), LPS 2 (e.g. "
        "i4.nii.gz)): radpipe uses each array as stored, so the model sees some images "
        "mirrored or turned against the others (a class tied to one side lies on the other "
        "side in them); reorient them to one order first (nibabel.as_closest_canonical, or "
        "dcm2niix for all)"
    ]


def test_one_order_and_unplaced_files_say_nothing(tmp_path: Path) -> None:
    files = [write_nifti(tmp_path / f"{i}.nii.gz", np.diag([0.5, 0.5, 2.0, 1.0])) for i in range(3)]
    unplaced = nib.Nifti1Image(np.zeros((6, 6, 3), np.float32), None)  # codes 0: no order
    nib.save(unplaced, tmp_path / "u.nii.gz")
    assert note_orientations([*files, tmp_path / "u.nii.gz"]) == {"RAS": 3}
