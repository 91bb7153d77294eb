"""NIfTI masks in a DICOM run's masks CSV are put on their images' pixels by their affines.

Each mask below marks one known block of its image's pixels (rows 2..7, columns 3..12 of a
32x32 image: asymmetric, so a flip or a transpose moves it). The NIfTI files hold that block
in three voxel orders, their affines worked out here from the DICOM headers (PS3.3
C.7.6.2.1.1, LPS -> RAS): as the image is stored (column, row), rows flipped as dcm2niix
stores them, and rows/columns swapped. Before the fix the last two were paired as stored:
upside down and transposed on their images, with no word.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pydicom
import pytest

from pipeline.errors import RadpipeError
from tests.runner.conftest import seg_config
from workflows.run.config import validate_config
from workflows.run.study import make_dataset, prepare_study

BLOCK = np.zeros((32, 32), dtype=np.uint8)
BLOCK[2:8, 3:13] = 1


def _ras(ds: pydicom.Dataset) -> np.ndarray:
    iop = np.array([float(v) for v in ds.ImageOrientationPatient])
    row_step, col_step = (float(v) for v in ds.PixelSpacing)
    lps = np.eye(4)
    lps[:3, 0] = iop[:3] * col_step  # along a row: the column index i
    lps[:3, 1] = iop[3:] * row_step  # down a column: the row index j
    lps[:3, 2] = np.cross(iop[:3], iop[3:])
    lps[:3, 3] = [float(v) for v in ds.ImagePositionPatient]
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def series_by_position(study: Path) -> list[list[pydicom.Dataset]]:
    """The headers of each series of ``study``, sorted along the slice normal."""
    series: dict[str, list[pydicom.Dataset]] = {}
    for f in sorted((study / "dicom").rglob("*.dcm")):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        series.setdefault(ds.SeriesInstanceUID, []).append(ds)
    for items in series.values():
        normal = _ras(items[0])[:3, 2]
        items.sort(key=lambda d: float(_ras(d)[:3, 3] @ normal))
    return list(series.values())


def _nifti(path: Path, data: np.ndarray, affine: np.ndarray) -> None:
    img = nib.Nifti1Image(data, affine)
    img.set_qform(affine, code=1)
    img.set_sform(affine, code=1)
    nib.save(img, path)


def _stored(order: str, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``BLOCK`` as NIfTI data (x, y) in ``order``, with its affine."""
    if order == "as_image":
        return BLOCK.T.copy(), affine
    if order == "rows_flipped":  # dcm2niix: j runs up the image
        flipped = affine.copy()
        flipped[:, 1] = -affine[:, 1]
        flipped[:3, 3] = affine[:3, 3] + (BLOCK.shape[0] - 1) * affine[:3, 1]
        return BLOCK.T[:, ::-1].copy(), flipped
    swapped = affine.copy()  # i runs down the rows, j along them
    swapped[:, [0, 1]] = affine[:, [1, 0]]
    return BLOCK.copy(), swapped


