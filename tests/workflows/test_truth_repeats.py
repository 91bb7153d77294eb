"""A ``file``-keyed labels or masks CSV that repeats a row as it is (the same file, frame and
mask; the same label) uses it once, as a UID-keyed CSV does (a series listed again with the
same label, an instance and frame again with the same mask). It was refused, 'listed more
than once', once the run directory had been made (exit 1); a repeat with another label or
mask is still refused, naming the lines."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from tests.workflows.test_truth import _files, binary_masks, cr, file_labels, mr  # noqa: F401
from workflows.run.truth import resolve_ground_truth


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _append(path: Path, rows: list[dict[str, str]]) -> None:
    with path.open("a", newline="") as fh:
        csv.DictWriter(fh, fieldnames=list(rows[0])).writerows(rows)


def test_a_masks_row_repeated_as_it_is_is_used_once(mr: Path, tmp_path: Path) -> None:  # noqa: F811
    masks = binary_masks(mr, "again", rgb255=False, by_file=True)
    rows = _rows(masks)
    # row 1 again as it is; row 2 again with its file spelt another way, the same mask
    _append(masks, [rows[0], {**rows[1], "file": "./" + rows[1]["file"]}])
    _, resolved = resolve_ground_truth(mr / "dicom", None, masks, tmp_path / "run")
    assert resolved is not None
    got = _rows(resolved)
    uid_of = {rel: str(ds.SOPInstanceUID) for rel, ds in _files(mr)}
    expected = {(hash_key(uid_of[r["file"]]), "0"): Path(r["mask"]).name for r in rows}
    assert {(r["instance_key"], r["frame"]): Path(r["mask"]).name for r in got} == expected
    assert len(got) == len(rows)  # each image once
    assert [r["csv_line"] for r in got[:2]] == ["2", "3"]  # named by its first line


def test_a_labels_row_repeated_as_it_is_is_used_once(cr: Path, tmp_path: Path) -> None:  # noqa: F811
    labels = file_labels(cr, tmp_path / "labels.csv")
    rows = _rows(labels)
    _append(labels, [rows[3], {**rows[5], "label": f" {rows[5]['label']} "}])  # lines 14, 15
    got, _ = resolve_ground_truth(cr / "dicom", labels, None, tmp_path / "run")
    assert got is not None
    by_series = {r["series_key"]: r["label"] for r in _rows(got)}
    expected = {
        hash_key(r["series_uid"]): r["label"] for r in csv.DictReader((cr / "labels.csv").open())
    }
    assert by_series == expected


def test_a_file_listed_again_with_another_label_names_its_lines(
    cr: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    labels = file_labels(cr, tmp_path / "labels.csv")
    rows = _rows(labels)
    other = "1" if rows[3]["label"] == "0" else "0"
    _append(labels, [rows[3], {**rows[3], "label": other}])  # lines 14 (same), 15 (another)
    with pytest.raises(RadpipeError) as info:
        resolve_ground_truth(cr / "dicom", labels, None, tmp_path / "run")
    assert (f"  listed again with another label (1): {rows[3]['file']} (lines 5, 14, 15)") in str(
        info.value
    ).splitlines()
    assert not (tmp_path / "run").exists()
