"""A file's note whose words hold "; " is one note in the manifest and one kind in the summary.

The problems cell joins notes by "; ", and the NumberOfFrames-is-0 note said "(it counts the
frames, at least 1; PS3.3 C.7.6.6)": split on "; ", the summary counted it as two kinds ("...
at least" and "PS3.3 C.7.6.6)"), and the per-series merge cut it in two. Expected lines by
hand from the note's words, its "; " written ", ".
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import ct_series
from workflows.cli import main

NOTE = ("NumberOfFrames (0028,0008) is 0 (it counts the frames, at least 1, PS3.3 C.7.6.6): "
        "read as 1 frame")  # fmt: skip
KIND = "NumberOfFrames (0028,0008) is 0 (it counts the frames, at least 1, PS3.3 C.7.6.6)"


@pytest.mark.parametrize(("per", "fmt"), [("instance", "npy"), ("series", "nifti")])
def test_a_note_with_the_separator_is_one_kind_and_one_note(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], per: str, fmt: str
) -> None:
    src = ct_series(tmp_path / "src", [[0], [10]], NumberOfFrames=0)  # 2 files, one series
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--quiet", "--format", fmt, "--per", per]) == 0
    said = capsys.readouterr()
    lines = said.out.splitlines()
    assert [x for x in lines if x.startswith("files: ")] == [
        f"files: 1 series with files' own problems noted, outputs written ({KIND} 1)"
    ]
    assert [r["problems"] for r in read_manifest(out / "manifest.csv")] == [NOTE] * (
        2 if per == "instance" else 1
    )
    if per == "series":  # the series' warning: the note once, whole
        assert said.err.splitlines() == [
            f"warning: series {read_manifest(out / 'manifest.csv')[0]['series_key']}: "
            f"{NOTE} (series of s0.dcm)"
        ]
