"""A CSV row with filled cells past its header's columns is refused, naming its line.

``csv.DictReader`` files such cells under the key ``None``; every reader of a labels, masks or
image-list CSV ignored them, so ``1.2.3,1,round, lesion`` had the class name ``round`` and a
row shifted by a stray comma was read from the wrong columns, unsaid. Lines by hand.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from pipeline.cells import csv_rows, csv_text
from pipeline.errors import RadpipeError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "labels.csv"
    path.write_bytes(text.encode())
    return path


def test_an_unquoted_comma_is_refused_naming_the_line(tmp_path: Path) -> None:
    path = _write(
        tmp_path, "series_uid,label,class_name\r\n1.2.3,0,none\r\n1.2.4,1,round, lesion\r\n"
    )
    with pytest.raises(RadpipeError) as info:
        csv_text(path)
    assert str(info.value) == (
        "labels.csv line 3: 4 cells but the header names 3 columns (a comma inside a value "
        "that is not quoted?); quote that value, or remove the extra cells, and run again."
    )


def test_the_line_a_row_starts_on_after_a_quoted_line_break(tmp_path: Path) -> None:
    text = 'file,note\n\na.dcm,"two\nlines"\nb.dcm,x,y\n'  # b.dcm starts on line 5
    with pytest.raises(RadpipeError, match=r"^labels\.csv line 5: 3 cells"):
        csv_text(_write(tmp_path, text))


def test_quoted_commas_and_empty_cells_past_the_header_are_read_as_before(tmp_path: Path) -> None:
    text = 'series_uid,label,class_name\n1.2.3,1,"round, lesion"\n1.2.4,0,none,,\n'
    rows = list(csv_rows(csv.DictReader(csv_text(_write(tmp_path, text)))))
    assert [(r["series_uid"], r["class_name"], r.line) for r in rows] == [
        ("1.2.3", "round, lesion", 2),
        ("1.2.4", "none", 3),
    ]
