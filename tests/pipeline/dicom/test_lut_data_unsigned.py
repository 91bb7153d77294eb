"""LUT Data written with VR SS: its entries are unsigned all the same (PS3.3 C.11.1.1.1).

"The output range is from 0 to 2**n - 1 ... This range is always unsigned"; older editions
listed LUT Data as US or SS or OW, and some writers (IHE Consistent Presentation test images
mlut_18/19, cornerstone #382) write SS for signed images. Read as signed, entries past 32767
turned negative: the top of a 16-bit Modality LUT (65535) read -1. Expected values: the
table built here, indexed by stored value - first value mapped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.dicom import read_instance
from pipeline.dicom.read import render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset

STORED = [-2048, -1000, 0, 2047]  # 12 bits stored, signed
TABLE = np.round(np.linspace(0, 65535, 4096)).astype(np.int64)  # 16-bit entries


@pytest.mark.parametrize("vr", ["SS", "US"])
def test_modality_lut_entries_read_unsigned(tmp_path: Path, vr: str) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 1, 4, stored=12, signed=True)
    ds.PixelData = np.array(STORED, "<i2").tobytes()
    item = Dataset()
    item.add_new(0x00283002, "SS", [4096, -2048, 16])  # LUTDescriptor
    entries = [int(v) - 65536 if vr == "SS" and v > 32767 else int(v) for v in TABLE]
    item.add_new(0x00283006, vr, entries)  # LUTData
    ds.ModalityLUTSequence = Sequence([item])
    ds.save_as(tmp_path / "m.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "m.dcm", "m.dcm")
    values, _ = render(image, 0, parse_window("none"), "float32")
    # SS read signed: [0, 16772, -32760, -1]
    assert values[0].tolist() == [float(TABLE[v + 2048]) for v in STORED]
    assert values[0].tolist() == [0.0, 16772.0, 32776.0, 65535.0]
