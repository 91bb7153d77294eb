"""The manifest's ``component`` column: which complex component each output holds.

A series of magnitude, phase, real or imaginary images (ImageType M/P/R/I of Siemens and
Philips, ComplexImageComponent of Enhanced MR, GE's private (0043,xx2F)) is written as one
volume per component, named ``_s00``, ``_s01``, ... in the order of the components' names
(IMAGINARY, MAGNITUDE, PHASE, REAL); no row said which volume was which, so the phase volume
was told from the magnitude one only by its values. Expected: each row's ``component`` is
the component its files were written with (slice s of component c holds 100 (c + 1) + s, as
written by the test), per series and per instance; empty for an image that names none.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from tests.pipeline.dicom.test_ge_complex import _write
from workflows.cli import main

NAMES = ["MAGNITUDE", "PHASE", "REAL", "IMAGINARY"]  # GE's codes 0..3


def _convert(src: Path, out: Path, fmt: str) -> list[dict[str, str]]:
    assert main(["convert", str(src), str(out), "--format", fmt, "--quiet"]) == 0
    return sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])


def test_each_volume_names_its_component(tmp_path: Path) -> None:
    _write(tmp_path / "src", [0, 2, 3])  # magnitude, real, imaginary
    rows = _convert(tmp_path / "src", tmp_path / "out", "nifti")
    # in the order of their names: _s00 IMAGINARY, _s01 MAGNITUDE, _s02 REAL
    assert [r["component"] for r in rows] == ["IMAGINARY", "MAGNITUDE", "REAL"]
    assert [r["volume"] for r in rows] == ["0", "1", "2"]
    for row in rows:
        c = [0, 2, 3].index(NAMES.index(row["component"]))
        values = np.asarray(nib.load(tmp_path / "out" / row["output"]).dataobj)[0, 0]
        assert values.tolist() == [100 * (c + 1) + s for s in range(3)]


def test_each_instance_names_its_component(tmp_path: Path) -> None:
    _write(tmp_path / "src", [0, 1])
    rows = _convert(tmp_path / "src", tmp_path / "out", "npy")
    assert len(rows) == 6
    for row in rows:
        c = int(row["source"].removesuffix(".dcm").split("_")[1])  # file s_c.dcm
        assert row["component"] == NAMES[c]
        s = int(row["source"].split("_")[0])
        assert np.load(tmp_path / "out" / row["output"]).flat[0] == 100 * (c + 1) + s


@pytest.mark.parametrize(("image_type", "component"), [("P", "PHASE"), ("OTHER", "")])
def test_image_type_component_or_none(tmp_path: Path, image_type: str, component: str) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for s in range(2):
        ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", "1.2.3.9"
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 2 * s]
        ds.PixelSpacing, ds.ImageType = [1, 1], ["ORIGINAL", "PRIMARY", image_type, "ND"]
        ds.PixelData = np.full((4, 4), 7, "<u2").tobytes()
        ds.save_as(src / f"{s}.dcm", enforce_file_format=True)
    for fmt in ("nifti", "png"):
        rows = _convert(src, tmp_path / fmt, fmt)
        assert {r["component"] for r in rows} == {component}
