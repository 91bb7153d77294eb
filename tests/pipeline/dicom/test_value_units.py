"""What a header says its modality values are (lut.value_units), which an HU window preset
is checked against: ModalityLUTType first, else RescaleType, an Enhanced object's from its
Pixel Value Transformation group (PS3.3 C.7.6.16.2.9)."""

from __future__ import annotations

from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.dicom.lut import value_units
from tests.pipeline.dicom.builders import item


def test_modality_lut_type_then_rescale_type() -> None:
    ds = Dataset()
    assert value_units(ds) == ("", "")
    ds.RescaleType = "hu "
    assert value_units(ds) == ("HU", "RescaleType (0028,1054)")
    ds.ModalityLUTSequence = Sequence([item(ModalityLUTType="OD")])
    assert value_units(ds) == ("OD", "ModalityLUTType (0028,3004)")


def test_enhanced_pixel_value_transformation_group() -> None:
    ds = Dataset()
    transform = item(RescaleSlope=1, RescaleIntercept=0, RescaleType="US")
    ds.SharedFunctionalGroupsSequence = Sequence(
        [item(PixelValueTransformationSequence=Sequence([transform]))]
    )
    assert value_units(ds) == ("US", "RescaleType (0028,1054)")
