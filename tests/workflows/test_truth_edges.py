"""File-keyed labels and masks CSVs: the problems found before anything is converted.

A synthetic MR study of two patients, one series of two slices each (two files per series);
expected messages by hand from the CSVs written here.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from pipeline.errors import RadpipeError
from pipeline.synth import StudySpec, write_study
from workflows.run.truth import is_file_keyed, resolve_ground_truth


@pytest.fixture(scope="module")
def mr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("mr_two")
    write_study(out, StudySpec(patients=2, modality="MR", size=16, slices=2, series_per_patient=1))
    return out


def _series_files(study: Path) -> list[str]:
    """The two files of the first series (the first folder holding .dcm files), relative."""
    root = study / "dicom"
    files = sorted(root.rglob("*.dcm"))
    first = [p for p in files if p.parent == files[0].parent]
    assert len(first) == 2
    return [p.relative_to(root).as_posix() for p in first]


def _csv(path: Path, rows: list[list[object]]) -> Path:
    with path.open("w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


def _problems(study: Path, tmp_path: Path, labels: Path | None, masks: Path | None = None) -> str:
    with pytest.raises(RadpipeError) as info:
        resolve_ground_truth(study / "dicom", labels, masks, tmp_path / "run",
                             split_column="part")  # fmt: skip
    return str(info.value)


def test_a_csv_with_a_uid_column_is_not_file_keyed(tmp_path: Path) -> None:
    assert is_file_keyed(_csv(tmp_path / "a.csv", [["file", "label"]]))
    assert not is_file_keyed(_csv(tmp_path / "b.csv", [["file", "series_uid", "label"]]))


def test_a_file_outside_the_source_is_not_found(mr: Path, tmp_path: Path) -> None:
    a, _ = _series_files(mr)
    shutil.copy(mr / "dicom" / a, mr / "outside.dcm")  # beside dicom/, not under it
    labels = _csv(tmp_path / "l.csv", [["file", "label"], ["../outside.dcm", 0]])
    text = _problems(mr, tmp_path, labels)
    assert "not found under data.source (1): ../outside.dcm" in text


@pytest.mark.parametrize(
    ("cells", "what"),
    [
        ([(0, "a", "train"), (1, "b", "train")], "labels"),
        ([(0, "a", "train"), (0, "b", "train")], "labels"),  # the class name differs
        ([(0, "a", "train"), (0, "a", "test")], "splits (split.column)"),
    ],
    ids=["label", "class-name", "split"],
)
def test_files_of_one_series_must_agree(
    mr: Path, tmp_path: Path, cells: list[tuple[int, str, str]], what: str
) -> None:
    rows: list[list[object]] = [["file", "label", "class_name", "part"]]
    rows += [[f, *c] for f, c in zip(_series_files(mr), cells, strict=True)]
    text = _problems(mr, tmp_path, _csv(tmp_path / "l.csv", rows))
    assert f"files of one series with different {what} (1)" in text


def test_mask_rows_need_a_frame_of_the_file_and_a_mask_that_exists(
    mr: Path, tmp_path: Path
) -> None:
    a, b = _series_files(mr)
    (tmp_path / "m.png").write_bytes(b"")
    rows = [["file", "frame", "mask"], [a, 1, "m.png"], [b, 0, "nope.png"]]
    text = _problems(mr, tmp_path, None, _csv(tmp_path / "masks.csv", rows))
    assert f"frame out of range (1): {a} frame 1 of 1" in text
    assert f"mask file not found (1): {b}: nope.png" in text


def test_past_ten_problems_of_a_kind_the_rest_are_counted(mr: Path, tmp_path: Path) -> None:
    rows: list[list[object]] = [["file", "label"]] + [[f"gone/{n:02d}.dcm", 0] for n in range(12)]
    text = _problems(mr, tmp_path, _csv(tmp_path / "l.csv", rows))
    assert "not found under data.source (12): gone/00.dcm; " in text
    assert "gone/09.dcm; and 2 more" in text and "gone/10.dcm" not in text
