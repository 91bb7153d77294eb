"""RescaleSlope/Intercept beside Float Pixel Data: applied, as pydicom does, and said.

The Floating Point Image Pixel modules (PS3.3 C.7.6.24) come without a Modality LUT module;
a rescale beside float pixel data is outside the standard. radpipe applies it, as pydicom's
``apply_modality_lut`` does, but said nothing, so a user could not tell the values written
were not the file's floats. Expected: the floats x 2 + 1 by hand, and pydicom's own values.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from pydicom.uid import ParametricMapStorage

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import header_dataset, write_folder

SAID = "RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) (x 2 + 1) applied to float pixel"


@pytest.mark.parametrize("rescale", [(2, 1), (1, 0), None], ids=["rescale", "identity", "none"])
def test_a_rescale_beside_float_pixel_data_is_applied_and_said(
    tmp_path: Path, rescale: tuple[int, int] | None
) -> None:
    ds = header_dataset(ParametricMapStorage, "MR")
    ds.Rows, ds.Columns, ds.SamplesPerPixel = 1, 2, 1
    ds.PhotometricInterpretation, ds.BitsAllocated = "MONOCHROME2", 32
    ds.FloatPixelData = np.array([1.5, -2.25], "<f4").tobytes()
    if rescale is not None:
        ds.RescaleSlope, ds.RescaleIntercept = rescale
    src = write_folder(tmp_path / "src", x=ds)
    image = read_instance(src / "x.dcm", "x.dcm")
    read = pydicom.dcmread(src / "x.dcm")
    expected = apply_modality_lut(read.pixel_array, read).ravel().tolist()
    assert image.modality(0).ravel().tolist() == expected
    said = [p for p in image.problems if p.startswith(SAID)]
    if rescale == (2, 1):
        assert expected == [4.0, -3.5] and len(said) == 1
    else:
        assert expected == [1.5, -2.25] and said == []
