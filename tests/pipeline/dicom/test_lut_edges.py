"""LUT descriptors, a one-wide window and an ultrasound region at their edges (PS3.3
C.11.1.1.1, C.11.2.1.2.1, C.8.5.5.1.15).

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


def test_an_ultrasound_region_with_one_axis_in_seconds_gives_no_spacing() -> None:
    """An M-mode region: centimetres across, seconds down (units 3 and 4, PS3.3
    C.8.5.5.1.15) is not a spatial calibration of both axes."""
    from pipeline.dicom.spacing import in_plane_spacing

    region = Dataset()
    region.PhysicalUnitsXDirection, region.PhysicalUnitsYDirection = 3, 4
    region.PhysicalDeltaX, region.PhysicalDeltaY = 0.02, 0.001
    ds = Dataset()
    ds.SequenceOfUltrasoundRegions = Sequence([region])
    assert in_plane_spacing(ds, 0, []) is None
    region.PhysicalUnitsYDirection = 3  # both in cm: 0.01 mm rows, 0.2 mm columns
    assert in_plane_spacing(ds, 0, []) == (0.01, 0.2)


def test_frames_of_a_classic_multi_frame_file_have_no_position() -> None:
    """A cine file's one ImagePositionPatient cannot hold for each of its frames (nor for an
    RT Dose grid's, which its offsets place); a single frame has its position."""
    from pipeline.dicom.frames import frame_refs

    ds = Dataset()
    ds.Rows, ds.Columns, ds.NumberOfFrames = 4, 4, 3
    ds.ImagePositionPatient = [1.0, 2.0, 3.0]
    ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
    ds.PixelSpacing = [0.5, 0.5]
    assert [r.position for r in frame_refs(ds, "cine.dcm")] == [None, None, None]
    ds.NumberOfFrames = 1
    assert [r.position for r in frame_refs(ds, "one.dcm")] == [(1.0, 2.0, 3.0)]
