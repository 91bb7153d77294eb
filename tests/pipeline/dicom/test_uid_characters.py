"""Grouping UIDs that break PS3.5 9.1 (letters, other characters, a leading zero, over 64
characters): said by name, the value never shown, and still grouping their files.

pydicom's warning said ``Invalid value for VR UI: '#...'`` (the value hashed by radpipe's
sanitizer, the attribute unnamed). Expected notes written by hand from PS3.5 9.1: a UID is
components of digits without a leading zero, joined by points, at most 64 characters.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from tests.pipeline.dicom import geometry_cases as G
from workflows.cli import main

ROOT = "1.2.826.0.1.3680043.8.498."
KEPT = "not allowed in a UID (PS3.5 9.1): kept as written"


@pytest.mark.parametrize(
    ("uid", "wrong"),
    [
        (ROOT + "12ab", "holds letters"),
        (ROOT + "1-2", "holds characters other than digits and points"),
        (ROOT + "012", "has a component with a leading zero"),
        (ROOT + "1" * 40, "is 66 characters long (at most 64)"),  # 26 + 40
        (
            ROOT + "0A..3",
            "holds letters, has an empty component and has a component with a leading zero",
        ),
    ],
    ids=["letters", "dash", "leading-zero", "long", "several"],
)
def test_a_series_uid_outside_ps3_5_is_said_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], uid: str, wrong: str
) -> None:
    files = [G.plane((0.0, 0.0, 2.0 * k), value=100 * (k + 1), series=uid) for k in range(3)]
    src = G.save(tmp_path / "in", files, ["s0", "s1", "s2"])
    main(["inspect", str(src), "--json"])
    out = capsys.readouterr().out
    summary = json.loads(out)
    assert summary["series"] == 1  # the three files still group
    note = f"note: SeriesInstanceUID (0020,000E) {wrong}, {KEPT}"
    assert [p["reason"] for p in summary["problems"]] == [note] * 3
    assert "Invalid value for VR UI" not in out
    assert main(["convert", str(src), str(tmp_path / "out"), "--format", "nifti", "--quiet"]) == 0
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        (row,) = csv.DictReader(fh)
    assert row["problems"] == note.removeprefix("note: ") and row["num_slices"] == "3"
    assert uid not in (tmp_path / "out" / "manifest.csv").read_text()


def test_a_clean_uid_is_not_said(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    files = [G.plane((0.0, 0.0, 2.0 * k), series=ROOT + "7") for k in range(2)]
    assert main(["inspect", str(G.save(tmp_path / "in", files, ["a", "b"])), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["problems"] == []
