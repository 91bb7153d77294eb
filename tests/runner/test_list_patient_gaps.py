"""An images list whose ``patient_id`` column has empty cells: each such image is a patient of
its own in the split (as an image of a list without the column is), so one patient's images can
land in two parts. It was unsaid; a DICOM series without a PatientID is warned about."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.split import read_split_csv
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


@pytest.mark.parametrize("gaps", [(), (3, 6), tuple(range(8))], ids=["none", "two", "all"])
def test_empty_patient_ids_of_an_images_list_are_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, gaps: tuple[int, ...]
) -> None:
    rows = ["image,label,patient_id"]
    for i in range(8):
        Image.fromarray(np.full((8, 8), i * 20, np.uint8)).save(tmp_path / f"{i}.png")
        rows.append(f"{i}.png,{i % 2},{'' if i in gaps else f'p{i // 2}'}")
    (tmp_path / "l.csv").write_text("\n".join(rows) + "\n")
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(tmp_path / "l.csv"))
    raw["split"] = {"test": 0.0, "val": 0.25}
    (tmp_path / "run").mkdir()
    with caplog.at_level("WARNING", logger="radpipe"):
        prepare_study(validate_config(raw), tmp_path / "run", progress=False)
    patients = {r["patient_key"] for r in read_split_csv(tmp_path / "run" / "split.csv")}
    # p0..p3 hold two images each; an empty cell makes its image a patient of its own
    assert len(patients) == {(): 4, (3, 6): 6, tuple(range(8)): 8}[gaps]
    said = [m for m in caplog.messages if "patient_id" in m]
    if not gaps:
        assert said == []
    elif len(gaps) == 2:  # the CSV's lines: the header is line 1
        assert said == [
            "l.csv: 2 of 8 images have an empty patient_id (lines 5, 8): each is taken for a "
            "patient of its own in the split, so one patient's images can be in two of its "
            "parts; fill in their patient_id"
        ]
    else:
        assert said == ["l.csv: every patient_id is empty: each image is taken for a patient "
                        "of its own in the split"]  # fmt: skip
