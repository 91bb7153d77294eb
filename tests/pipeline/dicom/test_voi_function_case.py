"""A VOILUTFunction not written as its defined term is read upper case, and said.

CS values are upper case (PS3.5 6.2). ``sigmoid`` was applied as SIGMOID without a word,
where a lower-case PhotometricInterpretation gets a note. Expected values by hand from PS3.3
C.11.2.1.3.1: SIGMOID y = 1 / (1 + exp(-4 (x - c) / w)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import CTImageStorage

from pipeline.data.io import read_manifest
from pipeline.dicom.header_checks import check_image_header
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

STORED = [[0, 1000], [1040, 2000]]  # HU = stored - 1000: -1000, 0, 40, 1000


def _ct(function: str) -> object:
    ds = image_dataset(CTImageStorage, "CT", 2, 2)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1000
    ds.WindowCenter, ds.WindowWidth, ds.VOILUTFunction = 40, 400, function
    ds.PixelData = np.array(STORED, "<u2").tobytes()
    return ds


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
@pytest.mark.parametrize("function", ["sigmoid", " SIGMOID"])
def test_a_voi_function_not_as_the_defined_term_is_applied_and_said(
    tmp_path: Path, function: str
) -> None:
    src = write_folder(tmp_path / "src", ct=_ct(function))
    options = ConvertOptions(format="npy", window="header")
    assert convert_folder(src, tmp_path / "out", options, progress=False).failures == []
    (row,) = read_manifest(tmp_path / "out" / "manifest.csv")
    hu = np.array(STORED, float) - 1000
    expected = 1 / (1 + np.exp(-4 * (hu - 40) / 400))
    np.testing.assert_allclose(np.load(tmp_path / "out" / row["output"]), expected, rtol=1e-5)
    said = (f"VOILUTFunction (0028,1056) is written {function!r}, not as the defined term "
            "(upper case, PS3.5 6.2): read as SIGMOID")  # fmt: skip
    assert said in row["problems"]
    assert said in check_image_header(_ct(function))  # the header check (inspect) too


def test_the_defined_term_is_not_said(tmp_path: Path) -> None:
    src = write_folder(tmp_path / "src", ct=_ct("SIGMOID"))
    options = ConvertOptions(format="npy", window="header")
    convert_folder(src, tmp_path / "out", options, progress=False)
    (row,) = read_manifest(tmp_path / "out" / "manifest.csv")
    assert "VOILUTFunction" not in row["problems"]
