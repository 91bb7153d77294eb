"""``data.label_column``, class names in a stored order, and ``data.missing_labels``
(issue 13, items 3 and 4), through :func:`prepare_study` and ``radpipe run``/``predict``."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from tests.runner.conftest import base_config, read_json, read_rows, write_rows
from workflows.run.config import validate_config
from workflows.run.study import Study, prepare_study


def _prepare(study: Path, output: Path, run: Path, labels: Path, **data: object) -> Study:
    run.mkdir(parents=True, exist_ok=True)
    raw = base_config(study, output, labels=str(labels), **data)
    return prepare_study(validate_config(raw), run, progress=False)


def _truth(study: Path) -> dict[str, int]:
    """{series_key: label} worked out from the synthetic study's own labels.csv."""
    return {hash_key(r["series_uid"]): int(r["label"]) for r in read_rows(study / "labels.csv")}


def test_text_labels_get_alphabetical_indices_stored_in_the_run(
    cr16: Path, shared_output: Path, tmp_path: Path
) -> None:
    # 0 -> "zebra", 1 -> "apple": sorted names make apple 0 and zebra 1 (the reverse).
    rows = [{**r, "label": {"0": "zebra", "1": "apple"}[r["label"]]}
            for r in read_rows(cr16 / "labels.csv")]  # fmt: skip
    labels = write_rows(tmp_path / "text.csv", rows)
    study = _prepare(cr16, shared_output, tmp_path / "run", labels)
    assert study.class_names == ["apple", "zebra"]
    truth = _truth(cr16)
    assert {r["series_key"]: r["label"] for r in study.split} == {
        k: 1 - v for k, v in truth.items()
    }
    assert read_json(tmp_path / "run" / "classes.json")["class_names"] == ["apple", "zebra"]
    # What the datasets read: the same indices.
    indexed = read_rows(tmp_path / "run" / "labels_indexed.csv")
    assert {r["series_key"]: int(r["label"]) for r in indexed} == {
        k: 1 - v for k, v in truth.items()
    }


def test_a_resumed_run_keeps_its_stored_class_order(
    cr16: Path, shared_output: Path, tmp_path: Path
) -> None:
    run = tmp_path / "run"
    run.mkdir()
    (run / "classes.json").write_text('{"class_names": ["round_lesion", "no_lesion"]}')
    rows = [{**r, "label": r["class_name"]} for r in read_rows(cr16 / "labels.csv")]
    study = _prepare(cr16, shared_output, run, write_rows(tmp_path / "names.csv", rows))
    assert study.class_names == ["round_lesion", "no_lesion"]
    truth = _truth(cr16)
    assert {r["series_key"]: r["label"] for r in study.split} == {
        k: 1 - v for k, v in truth.items()
    }


