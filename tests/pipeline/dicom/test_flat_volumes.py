"""Series without geometry (no ImagePositionPatient/Orientation): the volume's spacing is a
convention, and the manifest says which part of it is not read from the files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


@pytest.mark.parametrize(
    ("count", "spacing", "expected"),
    [
        (1, None, ["PixelSpacing absent: spacing 1 x 1 (pixels, not mm) written"]),
        (1, [0.5, 0.5], []),
        (
            2,
            [0.5, 0.5],
            ["no geometry: images without ImagePositionPatient/Orientation, affine unknown"],
        ),
        (
            2,
            None,
            [
                "no geometry: images without ImagePositionPatient/Orientation, affine unknown",
                "PixelSpacing absent: spacing 1 x 1 (pixels, not mm) written",
            ],
        ),
    ],
)
def test_a_spacing_not_read_from_the_files_is_said(
    tmp_path: Path, count: int, spacing: list[float] | None, expected: list[str]
) -> None:
    series = generate_uid()
    extra = {"PixelSpacing": spacing} if spacing else {}
    images = [G.image(np.full((4, 5), 10 * k, np.uint16), G.MR, series, InstanceNumber=k + 1,
                      **extra) for k in range(count)]  # fmt: skip
    src = G.save(tmp_path / "in", images)
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti", per="series"),
                            progress=False)  # fmt: skip
    assert result.exit_code == 0
    with (out / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert [p for p in row["problems"].split("; ") if p] == expected
    ps = spacing or [1.0, 1.0]
    assert row["spacing"] == f"1x{ps[0]:g}x{ps[1]:g}"
