"""A ratio split whose test part came out empty (too few patients) is refused before training,
with the counts; it was refused after training, telling to set split.test > 0 (it was 0.2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import RadpipeError
from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def test_an_empty_test_split_is_refused_before_training(tmp_path: Path) -> None:
    write_study(tmp_path / "s", StudySpec(patients=3, modality="CR", size=16))
    raw = base_config(tmp_path / "s", tmp_path / "runs")
    raw["split"] = {"test": 0.2, "val": 0.2}  # 3 patients: 2 train, 1 val, no test (seed 0)
    with pytest.raises(RadpipeError) as err:
        run_study(validate_config(raw), progress=False)
    assert str(err.value) == (
        "The test split is empty (4 training, 2 validation and 0 test series of 3 patients; "
        "split.test 0.2): add patients, or raise split.test; or set split.test: 0 and score "
        "the model with radpipe evaluate."
    )
    assert not list((tmp_path / "runs").glob("*/checkpoints/*.pt"))
