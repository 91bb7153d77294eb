"""``radpipe predict`` of a NIfTI image writes its mask as NIfTI on the image's grid.

Volumes are read with their axes reversed, ``(z, y, x)``; the mask went out as an ``.npy`` in
that order, without an affine, transposed against the ``(x, y, z)`` image a user overlays it
on (silently so for a cubic volume), and the command said ``wrote 8 masks (PNG)``. The
expected grid is the image's, read with nibabel.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np

from tests.workflows.test_images_predict import _cli
from workflows.run.config import validate_config
from workflows.run.runner import run_study

SHAPE, ZOOMS = (12, 10, 4), (0.5, 0.8, 3.0)  # (x, y, z): no two axes alike


def _volumes(folder: Path, n: int) -> list[tuple[str, str, str]]:
    rng = np.random.default_rng(0)
    rows = []
    affine = np.diag([*ZOOMS, 1.0])
    affine[:3, 3] = (-3.0, 4.0, 10.0)
    for p in range(n):
        lesion = np.zeros(SHAPE, np.uint8)
        lesion[2 + p % 3 : 7 + p % 3, 3:7, 1:3] = 1  # x 2..6 (+ p % 3), y 3..6, z 1..2
        image = (100 + 10 * rng.standard_normal(SHAPE) + 300.0 * lesion).astype(np.float32)
        for name, data in ((f"i{p}", image), (f"m{p}", lesion)):
            nifti = nib.Nifti1Image(data, affine)
            nifti.header.set_xyzt_units("mm")
            nib.save(nifti, folder / f"{name}.nii.gz")
        rows.append((f"i{p}.nii.gz", f"m{p}.nii.gz", f"P{p}"))
    return rows


def test_a_nifti_images_mask_is_nifti_on_the_images_grid(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with (data / "list.csv").open("w", newline="") as fh:
        csv.writer(fh).writerows([("image", "mask", "patient_id"), *_volumes(data, 8)])
    config = validate_config({
        "name": "nii", "seed": 0, "output": str(tmp_path / "runs"), "task": "segmentation",
        "data": {"kind": "images", "source": str(data), "labels": str(data / "list.csv"),
                 "class_names": ["background", "lesion"]},
        "split": {"test": 0.25, "val": 0.25, "stratify": False},
        "preprocess": [{"type": "z_score", "mode": "image"}],
        "model": {"type": "mlp_segmenter", "patch_size": 3, "hidden": [8], "context": 2},
        "train": {"epochs": 2, "batch_size": 4, "lr": 0.01},
        "evaluate": {"bootstrap": 0, "explain": 0}, "report": {"enabled": False},
    })  # fmt: skip
    outcome = run_study(config, progress=False)
    assert outcome is not None
    out = tmp_path / "pred"
    proc = _cli("predict", outcome.run_dir, data / "list.csv", "--out", out, "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    line = proc.stdout.splitlines()[1]  # the folder is shown relative (paths.shown), was (PNG)
    assert line.startswith("wrote 8 masks (NIfTI) in ") and line.endswith("masks"), line
    with (out / "predictions.csv").open(newline="") as fh:
        rows = {r["image"]: r for r in csv.DictReader(fh)}
    assert rows["i0.nii.gz"]["mask"] == "masks/i0.nii.gz"  # was masks/i0.npy, (z, y, x)
    assert not list(out.rglob("*.npy"))
    for p in range(8):
        image = nib.load(data / f"i{p}.nii.gz")
        mask = nib.load(out / "masks" / f"i{p}.nii.gz")
        assert mask.shape == SHAPE  # the image's (x, y, z); the .npy was (4, 10, 12)
        np.testing.assert_array_equal(mask.affine, image.affine)
        assert mask.header.get_zooms() == ZOOMS
        assert mask.get_data_dtype() == np.uint8
        predicted = np.asarray(mask.dataobj)
        fraction = float(rows[f"i{p}.nii.gz"]["fraction_lesion"])
        assert abs(predicted.mean() - fraction) < 1e-6
        # voxel for voxel on the image: what the model calls lesion is the brighter part
        pixels = np.asarray(image.dataobj)
        assert pixels[predicted == 1].mean() > pixels[predicted == 0].mean(), p


def test_a_2d_nifti_images_mask_is_on_its_x_y_grid_and_a_4d_ones_stays_npy(
    tmp_path: Path,
) -> None:
    from types import SimpleNamespace

    from workflows.run.predict_images import _nifti_mask, _rows

    affine = np.diag([0.7, 0.9, 1.0, 1.0])
    nib.save(nib.Nifti1Image(np.zeros((5, 3), np.float32), affine), tmp_path / "a.nii.gz")
    probs = np.zeros((2, 3, 5))  # radpipe reads (x, y) = (5, 3) as (y, x): rows, columns
    probs[0] = 1.0
    probs[:, 1, 4] = (0.0, 1.0)  # class 1 at row y = 1, column x = 4
    config = SimpleNamespace(task="segmentation", postprocess=[])
    rows, _ = _rows(tmp_path / "out", config, ["a.nii.gz"], [probs], ["bg", "x"], False, tmp_path)
    assert rows[0]["mask"] == "masks/a.nii.gz"  # was masks/a.png, 3 rows x 5 columns
    mask = nib.load(tmp_path / "out" / "masks" / "a.nii.gz")
    assert mask.shape == (5, 3)
    assert np.argwhere(np.asarray(mask.dataobj)).tolist() == [[4, 1]]  # voxel (x 4, y 1)
    np.testing.assert_array_equal(mask.affine, nib.load(tmp_path / "a.nii.gz").affine)
    nib.save(nib.Nifti1Image(np.zeros((4, 3, 2, 2), np.float32), affine), tmp_path / "c.nii")
    assert _nifti_mask(tmp_path / "c.nii", np.zeros((2, 3, 4), np.uint8)) is None  # channels
    assert _nifti_mask(tmp_path / "a.png", probs[0].astype(np.uint8)) is None
