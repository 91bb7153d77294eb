"""Philips private ScaleSlope (2005,100E): radpipe writes the DICOM modality values (stored x
RescaleSlope + RescaleIntercept, the console's displayed value DV, as pydicom gives), which
differ from the floating-point values FP = DV / (RescaleSlope x ScaleSlope) that dcm2niix writes
by default (dcm2niix #493, #575; MRtrix3 #2499). It did so without a word; now the file's
problems say which values were written and the factor that gives FP.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset


def _philips(
    path: Path, slope: float, scale: float, *, creator: str = "Philips MR Imaging DD 001",
    syntax: str = ExplicitVRLittleEndian,
) -> Path:  # fmt: skip
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 2, 3, stored=12, syntax=syntax,
                       patient="P")  # fmt: skip
    ds.Manufacturer = "Philips"
    ds.RescaleSlope, ds.RescaleIntercept = slope, -10
    ds.private_block(0x2005, creator, create=True).add_new(0x0E, "FL", scale)
    ds.PixelData = np.full(6, 100, dtype="<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_philips_scale_slope_is_named_with_the_factor_to_fp(tmp_path: Path, syntax: str) -> None:
    image = read_instance(_philips(tmp_path / "a.dcm", 2.0, 4.0, syntax=syntax))
    # DV = 100 x 2 - 10 = 190 (the DICOM modality value); FP would be 190 / (2 x 4) = 23.75
    assert np.allclose(image.modality(0), 190.0)
    notes = [p for p in image.problems if p.startswith("Philips ScaleSlope not applied")]
    assert notes == [
        "Philips ScaleSlope not applied: (2005,100E) is 4, values are stored x RescaleSlope + "
        "RescaleIntercept (the console's displayed value, as pydicom gives), Philips' "
        "floating-point value (dcm2niix's default) is that / (RescaleSlope x ScaleSlope) = "
        "that / 8"
    ]


def test_no_note_when_fp_equals_dv_or_the_block_is_not_philips(tmp_path: Path) -> None:
    same = read_instance(_philips(tmp_path / "a.dcm", 0.5, 2.0))  # 0.5 x 2 = 1: FP = DV
    other = read_instance(_philips(tmp_path / "b.dcm", 2.0, 4.0, creator="ACME 1.1"))
    assert np.allclose(same.modality(0), 40.0) and np.allclose(other.modality(0), 190.0)
    assert not [p for p in (*same.problems, *other.problems) if "Philips" in p]


def _enhanced_philips(path: Path, scales: list[float], slopes: list[float]) -> Path:
    """An enhanced MR object whose frames keep RescaleSlope in their Pixel Value Transformation
    group and ScaleSlope in a private (2005,140F) item with its own creator, as Philips writes
    (dcm2niix #363, #463); nothing at the top level."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from tests.pipeline.dicom.builders import item

    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 2, 3, stored=12, patient="P")
    ds.Manufacturer = "Philips Medical Systems"
    ds.NumberOfFrames = len(scales)
    frames = []
    for scale, slope in zip(scales, slopes):
        private = Dataset()
        private.private_block(0x2005, "Philips MR Imaging DD 001", create=True).add_new(
            0x0E, "FL", scale
        )
        frame = item(PixelValueTransformationSequence=Sequence(
            [item(RescaleSlope=slope, RescaleIntercept=0)]
        ))  # fmt: skip
        frame.private_block(0x2005, "Philips MR Imaging DD 005", create=True).add_new(
            0x0F, "SQ", Sequence([private])
        )
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.PixelData = np.full(6 * len(scales), 100, dtype="<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _pet(path: Path, units: str, *, factors: bool = True, syntax: str = ExplicitVRLittleEndian,
         manufacturer_block: str = "Philips PET Private Group") -> Path:  # fmt: skip
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.128", "PT", 2, 3, syntax=syntax, patient="P")
    ds.Manufacturer, ds.Units = "Philips Medical Systems", units
    ds.RescaleSlope, ds.RescaleIntercept = 0.5, 0
    if factors:
        block = ds.private_block(0x7053, manufacturer_block, create=True)
        block.add_new(0x00, "DS", "0.00071")  # SUV Scale Factor
        block.add_new(0x09, "DS", "2.15")  # Activity Concentration Scale Factor
    ds.PixelData = np.full(6, 300, dtype="<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def test_philips_scale_slope_of_enhanced_frames_is_named(tmp_path: Path) -> None:
    same = read_instance(_enhanced_philips(tmp_path / "a.dcm", [4.0, 4.0], [2.0, 2.0]))
    # DV = 100 x 2 = 200 on both frames; FP = 200 / (2 x 4) = 25
    assert np.allclose(same.modality(0), 200.0) and np.allclose(same.modality(1), 200.0)
    assert [p for p in same.problems if "Philips" in p] == [
        "Philips ScaleSlope not applied: the frames' (2005,100E) is 4, values are stored x "
        "RescaleSlope + RescaleIntercept (the console's displayed value, as pydicom gives), "
        "Philips' floating-point value (dcm2niix's default) is that / (RescaleSlope x "
        "ScaleSlope) = that / 8"
    ]
    varying = read_instance(_enhanced_philips(tmp_path / "b.dcm", [4.0, 5.0], [2.0, 3.0]))
    (note,) = [p for p in varying.problems if "Philips" in p]
    # divisors 2 x 4 = 8 and 3 x 5 = 15
    assert "(2005,100E) is 4 to 5 by frame," in note and note.endswith("that / 8 to 15 by frame")
    one = read_instance(_enhanced_philips(tmp_path / "c.dcm", [0.5, 0.5], [2.0, 2.0]))
    assert not [p for p in one.problems if "Philips" in p]  # 2 x 0.5 = 1: FP = DV


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_philips_pet_counts_are_said_with_the_factors_to_bqml_and_suv(
    tmp_path: Path, syntax: str
) -> None:
    # OHIF #1418, MOOSE #230: a Philips PET in CNTS holds counts; Bq/ml = value x (7053,1009)
    image = read_instance(_pet(tmp_path / "a.dcm", "CNTS", syntax=syntax))
    assert np.allclose(image.modality(0), 150.0)  # 300 x 0.5: counts, written as they are
    notes = [p for p in image.problems if p.startswith("PET values are counts")]
    assert notes == [
        "PET values are counts: Units (0054,1001) is CNTS, not an activity concentration "
        "(Philips factors, not applied: Bq/ml = that x (7053,1009) 2.15, SUVbw = that x "
        "(7053,1000) 0.00071)"
    ]


def test_pet_counts_without_philips_factors_and_bqml_pet(tmp_path: Path) -> None:
    bare = read_instance(_pet(tmp_path / "a.dcm", "CNTS", factors=False))
    other = read_instance(_pet(tmp_path / "b.dcm", "CNTS", manufacturer_block="ACME 1.0"))
    bqml = read_instance(_pet(tmp_path / "c.dcm", "BQML"))
    said = [p for p in bare.problems if p.startswith("PET values")]
    assert said == ["PET values are counts: Units (0054,1001) is CNTS, not an activity "
                    "concentration"]  # fmt: skip
    assert [p for p in other.problems if p.startswith("PET values")] == said
    assert not [p for p in bqml.problems if "PET" in p]


def _mapped(path: Path, mapping: dict[str, object], *, slope: float | None = None,
            enhanced: bool = False) -> Path:  # fmt: skip
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 2, 3, patient="P")
    if slope is not None:
        ds.RescaleSlope, ds.RescaleIntercept = slope, 0
    item = Dataset()
    unit = Dataset()
    unit.CodeValue, unit.CodingSchemeDesignator, unit.CodeMeaning = "mm2/s", "UCUM", "mm2/s"
    item.MeasurementUnitsCodeSequence = Sequence([unit])
    item.RealWorldValueFirstValueMapped, item.RealWorldValueLastValueMapped = 0, 4095
    for keyword, value in mapping.items():
        setattr(item, keyword, value)
    if enhanced:
        shared = Dataset()
        shared.RealWorldValueMappingSequence = Sequence([item])
        ds.SharedFunctionalGroupsSequence = Sequence([shared])
    else:
        ds.RealWorldValueMappingSequence = Sequence([item])
    ds.PixelData = np.full(6, 1500, dtype="<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize("enhanced", [False, True], ids=["classic", "shared-group"])
def test_a_real_world_value_mapping_not_applied_is_said(tmp_path: Path, enhanced: bool) -> None:
    # an ADC map whose only scaling is its RWVM (nibabel PR #143, STIR #1123): 1500 stored
    # is 0.0015 mm2/s, but the modality value (no RescaleSlope) is 1500
    mapping = {"RealWorldValueSlope": 1e-6, "RealWorldValueIntercept": 0.0}
    image = read_instance(_mapped(tmp_path / "a.dcm", mapping, enhanced=enhanced))
    assert np.allclose(image.modality(0), 1500.0)
    notes = [p for p in image.problems if p.startswith("Real World Value Mapping")]
    assert notes == [
        "Real World Value Mapping not applied: (0040,9096) gives mm2/s = stored x 1e-06 + 0, "
        "the values written are the modality values (stored x 1 + 0)"
    ]


def test_real_world_mapping_equal_to_rescale_is_not_said_and_a_lut_one_is(tmp_path: Path) -> None:
    same = read_instance(_mapped(tmp_path / "a.dcm", {"RealWorldValueSlope": 0.5,
                                 "RealWorldValueIntercept": 0.0}, slope=0.5))  # fmt: skip
    assert not [p for p in same.problems if "Real World" in p]
    lut = read_instance(_mapped(tmp_path / "b.dcm", {"RealWorldValueLUTData": [0.0, 1.0]}))
    assert [p for p in lut.problems if "Real World" in p] == [
        "Real World Value Mapping not applied: (0040,9096) gives mm2/s by a LUT, the values "
        "written are the modality values (stored x 1 + 0)"
    ]
