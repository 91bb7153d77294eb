"""``radpipe inspect`` of a Siemens mosaic reports the size of the slices convert makes of it
(its tiles), not the tiled image of its header: it said 24x24 for 6 tiles of 8x8."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import pytest

from tests.pipeline.dicom import geometry_cases as G
from workflows.cli import main


def test_inspect_reports_a_mosaics_tile_size_as_convert_makes_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = G.mosaic(6, 8)  # 6 tiles of 8x8 in a 3x3 grid: a 24x24 image
    assert (ds.Rows, ds.Columns) == (24, 24)
    src = G.save(tmp_path / "in", [ds])
    main(["inspect", str(src), "--json"])  # (exit 1: its series note counts as a problem)
    (series,) = json.loads(capsys.readouterr().out)["patients"][0]["studies"][0]["series"]
    assert (series["size"], series["slices"], series["files"]) == ("8x8", 6, 1)
    main(["inspect", str(src)])
    assert " 8x8  6 slices" in capsys.readouterr().out
    out = tmp_path / "nii"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    (volume,) = out.rglob("*.nii.gz")
    assert nib.load(volume).shape == (8, 8, 6)  # what convert made: 8x8 slices, 6 of them
