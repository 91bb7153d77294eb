"""A NIfTI whose pixdim and affine give different voxel sizes has no spacing in mm."""

from __future__ import annotations

import logging
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.data.datasets import FolderDataset
from pipeline.data.io import nifti_spacing
from tests.conftest import write_nifti


def test_pixdim_disagreeing_with_the_sform_gives_no_spacing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # sform 1 mm, pixdim 0.5078 mm: it gave (0.5078, 0.5078, 0.5078) as mm without a word
    path = write_nifti(tmp_path / "t1.nii.gz", np.eye(4), (0.5078, 0.5078, 0.5078))
    loaded = nib.load(path)
    assert int(loaded.header["sform_code"]) > 0
    np.testing.assert_allclose(loaded.header.get_zooms(), 0.5078, rtol=1e-6)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert nifti_spacing(path, 3) is None
    assert (
        "t1.nii.gz" in caplog.text and "0.5078" in caplog.text and "sform 1 x 1 x 1" in caplog.text
    )


def test_agreeing_pixdim_and_affine_give_the_spacing_reversed(tmp_path: Path) -> None:
    path = write_nifti(tmp_path / "ok.nii.gz", np.diag([0.75, 0.5, 2.0, 1.0]))
    assert nifti_spacing(path, 3) == pytest.approx((2.0, 0.5, 0.75))


def test_folder_dataset_sample_has_no_spacing(tmp_path: Path) -> None:
    write_nifti(tmp_path / "a.nii.gz", np.eye(4), (0.5078, 0.5078, 0.5078))
    sample = FolderDataset(tmp_path, spatial_ndim=3).sample(0)
    assert sample.meta.get("spacing") is None
