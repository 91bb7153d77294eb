"""A DICOM run's NIfTI masks are checked against their images before the run directory.

Each case writes a NIfTI mask per image of the ``mr_seg`` study (4 patients x 2 MR series x 3
slices of 32x32), on its image's grid as worked out from the DICOM header (PS3.3
C.7.6.2.1.1, LPS -> RAS), then spoils the fifth file's: its origin moved half a pixel along
the rows, its column step 1.5 times the image's, 30 rows instead of 32, its affine left in
DICOM's LPS, probabilities (0.7) for the block, or class 2 under two class names. Each was
refused only once the run directory was made and the source converted (exit 1). A mask of
shape (x, y, 1, 1) (a trailing singleton axis, as some tools save a 3-D label map) was refused
as "not one image or volume"; it is the image's plane, as nibabel's ``squeeze_image`` reads it.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest

from pipeline.errors import ConfigError
from tests.runner.conftest import radpipe_in, seg_config
from tests.runner.test_nifti_masks_on_dicom import BLOCK, _ras
from workflows.run.checks import check_inputs
from workflows.run.config import validate_config

Spoil = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


def _shift(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    moved = affine.copy()
    moved[:3, 3] += 0.5 * affine[:3, 0]
    return data, moved


def _spacing(data: np.ndarray, affine: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    wider = affine.copy()
    wider[:3, 0] *= 1.5
    return data, wider


SPOILS: dict[str, Spoil] = {
    "origin": _shift,
    "spacing": _spacing,
    "size": lambda d, a: (np.zeros((32, 30), np.uint8), a),  # NIfTI (x, y): 30 rows
    "lps": lambda d, a: (d, np.diag([-1.0, -1.0, 1.0, 1.0]) @ a),
    "probabilities": lambda d, a: (d.astype(np.float32) * 0.7, a),
    "class_past_names": lambda d, a: (d * 2, a),
    "trailing_axis": lambda d, a: (d[:, :, None, None], a),
    "none": lambda d, a: (d, a),
}


def _write(study: Path, folder: Path, spoil: Spoil, *, by_file: bool) -> tuple[Path, str, float]:
    """The masks CSV, the fifth image's path below data.source, and its column spacing (the
    synthetic images' pixels are square)."""
    (folder / "m").mkdir(parents=True)
    rows, fifth, step = [], "", 0.0
    for n, f in enumerate(sorted((study / "dicom").rglob("*.dcm"))):
        ds = pydicom.dcmread(f, stop_before_pixels=True)
        data, affine = BLOCK.T.copy(), _ras(ds)
        if n == 4:
            data, affine = spoil(data, affine)
            fifth, step = f.relative_to(study / "dicom").as_posix(), float(ds.PixelSpacing[1])
        img = nib.Nifti1Image(data, affine)
        img.set_qform(affine, code=1)
        img.set_sform(affine, code=1)
        nib.save(img, folder / "m" / f"{n}.nii.gz")
        key = f.relative_to(study / "dicom").as_posix() if by_file else ds.SOPInstanceUID
        rows.append([key, 0, f"m/{n}.nii.gz"])
    with (folder / "masks.csv").open("w", newline="") as fh:
        header = ["file" if by_file else "sop_instance_uid", "frame", "mask"]
        csv.writer(fh).writerows([header, *rows])
    return folder / "masks.csv", fifth, step


def _config(study: Path, masks: Path, out: Path) -> dict:
    raw = seg_config(study, out, [])
    raw["data"] |= {"masks": str(masks), "class_names": ["background", "organ"]}
    return raw


