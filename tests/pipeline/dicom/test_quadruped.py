"""Images placed in a quadruped's patient coordinates (AnatomicalOrientationType QUADRUPED).

PS3.3 C.7.6.1.1.1 / C.7.6.2.1.1: with AnatomicalOrientationType (0010,2210) QUADRUPED the
patient directions are an animal's (dorsal/ventral, cranial/caudal, rostral), while a NIfTI's
RAS axes are read as a human's right, anterior and superior; quadruped atlases differ on how
they map. dcm2niix warns ("Anatomical Orientation Type (0010,2210) is QUADRUPED: rotate
coordinates accordingly", #241); radpipe wrote the affine unsaid. Expected: the same affine
as the header gives (column k = (0, 0, 2) mm by hand for slices 2 mm apart along z) and a note,
in ``inspect`` too; nothing for BIPED, or for an image without ImageOrientationPatient.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

NOTE = "AnatomicalOrientationType (0010,2210) is QUADRUPED: the positions are in a quadruped's"


def _series(src: Path, kind: str | None, *, placed: bool = True) -> None:
    src.mkdir()
    for k in range(3):
        ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", "1.2.3.4"
        ds.PixelSpacing, ds.SliceThickness, ds.InstanceNumber = [1, 1], 2, k + 1
        if placed:
            ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 2 * k]
        if kind:
            ds.AnatomicalOrientationType = kind
        ds.PixelData = np.full((4, 4), 100 + k, "<u2").tobytes()
        ds.save_as(src / f"s{k}.dcm", enforce_file_format=True)


def test_a_quadruped_volume_says_so(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    _series(tmp_path / "src", "QUADRUPED")
    assert main(["inspect", str(tmp_path / "src")]) == 1
    assert NOTE in capsys.readouterr().out
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["problems"].startswith(NOTE)
    image = nib.load(out / row["output"])
    np.testing.assert_allclose(image.affine[:3, 2], [0, 0, 2])  # the header's, unchanged
    assert np.asarray(image.dataobj)[0, 0].tolist() == [100, 101, 102]


@pytest.mark.parametrize(("kind", "placed"), [("BIPED", True), (None, True), ("QUADRUPED", False)])
def test_others_say_nothing(tmp_path: Path, kind: str | None, placed: bool) -> None:
    _series(tmp_path / "src", kind, placed=placed)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "png", "--quiet"]) == 0
    assert all("QUADRUPED" not in r["problems"] for r in read_manifest(out / "manifest.csv"))
