"""The image header checks at their edges: one frame short, rescale beside a LUT, bits.

Expected reasons by hand, from PS3.3 C.7.6.16 (one Per-frame item per frame), C.11.1
(a Modality LUT or a rescale) and C.7.6.3 (Image Pixel module).
"""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage

from pipeline.dicom.header_checks import check_image_header
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset, item


def _ct(**values: object) -> Dataset:
    ds = image_dataset(CTImageStorage, "CT", 2, 2, stored=12)
    for key, value in values.items():
        setattr(ds, key, value)
    ds.PixelData = bytes(8)
    return ds


def test_one_per_frame_item_short_is_refused() -> None:
    ds = _ct(NumberOfFrames=3, PerFrameFunctionalGroupsSequence=[item(), item()])
    with pytest.raises(DicomError, match=r"holds 2 items but .* says 3: frame 2 has no"):
        check_image_header(ds)


def test_bits_stored_past_bits_allocated_is_refused() -> None:
    ds = _ct(BitsAllocated=8, BitsStored=12, HighBit=11)
    with pytest.raises(
        DicomError, match=r"BitsStored \(0028,0101\) must be a whole number in 1\.\.8"
    ):
        check_image_header(ds)


def test_grey_with_three_samples_is_refused_for_its_samples() -> None:
    ds = _ct(SamplesPerPixel=3, PlanarConfiguration=0)
    with pytest.raises(
        DicomError, match=r"is 3 but PhotometricInterpretation .* MONOCHROME2 has 1"
    ):
        check_image_header(ds)


def test_native_colour_without_planar_configuration_is_refused() -> None:
    ds = image_dataset(CTImageStorage, "OT", 2, 2, bits=8, samples=3, photometric="RGB")
    ds.PixelData = bytes(12)
    with pytest.raises(DicomError, match=r"PlanarConfiguration \(0028,0006\) is missing"):
        check_image_header(ds)
    ds.PlanarConfiguration = 0
    assert check_image_header(ds) == []


def test_an_intercept_beside_a_modality_lut_is_said_to_be_ignored() -> None:
    lut = item(LUTDescriptor=[4, 0, 16], ModalityLUTType="HU")
    lut.add_new(0x00283006, "US", [0, 10, 20, 30])  # LUTData
    ds = _ct(ModalityLUTSequence=[lut], RescaleSlope="1", RescaleIntercept="-1024")
    notes = check_image_header(ds)
    assert any("RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) 1 and -1024 beside it "
               "ignored" in n for n in notes)  # fmt: skip


def test_zero_rows_are_refused() -> None:
    with pytest.raises(
        DicomError, match=r"Rows \(0028,0010\) must be a whole number in 1\.\.65535"
    ):
        check_image_header(_ct(Rows=0))


@pytest.mark.parametrize("frames", ["2147483648", "4294967296"])
def test_number_of_frames_past_the_is_range_is_refused_with_the_is_bound(frames: str) -> None:
    # NumberOfFrames is IS, a signed 32-bit integer string (PS3.5 6.2): 2**31 - 1 at most.
    # The bound was 2**32 (no integer VR's), so 2147483648 passed the check and the message
    # for 4294967297 said "in 0..4294967296"
    with pytest.raises(
        DicomError,
        match=r"NumberOfFrames \(0028,0008\) must be a whole number in 0\.\.2147483647; "
        rf"got '{frames}'",
    ):
        check_image_header(_ct(NumberOfFrames=frames))
