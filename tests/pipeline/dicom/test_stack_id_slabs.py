"""Two slabs of an Enhanced object told apart by StackID (0020,9056), a gap between them.

Frames of different stacks (PS3.3 C.7.6.16.2.2.4) at positions that do not coincide were one
stack: two 3-slice slabs 46 mm apart became one volume of 28 slices, 22 interpolated from the
slabs' edge slices (noted only as "missing slices"). Now each StackID is its own volume when
the slabs together are not evenly spaced; abutting slabs that make one evenly spaced stack
stay one volume, as before.

Expected by construction: StackID 1 frames at z = 0, 2, 4 mm hold 10, 11, 12; StackID 2 frames
at z = 50, 52, 54 (or 6, 8, 10) hold 30, 31, 32, stored slab 2 first, each in reverse.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.pipeline.dicom.builders import item
from tests.pipeline.dicom.geometry_cases import EMR, image, save
from workflows.cli import main

AXIAL = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0]


def _enhanced(second: float) -> Dataset:
    frames = [(second + 2.0 * (2 - k), 2, 32 - k) for k in range(3)]
    frames += [(2.0 * (2 - k), 1, 12 - k) for k in range(3)]
    ds = image(np.stack([np.full((8, 8), v) for *_, v in frames]), EMR)
    measures = item(PixelSpacing=[1.0, 1.0], SliceThickness=2.0)
    ds.SharedFunctionalGroupsSequence = Sequence([
        item(PixelMeasuresSequence=Sequence([measures]),
             PlaneOrientationSequence=Sequence([item(ImageOrientationPatient=AXIAL)]))
    ])  # fmt: skip
    ds.PerFrameFunctionalGroupsSequence = Sequence([
        item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[0.0, 0.0, z])]),
             FrameContentSequence=Sequence([item(StackID=str(stack))]))
        for z, stack, _ in frames
    ])  # fmt: skip
    return ds


def _convert(tmp_path: Path, second: float) -> tuple[Path, list[dict[str, str]]]:
    src, out = save(tmp_path / "src", [_enhanced(second)]), tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        return out, sorted(csv.DictReader(f), key=lambda r: r["output"])


def test_slabs_apart_are_one_volume_each(tmp_path: Path) -> None:
    out, rows = _convert(tmp_path, 50.0)
    assert [r["volume"] for r in rows] == ["0", "1"]
    for row, values, z0 in zip(rows, ([10, 11, 12], [30, 31, 32]), (0.0, 50.0)):
        image = nib.load(out / row["output"])
        assert np.asarray(image.dataobj)[0, 0].tolist() == values
        np.testing.assert_allclose(image.affine[:3, 2:], [[0.0, 0.0], [0.0, 0.0], [2.0, z0]])
        assert row["problems"] == (
            "split: 2 stacks by StackID (0020,9056) that are not evenly spaced together (frames "
            "of other stacks, PS3.3 C.7.6.16.2.2.4), one volume each"
        )


def test_abutting_slabs_stay_one_volume(tmp_path: Path) -> None:
    out, rows = _convert(tmp_path, 6.0)
    (row,) = rows
    image = nib.load(out / row["output"])
    assert np.asarray(image.dataobj)[0, 0].tolist() == [10, 11, 12, 30, 31, 32]
    assert image.header.get_zooms()[2] == pytest.approx(2.0)
    assert row["problems"] == ""
