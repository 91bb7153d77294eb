"""GE's magnitude, phase, real and imaginary images of one series (private (0043,xx2F)).

GE writes ImageType ``ORIGINAL\\PRIMARY\\OTHER`` for every complex component and names the
component only in ``GEMS_PARM_01`` (0043,xx2F) "Image Type (real, imaginary, phase,
magnitude)", SS 0/1/2/3, which dcm2niix reads (``kImageTypeGE``, PR #826; heudiconv PR #761:
a SIGNA UHP series of magnitude, real and imaginary images). radpipe read ImageType alone, so
such images at the same positions were "time points by acquisition order": one 4-D NIfTI
whose 4th axis claimed a TR between magnitude and phase, mixed where an image of another
component was numbered first. Expected: one volume per component, in the order magnitude,
phase, real, imaginary (``ComplexImageComponent``'s), slice s of component c holding
100 (c + 1) + s, as written.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main


def _write(src: Path, components: list[int], *, creator: str = "GEMS_PARM_01",
           implicit: bool = False) -> None:  # fmt: skip
    """Three axial slices per component; slice 1 numbers its last component first."""
    src.mkdir()
    syntax = ImplicitVRLittleEndian if implicit else "1.2.840.10008.1.2.1"
    for s in range(3):
        for c, code in enumerate(components):
            ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4, syntax=syntax, signed=True)
            ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", "1.2.3.4", "P"
            ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 2 * s]
            ds.PixelSpacing, ds.RepetitionTime, ds.Manufacturer = [1, 1], 2000, "GE MEDICAL SYSTEMS"
            ds.ImageType = ["ORIGINAL", "PRIMARY", "OTHER"]
            order = c if s != 1 else len(components) - 1 - c
            ds.InstanceNumber = len(components) * s + order + 1
            ds.private_block(0x0043, creator, create=True).add_new(0x2F, "SS", code)
            ds.PixelData = np.full((4, 4), 100 * (c + 1) + s, "<i2").tobytes()
            ds.save_as(src / f"{s}_{c}.dcm", enforce_file_format=True)


@pytest.mark.parametrize(
    ("components", "implicit"),
    [([0, 1], False), ([0, 1], True), ([0, 2, 3], False)],
    ids=["magnitude-phase", "implicit-vr", "magnitude-real-imaginary"],
)
def test_each_ge_component_is_its_own_volume(
    tmp_path: Path, components: list[int], implicit: bool
) -> None:
    _write(tmp_path / "src", components, implicit=implicit)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["shape"] for r in rows] == ["3x4x4"] * len(components)
    assert all(r["problems"] == "" for r in rows)  # no 'acquisition order' note
    names = ["MAGNITUDE", "PHASE", "REAL", "IMAGINARY"]
    order = sorted(range(len(components)), key=lambda c: names[components[c]])
    for c, row in zip(order, rows, strict=True):
        image = nib.load(out / row["output"])
        assert image.shape == (4, 4, 3)
        assert np.asarray(image.dataobj)[0, 0].tolist() == [100 * (c + 1) + s for s in range(3)]


def test_another_creators_element_is_not_read(tmp_path: Path) -> None:
    # (0043,102F) of another private creator is no GE component: the images stay told apart
    # by acquisition order, and say so
    _write(tmp_path / "src", [0, 1], creator="OTHER VENDOR")
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["shape"] == "2x3x4x4"
    assert "told apart by acquisition order" in row["problems"]
