"""LUT descriptors and a one-wide window at their edges (PS3.3 C.11.1.1.1, C.11.2.1.2.1).

The first value mapped of a signed descriptor is a 16-bit two's complement number: 32768 is
-32768, the first value that reads negative; a count of 0 means 65536 entries. A LINEAR
window of width 1 is ``y_min`` for ``x <= c - 0.5`` and ``y_max`` above.
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.dicom.lut import lut_table
from pipeline.dicom.voi_lut import usable_voi_lut
from pipeline.ops.voi import apply_window


def _item(descriptor: list[int], data: list[int]) -> Dataset:
    item = Dataset()
    item.LUTDescriptor = descriptor
    item.LUTData = data
    return item


def test_a_signed_first_value_of_32768_is_minus_32768() -> None:
    first, table, bits = lut_table(_item([2, 32768, 8], [0, 255]), "x.dcm", little=True,
                                   signed=True)  # fmt: skip
    assert (first, table.tolist(), bits) == (-32768, [0, 255], 8)
    first, _, _ = lut_table(_item([2, 32767, 8], [0, 255]), "x.dcm", little=True, signed=True)
    assert first == 32767
    first, _, _ = lut_table(_item([2, 32768, 8], [0, 255]), "x.dcm", little=True)
    assert first == 32768  # unsigned: as read


def test_a_count_of_zero_means_65536_entries() -> None:
    data = list(range(65536))
    first, table, _ = lut_table(_item([0, 0, 16], data), "x.dcm", little=True)
    assert first == 0 and table.size == 65536 and int(table[-1]) == 65535


def test_a_voi_lut_of_signed_input_reads_32768_as_minus_32768() -> None:
    ds = Dataset()
    ds.PixelRepresentation = 1  # no rescale: the VOI input is the signed stored values
    ds.VOILUTSequence = Sequence([_item([2, 32768, 8], [0, 255])])
    found = usable_voi_lut(ds, "x.dcm", [])
    assert found is not None
    assert found[0] == -32768 and found[1].tolist() == [0, 255]


def test_a_window_one_wide_thresholds_at_c_minus_half() -> None:
    x = np.array([99.0, 100.0, 100.25, 101.0])
    out = apply_window(x, 100.5, 1, "LINEAR")
    assert out.tolist() == [0.0, 0.0, 1.0, 1.0]  # 100 = c - 0.5 is still y_min
