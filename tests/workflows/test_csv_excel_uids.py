"""UIDs as Excel exports them: ``="1.2.840..."`` (text kept from becoming a number) and
``1.23457E+27`` (a UID Excel took for a number, its digits lost).

A ``="..."`` UID hashed to a key no image had, so its series was left out as unlabelled; a
float UID matched nothing either, and the warning about rows that matched nothing named them
by hashed key, which the user cannot find in the file.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipeline.data.io import read_labels_csv, read_masks_csv
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from pipeline.split import rows_from_labels_csv
from workflows.run.labels import apply_missing_policy, read_label_table
from workflows.run.mask_rows import check_mask_rows

UID_A, UID_B = "1.2.840.113619.2.55.3.11", "1.2.840.113619.2.55.3.22"


def test_excel_formula_uids_are_the_uids(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    # quoted, as Excel writes ="..." (its quotes doubled), and bare
    labels.write_text(f'series_uid,label\n"=""{UID_A}""",1\n="{UID_B}",0\n')
    assert read_labels_csv(labels) == {hash_key(UID_A): 1, hash_key(UID_B): 0}
    assert read_label_table(labels).by_key == {hash_key(UID_A): 1, hash_key(UID_B): 0}
    masks = tmp_path / "masks.csv"
    masks.write_text(f'sop_instance_uid,frame,mask\n"=""{UID_A}""",0,a.png\n')
    assert read_masks_csv(masks) == {(hash_key(UID_A), 0): tmp_path / "a.png"}
    split = tmp_path / "split_labels.csv"
    split.write_text(f'patient_id,series_uid,label\n="007",="{UID_A}",1\n')
    assert rows_from_labels_csv(split) == [
        {"patient_key": hash_key("007"), "series_key": hash_key(UID_A), "label": 1}
    ]


_FLOAT = "1.23457E+27"


@pytest.mark.parametrize(
    ("name", "text", "read"),
    [
        ("labels.csv", f"series_uid,label\n{UID_A},0\n\n{_FLOAT},1\n", read_labels_csv),
        ("table.csv", f"series_uid,label\n{UID_A},0\n\n{_FLOAT},1\n", read_label_table),
        ("masks.csv", f"sop_instance_uid,frame,mask\n{UID_A},0,a.png\n\n{_FLOAT},0,b.png\n",
         read_masks_csv),
        ("split.csv", f"patient_id,series_uid,label\np,{UID_A},0\n\np,{_FLOAT},1\n",
         rows_from_labels_csv),
    ],
    ids=["read_labels_csv", "read_label_table", "read_masks_csv", "rows_from_labels_csv"],
)  # fmt: skip
def test_a_uid_excel_made_a_number_is_refused_naming_its_line(
    tmp_path: Path, name: str, text: str, read: object
) -> None:
    path = tmp_path / name
    path.write_text(text)
    column = "sop_instance_uid" if name == "masks.csv" else "series_uid"
    with pytest.raises(RadpipeError) as caught:
        read(path)  # type: ignore[operator]
    assert str(caught.value).startswith(
        f"{name} line 4: {column} '1.23457E+27' is a number in scientific notation"
    )


def test_label_rows_that_match_nothing_are_named_by_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    labels = tmp_path / "labels.csv"
    # lines: 1 header, 2 A, 3 blank, 4 a UID of no converted series, 5 B, 6 another stray
    labels.write_text(f"series_uid,label\n{UID_A},0\n\n1.2.3.999,1\n{UID_B},1\n1.2.3.998,0\n")
    table = read_label_table(labels)
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        kept = apply_missing_policy(table, [hash_key(UID_A), hash_key(UID_B)], "warn")
    assert kept == [hash_key(UID_A), hash_key(UID_B)]
    (said,) = [r.getMessage() for r in caplog.records]
    assert said.startswith("2 label rows of labels.csv column 'label' name series that are ")
    assert said.endswith("so their labels are not used (lines 4, 6)")


