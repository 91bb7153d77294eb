"""A Modality LUT Sequence item without LUTDescriptor or LUTData, beside RescaleSlope/Intercept.

dcmtk (``DiMonoModality::checkTable``/``checkRescaling``) finds such a LUT invalid and applies
the rescale; pydicom raises. radpipe refused the file although its rescale was good: it now
applies the rescale and says so (PS3.3 C.11.1: one or the other). Without a rescale beside it
the file is still refused, the reason saying there was nothing to fall back on. Expected
values by hand: stored 0, 1000, 2000, 4095 x 2 - 100.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataelem import DataElement
from pydicom.sequence import Sequence

from pipeline.dicom.index import index_folder
from pipeline.dicom.read import read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset, item, write_folder

CR = "1.2.840.10008.5.1.4.1.1.1"
SAID = "Modality LUT Sequence (0028,3000) unusable, RescaleSlope/RescaleIntercept"


def _cr(tmp_path: Path, missing: str, rescale: bool) -> Path:
    ds = image_dataset(CR, "CR", 1, 4, bits=16, stored=12)
    ds.PixelData = np.array([0, 1000, 2000, 4095], "<u2").tobytes()
    lut = item(ModalityLUTType="OD")
    if missing != "LUTDescriptor":
        lut.LUTDescriptor = [4096, 0, 16]
    if missing != "LUTData":  # OW: pydicom cannot resolve US/SS without a descriptor
        lut.add(DataElement(0x00283006, "OW", (np.arange(4096) * 10).astype("<u2").tobytes()))
    ds.ModalityLUTSequence = Sequence([lut])
    if rescale:
        ds.RescaleSlope, ds.RescaleIntercept, ds.RescaleType = 2, -100, "US"
    return write_folder(tmp_path / "src", cr=ds)


@pytest.mark.parametrize("missing", ["LUTDescriptor", "LUTData"])
def test_an_unusable_lut_beside_a_rescale_gives_way_to_it_and_is_said(
    tmp_path: Path, missing: str
) -> None:
    src = _cr(tmp_path, missing, rescale=True)
    image = read_instance(src / "cr.dcm", "cr.dcm")
    assert image.modality(0).ravel().tolist() == [-100.0, 1900.0, 3900.0, 8090.0]
    assert image.units == ("US", "RescaleType (0028,1054)")  # not the LUT's OD
    (said,) = [p for p in image.problems if p.startswith(SAID)]
    assert missing in said and "dcmtk" in said and "; " not in said  # one manifest part
    notes = [p.reason for p in index_folder(src).all_problems() if SAID in p.reason]
    assert notes == [f"note: {said}"]


def test_a_usable_lut_still_wins_over_the_rescale(tmp_path: Path) -> None:
    src = _cr(tmp_path, "", rescale=True)
    image = read_instance(src / "cr.dcm", "cr.dcm")
    assert image.modality(0).ravel().tolist() == [0.0, 10000.0, 20000.0, 40950.0]
    assert not [p for p in image.problems if p.startswith(SAID)]


def test_an_unusable_lut_alone_is_refused_with_nothing_to_fall_back_on(tmp_path: Path) -> None:
    src = _cr(tmp_path, "LUTDescriptor", rescale=False)
    with pytest.raises(DicomError) as caught:
        read_instance(src / "cr.dcm", "cr.dcm")
    assert "(0028,3002) LUTDescriptor must hold 3 whole numbers" in caught.value.reason
    said = "got none, and no RescaleSlope/Intercept (0028,1053)/(0028,1052) beside it to use"
    assert said in caught.value.reason
