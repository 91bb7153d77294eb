"""A window whose arithmetic overflows float32 is still a right window, with nothing to say.

SIGMOID (PS3.3 C.11.2.1.3.1) was ``1 / (1 + exp(-4 (x - c) / w))``: more than 22 widths below
the center (a CT's padding, -3024, under a brain window) the exponential overflowed float32.
The values were right (1 / inf = 0), but numpy's "overflow encountered in exp" became the
file's problem, in the manifest and, under ``--strict``, a refusal. Likewise a LINEAR_EXACT
window of width below 1 over float values near float32's range overflowed in the division.
Expected values here are the standard's formula in float64.
"""

from __future__ import annotations

import csv
import warnings
from pathlib import Path

import numpy as np
import pytest

from pipeline.ops.voi import apply_window
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

CT = "1.2.840.10008.5.1.4.1.1.2"
HU = np.array([[-3024, -1000, 0, 40, 80, 3000]])


def _sigmoid_ct() -> object:
    ds = image_dataset(CT, "CT", 1, 6, bits=16, signed=True)
    ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 40, 80, "SIGMOID"
    ds.PixelData = HU.astype("<i2").tobytes()
    return ds


@pytest.mark.parametrize("strict", [False, True], ids=["plain", "strict"])
def test_a_sigmoid_window_far_from_its_center_is_no_problem(tmp_path: Path, strict: bool) -> None:
    src = write_folder(tmp_path / "src", x=_sigmoid_ct())  # type: ignore[arg-type]
    options = ConvertOptions(format="npy", window="header", strict=strict)
    result = convert_folder(src, tmp_path / "out", options, progress=False)
    assert result.failures == []  # was refused under --strict: "overflow encountered in exp"
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["problems"] == ""  # was "overflow encountered in exp"
    expected = 1.0 / (1.0 + np.exp(-4.0 * (HU.astype(np.float64) - 40.0) / 80.0))
    got = np.load(tmp_path / "out" / row["output"])
    np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    ("function", "width"), [("SIGMOID", 80.0), ("LINEAR_EXACT", 1e-3), ("LINEAR", 2.0)]
)
def test_window_arithmetic_that_overflows_float32_warns_nothing(
    function: str, width: float
) -> None:
    values = np.array([-3.0e38, -3024.0, 40.0, 3.0e38], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's RuntimeWarning would raise here
        got = apply_window(values, 40.0, width, function)
    middle = 1.0 if function == "LINEAR" else 0.5  # LINEAR: (40 - 39.5) / (2 - 1) + 0.5
    assert got.tolist() == [0.0, 0.0, middle, 1.0]