def test_mask_rows_that_match_nothing_are_named_by_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    masks = tmp_path / "masks.csv"
    # lines: 1 header, 2 A, 3 blank, 4 an image not converted, 5 A frame 1
    masks.write_text(
        f"sop_instance_uid,frame,mask\n{UID_A},0,a.png\n\n1.2.3.999,0,b.png\n{UID_A},1,c.png\n"
    )
    manifest = [
        {"series_key": "s", "instance_key": hash_key(UID_A), "frame": f, "slice_index": f,
         "source": "a.dcm", "problems": "", "shape": ""}
        for f in (0, 1)
    ]  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        counts = check_mask_rows(masks, manifest, ["s"])
    assert counts == {"mask_rows": 3, "mask_rows_not_in_data": 1}
    (said,) = [r.getMessage() for r in caplog.records]
    assert said == (
        "1 of 3 rows of masks.csv name an image that is not in the converted data, so their "
        "masks are not used (line 4)"
    )


_ROUNDED = "123456789012345000000000000"  # Excel's number format: 15 digits, then zeros


@pytest.mark.parametrize(
    ("cell", "how"),
    [
        (_ROUNDED, "rounded to 15 significant digits, the rest zeros"),
        ("12840113619255311", "its dots lost"),
    ],
    ids=["rounded", "dots-lost"],
)
def test_a_label_uid_a_spreadsheet_made_a_plain_number_is_refused(
    tmp_path: Path, cell: str, how: str
) -> None:
    """Not in E notation, so not refused when read; it matched nothing, and was only counted
    among 'label rows ... not in the converted data'."""
    labels = tmp_path / "labels.csv"
    labels.write_text(f"series_uid,label\n{UID_A},0\n\n{cell},1\n{UID_B},1\n")
    table = read_label_table(labels)
    with pytest.raises(RadpipeError) as caught:
        apply_missing_policy(table, [hash_key(UID_A), hash_key(UID_B)], "warn")
    assert str(caught.value) == (
        f"labels.csv line 4: series_uid '{cell}' is a plain number, not a UID (a UID has dots "
        "between its parts, PS3.5 9.1) and matches no image: a spreadsheet took it for a "
        f'number ({how}); format the column as text (or write each cell as ="..."), export '
        "again, and run again."
    )


def test_a_key_that_lost_its_leading_zero_is_refused(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("series_key,label\n0830123456789012,0\n830123456789012,1\n")
    with pytest.raises(RadpipeError, match=r"^labels\.csv line 3: series_key '830123456789012' "
                       r"is a number of 15 digits, not a key \(16 hex digits\)"):  # fmt: skip
        apply_missing_policy(read_label_table(labels), ["0830123456789012"], "warn")


def test_plain_number_uids_that_match_an_image_are_kept(tmp_path: Path) -> None:
    """A value that matches an image is never doubted (an anonymiser's UIDs without dots)."""
    labels = tmp_path / "labels.csv"
    labels.write_text(f"series_uid,label\n12345,0\n{UID_A},1\n")
    kept = apply_missing_policy(read_label_table(labels), [hash_key("12345"), hash_key(UID_A)],
                                "warn")  # fmt: skip
    assert kept == [hash_key("12345"), hash_key(UID_A)]


def test_a_mask_uid_a_spreadsheet_rounded_is_refused_by_line(tmp_path: Path) -> None:
    masks = tmp_path / "masks.csv"
    masks.write_text(f"sop_instance_uid,frame,mask\n{UID_A},0,a.png\n{_ROUNDED},0,b.png\n")
    manifest = [{"series_key": "s", "instance_key": hash_key(UID_A), "frame": 0,
                 "slice_index": 0, "source": "a.dcm", "problems": "", "shape": ""}]  # fmt: skip
    with pytest.raises(RadpipeError, match=rf"^masks\.csv line 3: sop_instance_uid '{_ROUNDED}' "
                       r"is a plain number, not a UID"):  # fmt: skip
        check_mask_rows(masks, manifest, ["s"])
