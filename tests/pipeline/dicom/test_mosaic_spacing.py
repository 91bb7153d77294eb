"""A Siemens mosaic without SpacingBetweenSlices: its tiles placed by the protocol's slices.

Slicer #3867 (the slice gap of Siemens DWI ignored): SliceThickness is the spacing only when
the slices have no gap. A mosaic of 2 mm slices with a 0.5 mm gap, without SpacingBetweenSlices,
was placed 2 mm apart, 20 % short along the normal, unsaid. The protocol in the CSA series
header (MrPhoenixProtocol, ASCCONV) lists each slice's position, 2.5 mm apart: the expected
spacing, by hand. Without a protocol the thickness is used and the series says so.
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import pytest

from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


def _protocol(steps: list[float]) -> bytes:
    """A CSA series header whose ASCCONV slice array has slices at dTra = 10 + sum(steps)."""
    lines, z = [], 10.0
    for i, step in enumerate([0.0, *steps]):
        z += step
        lines += [f"sSliceArray.asSlice[{i}].sPosition.dTra = {z}",
                  f"sSliceArray.asSlice[{i}].dThickness = 2.0"]  # fmt: skip
    size = f"sSliceArray.lSize = {len(steps) + 1}"
    text = "\n".join(["<XProtocol> { }", "### ASCCONV BEGIN ###", "ulVersion = 0x14b44b6",
                      *lines, size, "### ASCCONV END ###"])  # fmt: skip
    return G.csa2({"MrPhoenixProtocol": ("UN", [text])})


def _convert(tmp_path: Path, protocol: bytes | None) -> tuple[dict[str, str], nib.Nifti1Image]:
    ds = G.mosaic(4, 4, SliceThickness=2.0)
    del ds.SpacingBetweenSlices
    if protocol is not None:
        ds.add_new(0x00291020, "OB", protocol)
    src = G.save(tmp_path / "in", [ds])
    convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    return row, nib.load(tmp_path / "out" / row["output"])


def test_tiles_placed_by_the_protocols_slice_positions(tmp_path: Path) -> None:
    row, image = _convert(tmp_path, _protocol([2.5, 2.5, 2.5]))
    assert row["spacing"] == "2.5x2x2" and image.header.get_zooms()[2] == pytest.approx(2.5)
    assert row["problems"] == ""  # placed as the protocol says: nothing to say


@pytest.mark.parametrize("protocol", [None, [2.5, 3.0, 2.5]], ids=["none", "uneven"])
def test_tiles_placed_by_the_thickness_say_so(tmp_path: Path, protocol: list[float] | None) -> None:
    row, image = _convert(tmp_path, None if protocol is None else _protocol(protocol))
    assert row["spacing"] == "2x2x2" and image.header.get_zooms()[2] == pytest.approx(2.0)
    assert (
        "mosaic: tiles placed SliceThickness 2 mm apart (no SpacingBetweenSlices" in row["problems"]
    )
