"""3-D NIfTI masks of whole series on their DICOM images: an LPS affine is named as such.

One mask per series, listed for each of its slices, holding the block of rows 2..7, columns
3..12 on every slice, its affine worked out here from the DICOM headers (PS3.3 C.7.6.2.1.1)
in RAS, as NIfTI wants, or left in DICOM's LPS (x and y not negated), as a script that copies
ImagePositionPatient into the affine writes it. The LPS one was refused as a grid 'that does
not hold' the image, a pixel lying '9.52 mm off', with no word of the cause; a volume in the
images' own voxel order was said to be 'stored in another voxel order ... and reoriented'.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.errors import RadpipeError
from tests.runner.conftest import seg_config
from tests.runner.test_nifti_masks_on_dicom import (
    BLOCK,
    _dataset,
    _ras,
    _write_masks,
    series_by_position,
)
from workflows.run.config import validate_config
from workflows.run.study import make_dataset, prepare_study


def _volumes(study: Path, folder: Path, lps: bool) -> Path:
    rows = []
    (folder / "m").mkdir(parents=True)
    for n, items in enumerate(series_by_position(study)):
        affine = _ras(items[0])
        affine[:3, 2] = _ras(items[1])[:3, 3] - affine[:3, 3]
        if lps:
            affine = np.diag([-1.0, -1.0, 1.0, 1.0]) @ affine
        volume = np.repeat(BLOCK.T[:, :, None], len(items), axis=2)  # (column, row, slice)
        nib.save(nib.Nifti1Image(volume, affine), folder / "m" / f"s{n}.nii.gz")
        rows += [[ds.SOPInstanceUID, 0, f"m/s{n}.nii.gz"] for ds in items]
    return _write_masks(folder, rows)


def test_a_volume_mask_with_an_lps_affine_is_refused_saying_so(
    mr_seg: Path, tmp_path: Path
) -> None:
    raw = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_volumes(mr_seg, tmp_path / "truth", lps=True))
    (tmp_path / "run").mkdir()
    with pytest.raises(
        RadpipeError, match=r"8 NIfTI masks \(listed for 24 images\) do not lie"
    ) as info:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    said = str(info.value)
    # one line per mask (each of the 8 series' volumes, listed for its 3 slices)
    assert said.count("its affine is in DICOM's LPS coordinates, not NIfTI's RAS") == 8
    assert said.count("(and 2 more of the images it is listed for)") == 8
    assert "\n  m/s0.nii.gz: its affine is in DICOM's LPS" in said
    assert "\n  m/s7.nii.gz: its affine is in DICOM's LPS" in said


def test_a_volume_mask_in_the_images_voxel_order_is_not_said_to_be_reoriented(
    mr_seg: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dataset = _dataset(mr_seg, _volumes(mr_seg, tmp_path / "truth", lps=False), tmp_path)
    masks = [dataset.raw_sample(i).mask for i in range(len(dataset))]
    assert len(masks) == 24
    assert all(np.array_equal(m, BLOCK) for m in masks)
    assert "another voxel order" not in caplog.text


def test_masks_put_on_images_under_a_relative_folder_are_found(
    mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``radpipe evaluate --out OUT`` with OUT relative: the reoriented copies were listed as
    ``OUT/truth/masks_on_images/x.npy`` and read below ``OUT/truth/``: 'x.npy: file not
    found.'"""
    raw = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_volumes(mr_seg, tmp_path / "truth", lps=False))
    config = validate_config(raw)
    monkeypatch.chdir(tmp_path)
    Path("run").mkdir()
    prepared = prepare_study(config, Path("run"), progress=False)
    keys = [r["series_key"] for r in prepared.split]
    dataset = make_dataset(prepared, config, keys, None)
    masks = [dataset.raw_sample(i).mask for i in range(len(dataset))]
    assert len(masks) == 24
    assert all(np.array_equal(m, BLOCK) for m in masks)


def test_a_one_slice_mask_listed_for_each_slice_of_its_series_says_how_far_it_lies(
    mr_seg: Path, tmp_path: Path
) -> None:
    """A 2-D mask of a series' first slice listed for all 3 of its slices: the other two lie
    one and two slice steps beyond it ('slice 2.00 of 1', it said)."""
    rows, steps = [], {}
    (tmp_path / "truth" / "m").mkdir(parents=True)
    for n, items in enumerate(series_by_position(mr_seg)):
        affine = _ras(items[0])
        affine[:3, 2] = _ras(items[1])[:3, 3] - affine[:3, 3]
        steps[f"m/s{n}.nii.gz"] = float(np.linalg.norm(affine[:3, 2]))
        nib.save(
            nib.Nifti1Image(BLOCK.T[:, :, None].copy(), affine),
            tmp_path / "truth" / "m" / f"s{n}.nii.gz",
        )
        rows += [[ds.SOPInstanceUID, 0, f"m/s{n}.nii.gz"] for ds in items]
    raw = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_write_masks(tmp_path / "truth", rows))
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError, match=r"8 NIfTI masks \(listed for 16 images\)") as info:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    lines = str(info.value).split("\n  ")[1:]
    assert len(lines) == 8
    for line in lines:
        name, rest = line.split(": ", 1)
        away = float(rest.split("lies in no slice of it, ")[1].split(" mm beyond its one slice")[0])
        assert away in (round(steps[name], 2), round(2 * steps[name], 2))
        assert line.endswith("(and 1 more of the images it is listed for)")
