"""convert.window is checked with the config: a misspelt preset or a width of 0 is a config
error naming the key (exit 2, nothing written); it was refused only after the run directory
was made, as 'config error: window: ...' without the file or the key path."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study

ROOT = Path(__file__).resolve().parents[2]


def _run(tmp_path: Path, window: str) -> subprocess.CompletedProcess[str]:
    write_study(tmp_path / "s", StudySpec(patients=2, modality="CR", size=16))
    (tmp_path / "c.yaml").write_text(
        "name: c\noutput: runs\ntask: classification\n"
        "data: {source: s/dicom, labels: s/labels.csv}\n"
        f"convert: {{window: '{window}'}}\nmodel: {{type: mlp_classifier}}\n"
    )
    cmd = [sys.executable, "-m", "workflows.cli", "run", str(tmp_path / "c.yaml")]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)


@pytest.mark.parametrize(
    ("window", "reason"),
    [
        ("lungs", "Unknown window 'lungs'; choose one of none, header, lung, mediastinum, "),
        ("40,0", "The window width must be > 0; got 0 in '40,0'."),
    ],
)
def test_a_window_that_cannot_be_read_is_a_config_error(
    tmp_path: Path, window: str, reason: str
) -> None:
    done = _run(tmp_path, window)
    assert done.returncode == 2, done.stderr
    (line,) = done.stderr.strip().splitlines()  # no 'run directory:' line before it
    config = tmp_path / "c.yaml"
    assert line.startswith(f"radpipe run: config error: {config}: convert.window: {reason}")
    assert not (tmp_path / "runs").exists()
