"""Reading a labels CSV into class indices, and the rare-class warning: edge cases by hand."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.errors import RadpipeError
from workflows.run.labels import note_rare_classes, read_label_table
from workflows.run.split_column import SplitConfig


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_text(text)
    return path


def test_integer_labels_of_class_0_only_are_still_two_classes(tmp_path: Path) -> None:
    # a binary problem whose CSV happens to hold negatives only (an external test set)
    table = read_label_table(_csv(tmp_path, "series_uid,label\n1.2.3,0\n1.2.4,0\n"))
    assert table.class_names == ["0", "1"]


def test_an_index_past_the_named_classes_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "series_uid,label\n1.2.3,0\n1.2.4,2\n")
    with pytest.raises(RadpipeError, match=r"not classes of the run .*'2'"):
        read_label_table(path, class_names=["benign", "malignant"])
    assert sorted(read_label_table(path, class_names=["a", "b", "c"]).by_key.values()) == [0, 2]


def test_class_names_in_another_letter_case_are_said_to_differ_only_in_case(
    tmp_path: Path,
) -> None:
    """An external labels file written 'Benign'/'Malignant' for a run of 'benign'/'malignant'
    was refused without saying why the names did not match (newcomer13's leftover)."""
    path = _csv(tmp_path, "series_uid,label\n1.2.3,Benign\n1.2.4,malignant\n1.2.5,other\n")
    with pytest.raises(RadpipeError) as err:
        read_label_table(path, class_names=["benign", "malignant"])
    assert str(err.value).endswith(
        "has values that are not classes of the run ('Benign', 'other'); classes: benign, "
        "malignant. Letter case differs ('Benign' is 'benign'): class names are case-sensitive."
    )
    path = _csv(tmp_path, "series_uid,label\n1.2.3,Benign\n1.2.4,1\n")  # an index stays one
    with pytest.raises(RadpipeError) as err:
        read_label_table(path, class_names=["benign", "malignant"])
    assert "('Benign' is 'benign')" in str(err.value)
    assert sorted(read_label_table(path, class_names=["Benign", "x"]).by_key.values()) == [0, 1]


def test_a_class_name_column_in_another_order_is_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "series_uid,label,class_name\n1.2.3,0,benign\n1.2.4,1,malignant\n")
    assert read_label_table(path).class_names == ["benign", "malignant"]
    with pytest.raises(RadpipeError, match="0 is 'benign' \\(the run's class 0 is 'malignant'\\)"):
        read_label_table(path, class_names=["malignant", "benign"])


def test_a_class_of_two_series_is_rare_in_a_three_part_split(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # train, validation and test: 3 parts; 2 series of class 1 cannot be in each
    table = read_label_table(_csv(tmp_path, "series_uid,label\n1.2.3,0\n1.2.4,1\n"))
    split = [{"label": 0}] * 6 + [{"label": 1}] * 2
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        note_rare_classes(split, table, SplitConfig(test=0.2, val=0.2))
    assert "class '1' has 2 labelled series (of 8): too few to be in each of the 3 parts" in (
        caplog.text
    )


def test_indices_and_names_mixed_in_one_column_are_refused(tmp_path: Path) -> None:
    path = _csv(tmp_path, "series_uid,label\n1.2.3,0\n1.2.4,benign\n")
    with pytest.raises(RadpipeError, match=r"mixes class indices \(0\) with class names"):
        read_label_table(path)


def test_a_cell_starting_with_a_minus_is_kept_as_text() -> None:
    from workflows.run.labels import spreadsheet_safe

    assert spreadsheet_safe("-1+2") == "'-1+2"
    assert spreadsheet_safe("benign") == "benign"
