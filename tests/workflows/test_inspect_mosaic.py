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
    assert main(["inspect", str(src), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    (series,) = summary["patients"][0]["studies"][0]["series"]
    assert (series["size"], series["slices"], series["files"]) == ("8x8", 6, 1)
    assert summary["problems"] == []
    assert main(["inspect", str(src)]) == 0
    assert " 8x8  6 slices" in capsys.readouterr().out
    out = tmp_path / "nii"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    (volume,) = out.rglob("*.nii.gz")
    assert nib.load(volume).shape == (8, 8, 6)  # what convert made: 8x8 slices, 6 of them


def test_a_clean_mosaic_is_no_problem_even_under_strict(tmp_path: Path) -> None:
    """Splitting a mosaic into its tiles is how the format is read: ``inspect`` exited 1 and
    ``convert --strict`` refused every Siemens mosaic (``refused under --strict: demosaiced:
    6 tiles per image ...``), since the split was noted as a problem of the series."""
    import csv

    src = G.save(tmp_path / "in", [G.mosaic(6, 8)])
    out = tmp_path / "nii"
    args = ["convert", str(src), str(out), "--format", "nifti", "--per", "series", "--strict"]
    assert main([*args, "--quiet"]) == 0
    with (out / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["shape"], row["problems"]) == ("6x8x8", "")
    per_instance = tmp_path / "png"
    assert main(["convert", str(src), str(per_instance), "--format", "png", "--quiet"]) == 0
    with (per_instance / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    # per instance the tiled image is written as it is, and that is said
    assert row["problems"] == (
        "Siemens mosaic written whole, its slices tiled in one image (--per series cuts it "
        "into its slices)"
    )
