"""Mask values past ``data.class_names`` are refused before anything runs, naming each file.

One 3-D NIfTI mask per series, listed for each of its slices (the mask's voxels in the images'
own order, the affine worked out from the DICOM headers, PS3.3 C.7.6.2.1.1, LPS -> RAS). A
mask holding class 2 under two class names ran until training had begun, in a run directory
left failed, with ``The training masks hold class 2, but data.class_names names 2 classes``:
no file named. A class that no mask of the data holds (0/255 masks, read as 0/1, under three
class names) was said to be held "by other masks of the data".
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.runner.conftest import seg_config
from tests.runner.test_nifti_masks_on_dicom import _ras, _write_masks, series_by_position
from workflows.cli import main
from workflows.run.seg_classes import note_untrained_classes


def _volume_masks(study: Path, folder: Path, values: dict[int, int]) -> Path:
    """A mask per series of ``study`` (in ``folder/m``): the block of rows 2..7, columns
    3..12 in every slice, valued ``values.get(series number, 1)``."""
    rows = []
    (folder / "m").mkdir(parents=True)
    for n, items in enumerate(series_by_position(study)):
        affine = _ras(items[0])
        affine[:3, 2] = _ras(items[1])[:3, 3] - affine[:3, 3]
        volume = np.zeros((32, 32, len(items)), np.uint8)  # (column, row, slice)
        volume[3:13, 2:8, :] = values.get(n, 1)
        nib.save(nib.Nifti1Image(volume, affine), folder / "m" / f"s{n}.nii.gz")
        rows += [[ds.SOPInstanceUID, 0, f"m/s{n}.nii.gz"] for ds in items]
    return _write_masks(folder, rows)


def _run(study: Path, masks: Path, output: Path, names: list[str]) -> int:
    import yaml

    raw = seg_config(study, output, [])
    raw["data"] |= {"masks": str(masks), "class_names": names}
    raw["train"]["epochs"] = 1
    config = output.parent / "config.yaml"
    config.write_text(yaml.safe_dump(raw))
    return main(["run", str(config), "--quiet"])


def test_mask_values_past_the_class_names_are_refused_before_the_run_naming_each_file(
    mr_seg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    masks = _volume_masks(mr_seg, tmp_path / "truth", {0: 2, 3: 255})  # 255 reads as 1
    # a config error before the run directory (exit 2): exit 1 once it was made until
    # 2026-12-03 (test_nifti_masks_up_front)
    assert _run(mr_seg, masks, tmp_path / "runs", ["background", "lesion"]) == 2
    said = capsys.readouterr().err
    # the wording of an images run's list (test_mask_prechecks), from the same function
    assert (
        "masks.csv: 1 of 8 masks holds a class beyond data.class_names, which names 2 classes "
        "(0..1: background, lesion) (nothing was converted): m/s0.nii.gz: class 2; name every "
        "class in data.class_names (background first), or map the stored values onto them "
        "with data.mask_values"
    ) in said
    assert "s3.nii.gz" not in said
    assert not list((tmp_path / "runs").glob("*"))  # no run directory left behind


def test_a_class_no_mask_holds_is_not_said_to_be_in_other_masks(
    caplog: pytest.LogCaptureFixture,
) -> None:
    names = ["background", "organ", "lesion"]
    with caplog.at_level("WARNING", logger="radpipe"):
        note_untrained_classes({0, 1}, 3, names, None, found={0, 1})
    (line,) = [r.getMessage() for r in caplog.records]
    assert line.startswith("no mask of the data holds class 2 ('lesion'), which data.class_names "
                           "names: its model cannot learn it")  # fmt: skip
    assert "other masks" not in line


def test_an_npy_volume_listed_for_each_slice_is_refused_before_the_run(
    mr_seg: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A series' mask saved as a 3-D NPY (32 x 32 x 3 slices) and listed for each slice: its
    first two axes are the image's rows x columns, so it passed the size check and the run
    stopped in training ('s0.npy: mask shape (32, 32, 3) != image shape (32, 32).'), its run
    directory left failed."""
    rows = []
    (tmp_path / "truth" / "m").mkdir(parents=True)
    for n, items in enumerate(series_by_position(mr_seg)):
        np.save(tmp_path / "truth" / "m" / f"s{n}.npy", np.zeros((32, 32, len(items)), np.uint8))
        rows += [[ds.SOPInstanceUID, 0, f"m/s{n}.npy"] for ds in items]
    masks = _write_masks(tmp_path / "truth", rows)
    assert _run(mr_seg, masks, tmp_path / "runs", ["background", "lesion"]) == 1
    said = capsys.readouterr().err
    assert "masks.csv: 24 of 24 masks are not the size of their image" in said
    assert "\n  m/s0.npy is 32x32x3 (a volume: a PNG/NPY mask is one image's rows x columns" in said
    # one line per mask file (8 series), each listed for 3 images: no mask hidden by another
    assert said.count("(and 2 more of the images it is listed for)") == 8
    assert "\n  m/s7.npy is 32x32x3" in said
    assert not list((tmp_path / "runs").glob("run-*"))  # no run directory (the cache stays)
