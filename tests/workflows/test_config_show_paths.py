"""``radpipe config show`` printed every path setting resolved to an absolute path of this
machine (``source: /home/alice/project/data``): pasted into an issue, it named the user's
folders. Now relative to the working directory (a config saved there reads the same files),
absolute only with ``--absolute-paths``."""

from __future__ import annotations

from pathlib import Path

import yaml

from tests.runner.conftest import radpipe_in as _cli

CONFIG = """task: classification
output: ../runs
data: {source: ../scans/dicom, labels: ../scans/labels.csv}
model: {type: mlp_classifier}
"""


def test_config_show_prints_paths_relative_to_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "c.yaml").write_text(CONFIG)  # paths relative to configs/
    proc = _cli(tmp_path, "config", "show", "configs/c.yaml", "--set", "data.masks=m.csv")
    assert proc.returncode == 0, proc.stderr
    assert str(tmp_path.resolve()) not in proc.stdout
    shown = yaml.safe_load(proc.stdout)
    assert shown["output"] == "runs"
    assert shown["data"]["source"] == "scans/dicom"
    assert shown["data"]["labels"] == "scans/labels.csv"
    assert shown["data"]["masks"] == "m.csv"  # --set: relative to the working directory


def test_config_show_absolute_paths_on_request(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "c.yaml").write_text(CONFIG)
    proc = _cli(tmp_path, "config", "show", "configs/c.yaml", "--absolute-paths")
    assert proc.returncode == 0, proc.stderr
    shown = yaml.safe_load(proc.stdout)
    assert shown["data"]["source"] == str(tmp_path.resolve() / "scans" / "dicom")
