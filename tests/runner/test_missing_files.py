"""Files a CSV names that are not there, listed before the run (exit 2, no run directory)
with their lines, and a word when a file of that name in another letter case is there (a CSV
written on Windows or macOS, whose file systems ignore case). A UID-keyed masks CSV's missing
mask was refused as ``m0.png: file not found.``: its base name alone, no line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from tests.runner.conftest import base_config, read_rows, seg_config, write_rows
from workflows.cli import main
from workflows.run.missing_files import case_hint


def _case_sensitive(folder: Path) -> bool:
    (folder / "probe").write_text("")
    return not (folder / "PROBE").exists()


@pytest.fixture
def seg_copy(mr_seg: Path, tmp_path: Path) -> Path:
    study = tmp_path / "study"
    shutil.copytree(mr_seg, study)
    if not _case_sensitive(tmp_path):
        pytest.skip("a file system that ignores letter case")
    return study


def _run(tmp_path: Path, raw: dict[str, object], capsys: pytest.CaptureFixture[str]) -> str:
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump(raw))
    code = main(["run", str(config), "--quiet"])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists() or not [
        p for p in (tmp_path / "out").iterdir() if p.name[0] != "."
    ]  # no run directory
    return f"{code} {err}"


def test_a_masks_csv_names_each_missing_mask_as_written_with_its_line_and_the_case_on_disk(
    seg_copy: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rows = read_rows(seg_copy / "masks.csv")
    real = rows[0]["mask"]  # e.g. masks/xxx.png: the same path in capitals is no file here
    rows[0]["mask"] = real.upper()
    gone = rows[3]["mask"] = "gone/" + Path(rows[3]["mask"]).name
    write_rows(seg_copy / "masks.csv", rows)
    said = _run(tmp_path, seg_config(seg_copy, tmp_path / "out", []), capsys)
    assert said.startswith("2 ")  # a config error, before anything is converted
    assert (
        "data.masks: 2 mask files named in masks.csv are not files under its folder (study/)"
        in said
    )
    assert f"{real.upper()} (line 2) (on disk: {real}; names here are case-sensitive)" in said
    assert f"{gone} (line 5)" in said
    assert "file not found" not in said


def test_a_file_keyed_labels_csv_says_the_case_on_disk(
    cr16: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if not _case_sensitive(tmp_path):
        pytest.skip("a file system that ignores letter case")
    files = sorted(
        p.relative_to(cr16 / "dicom").as_posix() for p in (cr16 / "dicom").rglob("*.dcm")
    )
    rows = [{"file": f, "label": i % 2} for i, f in enumerate(files)]
    rows[1]["file"] = files[1].upper()
    raw = base_config(cr16, tmp_path / "out", labels=str(write_rows(tmp_path / "l.csv", rows)))
    said = _run(tmp_path, raw, capsys)
    assert f"{files[1].upper()} (on disk: {files[1]}; names here are case-sensitive)" in said


def test_an_images_list_says_the_case_on_disk(tmp_path: Path) -> None:
    from tests.runner.conftest import images_refusal

    if not _case_sensitive(tmp_path):
        pytest.skip("a file system that ignores letter case")
    (tmp_path / "Img").mkdir()
    (tmp_path / "Img" / "a.PNG").write_bytes(b"")
    rows = [{"image": "img/A.png", "label": 0}]
    said = images_refusal(tmp_path, rows)
    assert "img/A.png (line 2) (on disk: Img/a.PNG; names here are case-sensitive)" in said


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("sub/A.png", " (on disk: Sub/a.png; names here are case-sensitive)"),
        ("Sub/a.png", ""),  # there as written: no hint
        ("sub/b.png", ""),  # no file of that name in any case
        ("two/x.png", ""),  # two/x.png and two/X.png: which was meant cannot be told
        ("SUB", ""),  # a folder, not a file
    ],
)
def test_case_hint(tmp_path: Path, name: str, hint: str) -> None:
    if not _case_sensitive(tmp_path):
        pytest.skip("a file system that ignores letter case")
    (tmp_path / "Sub").mkdir()
    (tmp_path / "Sub" / "a.png").write_text("")
    (tmp_path / "Two").mkdir()
    (tmp_path / "Two" / "x.PNG").write_text("")
    (tmp_path / "Two" / "X.png").write_text("")
    assert case_hint(tmp_path, name) == hint
