"""32-bit RGB (BitsAllocated 32) as NPY: the stored samples exactly, as pydicom gives them.

The values were rendered as float32, which holds whole numbers exactly only up to 2**24:
pydicom's SC_rgb_rle_32bit.dcm has 21000 samples above that, each rounded (0xFFFFFFFF became
2**32), and nothing said so.
"""

from __future__ import annotations

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file

ROOT = Path(__file__).parents[2]


@pytest.mark.parametrize("name", ["SC_rgb_rle_32bit.dcm", "SC_rgb_rle_32bit_2frame.dcm"])
def test_32_bit_rgb_npy_holds_the_stored_samples_exactly(tmp_path: Path, name: str) -> None:
    path = Path(str(get_testdata_file(name, download=False)))
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    shutil.copy(path, src / name)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet",
           "--format", "npy"]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    with (out / "manifest.csv").open(newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: int(r["frame"]))
    expected = pydicom.dcmread(path).pixel_array.reshape(len(rows), 100, 100, 3)
    assert expected.dtype == np.uint32 and int((expected > 2**24).sum()) > 0
    for row, frame in zip(rows, expected, strict=True):
        got = np.load(out / row["output"], allow_pickle=False)
        assert got.dtype == np.uint32 and row["shape"] == "100x100x3"
        np.testing.assert_array_equal(got, frame)


@pytest.mark.parametrize(("top", "said"), [(2**24 + 1, True), (2**24, False)])
def test_32_bit_grey_values_past_2_24_are_said_to_be_rounded(top: int, said: bool) -> None:
    """Grey outputs are float32 modality values: 2**24 + 1 becomes 2**24 there, and the
    file's problems now say so (2**24 itself is exact)."""
    from pipeline.dicom.read import image_from_dataset, render
    from pipeline.ops.voi import parse_window
    from tests.pipeline.dicom import geometry_cases as G

    ds = G.image(np.zeros((1, 2), np.uint16))
    ds.BitsAllocated = ds.BitsStored = 32
    ds.HighBit = 31
    ds.PixelData = np.array([[0, top]], dtype="<u4").tobytes()
    image = image_from_dataset(ds, "x.dcm")
    got, _ = render(image, 0, parse_window("none"), "float32")
    assert float(got[0, 1]) == 2.0**24  # float32 cannot hold 2**24 + 1
    notes = [p for p in image.problems if "past 2**24" in p]
    assert notes == ([f"stored values reach {top}, past 2**24: float32 outputs (NPY, NIfTI) "
                      "hold them rounded to 24 significant bits"] if said else [])  # fmt: skip
