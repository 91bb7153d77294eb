"""A ``data.kind: images`` run on a folder of NIfTI volumes with masks, end to end: the split
is by the labels CSV's ``patient_id``, and surface distances are in mm from the NIfTI headers
(they were in voxels: the folder dataset carried no spacing)."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from pipeline.errors import RadpipeError
from tests.runner.conftest import read_json
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def _folder(root: Path, n: int = 8) -> None:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        mask = np.zeros((12, 12, 3), np.uint8)
        mask[3:8, 4:9, 1:] = 1
        image = rng.normal(0.0, 1.0, mask.shape).astype(np.float32) + 3.0 * mask
        for name, data in ((f"img{i}.nii.gz", image), (f"mask{i}.nii.gz", mask)):
            nifti = nib.Nifti1Image(data, np.diag([0.5, 0.5, 3.0, 1.0]))
            nifti.header.set_xyzt_units("mm")
            nib.save(nifti, root / name)
        rows.append({"image": f"img{i}.nii.gz", "mask": f"mask{i}.nii.gz", "label": i % 2,
                     "patient_id": f"p{i // 2}"})  # fmt: skip
    with (root / "labels.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _config(tmp_path: Path, image_list: Path, **data: Any) -> dict[str, Any]:
    """A one-epoch segmentation config over the image list ``image_list`` (``data`` adds to
    ``data:``), as a user writes it."""
    return {
        "task": "segmentation",
        "output": str(tmp_path / "runs"),
        "data": {
            "kind": "images",
            "source": str(image_list.parent),
            "labels": str(image_list),
            **data,
        },
        "split": {"test": 0.25, "val": 0.25},
        "preprocess": [{"type": "z_score", "mode": "image"}],
        "model": {"type": "mlp_segmenter", "hidden": [8], "context": 0},
        "train": {"epochs": 1, "batch_size": 2, "device": "cpu"},
        "report": {"enabled": False},
    }


def test_a_nifti_folder_run_scores_in_mm_and_splits_by_patient(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    _folder(data)
    raw = _config(tmp_path, data / "labels.csv", class_names=["background", "lesion"])
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    metrics = read_json(outcome.run_dir / "metrics.json")
    assert metrics["distance_unit"] == "mm"
    with (outcome.run_dir / "split.csv").open(newline="") as fh:
        split = list(csv.DictReader(fh))
    parts: dict[str, set[str]] = {}
    for row in split:
        parts.setdefault(row["patient_key"], set()).add(row["split"])
    assert len(parts) == 4 and all(len(p) == 1 for p in parts.values())  # 2 images a patient
    assert len(metrics["per_case"]) == sum(r["split"] == "test" for r in split) == 2


def test_a_segmentation_image_list_needs_no_label_column(tmp_path: Path) -> None:
    """README: a segmentation run's labels are optional, only to stratify the split; an image
    list (image, mask, patient_id) without a label column was refused ("no label column
    'label'"). Without one the split is grouped by patient and not stratified."""
    data = tmp_path / "data"
    data.mkdir()
    _folder(data)
    with (data / "labels.csv").open(newline="") as fh:
        rows = [{k: v for k, v in r.items() if k != "label"} for r in csv.DictReader(fh)]
    with (data / "list.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    raw = _config(tmp_path, data / "list.csv")
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    with (outcome.run_dir / "split.csv").open(newline="") as fh:
        split = list(csv.DictReader(fh))
    assert len(split) == 8 and {r["label"] for r in split} == {"0"}
    assert len({r["patient_key"] for r in split}) == 4
    metrics = read_json(outcome.run_dir / "metrics.json")
    assert metrics["num_classes"] == 2 and len(metrics["per_case"]) == 2
    with pytest.raises(RadpipeError, match=r"'label' is not a column of list\.csv"):
        run_study(validate_config({**raw, "task": "classification",
                                   "model": {"type": "mlp_classifier", "hidden": [8]}}),
                  progress=False)  # fmt: skip


def test_a_png_list_with_a_spacing_column_scores_in_mm(tmp_path: Path) -> None:
    """PNGs carry no pixel size: HC18's, given in its CSV, had no place, and distances were
    in voxels. With a ``spacing`` column (mm) they are in mm; without it, still in voxels."""
    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    rng = np.random.default_rng(0)
    rows = []
    for i in range(8):
        mask = np.zeros((12, 12), np.uint8)
        mask[3:8, 4:9] = 255
        image = np.clip(rng.normal(60, 20, mask.shape) + 0.5 * mask, 0, 255).astype(np.uint8)
        Image.fromarray(image).save(data / f"img{i}.png")
        Image.fromarray(mask).save(data / f"mask{i}.png")
        rows.append(f"img{i}.png,mask{i}.png,p{i // 2},0.2")
    listed = data / "list.csv"
    listed.write_text("image,mask,patient_id,spacing\n" + "\n".join(rows) + "\n")
    raw = _config(tmp_path, listed, class_names=["background", "head"])
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    metrics = read_json(outcome.run_dir / "metrics.json")
    assert metrics["distance_unit"] == "mm"
    assert metrics["data"]["spacings"] == {"0.2 x 0.2 mm": 2}
    listed.write_text("image,mask,patient_id\n" + "\n".join(r[:-4] for r in rows) + "\n")
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    assert read_json(outcome.run_dir / "metrics.json")["distance_unit"] == "voxel"
