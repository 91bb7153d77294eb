"""A DICOM labels CSV listing a series (or a file) twice: refused up front, or said.

Before: a ``series_uid`` listed again with another label was refused only after the whole
source had been converted and a run directory announced (``labels.csv line 18: series_uid
listed again ...``); a ``file`` listed with two labels likewise, once the run directory had
been made. A row repeated as it is was used once without a word (an image list's is
warned about). Now both conflicts are refused with the other input checks (no run directory,
no conversion), and repeats are warned about once, naming their lines.
"""

from __future__ import annotations

import csv
import logging
from pathlib import Path

import pydicom
import pytest

from pipeline.errors import ConfigError
from pipeline.synth import StudySpec, write_study
from workflows.run.checks import check_inputs
from workflows.run.config import load_config
from workflows.run.runner import run_study
from workflows.run.truth import resolve_ground_truth

CONFIGS = Path(__file__).parents[2] / "configs"
SPEC = StudySpec(patients=4, modality="CR", size=16, series_per_patient=1)


@pytest.fixture(scope="module", name="cr")
def _cr(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 patients' radiographs, one series each, and their UID-keyed labels.csv."""
    write_study(folder := tmp_path_factory.mktemp("cr_repeats"), SPEC)
    return folder


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _config(cr: Path, labels: Path, out: Path):  # type: ignore[no-untyped-def]
    sets = [f"data.source={cr / 'dicom'}", f"data.labels={labels}", f"output={out}"]
    return load_config(CONFIGS / "xray_classify.yaml", sets)


def _file_rows(cr: Path) -> list[dict[str, str]]:
    """``file,label`` rows, one per file, labels from the study's UID-keyed CSV."""
    by_series = {r["series_uid"]: r["label"] for r in _rows(cr / "labels.csv")}
    root = cr / "dicom"
    return [{"file": p.relative_to(root).as_posix(),
             "label": by_series[pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID]}
            for p in sorted(root.rglob("*.dcm"))]  # fmt: skip


def test_a_series_given_two_labels_is_refused_before_anything_is_made(
    cr: Path,
    tmp_path: Path,
) -> None:
    rows = _rows(cr / "labels.csv")
    other = "1" if rows[1]["label"] == "0" else "0"
    labels = _write(tmp_path / "labels.csv", [*rows, {**rows[1], "label": other}])
    out = tmp_path / "runs"
    with pytest.raises(ConfigError) as info:
        run_study(_config(cr, labels, out), progress=False)
    line = len(rows) + 2  # the header, then the rows: the appended one
    assert str(info.value) == (
        "data.labels: 1 series of labels.csv listed again with another label (only one can be "
        f"its truth): the series_uid of line 3 (lines 3, {line}: {rows[1]['label']!r} then "
        f"{other!r})"
    )
    assert not out.exists()  # no run directory, nothing converted


def test_a_file_given_two_labels_under_two_spellings_is_refused_up_front(
    cr: Path,
    tmp_path: Path,
) -> None:
    rows = _file_rows(cr)
    other = "1" if rows[0]["label"] == "0" else "0"
    twice = {"file": "./" + rows[0]["file"], "label": other}
    labels = _write(tmp_path / "labels.csv", [*rows, twice])
    with pytest.raises(ConfigError, match=r"1 file of labels\.csv listed again with another label"):
        check_inputs(_config(cr, labels, tmp_path / "runs"))


def test_rows_repeated_as_they_are_are_said_once(
    cr: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    rows = _rows(cr / "labels.csv")
    spaced = {**rows[2], "label": f" {rows[2]['label']}.0 "}  # the same label, written so
    labels = _write(tmp_path / "labels.csv", [*rows, rows[0], spaced])
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        check_inputs(_config(cr, labels, tmp_path / "runs"))
    n = len(rows)
    assert [r.getMessage() for r in caplog.records] == [
        "labels.csv repeats the rows of 2 series as they are (the same values): each used "
        f"once: the series_uid of line 2 (lines 2, {n + 2}); the series_uid of line 4 "
        f"(lines 4, {n + 3})"
    ]
    files = _file_rows(cr)
    caplog.clear()
    labels = _write(tmp_path / "files.csv", [*files, {**files[1], "file": "./" + files[1]["file"]}])
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        check_inputs(_config(cr, labels, tmp_path / "runs"))
    assert [r.getMessage() for r in caplog.records] == [
        "files.csv repeats the rows of 1 file as they are (the same values): each used once: "
        f"{files[1]['file']} (lines 3, {len(files) + 2})"
    ]
    # resolved as before: the file once, " 1.0 " being label 1 as in a UID-keyed CSV
    written, _ = resolve_ground_truth(cr / "dicom", labels, None, tmp_path / "run")
    assert written is not None and len(_rows(written)) == len(files)


def test_a_per_instance_table_is_no_repeat(
    cr: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """One row per instance (a sop_instance_uid column the run does not read): a series on
    several rows with one label is how such tables look, not a repeat."""
    rows = _rows(cr / "labels.csv")
    table = [{**r, "sop_instance_uid": f"1.2.3.{k}.{i}"} for k, r in enumerate(rows)
             for i in range(2)]  # fmt: skip
    labels = _write(tmp_path / "labels.csv", table)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        check_inputs(_config(cr, labels, tmp_path / "runs"))
    assert caplog.records == []


def test_a_masks_row_repeated_as_it_is_is_said_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A DICOM masks CSV's image (instance, frame) listed again with the same mask (spelt
    './m/a.png'): used once, as before, and now said with its lines."""
    from workflows.run.image_files import conflicting_dicom_masks

    rows = [
        {"sop_instance_uid": "1.2.3", "frame": "0", "mask": "m/a.png"},
        {"sop_instance_uid": "1.2.4", "frame": "0", "mask": "m/b.png"},
        {"sop_instance_uid": "1.2.3", "frame": "0", "mask": "./m/a.png"},
        {"sop_instance_uid": "1.2.3", "frame": "1", "mask": "m/c.png"},  # another frame
    ]
    masks = _write(tmp_path / "masks.csv", rows)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        assert conflicting_dicom_masks(masks, list(rows[0]), None) == []
    assert [r.getMessage() for r in caplog.records] == [
        "masks.csv lists 1 image again with the same mask: each used once: the "
        "sop_instance_uid of line 2, frame 0 (lines 2, 4)"
    ]
