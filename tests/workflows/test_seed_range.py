"""A seed numpy or torch cannot take is refused with the config.

``seed: -1`` passed validation; the run made its directory, converted the data and stopped
in the split with numpy's ``ValueError: expected non-negative integer`` traceback, leaving
``failed.json`` and advice to resume, which keeps the same seed. ``radpipe synth --seed -1``
ended in the same traceback. Seeds run from 0 to 2**32 - 1 (numpy's legacy bound, as
scikit-learn's ``random_state``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from tests.runner.conftest import radpipe_in
from workflows.run.config import load_config
from workflows.train.config import TrainConfig

CONFIG = """name: s
task: classification
output: runs
data: {source: dicom, labels: labels.csv}
model: {type: mlp_classifier}
"""


def test_run_with_a_negative_seed_is_a_config_error_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG)
    (tmp_path / "dicom").mkdir()
    (tmp_path / "labels.csv").write_text("series_uid,label\n1.2.3,0\n")
    proc = radpipe_in(tmp_path, "run", "c.yaml", "--set", "seed=-1")
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip() == (
        "radpipe run: config error: --set seed=-1: seed: Input should be greater than or equal to 0"
    )
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize(("seed", "ok"), [(0, True), (4294967295, True), (-1, False),
                                          (4294967296, False)])  # fmt: skip
def test_seed_bounds_in_the_config_and_train_config(tmp_path: Path, seed: int, ok: bool) -> None:
    (tmp_path / "c.yaml").write_text(CONFIG + f"seed: {seed}\n")
    if ok:
        assert load_config(tmp_path / "c.yaml").seed == seed
        assert TrainConfig(seed=seed).seed == seed
        return
    with pytest.raises(ConfigError, match="seed: Input should be"):
        load_config(tmp_path / "c.yaml")
    with pytest.raises(ConfigError, match=f"seed: must be a whole number from 0 to 4294967295; "
                                          f"got {seed}"):  # fmt: skip
        TrainConfig(seed=seed)


def test_synth_with_a_negative_seed_is_a_usage_error(tmp_path: Path) -> None:
    proc = radpipe_in(tmp_path, "synth", "s", "--seed", "-1", "--patients", "2")
    assert proc.returncode == 2, proc.stderr
    assert ("radpipe synth: error: argument --seed: expected a whole number from 0 to "
            "4294967295; got -1") in proc.stderr  # fmt: skip
    assert "Traceback" not in proc.stderr
    assert not (tmp_path / "s").exists()
