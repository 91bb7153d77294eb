"""In-plane spacing at the patient from Imager Pixel Spacing (magnification) and from
ultrasound regions (Weasis #465, dwv #1996, cornerstone3D #2387, OHIF #1490).

Expected values by hand: 0.1 mm at the detector / magnification 1.25 = 0.08 mm; an
ultrasound region of 0.02 cm (x) by 0.03 cm (y) per pixel = 0.3 mm between rows, 0.2 mm
between columns.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import generate_uid

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

DX = "1.2.840.10008.5.1.4.1.1.1.1"
US = "1.2.840.10008.5.1.4.1.1.6.1"


def _image(sop_class: str, modality: str) -> Dataset:
    ds = image_dataset(sop_class, modality, 4, 4)
    ds.PixelData = np.arange(16, dtype="<u2").tobytes()
    return ds


def _region(dx_cm: float, dy_cm: float, units: int = 3) -> Dataset:
    region = Dataset()
    region.RegionSpatialFormat, region.RegionDataType, region.RegionFlags = 1, 1, 0
    region.RegionLocationMinX0, region.RegionLocationMinY0 = 0, 0
    region.RegionLocationMaxX1, region.RegionLocationMaxY1 = 3, 3
    region.PhysicalUnitsXDirection = region.PhysicalUnitsYDirection = units
    region.PhysicalDeltaX, region.PhysicalDeltaY = dx_cm, dy_cm
    return region


def _spacing(ds: Dataset, tmp_path: Path) -> tuple[tuple[float, float] | None, tuple[str, ...]]:
    path = tmp_path / "a.dcm"
    ds.save_as(path, enforce_file_format=True)
    image = read_instance(path, "a.dcm")
    return image.frames[0].pixel_spacing, image.problems


def test_imager_spacing_divided_by_the_estimated_magnification(tmp_path: Path) -> None:
    ds = _image(DX, "DX")
    ds.ImagerPixelSpacing = [0.1, 0.1]
    ds.EstimatedRadiographicMagnificationFactor = 1.25
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((0.08, 0.08))
    assert any("magnification corrected" in p and "1.25" in p for p in problems)


def test_magnification_from_the_source_distances(tmp_path: Path) -> None:
    ds = _image(DX, "DX")
    ds.ImagerPixelSpacing = [0.15, 0.12]
    ds.DistanceSourceToDetector, ds.DistanceSourceToPatient = 1800, 1500  # factor 1.2
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((0.125, 0.1))
    assert any("DistanceSourceToDetector / DistanceSourceToPatient" in p for p in problems)


def test_uncalibrated_pixel_spacing_equal_to_imager_spacing_is_corrected(tmp_path: Path) -> None:
    ds = _image(DX, "MG")
    ds.ImagerPixelSpacing = ds.PixelSpacing = [0.1, 0.1]
    ds.EstimatedRadiographicMagnificationFactor = 1.08
    spacing, _ = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((0.1 / 1.08, 0.1 / 1.08))


def test_calibrated_pixel_spacing_and_plain_detector_spacing_used_as_they_are(
    tmp_path: Path,
) -> None:
    ds = _image(DX, "MG")
    ds.ImagerPixelSpacing, ds.PixelSpacing = [0.1, 0.1], [0.085, 0.085]  # calibrated
    ds.EstimatedRadiographicMagnificationFactor = 1.25
    assert _spacing(ds, tmp_path) == ((0.085, 0.085), ())
    ds = _image(DX, "CR")
    ds.ImagerPixelSpacing = [0.1, 0.12]  # no factor: the detector spacing, as DICOM defines it
    assert _spacing(ds, tmp_path) == (
        (0.1, 0.12),
        (
            "spacing at the detector: ImagerPixelSpacing (0018,1164) 0.1x0.12 mm used as it is (no "
            "PixelSpacing (0028,0030), no magnification factor (0018,1114) or source distances): "
            "lengths at the patient are smaller by the radiographic magnification",
        ),
    )  # it was used without a word
    ds.PixelSpacing = [0.1, 0.12]  # the same, not calibrated: still the detector's
    _, (note,) = _spacing(ds, tmp_path)
    assert "used as it is (PixelSpacing (0028,0030) equal to it, not calibrated, no " in note


def test_ultrasound_regions_give_the_spacing_in_mm(tmp_path: Path) -> None:
    ds = _image(US, "US")
    ds.SequenceOfUltrasoundRegions = [_region(0.02, 0.03), _region(1.0, 2.0, units=4)]  # + seconds
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((0.3, 0.2))
    assert [p.split(":")[0] for p in problems] == ["spacing of part of the image only"]
    ds.SequenceOfUltrasoundRegions = [_region(0.02, 0.03), _region(0.04, 0.04)]
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing is None
    assert any("2 ultrasound regions" in p for p in problems)


def test_an_ultrasound_pixel_spacing_unlike_its_regions_is_used_and_said(tmp_path: Path) -> None:
    """A vendor's PixelSpacing beside regions that calibrate another spacing: PixelSpacing is
    used, as before, and the disagreement said (it was used without a word)."""
    ds = _image(US, "US")
    ds.SequenceOfUltrasoundRegions = [_region(0.02, 0.03)]  # 0.3 x 0.2 mm by hand
    ds.PixelSpacing = [0.5, 0.5]
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((0.5, 0.5))
    assert problems == (
        "spacing from PixelSpacing (0028,0030) 0.5x0.5 mm, the ultrasound regions (0018,6011) "
        "calibrate 0.3x0.2 mm",
    )
    ds.PixelSpacing = [0.3, 0.2]  # agreeing: nothing to say
    assert _spacing(ds, tmp_path) == (pytest.approx((0.3, 0.2)), ())


def test_an_ultrasound_region_in_cm_of_zero_deltas_says_why_there_is_no_spacing(
    tmp_path: Path,
) -> None:
    """A region calibrated in cm whose PhysicalDeltaX/Y are 0 (an uncalibrated export) left
    the spacing empty without a word (a realcases25 leftover)."""
    ds = _image(US, "US")
    ds.SequenceOfUltrasoundRegions = [_region(0.0, 0.0)]
    assert _spacing(ds, tmp_path) == (
        None,
        (
            "pixel spacing unknown: the ultrasound region(s) (0018,6011) calibrated in cm give "
            "PhysicalDeltaX x PhysicalDeltaY 0.0x0.0 cm, no spacing",
        ),
    )
    ds.SequenceOfUltrasoundRegions = [_region(0.0, 0.0), _region(0.02, 0.03)]  # one usable
    assert _spacing(ds, tmp_path) == (pytest.approx((0.3, 0.2)), ())


def _dx_and_us(src: Path) -> Path:
    """A DX at 0.1 mm on the detector, magnification 1.25; a US region of 0.02 x 0.03 cm."""
    src.mkdir()
    dx = _image(DX, "DX")
    dx.ImagerPixelSpacing = [0.1, 0.1]
    dx.EstimatedRadiographicMagnificationFactor = 1.25
    dx.save_as(src / "dx.dcm", enforce_file_format=True)
    us = _image(US, "US")
    us.SequenceOfUltrasoundRegions = [_region(0.02, 0.03)]
    us.save_as(src / "us.dcm", enforce_file_format=True)
    return src


def test_convert_manifest_has_the_spacing_at_the_patient(tmp_path: Path) -> None:
    src = _dx_and_us(tmp_path / "src")
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        rows = {r["source"]: r for r in csv.DictReader(f)}
    assert rows["dx.dcm"]["spacing"] == "0.08x0.08"
    assert "EstimatedRadiographicMagnificationFactor (0018,1114) 1.25" in rows["dx.dcm"]["problems"]
    assert rows["us.dcm"]["spacing"] == "0.3x0.2"


@pytest.mark.parametrize("spacing", [[0.0, 0.0], [-0.5, 0.5]], ids=["zero", "negative"])
def test_non_positive_pixel_spacing_is_unknown_not_zero_or_mirrored(
    tmp_path: Path, spacing: list[float]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    series = generate_uid()
    for k in range(3):
        ds = _image("1.2.840.10008.5.1.4.1.1.4", "MR")
        ds.SeriesInstanceUID = series
        ds.PixelSpacing = spacing
        ds.ImageOrientationPatient = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]
        ds.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
        ds.save_as(src / f"{k}.dcm", enforce_file_format=True)
    out = tmp_path / "npy"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["spacing"] for r in rows] == ["", "", ""]
    assert all("PixelSpacing (0028,0030) is not positive" in r["problems"] for r in rows)
    out = tmp_path / "nii"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert "PixelSpacing absent or unreadable" in row["problems"]  # no mm claimed, no mirror
    assert "no geometry" in row["problems"]


def test_series_volumes_of_projection_and_ultrasound_images_have_their_spacing(
    tmp_path: Path,
) -> None:
    """Per series too (the series assembly reads its own frame facts): a DX volume is 0.08 mm
    (0.1 / 1.25) and a US one 0.3 x 0.2 mm, in the manifest and as the NIfTI zooms, with no
    place (qform and sform codes 0), as dcm2niix writes a 2-D image: not 1 x 1 pixels."""
    import nibabel as nib

    src = _dx_and_us(tmp_path / "src")
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--per", "series",
                 "--no-gzip", "--quiet"]) == 0  # fmt: skip
    with open(out / "manifest.csv", newline="") as f:
        rows = {r["modality"]: r for r in csv.DictReader(f)}
    for modality, spacing, zooms in (("DX", "1x0.08x0.08", (0.08, 0.08, 1.0)),
                                     ("US", "1x0.3x0.2", (0.2, 0.3, 1.0))):  # fmt: skip
        assert rows[modality]["spacing"] == spacing
        header = nib.load(out / rows[modality]["output"]).header
        assert header.get_zooms() == pytest.approx(zooms)
        assert (int(header["qform_code"]), int(header["sform_code"])) == (0, 0)


@pytest.mark.parametrize(
    ("calibration", "expected"),
    [("GEOMETRY", 0.1), ("FIDUCIAL", 0.1), ("CALIBRATED", 0.08), ("GEOMETRIC", 0.08),
     ("NONE", 0.08)],
)  # fmt: skip
def test_pixel_spacing_equal_to_imager_spacing_is_calibrated_by_the_standards_two_types(
    tmp_path: Path, calibration: str, expected: float
) -> None:
    # Pixel Spacing Calibration Type (0028,0A02) GEOMETRY or FIDUCIAL says Pixel Spacing is
    # calibrated (PS3.3 C.10.7.1.3; cornerstone3D PR #2704): equal to the detector spacing,
    # it was taken for an uncalibrated copy and divided by the magnification again. The
    # standard enumerates those two only; any other value was taken for calibrated too,
    # unsaid: now it counts as none, named, and 0.1 mm / 1.25 = 0.08 mm at the patient
    ds = _image(DX, "DX")
    ds.ImagerPixelSpacing = ds.PixelSpacing = [0.1, 0.1]
    ds.EstimatedRadiographicMagnificationFactor = 1.25
    ds.PixelSpacingCalibrationType = calibration
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((expected, expected))
    defined = calibration in ("GEOMETRY", "FIDUCIAL")
    assert any("magnification corrected" in p for p in problems) is not defined
    named = f"PixelSpacingCalibrationType (0028,0A02) '{calibration}' is neither"
    assert any(named in p for p in problems) is not defined


@pytest.mark.parametrize(
    ("sop_class", "modality"),
    [("1.2.840.10008.5.1.4.1.1.2", "CT"), ("1.2.840.10008.5.1.4.1.1.4", "MR")],
)
def test_a_cross_sectional_pixel_spacing_is_never_a_detectors(
    tmp_path: Path, sop_class: str, modality: str
) -> None:
    """A CT slice's PixelSpacing is in the patient (a reconstructed plane); an ImagerPixelSpacing
    equal to it beside the CT module's source distances (1040 / 570 mm) made it 'at the
    detector' and divided it by 1.825: 0.7 mm became 0.3837 mm (noted, but wrong)."""
    ds = _image(sop_class, modality)
    ds.PixelSpacing = ds.ImagerPixelSpacing = [0.7, 0.7]
    ds.DistanceSourceToDetector, ds.DistanceSourceToPatient = 1040.0, 570.0
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == (0.7, 0.7) and problems == ()
    ds.Modality = "DX"  # a projection radiograph's equal values: the detector's, as before
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((0.7 / (1040 / 570),) * 2)


