"""A VOI LUT's output depth at the edge of an 8-bit descriptor (PS3.3 C.11.2.1.1: the output
spans 0 .. 2**bits - 1). Entries reaching 255 fit 8 bits and are used as the descriptor says;
entries reaching 256 do not, so the depth is taken from the largest entry (9 bits, 0..511), as
viewers do, and said: scaled by 255 the top of the image was clipped white.

Expected values by hand: the table's entry at each stored value (first value mapped 0), divided
by 2**bits - 1 of the depth the entries need (pydicom's ``apply_voi_lut`` cannot serve: it
casts entries of an 8-bit descriptor to uint8, and 256 overflows).
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.dicom.read import image_from_dataset, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset, item

DX = "1.2.840.10008.5.1.4.1.1.1.1"
STORED = [0, 1024, 2048, 4095]


@pytest.mark.parametrize(
    ("top", "scale", "note"),
    [(255, 255, ""), (256, 511, "says 8-bit entries but they reach 256, so the output is "
                                "scaled as 9-bit (0..511)")],
    ids=["fits-8-bits", "one-past-8-bits"],
)  # fmt: skip
def test_an_8_bit_descriptor_over_entries_reaching_its_top(top: int, scale: int, note: str) -> None:
    ds = image_dataset(DX, "DX", 1, 4, stored=12)
    ds.PixelData = np.array(STORED, "<u2").tobytes()
    entries = np.rint(np.arange(4096) * (top / 4095)).astype("<u2")
    ds.VOILUTSequence = [item(LUTDescriptor=[4096, 0, 8], LUTData=entries.tolist())]
    image = image_from_dataset(ds, "dx.dcm")
    out, _ = render(image, 0, parse_window("header"))
    expected = entries[STORED] / scale  # top: 255 / 255 = 1, or 256 / 511 (not clipped)
    assert np.allclose(out, expected, atol=1e-6)
    said = [p for p in image.problems if p.startswith("VOI LUT bits corrected")]
    assert (note in said[0]) if note else not said


def test_an_all_zero_table_is_used_as_said_without_a_depth_note() -> None:
    """Entries all 0 under a 16-bit descriptor give no depth to correct: black, and no 'VOI
    LUT bits corrected ... they reach 0' note (0 / 65535 = 0 / 255 = 0 by hand)."""
    ds = image_dataset(DX, "DX", 1, 4, stored=12)
    ds.PixelData = np.array(STORED, "<u2").tobytes()
    ds.VOILUTSequence = [item(LUTDescriptor=[4096, 0, 16], LUTData=[0] * 4096)]
    image = image_from_dataset(ds, "dx.dcm")
    out, _ = render(image, 0, parse_window("header"))
    assert out.ravel().tolist() == [0.0] * 4
    assert not [p for p in image.problems if p.startswith("VOI LUT bits corrected")]
