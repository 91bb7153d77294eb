"""``radpipe predict`` says the images cut in another plane than the run's training series.

The synthetic MR series are coronal: ImageOrientationPatient (1, 0, 0, 0, 0, -1), whose
normal, row x column (PS3.3 C.7.6.2.1.1), is (0, 1, 0), the A-P axis. One series of the
folder to predict is rewritten as axial, (1, 0, 0, 0, 1, 0), normal (0, 0, 1), each slice at
its old A-P place along S-I: same size, same pixel size, so nothing else tells it apart. It was
predicted without a word.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pydicom
import pytest

from tests.runner.conftest import seg_config
from workflows.cli import main
from workflows.run.config import validate_config
from workflows.run.planes import image_plane
from workflows.run.runner import run_study


@pytest.mark.parametrize(
    ("iop", "plane"),
    [
        ([1, 0, 0, 0, 1, 0], "axial"),  # normal (0, 0, 1)
        ([1, 0, 0, 0, 0, -1], "coronal"),  # normal (0, 1, 0)
        ([0, 1, 0, 0, 0, -1], "sagittal"),  # normal (-1, 0, 0)
        ([0.9, 0.0, 0.436, 0.0, 1.0, 0.0], "axial"),  # 26 degrees tilted: normal (-.436, 0, .9)
    ],
)
def test_image_plane_is_that_of_the_nearest_patient_axis(iop: list[float], plane: str) -> None:
    assert image_plane(iop) == plane


def test_predict_says_images_of_another_plane_than_the_training_series(
    mr_seg: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    raw = seg_config(mr_seg, tmp_path / "runs", [])
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    info = json.loads((outcome.run_dir / "stages" / "data.json").read_text())
    assert info["planes"] == ["coronal"]

    src = tmp_path / "src"
    shutil.copytree(mr_seg / "dicom", src)
    files = sorted(src.rglob("*.dcm"))
    series = pydicom.dcmread(files[0]).SeriesInstanceUID
    axial = []
    for f in files:
        ds = pydicom.dcmread(f)
        if ds.SeriesInstanceUID == series:
            x, y, _ = (float(v) for v in ds.ImagePositionPatient)
            ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
            ds.ImagePositionPatient = [x, -100.0, y]
            ds.save_as(f)
            axial.append(f.relative_to(src).as_posix())
    assert len(axial) == 3
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["predict", str(outcome.run_dir), str(src), "--out", str(tmp_path / "p")]) == 0
    (said,) = [r.getMessage() for r in caplog.records if "slices, but the run" in r.getMessage()]
    assert said.startswith(
        "3 images of 24 are axial slices, but the run trained on coronal slices only"
    )
    assert said.split("(e.g. ")[1].rstrip(")") in axial

    caplog.clear()  # radpipe evaluate says them too (PNG masks: drawn in pixel order)
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["evaluate", str(outcome.run_dir), str(src), "--masks",
                     str(mr_seg / "masks.csv"), "--out", str(tmp_path / "e")]) == 0  # fmt: skip
    (said,) = [r.getMessage() for r in caplog.records if "slices, but the run" in r.getMessage()]
    assert said.startswith("3 images of ")
    assert "are axial slices, but the run trained on coronal slices only" in said
    metrics = json.loads((tmp_path / "e" / "metrics.json").read_text())  # and records them
    assert metrics["unlike_training"]["other_plane"] == {"axial": 3}
    assert metrics["evaluated"].endswith(
        "; unlike the training images: 3 images in the axial plane"
    )