@pytest.mark.parametrize(
    ("sop_class", "modality"),
    [
        ("1.2.840.10008.5.1.4.1.1.13.1.3", "MG"),  # Breast Tomosynthesis Image
        ("1.2.840.10008.5.1.4.1.1.13.1.1", "XA"),  # X-Ray 3D Angiographic Image
        ("1.2.840.10008.5.1.4.1.1.13.1.2", "DX"),  # X-Ray 3D Craniofacial Image (cone beam)
    ],
    ids=["tomosynthesis", "3d-angio", "craniofacial"],
)
def test_a_reconstructed_xray_volume_keeps_its_pixel_spacing(
    tmp_path: Path, sop_class: str, modality: str
) -> None:
    """A breast tomosynthesis (or 3-D X-ray) volume is planes reconstructed in the patient: its
    Pixel Measures' PixelSpacing (0.1 mm) is the patient's, whatever ImagerPixelSpacing and
    source distances of the projections the header keeps (PS3.3 A.53-A.55; OHIF/cornerstone3D
    ``getPixelSpacingInformation`` keep the projection rule to CR/DX/MG/IO/XA/RF SOP classes).
    Filed under a projection modality (MG, XA, DX), an equal ImagerPixelSpacing made it
    'uncalibrated at the detector' and divided it by 700 / 650: 0.0929 mm, every length and
    the NIfTI's zooms 7 % too small."""
    import nibabel as nib
    from pydicom.sequence import Sequence

    from tests.pipeline.dicom.builders import item

    ds = image_dataset(sop_class, modality, 4, 5)
    ds.NumberOfFrames, ds.FrameOfReferenceUID = 3, generate_uid()
    ds.SharedFunctionalGroupsSequence = Sequence(
        [
            item(
                PlaneOrientationSequence=Sequence(
                    [item(ImageOrientationPatient=[0, 1, 0, 0, 0, -1])]
                ),
                PixelMeasuresSequence=Sequence([item(PixelSpacing=[0.1, 0.1], SliceThickness=1.0)]),
            )
        ]
    )
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[1.0 * f, 0, 0])]))
        for f in range(3))  # fmt: skip
    ds.ImagerPixelSpacing = [0.1, 0.1]  # the detector's, equal by chance
    ds.DistanceSourceToDetector, ds.DistanceSourceToPatient = 700.0, 650.0
    ds.PixelData = np.arange(60, dtype="<u2").tobytes()
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == (0.1, 0.1) and not any("magnification" in p for p in problems)
    src = tmp_path / "src"
    src.mkdir()
    ds.save_as(src / "bto.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--no-gzip", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert row["spacing"] == "1x0.1x0.1" and "magnification" not in row["problems"]
    zooms = nib.load(out / row["output"]).header.get_zooms()
    assert zooms == pytest.approx((0.1, 0.1, 1.0))  # columns, rows, slices 1 mm apart


@pytest.mark.parametrize("where", ["shared", "per-frame"])
def test_enhanced_xa_spacing_from_its_frame_groups(tmp_path: Path, where: str) -> None:
    """An Enhanced XA image holds ImagerPixelSpacing in its XA/XRF Frame Pixel Data
    Properties group (0028,9443) and the source distances in its X-Ray Geometry group
    (0018,9476), not at the top level (PS3.3 C.8.19.6). Read at the top level only, it had no
    spacing ("PixelSpacing absent"). By hand: 0.2 mm at the detector / (1200 / 800) =
    0.1333 mm at the isocenter."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.12.1.1", "XA", 4, 4)
    ds.NumberOfFrames, ds.PixelData = 2, np.arange(32, dtype="<u2").tobytes()
    props, geometry = Dataset(), Dataset()
    props.FrameType, props.ImagerPixelSpacing = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"], [0.2, 0.2]
    geometry.DistanceSourceToDetector, geometry.DistanceSourceToIsocenter = 1200.0, 800.0
    groups = Dataset()
    groups.FramePixelDataPropertiesSequence, groups.XRayGeometrySequence = [props], [geometry]
    frames = [groups, groups] if where == "per-frame" else [Dataset(), Dataset()]
    ds.SharedFunctionalGroupsSequence = [Dataset() if where == "per-frame" else groups]
    ds.PerFrameFunctionalGroupsSequence = frames
    spacing, problems = _spacing(ds, tmp_path)
    assert spacing == pytest.approx((0.2 / 1.5, 0.2 / 1.5))
    assert any("magnification corrected" in p and "DistanceSourceToIsocenter" in p
               for p in problems)  # fmt: skip


@pytest.mark.parametrize("where", ["shared", "per-frame", "none"])
def test_an_enhanced_calibration_type_is_read_from_pixel_measures(
    tmp_path: Path, where: str
) -> None:
    """PixelSpacingCalibrationType sits beside PixelSpacing in the Pixel Measures group
    (PS3.3 C.7.6.16.2.1, its Basic Pixel Spacing Calibration Macro). Read at the top level
    only, a GEOMETRY there was missed: PixelSpacing 0.2 (calibrated, equal to the detector's
    by chance) was divided by 1200 / 800 again. By hand: 0.2 calibrated; uncalibrated
    0.2 / 1.5 = 0.1333 mm."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.12.1.1", "XA", 4, 4)
    ds.NumberOfFrames, ds.PixelData = 2, np.arange(32, dtype="<u2").tobytes()
    props, geometry, measures = Dataset(), Dataset(), Dataset()
    props.FrameType, props.ImagerPixelSpacing = ["ORIGINAL", "PRIMARY", "SINGLE PLANE"], [0.2, 0.2]
    geometry.DistanceSourceToDetector, geometry.DistanceSourceToIsocenter = 1200.0, 800.0
    measures.PixelSpacing = [0.2, 0.2]
    if where != "none":
        measures.PixelSpacingCalibrationType = "GEOMETRY"
    shared = Dataset()
    shared.FramePixelDataPropertiesSequence, shared.XRayGeometrySequence = [props], [geometry]
    frames = [Dataset(), Dataset()]
    for group in frames if where == "per-frame" else [shared]:
        group.PixelMeasuresSequence = [measures]
    ds.SharedFunctionalGroupsSequence, ds.PerFrameFunctionalGroupsSequence = [shared], frames
    spacing, problems = _spacing(ds, tmp_path)
    expected = 0.2 / 1.5 if where == "none" else 0.2
    assert spacing == pytest.approx((expected, expected))
    assert any("magnification corrected" in p for p in problems) is (where == "none")
