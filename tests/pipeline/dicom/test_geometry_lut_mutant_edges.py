"""DICOM geometry and LUT edges that hand-made mutants (mutation sweep mut99) changed unnoticed.

Each expected value is worked out by hand in the comment beside it (a weight within 1e-6 of
1 left blended, a 17-bit LUT descriptor or LUT Data one entry short accepted).
"""

from __future__ import annotations

import numpy as np
import pytest

from pipeline.dicom.lut import lut_table
from pipeline.dicom.volume_plan import VolumePlan
from pipeline.errors import DicomError
from pipeline.ops.voi import apply_voi_lut_table
from tests.pipeline.dicom.test_lut_edges import _item


def test_an_output_slice_within_a_micrometre_of_an_input_slice_holds_it_exactly() -> None:
    # slices at 0, 1, 3 mm on a 1 mm grid whose second place is 0.5 um short of slice 1:
    # weight (1 - 5e-7) / 1 of slice 1 is within 1e-6 of 1, so made 1 (slice 1 unchanged);
    # the place at 2 mm is halfway between slices 1 and 2
    plan = VolumePlan(frames=((0, 1, 2),), distances=(0.0, 1.0, 3.0), affine=None,
                      spacing=(1.0, 1.0, 1.0), grid=(0.0, 1.0 - 5e-7, 2.0, 3.0))  # fmt: skip
    lower, weight = plan.resample_weights()
    assert lower.tolist() == [0, 0, 1, 1]
    assert weight.tolist() == [0.0, 1.0, 0.5, 1.0]
    assert plan.exact_slices() == {0: 0, 1: 1, 2: 3}


def test_a_lut_descriptor_of_17_bits_is_refused() -> None:
    # PS3.3 C.11.1.1.1: LUT entries are 8 to 16 bits; 17 is no LUT depth
    with pytest.raises(DicomError, match=r"LUTDescriptor bits must be 1\.\.16; got 17"):
        lut_table(_item([2, 0, 17], [0, 1]), "x.dcm", little=True)


def test_lut_data_one_entry_short_of_its_descriptor_is_refused() -> None:
    # 4 entries said, 3 held: the last stored values would have no entry
    with pytest.raises(DicomError, match="LUTData holds 3 entries; the descriptor says 4"):
        lut_table(_item([4, 0, 16], [0, 1, 2]), "x.dcm", little=True)


def test_a_voi_lut_takes_the_entry_of_the_nearest_whole_input() -> None:
    # modality values 0.6, 1.4, 1.6 (a fractional rescale) index entries 1, 1, 2 of a 2-bit
    # table 0..3, i.e. 1/3, 1/3, 2/3 (flooring would take entries 0, 1, 1)
    out = apply_voi_lut_table(np.array([0.6, 1.4, 1.6]), 0, np.array([0, 1, 2, 3]), 2)
    assert np.allclose(out * 3, [1.0, 1.0, 2.0])
