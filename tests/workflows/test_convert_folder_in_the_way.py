"""A folder at an output's path (a user's ``mkdir``, an older run's layout) stopped the whole
batch: the failed task's clean-up unlinked the folder, and its ``IsADirectoryError`` ended
``convert`` with exit 2 ("Is a directory; it is a folder: give a file name"). Now that file
fails on its own (``errors.csv``: ``cannot write OUTPUT: a folder is in the way``), the folder
is left as it was, the other files are converted, and the exit code is 1. Per series, a
rerun kept a series whose volume was gone or replaced by a folder (the manifest listed a
missing file, exit 0); it is converted again."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _converted(tmp_path: Path, fmt: str) -> tuple[Path, list[str]]:
    write_study(tmp_path / "s", StudySpec(patients=2, modality="CR", size=16,
                                          series_per_patient=1))  # fmt: skip
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "s" / "dicom"), str(out), "--format", fmt]) == 0
    outputs = sorted(r["output"] for r in _rows(out / "manifest.csv"))
    assert len(outputs) == 2
    return out, outputs


@pytest.mark.parametrize("fmt", ["npy", "nifti"])  # per instance, per series
def test_a_folder_in_the_way_fails_that_file_only(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    out, (blocked, other) = _converted(tmp_path, fmt)
    (out / blocked).unlink()
    (out / blocked).mkdir()
    (out / blocked / "mine.txt").write_text("keep")
    capsys.readouterr()
    assert main(["convert", str(tmp_path / "s" / "dicom"), str(out), "--format", fmt]) == 1
    reason = (
        f"cannot write {blocked}: a folder is in the way (remove or rename it, then convert again)"
    )
    assert [(r["reason"], r["kind"]) for r in _rows(out / "errors.csv")] == [(reason, "error")]
    assert [r["output"] for r in _rows(out / "manifest.csv")] == [other]
    assert (out / blocked / "mine.txt").read_text() == "keep"  # the folder is not ours
    assert reason in capsys.readouterr().err


@pytest.mark.parametrize("fmt", ["png", "nifti"])  # per instance, per series
def test_a_file_where_an_output_folder_must_be_fails_that_file_only(
    tmp_path: Path, fmt: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file at an output's folder (OUT/SERIES made a file): its clean-up's ``lstat`` raised
    ``NotADirectoryError``, which stopped the whole batch (exit 2, "a file stands in the
    path: give a folder as the output", no manifest, no errors.csv)."""
    _, (blocked, other) = _converted(tmp_path, "npy" if fmt == "png" else fmt)
    fresh = tmp_path / "fresh"
    folder = Path(blocked).parts[0]
    assert Path(other).parts[0] != folder  # another patient's: converted
    fresh.mkdir()
    (fresh / folder).write_text("mine")
    capsys.readouterr()
    assert main(["convert", str(tmp_path / "s" / "dicom"), str(fresh), "--format", fmt]) == 1
    [row] = _rows(fresh / "errors.csv")
    reason = {
        "png": f"cannot write {Path(blocked).parent}: a file stands where one of its folders "
        "must be",  # the output's own folder, below the file
        "nifti": f"cannot write into {folder}: it is a file, where a folder must be",
    }
    assert row["reason"] == f"{reason[fmt]} (remove or rename it, then convert again)"
    [listed] = [r["output"] for r in _rows(fresh / "manifest.csv")]
    assert Path(listed).parts[0] == Path(other).parts[0] and (fresh / listed).is_file()
    assert (fresh / folder).read_text() == "mine"


def test_a_per_series_rerun_converts_a_volume_that_is_gone(tmp_path: Path) -> None:
    out, (gone, other) = _converted(tmp_path, "nifti")
    kept = (out / other).stat().st_mtime_ns
    (out / gone).unlink()
    assert main(["convert", str(tmp_path / "s" / "dicom"), str(out), "--format", "nifti"]) == 0
    assert (out / gone).is_file()
    assert (out / other).stat().st_mtime_ns == kept  # the other one kept, not rewritten
    assert sorted(r["output"] for r in _rows(out / "manifest.csv")) == [gone, other]


def test_a_manifest_row_outside_out_is_not_taken_as_done(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """A hand-edited row naming ``../keep.npy`` (a file that exists, outside OUT) was taken as
    that source's finished output: the manifest listed a file outside OUT, the source's own
    output never written."""
    out, (edited, other) = _converted(tmp_path, "npy")
    (tmp_path / "keep.npy").write_bytes(b"mine")
    manifest = out / "manifest.csv"
    manifest.write_text(manifest.read_text().replace(f"{edited},", "../keep.npy,"))
    (out / edited).unlink()
    with caplog.at_level("WARNING", logger="radpipe"):
        assert main(["convert", str(tmp_path / "s" / "dicom"), str(out), "--format", "npy"]) == 0
    assert sorted(r["output"] for r in _rows(manifest)) == [edited, other]
    assert (out / edited).is_file() and (tmp_path / "keep.npy").read_bytes() == b"mine"
    assert "(1 converted, 1 already done)" in capsys.readouterr().out
    assert [r.getMessage() for r in caplog.records if "outside" in r.getMessage()] == [
        "the last run's manifest lists the output '../keep.npy', outside the output folder (a "
        "hand-edited row?): not taken as done, its source is converted again"
    ]
