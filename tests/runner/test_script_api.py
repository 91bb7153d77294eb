"""The README's ``convert_folder(..., workers=2)`` pasted into a script without an
``if __name__ == "__main__":`` guard works, and the script runs once (issue 13, item 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
print("script body runs")
from pipeline.synth import StudySpec, write_study
from workflows.convert.batch import ConvertOptions, convert_folder

write_study("study", StudySpec(patients=4, modality="CR", size=16, series_per_patient=1))
result = convert_folder("study/dicom", "out", ConvertOptions(format="npy", workers=2),
                        progress=False)
print("outputs", result.outputs, "failures", len(result.failures))
"""


def test_convert_folder_with_workers_in_an_unguarded_script(tmp_path: Path) -> None:
    (tmp_path / "script.py").write_text(SCRIPT)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root)}
    done = subprocess.run([sys.executable, "script.py"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.splitlines() == ["script body runs", "outputs 4 failures 0"]
    assert len(list((tmp_path / "out").rglob("*.npy"))) == 4
