"""``radpipe convert`` per instance of a folder of Siemens mosaics ended with ``files: 1 series
with files' own problems noted, outputs written (mosaic written undivided (--per series
demosaics it) 1)``: a mosaic called a problem of the files, in words ("undivided",
"demosaics") and a dangling count newcomers could not read. The summary now says what was
written and what ``--per series`` does instead, on a line of its own; the manifest's note
reads ``Siemens mosaic written whole, ...``."""

from __future__ import annotations

import csv
from pathlib import Path

from tests.pipeline.dicom import geometry_cases as G
from tests.runner.conftest import radpipe_in


def test_mosaics_written_per_instance_are_said_in_plain_words(tmp_path: Path) -> None:
    G.save(tmp_path / "in", [G.mosaic(4, 4), G.mosaic(4, 4)])  # two series of one file
    proc = radpipe_in(tmp_path, "convert", "in", "out", "--format", "png", "--quiet")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert [x for x in lines if x.startswith("mosaics: ")] == [
        "mosaics: 2 series of Siemens mosaics (each file one image of its slices tiled side by "
        "side) written as stored, one tiled image per file; --per series cuts them into their "
        "slices and stacks them into volumes"
    ]
    assert not [x for x in lines if x.startswith("files: ")]  # a mosaic is no file problem
    assert "undivided" not in proc.stdout + proc.stderr
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [(r["shape"], r["problems"]) for r in rows] == [
        ("8x8", "Siemens mosaic written whole, its slices tiled in one image (--per series "
                "cuts it into its slices)")
    ] * 2  # fmt: skip
