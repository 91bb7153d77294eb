"""A NIfTI mask stored in another voxel order than its NIfTI image (rows flipped as dcm2niix
stores them, axes swapped by another tool) was paired with the image voxel by voxel whenever
the shapes agreed: the labels landed on the wrong voxels. The folder dataset now puts such a
mask on the image's grid (nibabel orientation transforms) with a warning, and refuses a mask
on another grid.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.data.datasets import FolderDataset
from pipeline.errors import RadpipeError

AFFINE = np.array([[0.5, 0, 0, 10.0], [0, 0.5, 0, -20.0], [0, 0, 2.0, 5.0], [0, 0, 0, 1]])


def _folder(tmp_path: Path, mask: np.ndarray, affine: np.ndarray) -> FolderDataset:
    image = np.arange(4 * 5 * 3, dtype=np.float32).reshape(4, 5, 3)  # NIfTI (x, y, z)
    nib.save(nib.Nifti1Image(image, AFFINE), tmp_path / "img.nii.gz")
    nib.save(nib.Nifti1Image(mask.astype(np.uint8), affine), tmp_path / "mask.nii.gz")
    with open(tmp_path / "labels.csv", "w", newline="") as f:
        csv.writer(f).writerows([["image", "label", "mask"], ["img.nii.gz", 0, "mask.nii.gz"]])
    return FolderDataset(tmp_path, "labels.csv")


def _truth() -> np.ndarray:
    truth = np.zeros((4, 5, 3), np.uint8)  # (x, y, z) on the image's grid
    truth[0, 1, 2], truth[3, 4, 0], truth[1, 0, 1] = 1, 2, 1
    return truth


def _expected() -> np.ndarray:
    return _truth().transpose(2, 1, 0)  # radpipe's (D, H, W)


def test_mask_with_rows_flipped_is_reoriented(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # y stored from the other end: voxel j is at y = -20 + 0.5 * (4 - j) (RPS)
    affine = AFFINE.copy()
    affine[1, 1], affine[1, 3] = -0.5, -20.0 + 0.5 * 4
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        mask = np.asarray(_folder(tmp_path, _truth()[:, ::-1, :], affine)[0]["mask"])
    assert np.array_equal(mask, _expected())
    assert "mask stored as RPS, its image as RAS" in caplog.text


def test_a_reoriented_mask_is_said_once_not_on_every_load(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Said on every load before: each epoch of a run without the sample cache said it again.
    affine = AFFINE.copy()
    affine[1, 1], affine[1, 3] = -0.5, -20.0 + 0.5 * 4
    dataset = _folder(tmp_path, _truth()[:, ::-1, :], affine)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        masks = [np.asarray(dataset[0]["mask"]) for _ in range(3)]
    assert all(np.array_equal(m, _expected()) for m in masks)  # reoriented every time
    said = [r.getMessage() for r in caplog.records if "reoriented" in r.getMessage()]
    assert said == ["mask.nii.gz: mask stored as RPS, its image as RAS: the mask is reoriented "
                    "onto the image's grid"]  # fmt: skip
    caplog.clear()
    flipped = tmp_path / "other"  # another file: said for it too
    flipped.mkdir()
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        _folder(flipped, _truth()[:, ::-1, :], affine)[0]
    assert len([r for r in caplog.records if "reoriented" in r.getMessage()]) == 1


def test_mask_with_axes_swapped_and_x_flipped_is_reoriented(tmp_path: Path) -> None:
    # stored as (y, x, z) with x reversed: voxel (j, i, k) is image voxel (3 - i, j, k)
    stored = _truth()[::-1, :, :].transpose(1, 0, 2)
    affine = np.array(
        [[0, -0.5, 0, 10.0 + 0.5 * 3], [0.5, 0, 0, -20.0], [0, 0, 2.0, 5.0], [0, 0, 0, 1]]
    )
    assert np.allclose(affine @ [2, 3, 1, 1], AFFINE @ [0, 2, 1, 1])  # the same point
    mask = np.asarray(_folder(tmp_path, stored, affine)[0]["mask"])
    assert np.array_equal(mask, _expected())


def test_mask_on_the_same_grid_is_used_as_is_and_another_grid_refused(tmp_path: Path) -> None:
    same = np.asarray(_folder(tmp_path, _truth(), AFFINE)[0]["mask"])
    assert np.array_equal(same, _expected())
    shifted = AFFINE.copy()
    shifted[0, 3] += 1.0  # two voxels off in x
    with pytest.raises(RadpipeError, match="on another grid than its image"):
        _folder(tmp_path, _truth(), shifted)[0]


def test_mask_saved_with_nibabels_placeholder_affine_is_used_as_stored(tmp_path: Path) -> None:
    """``Nifti1Image(mask, np.eye(4))`` is written with sform code 2: an identity affine is no
    place (no scanner puts voxel 0 at the origin in 1 mm RAS steps), so the array is paired
    as stored, as a mask without codes is, not refused as lying on another grid."""
    assert int(nib.Nifti1Image(_truth(), np.eye(4)).header["sform_code"]) == 2
    mask = np.asarray(_folder(tmp_path, _truth(), np.eye(4))[0]["mask"])
    assert np.array_equal(mask, _expected())


def test_a_mask_off_its_grid_says_how_when_it_is_plain(tmp_path: Path) -> None:
    """Its affine in DICOM's LPS (x and y not negated), or the same grid moved: said, with
    what to do (an LPS affine is to be saved in RAS, not resampled)."""
    lps = np.diag([-1.0, -1.0, 1.0, 1.0]) @ AFFINE
    with pytest.raises(RadpipeError) as info:
        _folder(tmp_path, _truth(), lps)[0]
    assert str(info.value).endswith(
        "): its affine is in DICOM's LPS coordinates, not NIfTI's RAS: with x and y negated it "
        "lies on its image; save it with the RAS affine (nibabel: np.diag([-1, -1, 1, 1]) @ "
        "affine)."
    )
    shifted = AFFINE.copy()
    shifted[:3, 3] += [1.0, 0.0, 2.0]  # two voxels in x, one slice: sqrt(1 + 4) mm
    with pytest.raises(RadpipeError) as info:
        _folder(tmp_path, _truth(), shifted)[0]
    assert "; the same grid moved by 2.24 mm): resample the mask onto the image" in str(info.value)
