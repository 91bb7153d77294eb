"""NIfTI masks of an image list off their NIfTI image's grid are refused before the run.

Three 3-D NIfTI images (4 x 5 x 3 voxels of 0.5 x 0.5 x 2 mm) with masks: one on the image's
grid, one whose affine is in DICOM's LPS (x and y not negated), one the same grid moved by one
voxel in x and one slice (sqrt(0.5^2 + 2^2) = 2.06 mm). The first mask off its grid stopped the
run once it had begun, in a run directory left failed, the other unsaid.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
import yaml

from tests.runner.conftest import write_rows
from workflows.cli import main

AFFINE = np.array([[0.5, 0, 0, 10.0], [0, 0.5, 0, -20.0], [0, 0, 2.0, 5.0], [0, 0, 0, 1]])


def test_masks_off_their_images_grid_are_listed_before_the_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    moved = AFFINE.copy()
    moved[:3, 3] += [0.5, 0.0, 2.0]
    affines = {"same": AFFINE, "lps": np.diag([-1.0, -1.0, 1.0, 1.0]) @ AFFINE, "moved": moved}
    rows = []
    for n, (kind, affine) in enumerate(affines.items()):
        image = np.arange(60, dtype=np.float32).reshape(4, 5, 3) + n
        mask = np.zeros((4, 5, 3), np.uint8)
        mask[1:3, 1:4, 1] = 1
        nib.save(nib.Nifti1Image(image, AFFINE), tmp_path / f"i{n}.nii.gz")
        nib.save(nib.Nifti1Image(mask, affine), tmp_path / f"{kind}.nii.gz")
        rows.append({"image": f"i{n}.nii.gz", "mask": f"{kind}.nii.gz", "patient_id": f"p{n}"})
    listed = write_rows(tmp_path / "list.csv", rows)
    config = {
        "task": "segmentation",
        "output": str(tmp_path / "runs"),
        "data": {"kind": "images", "source": str(tmp_path), "labels": str(listed)},
        "model": {"type": "mlp_segmenter", "hidden": [4], "context": 0},
        "train": {"epochs": 1, "batch_size": 2, "device": "cpu"},
        "report": {"enabled": False},
    }
    (tmp_path / "config.yaml").write_text(yaml.safe_dump(config))
    assert main(["run", str(tmp_path / "config.yaml"), "--quiet"]) != 0
    said = capsys.readouterr().err
    assert (
        "data.labels: 2 of 3 NIfTI masks named in list.csv do not lie on their image's grid" in said
    )
    assert "lps.nii.gz (line 3): the mask's NIfTI affine puts it on another grid" in said
    assert "its affine is in DICOM's LPS coordinates, not NIfTI's RAS" in said
    assert "moved.nii.gz (line 4): " in said
    assert "the same grid moved by 2.06 mm" in said
    assert "same.nii.gz (line" not in said
    assert not (tmp_path / "runs").exists() or not list((tmp_path / "runs").glob("run-*"))
