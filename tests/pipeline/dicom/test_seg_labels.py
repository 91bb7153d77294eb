"""A DICOM SEG's segment labels are the run's class names, written as valid LO values.

A class name outside ASCII (``肺结节``) was written as ``???`` in SegmentLabel (0062,0005),
pydicom's replacement characters in the default repertoire, exit 0; ``Läsion`` went out as
Latin-1 bytes the SEG did not declare. A name of 80 characters exceeded LO's 64, and one with
a backslash became two values. Expected bytes are written out by hand.
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
LABEL = 0x00620005
DESCRIPTION = 0x00620006


def _seg(tmp_path: Path, name: str) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    _us_image(src / "a.dcm")  # no SpecificCharacterSet: ASCII names, as most sources
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 3:6] = 1
    written = write_segmentations(tmp_path / "seg", src, [(ROW, mask)], ["background", name])
    assert written == [tmp_path / "seg" / "pk" / "sk.dcm"]
    return written[0]


def _label_bytes(path: Path) -> bytes:
    """SegmentLabel of the first segment as written (read before pydicom decodes it)."""
    value = pydicom.dcmread(path).SegmentSequence[0].get_item(LABEL).value
    assert isinstance(value, bytes)
    return value.rstrip(b" ")


@pytest.mark.parametrize(
    ("name", "raw"),
    [("肺结节", b"\xe8\x82\xba\xe7\xbb\x93\xe8\x8a\x82"), ("Läsion", b"L\xc3\xa4sion")],
    ids=["chinese", "latin"],
)
def test_a_class_name_outside_ascii_is_written_in_utf_8(
    tmp_path: Path, name: str, raw: bytes
) -> None:
    path = _seg(tmp_path, name)
    assert _label_bytes(path) == raw  # b'???' for the Chinese name, b'L\xe4sion' Latin-1
    seg = pydicom.dcmread(path)
    assert seg.SpecificCharacterSet == "ISO_IR 192"  # was absent
    assert seg.SegmentSequence[0].SegmentLabel == name


def test_an_ascii_class_name_keeps_the_default_character_set(tmp_path: Path) -> None:
    seg = pydicom.dcmread(_seg(tmp_path, "lesion"))
    assert "SpecificCharacterSet" not in seg
    assert seg.SegmentSequence[0].SegmentLabel == "lesion"
    assert DESCRIPTION not in seg.SegmentSequence[0]


@pytest.mark.parametrize(
    ("name", "label"),
    [
        ("x" * 80, "x" * 64),  # LO holds 64 characters; 80 were written
        ("left\\right lung", "left/right lung"),  # was two values, 'left' and 'right lung'
        ("nodule\tsolid", "nodule solid"),  # no control character in LO
    ],
    ids=["long", "backslash", "tab"],
)
def test_a_class_name_that_is_no_lo_value_is_labelled_within_lo_and_described_whole(
    tmp_path: Path, name: str, label: str
) -> None:
    path = _seg(tmp_path, name)
    assert _label_bytes(path) == label.encode("ascii")
    # ST: the whole name, backslash included
    assert pydicom.dcmread(path).SegmentSequence[0].SegmentDescription == name