@pytest.mark.parametrize("by_file", [False, True], ids=["by-uid", "by-file"])
@pytest.mark.parametrize("case", list(SPOILS))
def test_a_nifti_mask_that_does_not_fit_its_image_is_refused_up_front(
    mr_seg: Path, tmp_path: Path, case: str, by_file: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    masks, image, step = _write(mr_seg, tmp_path / "t", SPOILS[case], by_file=by_file)
    monkeypatch.chdir(tmp_path / "t")  # the CSV is named as the user gave it: masks.csv
    config = validate_config(_config(mr_seg, masks, tmp_path / "runs"))
    if case in ("trailing_axis", "none"):
        check_inputs(config)
        return
    with pytest.raises(ConfigError) as err:
        check_inputs(config)
    said = str(err.value)
    head = ("data.masks: masks.csv: 1 NIfTI masks do not lie on their DICOM image's pixel grid "
            "(a mask is drawn on its image's own pixels; flips and axis swaps are undone, "
            "nothing is resampled):\n  m/4.nii.gz: ")  # fmt: skip
    where = f"its image {image} frame 0"
    codes = "".join(nib.aff2axcodes(_ras(pydicom.dcmread(mr_seg / "dicom" / image))))

    def mm(v: float) -> str:
        return f"{round(v, 3):g}"

    expected = {
        "origin": f"{head}its grid does not hold {where} (another origin or slice plane: the "
        f"frame's first pixel lies {0.5 * step:.2f} mm (0.50 pixels) off its nearest mask "
        "voxel, slice 0.00 of 1)",
        "spacing": f"{head}{codes} 32x32 at {mm(1.5 * step)}x{mm(step)} mm, {where} {codes} "
        f"32x32 at {mm(step)}x{mm(step)} mm (another spacing, size or in-plane direction)",
        "size": f"{head}{codes} 32x30 at {mm(step)}x{mm(step)} mm, {where} {codes} 32x32 at "
        f"{mm(step)}x{mm(step)} mm (another spacing, size or in-plane direction)",
        "lps": f"{head}its affine is in DICOM's LPS coordinates, not NIfTI's RAS: with x and y "
        f"negated it lies on {where}; save it with the RAS affine (nibabel: "
        "np.diag([-1, -1, 1, 1]) @ affine)",
        "probabilities": "data.masks: masks.csv: 1 of 24 mask files cannot be read as class "
        "indices (nothing was converted):\n  m/4.nii.gz: mask values {0, 0.7} include "
        "fractions",
        "class_past_names": "data.masks: masks.csv: 1 of 24 masks holds a class beyond "
        "data.class_names, which names 2 classes (0..1: background, organ) (nothing was "
        "converted): m/4.nii.gz: class 2;",
    }[case]
    assert said.startswith(expected), said
    assert str(tmp_path) not in said


def test_the_run_refuses_it_before_its_directory_is_made(mr_seg: Path, tmp_path: Path) -> None:
    masks, _, _ = _write(mr_seg, tmp_path / "t", _shift, by_file=False)
    raw = _config(mr_seg, masks, tmp_path / "runs")
    (tmp_path / "cfg.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(tmp_path, "run", "cfg.yaml", "--quiet", timeout=120)
    assert proc.returncode == 2, proc.stderr  # it was 1, once the run directory was made
    assert "m/4.nii.gz: its grid does not hold its image" in proc.stderr
    assert "Traceback" not in proc.stderr and str(tmp_path) not in proc.stderr
    assert not (tmp_path / "runs").exists()


def test_a_trailing_singleton_axis_is_the_image_plane(mr_seg: Path, tmp_path: Path) -> None:
    """The run's reading (and the check's): ``BLOCK`` back on the image's (rows, columns)."""
    from workflows.run.mask_grid import mask_on_image

    _write(mr_seg, tmp_path / "t", SPOILS["trailing_axis"], by_file=True)
    assert nib.load(tmp_path / "t" / "m" / "4.nii.gz").shape == (32, 32, 1, 1)
    rel = sorted(p.relative_to(mr_seg / "dicom").as_posix()
                 for p in (mr_seg / "dicom").rglob("*.dcm"))[4]  # fmt: skip
    row = {"source": rel, "frame": 0, "shape": "32x32"}
    got, note = mask_on_image(tmp_path / "t" / "m" / "4.nii.gz", "m/4.nii.gz", row,
                              mr_seg / "dicom", {}, {})  # fmt: skip
    assert got is not None and np.array_equal(got, BLOCK) and note == ""


def test_the_count_is_of_every_mask_file_of_the_csv(
    mr_seg: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One NIfTI probability map among PNG masks: '1 of 24 mask files', not '1 of 1'."""
    from PIL import Image

    masks, _, _ = _write(mr_seg, tmp_path / "t", SPOILS["probabilities"], by_file=False)
    lines = masks.read_text().splitlines()
    for n in range(24):
        if n != 4:
            Image.fromarray(BLOCK).save(tmp_path / "t" / "m" / f"{n}.png")
            lines[n + 1] = lines[n + 1].replace(f"m/{n}.nii.gz", f"m/{n}.png")
    masks.write_text("\n".join(lines) + "\n")
    monkeypatch.chdir(tmp_path / "t")
    with pytest.raises(ConfigError) as err:
        check_inputs(validate_config(_config(mr_seg, masks, tmp_path / "runs")))
    assert str(err.value).startswith(
        "data.masks: masks.csv: 1 of 24 mask files cannot be read as class indices (nothing was "
        "converted):\n  m/4.nii.gz: mask values {0, 0.7} include fractions"
    ), str(err.value)


def test_each_image_header_is_read_once_for_the_check_and_the_run(
    mr_seg: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before the run directory and the run (each with its own ``headers``) read an
    image's frames once: the run read every NIfTI-masked image's header again."""
    from collections import OrderedDict

    import pipeline.dicom.header as header
    from workflows.run import mask_grid

    monkeypatch.setattr(mask_grid, "_REFS", OrderedDict(), raising=False)
    reads: list[str] = []
    real = header.read_dataset

    def counting(path: Path, rel: str, **kwargs: object) -> object:
        reads.append(rel)
        return real(path, rel, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(header, "read_dataset", counting)  # imported where it is used
    rel = sorted(p.relative_to(mr_seg / "dicom").as_posix()
                 for p in (mr_seg / "dicom").rglob("*.dcm"))[0]  # fmt: skip
    first = mask_grid.frame_ref(rel, 0, mr_seg / "dicom", {})  # the check's
    again = mask_grid.frame_ref(rel, 0, mr_seg / "dicom", {})  # the run's
    assert first is not None and (first.rows, first.columns) == (32, 32)
    assert reads == [rel] and again is first
