"""A DICOM segmentation's masks CSV without a row for one image, and a labels or masks row
with an empty key cell, are refused before the run directory is made (exit 2), naming the
CSV as typed, the line or the image's file below data.source and its frame. They were refused
with exit 1 once the run directory had been made and the source converted.

The study is written here (2 patients x 1 MR series x 3 slices), so which file lacks its row
is known: the one whose SOPInstanceUID the dropped row held, found with pydicom."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pydicom
import pytest

from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config, radpipe_in


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("seg_rows")
    write_study(out, StudySpec(patients=2, modality="MR", task="segmentation", size=16,
                               slices=3, series_per_patient=1))  # fmt: skip
    return out


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(newline="")))


def _write(path: Path, rows: list[list[str]]) -> str:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path.name


def _run(study: Path, work: Path, **data: str) -> str:
    """``radpipe run config.yaml`` in ``work`` (paths relative): exit 2, no run directory."""
    raw = base_config(study, Path("runs"), **({"masks": str(study / "masks.csv")} | data))
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}
    raw["split"] = {"test": 0.0, "val": 0.5}
    (work / "config.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(work, "run", "config.yaml", "--quiet")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and str(work) not in proc.stderr
    assert not (work / "runs").exists()
    return proc.stderr


def test_a_masks_csv_without_a_row_for_an_image_is_refused_before_the_run(
    study: Path, tmp_path: Path
) -> None:
    rows = _rows(study / "masks.csv")
    sop = rows[2][rows[0].index("sop_instance_uid")]
    dropped = next(p for p in (study / "dicom").rglob("*") if p.is_file() and
                   pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID == sop)  # fmt: skip
    images = sum(1 for p in (study / "dicom").rglob("*") if p.is_file())  # 2 x 3 slices
    assert images == 6
    # the masks CSV beside the study's masks/ folder, so its mask cells still resolve
    name = _write(study / "masks_less.csv", rows[:2] + rows[3:])
    err = _run(study, tmp_path, masks=str(study / name))
    rel = dropped.relative_to(study / "dicom").as_posix()
    assert "masks_less.csv has no row for 1 of the 6 images" in err
    assert f"{rel} frame 0" in err and sop not in err


def test_an_empty_series_uid_in_the_labels_is_refused_by_line(study: Path, tmp_path: Path) -> None:
    rows = _rows(study / "labels.csv")
    rows[2][rows[0].index("series_uid")] = " "
    _write(tmp_path / "labels.csv", rows)
    err = _run(study, tmp_path, labels="labels.csv")
    assert "data.labels: labels.csv line 3: the series_uid cell is empty" in err


def test_an_empty_sop_instance_uid_in_the_masks_is_refused_by_line(
    study: Path, tmp_path: Path
) -> None:
    rows = _rows(study / "masks.csv")
    rows[4][rows[0].index("sop_instance_uid")] = ""
    name = _write(study / "masks_blank.csv", rows)
    err = _run(study, tmp_path, masks=str(study / name))
    assert f"data.masks: {study / name}" not in err  # shown relative to the working folder
    assert f"{name} line 5: the sop_instance_uid cell is empty" in err


def test_masks_given_to_a_classification_are_not_matched_to_its_images(
    study: Path, tmp_path: Path
) -> None:
    """``radpipe evaluate`` of a classification run given ``--masks`` is refused for that
    (the masks are no truth of a classification), not for rows the masks CSV lacks."""
    from workflows.run.config import validate_config
    from workflows.run.table_rows import table_problems

    rows = _rows(study / "masks.csv")
    name = _write(study / "masks_half.csv", rows[:2])
    raw = base_config(study, tmp_path / "runs", masks=str(study / name))
    raw["split"] = {"test": 0.0, "val": 0.5}  # 2 patients: 2 parts
    columns = {"labels": _rows(study / "labels.csv")[0], "masks": rows[0]}
    assert table_problems(validate_config(raw), columns) == []
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [4]}}
    (got,) = table_problems(validate_config(raw), columns)
    assert "masks_half.csv has no row for 5 of the 6 images" in got


def test_a_mask_png_that_is_no_class_indices_is_refused_before_the_run(
    study: Path, tmp_path: Path
) -> None:
    """A grey-level PNG (values 0, 37, 74, ...) among a DICOM run's masks: exit 2 naming it
    (was exit 1 once the run directory was made)."""
    import numpy as np
    from PIL import Image

    rows = _rows(study / "masks.csv")
    (study / "odd").mkdir(exist_ok=True)
    Image.fromarray((np.arange(256) % 7 * 37).astype(np.uint8).reshape(16, 16)).save(
        study / "odd" / "grey.png"
    )
    rows[3][rows[0].index("mask")] = "odd/grey.png"
    name = _write(study / "masks_grey.csv", rows)
    err = _run(study, tmp_path, masks=str(study / name))
    assert f"{name}: 1 of 6 mask files cannot be read as class indices" in err
    assert "odd/grey.png" in err


def test_a_mask_png_of_another_size_is_refused_before_the_run(study: Path, tmp_path: Path) -> None:
    """An 8x8 PNG listed for a 16x16 image (Rows x Columns read with pydicom): exit 2 naming
    both sizes (was exit 1 once the run directory was made)."""
    import numpy as np
    from PIL import Image

    rows = _rows(study / "masks.csv")
    sop = rows[2][rows[0].index("sop_instance_uid")]
    image = next(p for p in (study / "dicom").rglob("*") if p.is_file() and
                 pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID == sop)  # fmt: skip
    ds = pydicom.dcmread(image, stop_before_pixels=True)
    (study / "odd").mkdir(exist_ok=True)
    Image.fromarray(np.zeros((8, 8), np.uint8)).save(study / "odd" / "small.png")
    rows[2][rows[0].index("mask")] = "odd/small.png"
    name = _write(study / "masks_small.csv", rows)
    err = _run(study, tmp_path, masks=str(study / name))
    rel = image.relative_to(study / "dicom").as_posix()
    assert f"{name}: 1 mask is not the size of its image" in err
    assert f"odd/small.png is 8x8, its image {rel} frame 0 {ds.Rows}x{ds.Columns}" in err
