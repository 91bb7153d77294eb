"""``radpipe inspect`` names the files that share a problem together: a note every slice of
a series carries (AnatomicalOrientationType QUADRUPED on 5 slices) was printed 5 times, one
line per file; now one line naming the first three and how many more. Different reasons stay
on lines of their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main


def _series(src: Path, n: int, kind: str, series: str) -> None:
    src.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
        ds.StudyInstanceUID, ds.SeriesInstanceUID = "1.2.3", series
        ds.PixelSpacing, ds.SliceThickness, ds.InstanceNumber = [1, 1], 2, k + 1
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 2 * k]
        ds.AnatomicalOrientationType = kind
        ds.PixelData = np.full((4, 4), 100 + k, "<u2").tobytes()
        ds.save_as(src / f"{series[-1]}{k}.dcm", enforce_file_format=True)


def test_files_sharing_a_note_are_named_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _series(tmp_path, 5, "QUADRUPED", "1.2.3.4")
    assert main(["inspect", str(tmp_path)]) == 1
    out = capsys.readouterr().out
    _, *rest = out.split("5 problems in usable files (convert lists them in the problems "
                            "column):\n")  # fmt: skip
    (listed,) = rest
    lines = listed.rstrip("\n").splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("  40.dcm, 41.dcm, 42.dcm and 2 more files: note: "
                               "AnatomicalOrientationType (0010,2210) is QUADRUPED")  # fmt: skip


def test_two_files_are_both_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _series(tmp_path, 2, "QUADRUPED", "1.2.3.7")
    assert main(["inspect", str(tmp_path)]) == 1
    (line,) = [x for x in capsys.readouterr().out.splitlines() if "QUADRUPED" in x]
    assert line.startswith("  70.dcm, 71.dcm: note: AnatomicalOrientationType")


def test_three_files_are_all_named_and_a_fourth_is_one_more() -> None:
    """Three names fit on the line (no "and 0 more files"); the fourth is "1 more file"."""
    from workflows.commands.inspect import _grouped

    found = [{"where": f"s{k}.dcm", "reason": "note: x"} for k in range(4)]
    assert _grouped(found[:3]) == ["  s0.dcm, s1.dcm, s2.dcm: note: x"]
    assert _grouped(found) == ["  s0.dcm, s1.dcm, s2.dcm and 1 more file: note: x"]
