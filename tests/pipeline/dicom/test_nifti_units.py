"""The spatial unit in the header of ``radpipe convert``'s NIfTI files.

NIfTI-1 keeps the unit of the zooms in ``xyzt_units`` (code 2: mm; 0: unknown). A placed
volume's zooms are millimetres (the DICOM geometry's), and dcm2niix says so (``xyzt_units``
10: mm and s). radpipe wrote code 0 for every 3-D volume, so nibabel read its zooms as
"unknown" and radpipe's own folder dataset (``data.kind: images``, which takes unknown units
for no spacing) scored a run on radpipe's NIfTIs in voxels, not mm. Expected spacings here
come from the synthetic DICOM headers."""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.data import FolderDataset
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


def _convert(src: Path, out: Path, **options: object) -> list[dict[str, str]]:
    opts = ConvertOptions(**{"format": "nifti", **options})  # type: ignore[arg-type]
    assert convert_folder(src, out, opts, progress=False).exit_code == 0
    with (out / "manifest.csv").open() as fh:
        return list(csv.DictReader(fh))


def test_a_placed_volume_says_its_zooms_are_mm(tmp_path: Path) -> None:
    """5 axial slices 2.5 mm apart, PixelSpacing 0.8: zooms (x, y, z) 0.8, 0.8, 2.5 in mm;
    the folder dataset reads them as the (z, y, x) spacing."""
    series = generate_uid()
    slices = [G.plane((0.0, 0.0, 2.5 * k), series=series, spacing=0.8) for k in range(5)]
    (row,) = _convert(G.save(tmp_path / "in", slices), tmp_path / "out")
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.header.get_zooms() == pytest.approx((0.8, 0.8, 2.5))
    assert image.header.get_xyzt_units() == ("mm", "unknown")
    (tmp_path / "out" / "list.csv").write_text(f"image\n{row['output']}\n")
    sample = FolderDataset(tmp_path / "out", "list.csv").sample(0)
    assert sample.meta["spacing"] == pytest.approx((2.5, 0.8, 0.8))


def test_time_points_split_into_3d_volumes_say_mm(tmp_path: Path) -> None:
    """3 positions 5 mm apart x 2 time points (a RepetitionTime of 2 s), ``--split-4d``:
    two 3-D volumes, each in mm."""
    series = generate_uid()
    slices = [G.plane((0.0, 0.0, 5.0 * z), value=10 * t + z + 1, series=series,
                      InstanceNumber=3 * t + z + 1, AcquisitionNumber=1, RepetitionTime=2000.0)
              for t in range(2) for z in range(3)]  # fmt: skip
    rows = _convert(G.save(tmp_path / "in", slices), tmp_path / "out", split_4d=True)
    assert len(rows) == 2
    for row in rows:
        header = nib.load(tmp_path / "out" / row["output"]).header
        assert header.get_zooms() == pytest.approx((1.0, 1.0, 5.0))
        assert header.get_xyzt_units() == ("mm", "unknown")


def test_a_volume_without_geometry_keeps_its_unit_unknown(tmp_path: Path) -> None:
    """A cine of 3 frames without positions: its third zoom is a frame step, not mm, so the
    header claims no unit (and the folder dataset takes no spacing from it)."""
    frames = np.arange(3, dtype=np.uint16)[:, None, None] * np.ones((1, 8, 8), np.uint16)
    cine = G.image(frames, PixelSpacing=[0.5, 0.5])  # 3 frames of other values
    (row,) = _convert(G.save(tmp_path / "in", [cine]), tmp_path / "out")
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.shape == (8, 8, 3)
    assert image.header.get_xyzt_units() == ("unknown", "unknown")


def test_one_ultrasound_image_of_known_pixel_size_says_mm(tmp_path: Path) -> None:
    """A US image calibrated by its Sequence of Ultrasound Regions (PhysicalDeltaX/Y in cm,
    PS3.3 C.8.5.5.1), no PixelSpacing and no place: its zooms are the deltas in mm, said as mm
    (as dcm2niix writes them); it was "unknown", so a run on the NIfTI scored in pixels."""
    import pydicom

    from pipeline.synth import StudySpec, write_study

    spec = StudySpec(patients=1, series_per_patient=1, modality="US", size=32)
    write_study(tmp_path / "study", spec)
    (path,) = (tmp_path / "study" / "dicom").rglob("*.dcm")
    (region,) = pydicom.dcmread(path).SequenceOfUltrasoundRegions
    dx, dy = 10 * float(region.PhysicalDeltaX), 10 * float(region.PhysicalDeltaY)
    (row,) = _convert(tmp_path / "study" / "dicom", tmp_path / "out")
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.header.get_xyzt_units() == ("mm", "unknown")
    assert image.header.get_zooms()[:2] == pytest.approx((dx, dy))
    (tmp_path / "out" / "list.csv").write_text(f"image\n{row['output']}\n")
    sample = FolderDataset(tmp_path / "out", "list.csv").sample(0)
    assert sample.meta["spacing"][-2:] == pytest.approx((dy, dx))


def test_one_image_without_a_pixel_size_keeps_its_unit_unknown(tmp_path: Path) -> None:
    """No PixelSpacing, no ultrasound regions: its zooms are 1 x 1 pixels, not mm."""
    (row,) = _convert(G.save(tmp_path / "in", [G.image(np.zeros((8, 8), np.uint16))]),
                      tmp_path / "out")  # fmt: skip
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.header.get_xyzt_units() == ("unknown", "unknown")