def test_a_resumed_run_names_its_classes_in_the_stored_order_whatever_the_config_says(
    cr16: Path, shared_output: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # The labels are indexed in classes.json's order; the study named them from
    # data.class_names, so a config in the other order named every class the other's name.
    run = tmp_path / "run"
    run.mkdir()
    (run / "classes.json").write_text('{"class_names": ["round_lesion", "no_lesion"]}')
    rows = [{**r, "label": r["class_name"]} for r in read_rows(cr16 / "labels.csv")]
    labels = write_rows(tmp_path / "names.csv", rows)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        study = _prepare(
            cr16, shared_output, run, labels, class_names=["no_lesion", "round_lesion"]
        )
    assert study.class_names == ["round_lesion", "no_lesion"]
    assert (
        "data.class_names (config.yaml) lists the classes as no_lesion, round_lesion, but the "
        "run indexed its labels (and its model's outputs) as round_lesion, no_lesion (its "
        "classes.json): classes.json's order is used" in caplog.messages
    )
    truth = _truth(cr16)  # 0 is no_lesion in the CSV: index 1 here
    assert {r["series_key"]: r["label"] for r in study.split} == {
        k: 1 - v for k, v in truth.items()
    }


def test_label_column_is_the_one_read(cr16: Path, shared_output: Path, tmp_path: Path) -> None:
    # 'label' is all zeros; the configured column 'diagnosis' holds the real classes.
    rows = [{**r, "label": "0", "diagnosis": r["label"]} for r in read_rows(cr16 / "labels.csv")]
    labels = write_rows(tmp_path / "diag.csv", rows)
    study = _prepare(cr16, shared_output, tmp_path / "run", labels, label_column="diagnosis")
    assert {r["series_key"]: r["label"] for r in study.split} == _truth(cr16)
    with pytest.raises(RadpipeError, match=r"diag.csv: no label column 'dx'.*diagnosis"):
        _prepare(cr16, shared_output, tmp_path / "run2", labels, label_column="dx")


def test_values_that_are_not_classes_are_refused(
    cr16: Path, shared_output: Path, tmp_path: Path
) -> None:
    rows = read_rows(cr16 / "labels.csv")
    mixed = write_rows(tmp_path / "mixed.csv", [{**rows[0], "label": "benign"}, *rows[1:]])
    with pytest.raises(RadpipeError, match="mixes class indices"):
        _prepare(cr16, shared_output, tmp_path / "a", mixed)
    with pytest.raises(RadpipeError, match=r"'benign'.*classes: no_lesion, round_lesion"):
        _prepare(cr16, shared_output, tmp_path / "b", mixed,
                 class_names=["no_lesion", "round_lesion"])  # fmt: skip


def test_a_class_name_column_that_contradicts_the_class_order_is_refused(
    cr16: Path, shared_output: Path, tmp_path: Path
) -> None:
    # The CSV says 0 is no_lesion; data.class_names says 0 is round_lesion. Before, the
    # indices won silently and every case was trained and scored under the other name.
    labels = cr16 / "labels.csv"
    with pytest.raises(
        RadpipeError, match=r"0 is 'no_lesion' \(the run's class 0 is 'round_lesion'\)"
    ):
        _prepare(cr16, shared_output, tmp_path / "a", labels,
                 class_names=["round_lesion", "no_lesion"])  # fmt: skip
    # One index named two ways within the CSV.
    rows = read_rows(labels)
    twice = write_rows(
        tmp_path / "twice.csv", [{**rows[0], "label": "0", "class_name": "normal"}, *rows[1:]]
    )
    with pytest.raises(RadpipeError, match=r"0 is 'no_lesion', 'normal'"):
        _prepare(cr16, shared_output, tmp_path / "b", twice)


def test_spaces_around_a_class_name_are_no_part_of_it(
    cr16: Path, shared_output: Path, tmp_path: Path
) -> None:
    """A spreadsheet's ``no_lesion `` named the class with its space (classes.json, the
    report, the printed positive class), and ``no_lesion`` beside it was refused as another
    name of index 0."""
    rows = read_rows(cr16 / "labels.csv")
    spaced = [{**r, "class_name": f" {r['class_name']} " if i % 2 else r["class_name"]}
              for i, r in enumerate(rows)]  # fmt: skip
    study = _prepare(cr16, shared_output, tmp_path / "run",
                     write_rows(tmp_path / "spaced.csv", spaced))  # fmt: skip
    assert study.class_names == ["no_lesion", "round_lesion"]
    assert {r["series_key"]: r["label"] for r in study.split} == _truth(cr16)
    assert read_json(tmp_path / "run" / "classes.json")["class_names"] == [
        "no_lesion", "round_lesion"
    ]  # fmt: skip


def _partial_labels(cr16: Path, tmp_path: Path) -> Path:
    """Labels for 12 of the 16 series, plus 2 rows naming series that do not exist."""
    rows = read_rows(cr16 / "labels.csv")
    ghosts = [{**rows[0], "series_uid": f"1.2.3.{i}"} for i in range(2)]
    return write_rows(tmp_path / "partial.csv", rows[4:] + ghosts)


def test_missing_labels_warn_by_default_with_counts(
    cr16: Path, shared_output: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="radpipe"):
        study = _prepare(cr16, shared_output, tmp_path / "run", _partial_labels(cr16, tmp_path))
    assert len(study.split) == 12
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("4 of 16 series have no label" in m for m in warnings), warnings
    assert any("2 label rows" in m for m in warnings), warnings
    assert study.label_table is not None
    summary = study.label_table.summary
    assert (summary["series"], summary["labelled"], summary["without_label"]) == (16, 12, 4)
    assert summary["label_rows_not_in_data"] == 2 and summary["missing_labels"] == "warn"


def test_missing_labels_error_and_drop(
    cr16: Path, shared_output: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    labels = _partial_labels(cr16, tmp_path)
    with pytest.raises(RadpipeError, match=r"4 of 16 series have no label.*missing_labels"):
        _prepare(cr16, shared_output, tmp_path / "a", labels, missing_labels="error")
    with caplog.at_level(logging.INFO, logger="radpipe"):
        study = _prepare(cr16, shared_output, tmp_path / "b", labels, missing_labels="drop")
    assert len(study.split) == 12
    warned = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert not any("have no label" in m for m in warned)  # quiet, but still recorded
    assert study.label_table is not None and study.label_table.summary["without_label"] == 4


def test_a_run_refused_for_missing_labels_leaves_no_run_directory(
    cr16: Path, shared_output: Path, tmp_path: Path
) -> None:
    from workflows.run.runner import run_study

    output = tmp_path / "out"
    raw = base_config(cr16, output, labels=str(_partial_labels(cr16, tmp_path)),
                      missing_labels="error")  # fmt: skip
    with pytest.raises(RadpipeError, match="4 of 16 series have no label"):
        run_study(validate_config(raw), progress=False)
    assert [p.name for p in output.iterdir()] == [".cache"]


def _file_keyed(study: Path, tmp_path: Path, typo: bool) -> Path:
    """``site_labels.csv`` keyed by file, text labels, the first 2 series left out and (with
    ``typo``) one ``round_lesion`` misspelt ``round_lesoin``."""
    import pydicom

    files = {str(pydicom.dcmread(p, stop_before_pixels=True).SeriesInstanceUID):
             p.relative_to(study / "dicom").as_posix()
             for p in (study / "dicom").rglob("*.dcm")}  # fmt: skip
    rows = [{"file": files[r["series_uid"]], "label": r["class_name"]}
            for r in read_rows(study / "labels.csv")[2:]]  # fmt: skip
    if typo:
        first = next(r for r in rows if r["label"] == "round_lesion")
        first["label"] = "round_lesoin"
    return write_rows(tmp_path / "site_labels.csv", rows)


def test_label_messages_name_the_users_file_keyed_csv_and_a_lone_class_is_said(
    cr16: Path, shared_output: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file-keyed CSV is read through its resolved copy (truth/labels.csv): every message
    still names the user's file. A misspelt label becomes a class of one series: said."""
    labels = _file_keyed(cr16, tmp_path, typo=True)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        study = _prepare(cr16, shared_output, tmp_path / "run", labels)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("2 of 16 series have no label in site_labels.csv column 'label'" in m
               for m in warnings), warnings  # fmt: skip
    assert study.class_names == ["no_lesion", "round_lesion", "round_lesoin"]
    lone = [m for m in warnings if m.startswith("class ")]
    assert lone == [
        "class 'round_lesoin' has 1 labelled series (of 14): too few to be in each of the 3 "
        "parts of the split, so the model is trained or scored without it. A typo in "
        "site_labels.csv column 'label'? List the classes in data.class_names to have any "
        "other value refused."
    ]
    with pytest.raises(RadpipeError, match=r"^site_labels.csv: column 'label' has values that"):
        _prepare(cr16, shared_output, tmp_path / "run2", labels,
                 class_names=["no_lesion", "round_lesion"])  # fmt: skip
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="radpipe"):  # spelt right: nothing said
        _prepare(cr16, shared_output, tmp_path / "run3", _file_keyed(cr16, tmp_path, typo=False))
    assert not [r for r in caplog.records if r.getMessage().startswith("class ")]


def test_labels_differing_only_in_case_or_spacing_are_said(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """``Benign`` and ``benign `` (a second site's export): two classes, now said."""
    from workflows.run.config import SplitConfig
    from workflows.run.labels import LabelTable, note_rare_classes

    names = ["Benign", "benign", "malignant", "no  lesion", "No lesion"]
    table = LabelTable(by_key={}, class_names=names, source="labels.csv column 'label'")
    split = [{"label": k % 5} for k in range(50)]  # 10 of each: none rare
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        note_rare_classes(split, table, SplitConfig())
    tail = (
        " in labels.csv column 'label' differ only in letter case or spacing: they are 2 "
        "classes. Correct the CSV if they are one, or list the classes in data.class_names to "
        "have any other value refused."
    )
    assert [r.getMessage() for r in caplog.records] == [
        "labels 'Benign' and 'benign'" + tail,
        "labels 'no  lesion' and 'No lesion'" + tail,
    ]


def test_a_class_with_no_labelled_series_is_said_as_such(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An external set without one of the run's classes was told that the class was "too
    few to be in each of the 1 parts of the split, so the model is trained ... without it"."""
    from workflows.run.config import SplitConfig
    from workflows.run.labels import LabelTable, note_rare_classes

    table = LabelTable(by_key={}, class_names=["a", "b"], source="one.csv column 'label'")
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        note_rare_classes([{"label": 0}] * 6, table, SplitConfig())
    assert [r.getMessage() for r in caplog.records] == [
        "class 'b' has no labelled series (of 6) in one.csv column 'label': its rates and "
        "curves are undefined here."
    ]


def test_an_images_run_counts_images_not_series(caplog: pytest.LogCaptureFixture) -> None:
    """``data.kind: images`` labels images (the table's key column is ``image``): the warning
    said "labelled series" of a CSV that has none."""
    from workflows.run.config import SplitConfig
    from workflows.run.labels import LabelTable, note_rare_classes

    table = LabelTable(by_key={}, class_names=["a", "b"], source="list.csv column 'label'",
                       key_column="image")  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        note_rare_classes([{"label": 0}] * 9 + [{"label": 1}], table, SplitConfig())
    assert (
        caplog.records[0]
        .getMessage()
        .startswith("class 'b' has 1 labelled images (of 10): too few to be in each of the 3 parts")
    )
