"""1-bit pixel data written as OW in an Explicit VR Big Endian file is read word by word.

OW holds 16-bit words, each stored high byte first in a big-endian file (PS3.5 7.3; dcmtk
and dcm4che's ``swappxdata`` swap every uncompressed OW pixel data so, whatever
BitsAllocated), and packed bits fill each word from its least significant bit (PS3.5 D.1):
pixel 0 lies in the low byte, stored second. pydicom swaps 8-bit OW data but read 1-bit OW
bytes as they lie, so pixels 8-15 of each word came out as pixels 0-7, unsaid. Expected
values: the bits the test packs, by hand.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.dataelem import DataElement
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian

from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

SC = "1.2.840.10008.5.1.4.1.1.7"
# two frames of 3 x 3: 18 bits in two 16-bit words, the second frame straddling them
BITS = np.array([[[1, 1, 0], [0, 0, 0], [0, 0, 1]], [[0, 1, 0], [1, 1, 1], [0, 1, 0]]], np.uint8)


def _words() -> list[int]:
    """The two 16-bit words: bit k of the stream is bit k % 16 of word k // 16 (PS3.5 D.1)."""
    stream = np.zeros(32, np.uint8)
    stream[:18] = BITS.ravel()
    return [sum(int(b) << k for k, b in enumerate(stream[w * 16 : w * 16 + 16])) for w in (0, 1)]


@pytest.mark.parametrize(
    ("syntax", "vr"),
    [(ExplicitVRBigEndian, "OW"), (ExplicitVRBigEndian, "OB"), (ExplicitVRLittleEndian, "OW")],
    ids=["big-endian-OW", "big-endian-OB", "little-endian-OW"],
)
def test_one_bit_frames_read_as_packed(tmp_path: Path, syntax: str, vr: str) -> None:
    ds = image_dataset(SC, "OT", 3, 3, bits=1, syntax=syntax)
    ds.NumberOfFrames = 2
    order = "big" if syntax == ExplicitVRBigEndian and vr == "OW" else "little"
    data = b"".join(w.to_bytes(2, order) for w in _words())  # OB: the bytes of the stream
    ds.add(DataElement(0x7FE00010, vr, data))
    src = write_folder(tmp_path / "src", x=ds)
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    assert result.failures == []
    frames = [np.load(p) for p in sorted((tmp_path / "out").rglob("*_00[01].npy"))]
    assert [f.tolist() for f in frames] == BITS.tolist()  # big-endian OW: pixels 8-15 first