def _write_masks(folder: Path, rows: list[list[object]], key: str = "sop_instance_uid") -> Path:
    with (folder / "masks.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([[key, "frame", "mask"], *rows])
    return folder / "masks.csv"


def _dataset(study: Path, masks: Path, tmp_path: Path) -> Any:
    """The run's dataset of every series (no preprocessing) with ``masks`` as data.masks."""
    raw = seg_config(study, tmp_path / "out", [])
    raw["data"]["masks"] = str(masks)
    config = validate_config(raw)
    (tmp_path / "run").mkdir()
    prepared = prepare_study(config, tmp_path / "run", progress=False)
    return make_dataset(prepared, config, [r["series_key"] for r in prepared.split], None)


def _masks_csv(study: Path, folder: Path, shift: float = 0.0, *, by_file: bool = False) -> Path:
    rows = []
    (folder / "m").mkdir(parents=True)
    orders = ("as_image", "rows_flipped", "swapped")
    for n, f in enumerate(sorted((study / "dicom").rglob("*.dcm"))):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        data, affine = _stored(orders[n % 3], _ras(ds))
        affine[:3, 3] += shift * affine[:3, 0] if n == 4 else 0.0
        _nifti(folder / "m" / f"{n}.nii.gz", data, affine)
        key = f.relative_to(study / "dicom").as_posix() if by_file else ds.SOPInstanceUID
        rows.append([key, 0, f"m/{n}.nii.gz"])
    return _write_masks(folder, rows, "file" if by_file else "sop_instance_uid")


def test_nifti_masks_in_other_voxel_orders_lie_on_their_dicom_images(
    mr_seg: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    dataset = _dataset(mr_seg, _masks_csv(mr_seg, tmp_path / "truth"), tmp_path)
    masks = [dataset.raw_sample(i).mask for i in range(len(dataset))]
    assert len(masks) == 24
    assert all(np.array_equal(m, BLOCK) for m in masks)
    assert "16 NIfTI masks are stored in another voxel order" in caplog.text


@pytest.mark.parametrize("by_file", [False, True])
def test_a_nifti_mask_off_its_image_grid_is_refused_naming_it(
    mr_seg: Path, tmp_path: Path, by_file: bool
) -> None:
    """Named relative to the user's CSV, also when radpipe resolved its ``file`` keys."""
    raw = seg_config(mr_seg, tmp_path / "out", [])
    # 2 columns, not 1: the synthetic image is centred on x = 0 with 32 columns, so a mask one
    # column off is, x and y negated (DICOM's LPS read as RAS), exactly on it, and was
    # refused as LPS (rightly: nothing tells the two apart) since c2d6784 changed the study
    raw["data"]["masks"] = str(_masks_csv(mr_seg, tmp_path / "truth", 2.0, by_file=by_file))
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError, match="1 NIfTI masks do not lie") as info:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    assert "m/4.nii.gz: its grid does not hold" in str(info.value)


def test_a_series_volume_mask_gives_each_slice_its_own_plane(
    mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One 3-D NIfTI per series (dcm2niix's rows flipped), listed for every slice: each image
    gets the mask's plane through it (slice k marked k + 1), found by position, not by order;
    each volume reoriented once, not once per slice."""
    from nibabel import orientations

    from pipeline.keys import hash_key

    calls = []
    real = orientations.apply_orientation
    monkeypatch.setattr(orientations, "apply_orientation",
                        lambda *a: calls.append(1) or real(*a))  # fmt: skip

    rows, want = [], {}
    (tmp_path / "truth" / "m").mkdir(parents=True)
    series = series_by_position(mr_seg)
    for n, items in enumerate(series):
        _, affine = _stored("rows_flipped", _ras(items[0]))
        affine[:3, 2] = _ras(items[1])[:3, 3] - _ras(items[0])[:3, 3]
        volume = np.stack([(BLOCK * (k + 1)).T[:, ::-1] for k in range(len(items))], axis=-1)
        _nifti(tmp_path / "truth" / "m" / f"s{n}.nii.gz", volume, affine)
        for k, ds in enumerate(items):
            rows.append([ds.SOPInstanceUID, 0, f"m/s{n}.nii.gz"])
            want[hash_key(str(ds.SOPInstanceUID))] = BLOCK * (k + 1)
    dataset = _dataset(mr_seg, _write_masks(tmp_path / "truth", rows), tmp_path)
    got = {dataset.items[i][0]["instance_key"]: dataset.raw_sample(i).mask
           for i in range(len(dataset))}  # fmt: skip
    assert got.keys() == want.keys()
    assert all(np.array_equal(got[k], want[k]) for k in want)
    assert len(calls) == len(series)


def test_placed_nifti_masks_of_unplaced_images_are_used_as_stored_and_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A radiograph has no ImagePositionPatient/ImageOrientationPatient: a NIfTI mask's affine
    cannot be checked against it, so the mask is used as stored (i the column), and said."""
    from pipeline.synth import StudySpec, write_study

    study = tmp_path / "cr"
    write_study(study, StudySpec(patients=4, modality="CR", task="segmentation", size=32))
    rows = []
    (tmp_path / "truth" / "m").mkdir(parents=True)
    for n, f in enumerate(sorted((study / "dicom").rglob("*.dcm"))):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        assert "ImagePositionPatient" not in ds
        _nifti(tmp_path / "truth" / "m" / f"{n}.nii.gz", BLOCK.T.copy(), np.diag([-1, -1, 1, 1.0]))
        rows.append([ds.SOPInstanceUID, 0, f"m/{n}.nii.gz"])
    dataset = _dataset(study, _write_masks(tmp_path / "truth", rows), tmp_path)
    assert all(np.array_equal(dataset.raw_sample(i).mask, BLOCK) for i in range(len(dataset)))
    assert f"masks.csv: {len(rows)} NIfTI masks belong to images with no place" in caplog.text
    assert "(m/0.nii.gz, m/1.nii.gz, m/2.nii.gz ...)" in caplog.text


def test_a_masks_csv_counting_frames_from_one_is_told_so(mr_seg: Path, tmp_path: Path) -> None:
    """Every row one frame late (DICOM's frame numbers start at 1): stopped, and told why."""
    masks = _masks_csv(mr_seg, tmp_path / "truth")
    with masks.open(newline="") as fh:
        rows = [[r["sop_instance_uid"], 1, r["mask"]] for r in csv.DictReader(fh)]
    raw = seg_config(mr_seg, tmp_path / "out", [])
    raw["data"]["masks"] = str(_write_masks(tmp_path / "truth", rows))
    (tmp_path / "run").mkdir()
    with pytest.raises(RadpipeError, match="has no mask row for 24 of the 24") as info:
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    assert "the CSV seems to count frames from 1" in str(info.value)


def test_a_nifti_mask_saved_with_nibabels_placeholder_affine_is_used_as_stored(
    mr_seg: Path, tmp_path: Path
) -> None:
    """``nib.save(nib.Nifti1Image(mask, np.eye(4)), ...)`` gives sform code 2 and an identity
    affine: no place, so the array is used as stored (i the column), not refused."""
    rows = []
    (tmp_path / "truth" / "m").mkdir(parents=True)
    for n, f in enumerate(sorted((mr_seg / "dicom").rglob("*.dcm"))):
        image = nib.Nifti1Image(BLOCK.T.copy(), np.eye(4))
        assert int(image.header["sform_code"]) == 2
        nib.save(image, tmp_path / "truth" / "m" / f"{n}.nii.gz")
        rows.append(
            [pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID, 0, f"m/{n}.nii.gz"]
        )
    dataset = _dataset(mr_seg, _write_masks(tmp_path / "truth", rows), tmp_path)
    assert all(np.array_equal(dataset.raw_sample(i).mask, BLOCK) for i in range(len(dataset)))
