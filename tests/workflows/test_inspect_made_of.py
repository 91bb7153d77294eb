"""``radpipe inspect`` said ``9 frames`` of a series of 9 Siemens mosaics (315 slices: one
frame per file, its slices tiled in it) and ``12 frames`` of 12 single-frame files, which
readers took for a count of slices; and ``1 unusable files:``. Each series now says the files
its slices come from (and their frames, or that they are mosaics), and counts take their
noun's number. Expected lines by hand from the files written."""

from __future__ import annotations

import json
from pathlib import Path

from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G
from tests.runner.conftest import radpipe_in


def _series_lines(out: str) -> list[str]:
    return [x.split("  ", 2)[-1] for x in out.splitlines() if x.startswith("    series ")]


def test_mosaics_are_counted_as_files_of_tiled_slices(tmp_path: Path) -> None:
    series = generate_uid()
    files = [G.mosaic(6, 8, series=series, AcquisitionNumber=t + 1) for t in range(3)]
    G.save(tmp_path / "in", files)
    (tmp_path / "in" / "notes.txt").write_text("hello")
    proc = radpipe_in(tmp_path, "inspect", "in")
    assert proc.returncode == 1, proc.stderr  # the text file is unusable
    (line,) = _series_lines(proc.stdout)
    assert " 3 files, Siemens mosaics of 6 slices, " in line, line
    assert "frame" not in line
    assert "\n1 unusable file:\n  notes.txt: " in proc.stdout
    summary = json.loads(radpipe_in(tmp_path, "inspect", "in", "--json").stdout)
    (s,) = summary["patients"][0]["studies"][0]["series"]
    assert (s["files"], s["frames"], s["mosaics"], s["mosaic_tiles"]) == (3, 3, 3, [6])


def test_single_and_multi_frame_files_say_files_and_frames(tmp_path: Path) -> None:
    # an Enhanced MR object of 4 frames 2 mm apart, and one of 3 classic slices (3 files)
    G.save(tmp_path / "multi", [G.enhanced([[0, 0, 2 * k] for k in range(4)])])
    series = generate_uid()
    G.save(tmp_path / "single", [G.plane([0, 0, 3 * k], series=series) for k in range(3)])
    multi = radpipe_in(tmp_path, "inspect", "multi")
    assert multi.returncode == 0, multi.stderr
    (line,) = _series_lines(multi.stdout)
    assert "4 slices, 2 mm, 1 file of 4 frames, " in line, line
    single = radpipe_in(tmp_path, "inspect", "single")
    (line,) = _series_lines(single.stdout)
    assert "3 slices, 3 mm, 3 files, " in line, line


def test_an_empty_folder_is_said_and_exits_1(tmp_path: Path) -> None:
    """``radpipe inspect empty`` printed ``0 files, 0 images ...`` and exited 0, as for a clean
    folder (a mistyped or not yet copied one); ``convert`` exits 1 on it."""
    (tmp_path / "empty").mkdir()
    proc = radpipe_in(tmp_path, "inspect", "empty")
    assert proc.returncode == 1
    assert proc.stderr == (
        "radpipe inspect: no file found in empty (an empty folder? hidden files and radpipe's "
        "output folders are not read)\n"
    )


def test_help_gives_the_exit_codes_as_they_are() -> None:
    """``inspect --help`` said ``1 otherwise`` (a split series exits 0; an empty folder 1)."""
    proc = radpipe_in(Path.cwd(), "inspect", "--help")
    said = " ".join(proc.stdout.split())
    assert "1 when one was or SRC holds no file, 2 for a usage error." in said
    assert "the files they come from and their frames or mosaics" in said
