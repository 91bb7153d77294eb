"""A DICOM Segmentation (SEG) in a folder of images is skipped as not an image, with the reason.

Its frames are segments' masks (each frame one segment at one position, empty frames left
out), yet they were converted as an image series: stacked by position, a volume took slices
of segment 1 and then of segment 2, both as 1, "told apart by acquisition order" (by hand:
segment 1 on slices 0-2, segment 2 on 2-5, and the first volume was 1 1 1 0 0 0 at a pixel
of segment 1 and 0 0 0 1 1 1 at one of segment 2). In a training folder the masks became
inputs. The SEG here is made by highdicom, as PACS and viewers write them.
"""

from __future__ import annotations

import csv
from pathlib import Path

import highdicom as hd
import numpy as np
import pydicom
import pytest
from pydicom.sr.codedict import codes
from pydicom.uid import generate_uid

from tests.pipeline.dicom.geometry_cases import CT, image, save
from workflows.cli import main


def _study(root: Path) -> None:
    series = generate_uid()
    slices = []
    for z in range(6):
        ds = image(
            np.full((8, 8), 100 + z, np.uint16),
            CT,
            series,
            ImagePositionPatient=[0.0, 0.0, 3.0 * z],
            ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
            PixelSpacing=[1.0, 1.0],
            SliceThickness=3.0,
            InstanceNumber=z + 1,
            FrameOfReferenceUID="1.2.826.0.1.3680043.8.498.5",
            PatientName="A^B",
            StudyDate="20200101",
            ImageType=["ORIGINAL", "PRIMARY", "AXIAL"],
            PatientBirthDate="",
            PatientSex="",
            StudyTime="",
            ReferringPhysicianName="",
            StudyID="",
            AccessionNumber="",
        )
        ds.Modality = "CT"
        slices.append(ds)
    save(root / "ct", slices, names=[f"s{z}" for z in range(6)])
    labels = np.zeros((6, 8, 8), np.uint8)
    labels[0:3, 1:4, 1:4] = 1
    labels[2:6, 5:7, 5:7] = 2
    algorithm = hd.AlgorithmIdentificationSequence(
        name="t", version="1", family=codes.cid7162.ArtificialIntelligence
    )
    segments = [
        hd.seg.SegmentDescription(
            segment_number=k,
            segment_label=f"s{k}",
            segmented_property_category=codes.SCT.Tissue,
            segmented_property_type=codes.SCT.Tissue,
            algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
            algorithm_identification=algorithm,
        )
        for k in (1, 2)
    ]
    seg = hd.seg.Segmentation(
        source_images=[pydicom.dcmread(root / "ct" / f"s{z}.dcm") for z in range(6)],
        pixel_array=labels, segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=segments, series_instance_uid=hd.UID(), series_number=9,
        sop_instance_uid=hd.UID(), instance_number=1, manufacturer="t",
        manufacturer_model_name="t", software_versions="1", device_serial_number="1",
    )  # fmt: skip
    (root / "seg").mkdir()
    seg.save_as(root / "seg" / "seg.dcm")


@pytest.mark.filterwarnings("ignore::UserWarning")
@pytest.mark.parametrize("fmt", ["nifti", "png"])
def test_a_seg_is_skipped_not_converted_as_an_image(tmp_path: Path, fmt: str, capsys) -> None:  # type: ignore[no-untyped-def]
    _study(tmp_path / "src")
    assert main(["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--format", fmt,
                 "--quiet"]) == 0  # fmt: skip
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        assert {r["modality"] for r in csv.DictReader(fh)} == {"CT"}
    with (tmp_path / "out" / "errors.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["source"] == "seg/seg.dcm" and row["kind"] == "skipped"
    assert row["reason"].startswith("a Segmentation (SEG: each frame is one segment's mask")
    assert "to use its masks, name it in a masks CSV's mask column" in row["reason"]
    capsys.readouterr()
    assert main(["inspect", str(tmp_path / "src")]) == 0  # skipped files are no problem
    assert "seg/seg.dcm: a Segmentation (SEG" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("sop_class", "name"),
    [("1.3.12.2.1107.5.9.1", "Siemens CSA Non-Image"),
     ("1.3.46.670589.11.0.0.12.4", "Philips Private MR Examcard")],
)  # fmt: skip
def test_vendor_private_non_images_are_skipped(tmp_path: Path, sop_class: str, name: str) -> None:
    """A Siemens protocol file (CSA Non-Image) or a Philips ExamCard beside the images has no
    pixel data: it was an error, "no pixel data (truncated file?)", and the export exit 1."""
    from tests.pipeline.dicom.builders import header_dataset

    _study(tmp_path / "src")
    ds = header_dataset(sop_class, "MR", patient="P")
    ds.add_new(0x00291020, "OB", b"protocol")
    ds.save_as(tmp_path / "src" / "protocol.dcm", enforce_file_format=True)
    assert main(["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--quiet"]) == 0
    with (tmp_path / "out" / "errors.csv").open() as fh:
        rows = {r["source"]: r for r in csv.DictReader(fh)}
    assert rows["protocol.dcm"]["kind"] == "skipped"
    assert rows["protocol.dcm"]["reason"] == f"not an image ({name}, no pixel data): skipped"
