"""Two passes of an Enhanced CT (PS3.3 A.38) over the same positions, told apart only by each
frame's FrameAcquisitionNumber (0020,9156, Frame Content group): before that number was
read they were ranked by file order ('... so a volume may mix them'). A CT has no
RepetitionTime, so the passes are two 3-D volumes, not one 4-D NIfTI, each holding its own
pass's frames in slice order; the rescale comes from the shared Pixel Value Transformation
group. Expected values are the synthetic stored values minus the intercept, worked out by
hand."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups, write_folder
from workflows.cli import main

ENHANCED_CT = "1.2.840.10008.5.1.4.1.1.2.1"
#: (slice, pass) of each stored frame: slice 1 stores pass 2 before pass 1, slice 2 comes
#: before slice 0, so neither file order nor position order tells the passes apart.
ORDER = [(2, 0), (0, 0), (1, 1), (1, 0), (0, 1), (2, 1)]


def _passes(src: Path, numbered: bool = True) -> None:
    """Stored value 100 (pass + 1) + 10 slice; RescaleIntercept -1024 (HU = stored - 1024)."""
    ds = image_dataset(ENHANCED_CT, "CT", 4, 4)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", "1.2.3.9", "P"
    ds.NumberOfFrames = len(ORDER)
    ds.PixelData = np.stack(
        [np.full((4, 4), 100 * (p + 1) + 10 * s, "<u2") for s, p in ORDER]
    ).tobytes()
    frames = []
    for s, p in ORDER:
        content = item(FrameAcquisitionNumber=p + 1) if numbered else item()
        frames.append(item(
            FrameContentSequence=Sequence([content]),
            PlanePositionSequence=Sequence([item(ImagePositionPatient=[0, 0, 2.5 * s])]),
        ))  # fmt: skip
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    shared = shared_plane_groups(thickness=2.5)
    shared[0].PixelValueTransformationSequence = Sequence(
        [item(RescaleIntercept=-1024, RescaleSlope=1, RescaleType="HU")]
    )
    ds.SharedFunctionalGroupsSequence = shared
    write_folder(src, e=ds)


def test_enhanced_ct_passes_are_two_volumes_by_frame_acquisition_number(tmp_path: Path) -> None:
    _passes(tmp_path / "src")
    out = tmp_path / "out"
    args = ["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]
    assert main(args) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [(r["volume"], r["shape"], r["spacing"], r["problems"]) for r in rows] == [
        ("0", "3x4x4", (2.5, 1.0, 1.0), ""),
        ("1", "3x4x4", (2.5, 1.0, 1.0), ""),
    ]
    for p, row in enumerate(rows):  # _s00 pass 1, _s01 pass 2; z = 0, 2.5, 5 mm
        image = nib.load(out / row["output"])
        assert image.shape == (4, 4, 3)
        expected = [100 * (p + 1) + 10 * s - 1024 for s in range(3)]
        assert np.asarray(image.dataobj)[0, 0].tolist() == expected
        assert image.affine[2, 3] == 0.0 and image.header.get_zooms()[2] == 2.5


def test_without_the_number_the_passes_are_said_to_be_told_apart_by_order(
    tmp_path: Path,
) -> None:
    # the same file without FrameAcquisitionNumber: nothing but file order separates the
    # passes, and the manifest says so
    _passes(tmp_path / "src", numbered=False)
    out = tmp_path / "out"
    args = ["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]
    assert main(args) == 0
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 2
    assert all("told apart by acquisition order" in r["problems"] for r in rows)
