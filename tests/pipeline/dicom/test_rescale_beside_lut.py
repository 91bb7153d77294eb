"""A Modality LUT Sequence with RescaleSlope/Intercept beside it (PS3.3 C.11.1: one or the other).

fo-dicom #1986: a CR with a Modality LUT Sequence and RescaleSlope 0.01 came out near black
where fo-dicom mixed the two. radpipe applies the LUT alone, as pydicom does; the rescale was
ignored without a word. Expected values: pydicom's ``apply_modality_lut``, and by hand (the
LUT maps v to 10 v).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.pixels import apply_modality_lut
from pydicom.sequence import Sequence

from pipeline.dicom.index import index_folder
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset, item, write_folder

CR = "1.2.840.10008.5.1.4.1.1.1"


@pytest.mark.parametrize(
    ("slope", "intercept", "said"),
    [(0.01, 0, "0.01 and 0 beside it ignored"), (1, -1024, "1 and -1024 beside it ignored"),
     (1, 0, ""), (None, None, "")],
    ids=["slope", "intercept", "identity", "absent"],
)  # fmt: skip
def test_rescale_beside_a_modality_lut_is_said_and_the_lut_applied(
    tmp_path: Path, slope: float | None, intercept: float | None, said: str
) -> None:
    ds = image_dataset(CR, "CR", 1, 4, bits=16, stored=12)
    ds.PixelData = np.array([0, 1000, 2000, 4095], "<u2").tobytes()
    table = (np.arange(4096) * 10).astype("<u2")
    ds.ModalityLUTSequence = Sequence(
        [item(LUTDescriptor=[4096, 0, 16], ModalityLUTType="OD", LUTData=table.tobytes())]
    )
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    src = write_folder(tmp_path / "src", cr=ds)
    image = read_instance(src / "cr.dcm", "cr.dcm")
    expected = apply_modality_lut(pydicom.dcmread(src / "cr.dcm").pixel_array, ds)
    assert image.modality(0).ravel().tolist() == [0.0, 10000.0, 20000.0, 40950.0]
    assert image.modality(0).ravel().tolist() == expected.ravel().tolist()
    found = [p for p in image.problems if "Modality LUT Sequence (0028,3000) applied" in p]
    inspected = index_folder(src).all_problems()
    notes = [p.reason for p in inspected if "(0028,3000) applied" in p.reason]
    assert len(found) == len(notes) == (1 if said else 0)
    if said:
        assert said in found[0] and "(0028,1053)" in found[0] and said in notes[0]


@pytest.mark.parametrize(("bits", "said"), [(12, True), (13, False)], ids=["past-12", "fits-13"])
def test_lut_data_past_its_descriptors_bit_depth_is_said(
    tmp_path: Path, bits: int, said: bool
) -> None:
    """Entries are 0 .. 2**bits - 1 (PS3.3 C.11.1.1.1): 5000 needs 13 bits (4096 <= 5000 <
    8192). Such values were used without a word; they still are used, as given."""
    ds = image_dataset(CR, "CR", 1, 4, bits=16, stored=2)
    ds.PixelData = np.array([0, 1, 2, 3], "<u2").tobytes()
    table = np.array([0, 100, 3000, 5000], "<u2")
    ds.ModalityLUTSequence = Sequence(
        [item(LUTDescriptor=[4, 0, bits], ModalityLUTType="US", LUTData=table.tobytes())]
    )
    src = write_folder(tmp_path / "src", cr=ds)
    image = read_instance(src / "cr.dcm", "cr.dcm")
    assert image.modality(0).ravel().tolist() == [0.0, 100.0, 3000.0, 5000.0]
    note = (
        "Modality LUT Sequence (0028,3000) LUTData (0028,3006) holds values up to 5000, past the "
        "12 bits its LUTDescriptor (0028,3002) gives (0..4095): used as they are"
    )
    assert sum(note in p for p in image.problems) == int(said)
    inspected = [p.reason for p in index_folder(src).all_problems()]
    assert any(note in r for r in inspected) == said
