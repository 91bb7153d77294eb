"""Whole-slide images: frames that are tiles of one picture (slideio #24).

A TILED_FULL whole-slide image's tiles were stacked as the slices of a volume "without
geometry" (a 4-slice NPY of four corners of one picture). The series is now refused with the
reason by ``convert --per series`` and ``inspect``; per instance each tile is written as its
frame, its row saying what it is. Expected tiles are cut from the picture by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, item, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

WSI = "1.2.840.10008.5.1.4.1.1.77.1.6"
PICTURE = np.arange(48, dtype=np.uint16).reshape(6, 8)  # 2 x 2 tiles of 3 x 4
TILES = [PICTURE[r : r + 3, c : c + 4] for r in (0, 3) for c in (0, 4)]  # TILED_FULL order
REASON = (
    "whole-slide image: its 4 frames are 3x4 tiles of one 6x8 picture (TILED_FULL), not "
    "slices, radpipe does not assemble tiles (read it with wsidicom or highdicom)"
)


def _slide(src: Path) -> Path:
    ds = image_dataset(WSI, "SM", 3, 4)
    ds.NumberOfFrames, ds.DimensionOrganizationType = 4, "TILED_FULL"
    ds.TotalPixelMatrixRows, ds.TotalPixelMatrixColumns = 6, 8
    measures = item(PixelSpacing=[0.00025, 0.00025], SliceThickness=0.001)
    ds.SharedFunctionalGroupsSequence = pydicom.Sequence(
        [item(PixelMeasuresSequence=pydicom.Sequence([measures]))]
    )
    ds.PixelData = np.stack(TILES).tobytes()
    return write_folder(src, x=ds)


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with (out / name).open(newline="") as fh:
        return list(csv.DictReader(fh))


def test_tiles_are_no_volume(tmp_path: Path) -> None:
    src, out = _slide(tmp_path / "src"), tmp_path / "out"
    convert_folder(src, out, ConvertOptions(format="npy", per="series"), progress=False)
    assert _rows(out, "manifest.csv") == [] and not list(out.rglob("*.npy"))
    (error,) = _rows(out, "errors.csv")
    assert error["source"] == "x.dcm" and error["reason"].endswith(f"refused: {REASON}")
    (series,) = index_folder(src).series  # inspect says the same
    assert f"refused: {REASON}" in series.problems


def test_each_tile_is_written_as_its_frame_and_said(tmp_path: Path) -> None:
    src, out = _slide(tmp_path / "src"), tmp_path / "out"
    convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    rows = sorted(_rows(out, "manifest.csv"), key=lambda r: int(r["frame"]))
    assert [r["frame"] for r in rows] == ["0", "1", "2", "3"]
    for row, tile in zip(rows, TILES):
        np.testing.assert_array_equal(np.load(out / row["output"]), tile)
        assert f"refused: {REASON}" in row["problems"]
