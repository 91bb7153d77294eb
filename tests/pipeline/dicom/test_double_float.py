"""Double Float Pixel Data (7FE0,0009) in float32 outputs: what cannot be held is said.

pydicom #452 asked for Float and Double Float Pixel Data (parametric maps). radpipe writes
float32; values a double holds beyond float32 were written as inf with numpy's words
("overflow encountered in cast") or, below float32's smallest normal value, as 0 unsaid.
"""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
from pydicom.uid import ParametricMapStorage

from tests.pipeline.dicom.builders import header_dataset

ROOT = Path(__file__).parents[3]


def test_double_values_beyond_float32_are_said(tmp_path: Path) -> None:
    ds = header_dataset(ParametricMapStorage, "MR")
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 2, 3, 1
    ds.PhotometricInterpretation, ds.BitsAllocated = "MONOCHROME2", 64
    values = np.array([[0.5, -1e-3, 1e300], [2.0, 3.0, 1e-300]])
    ds.DoubleFloatPixelData = values.astype("<f8").tobytes()
    src = tmp_path / "src"
    src.mkdir()
    ds.save_as(src / "map.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--format", "npy"]
    done = subprocess.run([*cmd, "--quiet"], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (row,) = csv.DictReader((out / "manifest.csv").open())
    # float32 of each value: 1e300 is past 3.4e38 (inf), 1e-300 below 1.4e-45 (0)
    got = np.load(out / row["output"])
    assert got.dtype == np.float32
    assert got.ravel().tolist() == [0.5, float(np.float32(-1e-3)), np.inf, 2.0, 3.0, 0.0]
    assert row["problems"] == (
        "Double Float Pixel Data (7FE0,0009) in float32 outputs (NPY, NIfTI): 1 of 6 beyond "
        "float32's range (|v| > 3.4e38) written as +-inf, 1 of 6 nonzero below float32's "
        "smallest normal value (1.2e-38) written with less precision or as 0"
    )
