"""A NIfTI mask saved with a 4th axis of one entry, ``(x, y, z, 1)``, beside its ``(x, y, z)``
image in a ``data.kind: images`` list.

Until 2026-12-04 it was read as ``(1, z, y, x)`` and the run, once begun, stopped with
``m0.nii.gz: mask shape (1, 4, 5, 6) != image shape (4, 5, 6).``; stored in another
orientation than its image it was refused before the run as off its image's grid. Now its
extra axis is dropped and it is read (and reoriented) as the 3-D mask it is. The expected
arrays are the masks written, transposed by hand to radpipe's ``(z, y, x)``.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from tests.runner.conftest import write_rows
from workflows.run.image_grids import off_grid_masks

AFFINE = np.array([[0.5, 0, 0, 10.0], [0, 0.5, 0, -20.0], [0, 0, 2.0, 5.0], [0, 0, 0, 1]])


def test_a_mask_with_a_time_axis_of_one_reads_as_its_volume(tmp_path: Path) -> None:
    from pipeline.data import FolderDataset

    mask = np.zeros((6, 5, 4), np.uint8)  # (x, y, z)
    mask[1:3, 2:4, 1] = 1
    mask[4, 0, 3] = 1  # off-centre in x, so a missed flip shows
    flipped = AFFINE.copy()  # x runs the other way: voxel i is the image's 5 - i
    flipped[:3, 0] *= -1
    flipped[:3, 3] += 5 * AFFINE[:3, 0]
    stored = {"same": (mask, AFFINE), "flipped": (mask[::-1], flipped)}
    rows = []
    for n, (kind, (data, affine)) in enumerate(stored.items()):
        nib.save(nib.Nifti1Image(np.arange(120, dtype=np.float32).reshape(6, 5, 4), AFFINE),
                 tmp_path / f"i{n}.nii.gz")  # fmt: skip
        nib.save(nib.Nifti1Image(data[..., None].copy(), affine), tmp_path / f"{kind}.nii.gz")
        assert nib.load(tmp_path / f"{kind}.nii.gz").shape == (6, 5, 4, 1)
        rows.append({"image": f"i{n}.nii.gz", "mask": f"{kind}.nii.gz", "patient_id": f"p{n}"})
    listed = write_rows(tmp_path / "list.csv", rows)
    assert off_grid_masks(listed, tmp_path, ["image", "mask", "patient_id"]) == []
    dataset = FolderDataset(tmp_path, "list.csv")
    for index in (0, 1):
        sample = dataset[index]
        assert sample["image"].shape == (1, 4, 5, 6)
        np.testing.assert_array_equal(sample["mask"], mask.transpose(2, 1, 0))
