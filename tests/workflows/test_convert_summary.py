"""The convert summary says what was done: the series' geometry apart from the files' own
problems, and refusal counts that agree (run as a user runs it)."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

from tests.workflows.test_convert_header_window import SERIES, _ct

ROOT = Path(__file__).parents[2]


def _convert(src: Path, out: Path, *extra: str) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "workflows.cli", "convert", str(src), str(out), "--quiet",
           "--format", "npy", *extra]  # fmt: skip
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
    return done.stdout.splitlines()


def test_geometry_and_file_problems_are_counted_apart(tmp_path: Path) -> None:
    src = tmp_path / "src"
    for z in (0.0, 1.0, 3.0):  # one series with a slice missing at z = 2
        _ct(src / f"gap{int(z)}.dcm", z)
    other = f"{SERIES}.8"
    _ct(src / "a.dcm", 0.0, SeriesInstanceUID=other, SOPInstanceUID=f"{other}.1",
        WindowCenter=40, WindowWidth=0)  # fmt: skip
    _ct(src / "b.dcm", 1.0, SeriesInstanceUID=other, SOPInstanceUID=f"{other}.2")
    lines = _convert(src, tmp_path / "out")
    geometry = [x for x in lines if x.startswith("geometry: ")]
    assert geometry == [
        "geometry: 1 series with problems noted, images written as they are (uneven spacing 1); "
        "0 series refused (see the manifest's problems column and errors.csv)"
    ]
    assert [x for x in lines if x.startswith("files: ")] == [
        "files: 1 series with files' own problems noted, outputs written "
        "(WindowWidth 0 is not positive 1)"
    ]
    strict = _convert(src, tmp_path / "strict", "--strict")
    assert (  # what the refusal means: the words of a note, not of a failure to read
        "strict: 4 files refused for the problems noted (errors.csv; without --strict they "
        "are converted, each problem noted in the manifest's problems column)"
    ) in strict
    assert not [x for x in strict if x.startswith(("geometry: ", "files: "))]


def test_a_ct_preset_on_values_that_are_not_hu_is_said(tmp_path: Path) -> None:
    # the presets are CT windows in HU (MedVision #7: HU windows are for CT only); '--window
    # lung' over a folder that also holds an MR series windowed the MR's values by -600 and
    # 1500 as if they were HU, unsaid. The CT series is windowed as before, without a note
    src, other = tmp_path / "src", f"{SERIES}.9"
    for z in (0.0, 1.0):
        _ct(src / f"ct{z:g}.dcm", z)
        _ct(src / f"mr{z:g}.dcm", z, SeriesInstanceUID=other, SOPInstanceUID=f"{other}.{z:g}",
            Modality="MR")  # fmt: skip
    said = "HU preset: window 'lung' is a CT window in HU (-600, 1500) applied to MR values"
    for per in ("instance", "series"):
        lines = _convert(src, tmp_path / per, "--window", "lung", "--per", per)
        assert (
            lines[1]
            == "files: 1 series with files' own problems noted, outputs written (HU preset 1)"
        )
        with (tmp_path / per / "manifest.csv").open() as fh:
            rows = {r["modality"]: r for r in csv.DictReader(fh)}
        assert rows["MR"]["problems"].startswith(said) and rows["CT"]["problems"] == ""
        assert rows["MR"]["window"] == rows["CT"]["window"] == "lung"


def test_a_ct_preset_on_values_the_header_does_not_call_hu_is_said(tmp_path: Path) -> None:
    """A CT whose RescaleType (0028,1054) is 'US' (unspecified) holds no HU, nor an MR whose
    RescaleType says 'US'. Only the modality was
    looked at: the CT ones were windowed by -600/1500 without a word; the MR one is said once
    (per series too, where the series' modality and its files' units both say it)."""
    src, said = tmp_path / "src", "HU preset: window 'lung' is a CT window in HU (-600, 1500)"
    ct_us, mr_us, ct_hu = f"{SERIES}.7", f"{SERIES}.8", f"{SERIES}.9"
    for z in (0.0, 1.0):
        _ct(src / f"us{z:g}.dcm", z, SeriesInstanceUID=ct_us, SOPInstanceUID=f"{ct_us}.{z:g}",
            RescaleType="US")  # fmt: skip
        _ct(src / f"mr{z:g}.dcm", z, SeriesInstanceUID=mr_us, SOPInstanceUID=f"{mr_us}.{z:g}",
            RescaleType="US", Modality="MR")  # fmt: skip
        _ct(src / f"hu{z:g}.dcm", z, SeriesInstanceUID=ct_hu, SOPInstanceUID=f"{ct_hu}.{z:g}",
            RescaleType="HU")  # fmt: skip
    for per in ("instance", "series"):
        _convert(src, tmp_path / per, "--window", "lung", "--per", per)
        with (tmp_path / per / "manifest.csv").open() as fh:
            problems = {r["source"][:2]: r["problems"] for r in csv.DictReader(fh)}
        assert problems == {
            "us": f"{said} applied to values whose RescaleType (0028,1054) is 'US', not HU",
            "mr": f"{said} applied to values whose RescaleType (0028,1054) is 'US', not HU",
            "hu": "",
        }, per
