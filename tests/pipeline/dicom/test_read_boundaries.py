"""Boundaries of DICOM pixel reading that a mutation sweep found unpinned (mut56).

Each case is a small synthetic file; expected values are worked out by hand in the comments.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import CTImageStorage, ImplicitVRLittleEndian, MRImageStorage

from pipeline.data.io import read_manifest
from pipeline.dicom.files import Problem
from pipeline.dicom.header import read_header
from pipeline.dicom.read import read_instance
from pipeline.dicom.volume_plan import time_step
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset
from tests.pipeline.dicom.test_time_points import _save_slice
from workflows.cli import main


@pytest.mark.parametrize(
    ("signed", "stored", "padding", "pixels"),
    [
        # unsigned 12-bit MR padded with 4095: the top stored bit set is no sign bit
        (False, 12, 4095, [4095, 0, 5, 4095]),
        # signed CT padded with 0 (-1024 HU): a non-negative value is not wrapped to -65536
        (True, 16, 0, [0, 1000, 1024, 0]),
    ],
    ids=["unsigned-top-bit", "signed-non-negative"],
)
def test_a_padding_value_is_read_with_the_pixels_sign(
    tmp_path: Path, signed: bool, stored: int, padding: int, pixels: list[int]
) -> None:
    sop, modality = (CTImageStorage, "CT") if signed else (MRImageStorage, "MR")
    ds = image_dataset(sop, modality, 2, 2, stored=stored, signed=signed)
    if signed:
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelPaddingValue = padding
    ds.PixelData = np.array(pixels, "<i2" if signed else "<u2").tobytes()
    ds.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "a.dcm", "a.dcm")
    assert image.padding == (padding, padding)
    written = np.array(pixels, np.float64).reshape(2, 2) - (1024 if signed else 0)
    shown = f"{padding - (1024 if signed else 0)}"  # 4095, or 0 - 1024 = -1024 HU
    assert image.padding_cell(0, written) == (
        f"2 of 4 pixels are pixel padding (no data): written as {shown}"
    )


DX = "1.2.840.10008.5.1.4.1.1.1.1"
SC = "1.2.840.10008.5.1.4.1.1.7"


def _spacing(ds: Dataset, tmp_path: Path) -> tuple[tuple[float, float] | None, tuple[str, ...]]:
    ds.PixelData = np.arange(16, dtype="<u2").tobytes()
    ds.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "a.dcm", "a.dcm")
    return image.frames[0].pixel_spacing, image.problems


def test_a_pixel_spacing_5_percent_off_the_detectors_is_a_calibrated_one(tmp_path: Path) -> None:
    # 0.095 mm is not 0.1 mm: PixelSpacing was calibrated (not copied from the detector's),
    # so it is used as it is, never 0.1 / 1.25 = 0.08 mm
    ds = image_dataset(DX, "DX", 4, 4)
    ds.ImagerPixelSpacing, ds.PixelSpacing = [0.1, 0.1], [0.095, 0.095]
    ds.EstimatedRadiographicMagnificationFactor = 1.25
    assert _spacing(ds, tmp_path) == ((0.095, 0.095), ())


@pytest.mark.parametrize(
    ("factor", "expected", "noted"),
    [(1.0, 0.1, False), (1.6, 0.0625, True)],  # 0.1 / 1 = 0.1 (nothing to say); 0.1 / 1.6
    ids=["factor-1", "factor-1.6"],
)
def test_a_magnification_factor_of_1_leaves_the_spacing_unsaid(
    tmp_path: Path, factor: float, expected: float, noted: bool
) -> None:
    ds = image_dataset(DX, "DX", 4, 4)
    ds.ImagerPixelSpacing = [0.1, 0.1]
    ds.EstimatedRadiographicMagnificationFactor = factor
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((expected, expected))
    assert [p.split(":")[0] for p in problems] == (["magnification corrected"] if noted else [])


def test_a_time_point_missing_after_the_first_is_said(tmp_path: Path) -> None:
    # TemporalPositionIdentifier 1, 3 and 4 (2 missing: the gap is after the first number)
    (tmp_path / "src").mkdir()
    for t in (0, 2, 3):
        for z in range(2):
            _save_slice(tmp_path, t, z, RepetitionTime=2000.0, TemporalPositionIdentifier=t + 1)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["problems"] == (
        "missing time points: TemporalPositionIdentifier 1 to 4 without 2, 3 time points "
        "written one step apart in the 4-D volume"
    )


def test_a_resampled_slice_near_an_input_slice_is_interpolated(tmp_path: Path) -> None:
    # MR slices at z = 0, 1 and 21 mm holding 0, 100 and 300: resampled onto the 1 mm step,
    # output slice z is 100 + (z - 1) / 20 * 200 past z = 1 (z = 20: weight 0.95, 290, not
    # snapped to the slice above; only weights within 1e-6 of 0 or 1 are)
    for k, (z, value) in enumerate([(0, 0), (1, 100), (21, 300)]):
        ds = image_dataset(MRImageStorage, "MR", 2, 2)
        ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", "1.2.3.4", "P"
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, z]
        ds.PixelSpacing = [1, 1]
        ds.PixelData = np.full((2, 2), value, "<u2").tobytes()
        (tmp_path / "src").mkdir(exist_ok=True)
        ds.save_as(tmp_path / "src" / f"{k}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    column = np.asarray(nib.load(out / row["output"]).dataobj)[0, 0]
    assert column.tolist() == pytest.approx([0, *(100 + 10 * (z - 1) for z in range(1, 22))])


@pytest.mark.parametrize(
    ("starts", "tr", "expected"),
    [
        # a median step of 2.0995 s is 99.5 ms (under 5 %) off a 2000 ms TR: TR stays
        ([0.0, 2.0995, 4.199], 2000.0, (2000.0, "")),
        # whole-second times: +-1 s; 3 s is 1000.5 ms off a 1999.5 ms TR, past it
        (
            [0.0, 3.0, 6.0],
            1999.5,
            (
                3000.0,
                "4-D time step: 3 s, the median interval between time points, not the "
                "RepetitionTime 1999.5 ms",
            ),
        ),
    ],
    ids=["within-5-percent", "past-1-second"],
)
def test_the_4d_time_step_tolerances(
    starts: list[float | None], tr: float, expected: tuple[float, str]
) -> None:
    assert time_step(starts, tr) == expected


def test_two_slices_with_another_spacing_between_slices_are_said(tmp_path: Path) -> None:
    # two MR slices 2 mm apart by ImagePositionPatient, SpacingBetweenSlices 5 mm: the
    # volume takes the 2 mm step and says the header's other value (as for longer stacks)
    (tmp_path / "src").mkdir()
    for z in range(2):
        _save_slice(tmp_path, 0, z, SpacingBetweenSlices=5.0, ImagePositionPatient=[0, 0, 2 * z])
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert nib.load(out / row["output"]).header.get_zooms() == pytest.approx((1, 1, 2))
    assert row["problems"] == (
        "slice spacing: SpacingBetweenSlices (0018,0088) 5 mm differs from the 2 mm step "
        "between the slices' ImagePositionPatient, which the volume uses (as dcm2niix)"
    )


def test_a_palette_of_one_entry_colours_every_index(tmp_path: Path) -> None:
    # Descriptor [1, 0, 8]: one 8-bit entry per colour (200, 100, 50), padded to even length;
    # every index (0, and none past it) takes it: a legal palette, not an empty one
    ds = image_dataset(SC, "OT", 2, 2, bits=8, photometric="PALETTE COLOR")
    for colour, value in (("Red", 200), ("Green", 100), ("Blue", 50)):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [1, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes([value, 0]))
    ds.PixelData = bytes(4)
    ds.save_as(tmp_path / "a.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "a.dcm", "a.dcm")
    assert image.stored.tolist() == [[[[200, 100, 50]] * 2] * 2]
    assert image.problems == ()


def _implicit_without_representation(ds: Dataset, path: Path) -> Path:
    # Implicit VR: PixelPaddingValue and the palette Descriptors are 'US or SS' by the
    # dictionary, told apart by PixelRepresentation, which this file lacks (Type 1, read as 0)
    del ds.PixelRepresentation
    ds.save_as(path, enforce_file_format=True)
    return path


def test_a_padding_value_without_pixel_representation_is_read_unsigned(tmp_path: Path) -> None:
    ds = image_dataset(CTImageStorage, "CT", 2, 2, syntax=ImplicitVRLittleEndian)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.add_new(0x00280120, "US", 4000)  # PixelPaddingValue
    ds.PixelData = np.array([4000, 0, 5, 4000], "<u2").tobytes()
    image = read_instance(_implicit_without_representation(ds, tmp_path / "a.dcm"), "a.dcm")
    assert image.padding == (4000, 4000)  # it was None: the padding column left empty
    written = np.array([[4000, 0], [5, 4000]]) - 1024.0
    assert image.padding_cell(0, written) == (
        "2 of 4 pixels are pixel padding (no data): written as 2976"
    )


def test_a_palette_without_pixel_representation_is_read(tmp_path: Path) -> None:
    ds = image_dataset(SC, "OT", 2, 2, bits=8, photometric="PALETTE COLOR",
                       syntax=ImplicitVRLittleEndian)  # fmt: skip
    for k, colour in enumerate(("Red", "Green", "Blue")):
        ds.add_new(0x00281101 + k, "US", [4, 0, 8])  # Descriptor: 4 entries from 0, 8 bits
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes([0, 10 * (k + 1), 20, 30]))
    ds.PixelData = bytes([0, 1, 2, 3])
    # it was refused: "PALETTE COLOR but  is missing" (the Descriptors read as absent)
    path = _implicit_without_representation(ds, tmp_path / "b.dcm")
    image = read_instance(path, "b.dcm")
    assert image.stored.tolist() == [[[[0, 0, 0], [10, 20, 30]], [[20, 20, 20], [30, 30, 30]]]]
    assert not isinstance(read_header(path, tmp_path), Problem)  # inspect refused it alike


def test_an_empty_palette_descriptor_is_named_in_the_refusal(tmp_path: Path) -> None:
    # GreenPaletteColorLookupTableDescriptor present without a value: the refusal named no
    # element ("PALETTE COLOR but  is missing")
    ds = image_dataset(SC, "OT", 2, 2, bits=8, photometric="PALETTE COLOR")
    for colour in ("Red", "Green", "Blue"):
        setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 8])
        setattr(ds, f"{colour}PaletteColorLookupTableData", bytes([0, 10, 20, 30]))
    ds.GreenPaletteColorLookupTableDescriptor = None
    ds.PixelData = bytes([0, 1, 2, 3])
    ds.save_as(tmp_path / "b.dcm", enforce_file_format=True)
    reason = (
        "PhotometricInterpretation (0028,0004) is PALETTE COLOR but "
        "GreenPaletteColorLookupTableDescriptor (0028,1102) is empty (a palette referenced only "
        "by PaletteColorLookupTableUID, or left out with bulk data): the indices cannot be "
        "turned into colours."
    )
    with pytest.raises(DicomError) as caught:
        read_instance(tmp_path / "b.dcm", "b.dcm")
    assert caught.value.reason == reason
    found = read_header(tmp_path / "b.dcm", tmp_path)
    assert isinstance(found, Problem) and found.reason == reason
