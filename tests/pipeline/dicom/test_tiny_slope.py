"""A RescaleSlope too small for float32 outputs (found by fuzzing): every value became the
intercept (0 here) in NPY/NIfTI, exit 0 and no word. It is refused as a damaged value, as a
slope past float32's range (1e300) already was, by convert and inspect alike."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import CTImageStorage

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti


def _src(tmp_path: Path, slope: str) -> Path:
    ds = image_dataset(CTImageStorage, "CT", 2, 2)
    ds.RescaleSlope, ds.RescaleIntercept = slope, "0"
    ds.PixelData = np.array([0, 10, 200, 4000], "<u2").tobytes()
    return write_folder(tmp_path / "src", x=ds)


@pytest.mark.parametrize("slope", ["1e-300", "-1e-39"])
def test_a_slope_below_float32s_smallest_normal_is_refused(tmp_path: Path, slope: str) -> None:
    src = _src(tmp_path, slope)
    said = (f"RescaleSlope (0028,1053) holds {float(slope):g}: below float32's smallest normal "
            "number (1.2e-38), which the outputs hold, so every value would be the intercept; "
            "a damaged value.")  # fmt: skip
    _, errors, code = convert_nifti(src, tmp_path / "out", format="npy", per="instance")
    assert code == 1 and errors == {"x.dcm": said}
    assert [p.reason for p in index_folder(src).all_problems()] == [said]


def test_a_small_but_usable_slope_is_applied(tmp_path: Path) -> None:
    rows, errors, code = convert_nifti(_src(tmp_path, "1e-30"), tmp_path / "out", format="npy",
                                       per="instance")  # fmt: skip
    got = np.load(tmp_path / "out" / rows[0]["output"])
    expected = np.array([[0, 10], [200, 4000]], np.float64) * 1e-30  # by hand
    assert code == 0 and not errors and np.allclose(got, expected, rtol=1e-6, atol=0)
