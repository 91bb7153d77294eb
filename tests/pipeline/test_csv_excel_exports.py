"""Two of Excel's CSV-like exports are named as what they are.

"Unicode Text" is UTF-16 with tabs: it was refused as "byte 0xFF at offset 0, e.g. an
accented letter saved in a Windows code page". A first line ``sep=,`` (Excel's separator
hint) was taken for the header, so the file was refused as rows with "4 cells but the header
names 2 columns", or read with the columns ``sep=`` and ``""``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cells import csv_text
from pipeline.errors import RadpipeError


def test_utf16_unicode_text_is_named(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes("image\tlabel\r\na.png\t1\r\n".encode("utf-16"))  # with its BOM
    with pytest.raises(RadpipeError) as err:
        csv_text(path)
    assert str(err.value) == (
        "labels.csv: not UTF-8 text (UTF-16, as Excel saves 'Unicode Text', separated by "
        "tabs); save it as UTF-8 ('CSV UTF-8' in Excel) and run again."
    )


@pytest.mark.parametrize("hint", ["sep=,\r\n", "sep=;\n"])
def test_excels_separator_hint_is_named_as_line_1(tmp_path: Path, hint: str) -> None:
    path = tmp_path / "labels.csv"
    path.write_bytes((hint + "image,label\r\na.png,1\r\n").encode("utf-8-sig"))
    with pytest.raises(RadpipeError) as err:
        csv_text(path)
    shown = hint.strip()
    assert str(err.value) == (
        f"labels.csv line 1: '{shown}' is Excel's separator hint, not the header row: delete "
        "that line (the header comes first) and run again."
    )


def test_a_column_named_like_a_hint_is_still_a_header(tmp_path: Path) -> None:
    path = tmp_path / "labels.csv"
    path.write_text("sep=x,label\na,1\n")
    assert csv_text(path).read().splitlines()[0] == "sep=x,label"
