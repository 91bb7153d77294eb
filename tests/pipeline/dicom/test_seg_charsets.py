"""A DICOM SEG of sources in any character set is written, and carries their text unchanged.

highdicom passed the source's SpecificCharacterSet (0008,0005) on and refused many a real
one: ``\\ISO 2022 IR 87`` (Japanese; value 1 empty means ISO 2022 IR 6, PS3.3 C.12.1.1.2),
a misspelt ``ISO_IR100`` that pydicom reads. No SEG was written ("'' is not a valid
SpecificCharacterSetValues"). The SEG is now UTF-8 (``ISO_IR 192``) wherever a source
declares a character set, so every name reads back as the source's, character for character.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pydicom
import pytest

from pipeline.dicom.seg import write_segmentations
from tests.pipeline.dicom.test_seg_names import _us_image

ROW = {"patient_key": "pk", "series_key": "sk", "instance_key": "ik", "num_slices": "1",
       "frame": "0", "slice_index": "0", "source": "a.dcm"}  # fmt: skip


@pytest.mark.filterwarnings("ignore:Unknown encoding")  # the misspelt one, read as Latin-1
@pytest.mark.parametrize(
    ("charset", "name", "physician"),
    [
        (["", "ISO 2022 IR 87"], "Yamada^Tarou=山田^太郎", "Suzuki^Ichiro=鈴木^一郎"),
        ("ISO_IR100", "Müller^Hans", "Weiß^Jörg"),  # misspelt; pydicom reads Latin-1
        ("ISO_IR 100", "Müller^Hans", "Weiß^Jörg"),
        ("GB18030", "王^小明", "李^华"),
    ],
    ids=["iso2022-japanese", "misspelt-latin1", "latin1", "gb18030"],
)
def test_seg_keeps_the_sources_text_in_utf_8(
    tmp_path: Path, charset: str | list[str], name: str, physician: str
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _us_image(src / "a.dcm")
    ds = pydicom.dcmread(src / "a.dcm")
    ds.SpecificCharacterSet = charset
    ds.PatientName, ds.ReferringPhysicianName = name, physician
    ds.save_as(src / "a.dcm")
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 3:6] = 1
    written = write_segmentations(tmp_path / "seg", src, [(ROW, mask)], ["bg", "head"])
    assert written == [tmp_path / "seg" / "pk" / "sk.dcm"]  # was [] for the first two
    seg = pydicom.dcmread(written[0])
    assert seg.SpecificCharacterSet == "ISO_IR 192"
    assert (str(seg.PatientName), str(seg.ReferringPhysicianName)) == (name, physician)
    raw = pydicom.dcmread(written[0], defer_size=None)
    raw_name = raw.get_item(0x00100010).value  # the bytes as written
    assert raw_name == name.encode("utf-8")
