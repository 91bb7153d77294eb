"""``radpipe run --resume`` refuses a run whose mask files were rewritten since it started,
behind an unchanged masks CSV (DICOM runs) or list CSV (images runs): its earlier epochs
trained on the old masks, and its evaluation would score the new ones."""

from __future__ import annotations

import csv
import json
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def _config(study: Path, output: Path, kind: str) -> dict[str, Any]:
    data: dict[str, Any] = {"source": str(study / "dicom"), "masks": str(study / "masks.csv")}
    if kind == "images":
        data = {"kind": "images", "source": str(study), "labels": str(study / "list.csv")}
    return {
        "task": "segmentation",
        "output": str(output),
        "data": data,
        "convert": {"workers": 1},
        "split": {"test": 0.25, "val": 0.25},
        "preprocess": [],
        "model": {"type": "mlp_segmenter", "hidden": [4], "context": 0},
        "train": {"epochs": 1, "batch_size": 8, "device": "cpu"},
        "report": {"enabled": False},
    }


def _images_study(folder: Path) -> Path:
    """8 patients x one 16x16 PNG with a square PNG mask, listed in list.csv."""
    folder.mkdir()
    rows = []
    for p in range(8):
        image = np.full((16, 16), 20, np.uint8)
        mask = np.zeros((16, 16), np.uint8)
        mask[p % 4 : p % 4 + 6, 4:10] = 1
        image[mask == 1] = 200
        Image.fromarray(image).save(folder / f"img{p}.png")
        Image.fromarray(mask).save(folder / f"mask{p}.png")
        rows.append({"image": f"img{p}.png", "mask": f"mask{p}.png", "patient_id": f"P{p}"})
    with (folder / "list.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return folder


@pytest.mark.parametrize("kind", ["dicom", "images"])
def test_resume_after_a_mask_was_rewritten_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    if kind == "dicom":
        study = tmp_path / "study"
        write_study(study, StudySpec(patients=4, modality="MR", task="segmentation", size=16,
                                     slices=2))  # fmt: skip
        first_mask = next(csv.DictReader((study / "masks.csv").open()))["mask"]
    else:
        study = _images_study(tmp_path / "study")
        first_mask = "mask0.png"
    outcome = run_study(validate_config(_config(study, tmp_path / "runs", kind)), progress=False)
    assert outcome is not None
    run = outcome.run_dir
    for name in ("metrics.json", "train_done.json"):
        (run / name).unlink()
    provenance = json.loads((run / "provenance.json").read_text())
    assert provenance["mask_files_fingerprint"]
    # the mask corrected in place, its size and mtime put back (as cp -p / rsync -a leave them)
    path = study / first_mask
    times = path.stat()
    mask = np.asarray(Image.open(path)).copy()
    mask[:2, :2] = 1 - mask[:2, :2]
    Image.fromarray(mask).save(path)
    os.utime(path, ns=(times.st_atime_ns, times.st_mtime_ns))
    capsys.readouterr()
    assert main(["run", "--resume", str(run), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"Cannot resume {run.name}" in err
    assert "mask files its masks CSV names were added, removed or rewritten" in err
    assert not (run / "metrics.json").exists()


def test_resume_with_the_same_masks_goes_on(tmp_path: Path) -> None:
    """A mask with the same contents, copied back and chmod-ed, is the same mask."""
    study = _images_study(tmp_path / "study")
    outcome = run_study(validate_config(_config(study, tmp_path / "runs", "images")),
                        progress=False)  # fmt: skip
    assert outcome is not None
    (outcome.run_dir / "metrics.json").unlink()
    (outcome.run_dir / "train_done.json").unlink()
    shutil.copyfile(study / "mask1.png", tmp_path / "copy.png")  # copied back: a new inode
    (study / "mask1.png").unlink()
    shutil.copyfile(tmp_path / "copy.png", study / "mask1.png")
    (study / "mask1.png").chmod(0o600)
    assert main(["run", "--resume", str(outcome.run_dir), "--quiet"]) == 0
    assert (outcome.run_dir / "metrics.json").is_file()
