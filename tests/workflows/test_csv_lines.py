"""The line a CSV message names is the line of the file, as an editor numbers it.

Every reader counted rows from line 2 (``enumerate(rows, start=2)``), but ``csv.DictReader``
skips truly blank lines and a quoted cell may span lines: each blank line and each line
break inside a cell above the bad cell put the message one line too early.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from pipeline.data.io import read_labels_csv, read_manifest, read_masks_csv
from pipeline.errors import RadpipeError
from pipeline.split import SPLIT_COLUMNS, read_split_csv
from workflows.run.labels import read_label_table
from workflows.run.truth import resolve_ground_truth


def _csv(header: str, good: str, bad: str, end: str) -> str:
    """A file whose bad row is on line 8, worked out by hand.

    1 header; 2 blank; 3-5 a good row whose last cell spans three lines; 6, 7 blank;
    8 the bad row; 9 a good row. ``enumerate(start=2)`` called the bad row line 3.
    """
    lines = [header, "", good + ',"first', "second", 'third"', "", "", bad, good]
    return end.join(lines) + end


# (file name, header, a good row, the bad row, how to read it, what the message says)
_CASES: list[tuple[str, str, str, str, Callable[[Path], object], str]] = [
    ("labels.csv", "series_uid,label,note", "1.2.3,0", "1.2.4,x,n", read_labels_csv,
     "labels.csv line 8: label 'x'"),
    ("masks.csv", "sop_instance_uid,frame,mask,note", "1.2.3,0,a.png", "1.2.4,a,b.png,n",
     read_masks_csv, "masks.csv line 8: frame 'a'"),
    ("split.csv", ",".join((*SPLIT_COLUMNS, "note")), "p,s,0,train,-1", "p,t,0,tran,-1,n",
     read_split_csv, "split.csv:8: split must be"),
    ("run_labels.csv", "series_uid,label,note", "1.2.3,0", "1.2.3,1,n",
     lambda p: read_label_table(p), "run_labels.csv line 8: series_uid listed again"),
    ("file_labels.csv", "file,label,note", "a.dcm,0", ",1,n",
     lambda p: resolve_ground_truth(p.parent, p, None, p.parent / "run"), "(empty, line 8)"),
]  # fmt: skip


@pytest.mark.parametrize("end", ["\n", "\r\n"], ids=["lf", "crlf"])
@pytest.mark.parametrize("case", _CASES, ids=[c[0] for c in _CASES])
def test_a_bad_cell_is_named_by_its_line_in_the_file(
    tmp_path: Path, case: tuple[str, str, str, str, Callable[[Path], object], str], end: str
) -> None:
    name, header, good, bad, read, said = case
    path = tmp_path / name
    path.write_bytes(_csv(header, good, bad, end).encode())
    with pytest.raises(RadpipeError) as caught:
        read(path)
    assert said in str(caught.value)


def test_a_bad_manifest_cell_is_named_by_its_line(tmp_path: Path) -> None:
    from pipeline.data.io import MANIFEST_COLUMNS

    cells = {c: "" for c in MANIFEST_COLUMNS}
    good = ",".join({**cells, "output": '"a\nb.png"', "frame": "0"}.values())
    bad = ",".join({**cells, "output": "b.png", "frame": "x"}.values())
    path = tmp_path / "manifest.csv"
    # 1 header, 2 blank, 3-4 a row with a two-line cell, 5 blank, 6 the bad row
    path.write_text(",".join(MANIFEST_COLUMNS) + "\n\n" + good + "\n\n" + bad + "\n")
    with pytest.raises(RadpipeError, match=r"^manifest\.csv:6: "):
        read_manifest(path)


def test_a_folder_dataset_label_is_read_as_every_label_and_named_by_line(tmp_path: Path) -> None:
    """FolderDataset's image list: ``1.0`` (pandas' integer column with a gap) is class 1, as
    in every labels CSV; ``benign`` was a ValueError traceback at the first batch that loaded
    it, naming neither file nor line."""
    import numpy as np

    from pipeline.data import FolderDataset

    np.save(tmp_path / "a.npy", np.zeros((2, 2), np.float32))
    (tmp_path / "list.csv").write_text('image,label,note\n\na.npy,1.0,"x\ny"\n')
    assert int(FolderDataset(tmp_path, "list.csv")[0]["label"]) == 1
    path = tmp_path / "bad.csv"
    path.write_text(_csv("image,label,note", "a.npy,0", "a.npy,benign,n", "\n"))
    with pytest.raises(RadpipeError, match=r"^bad\.csv line 8: label 'benign' is not a class"):
        FolderDataset(tmp_path, "bad.csv")


def test_a_manifest_row_cut_short_is_named_by_its_line(tmp_path: Path) -> None:
    """A row with fewer cells than the header was a TypeError (int(None)) naming nothing."""
    from pipeline.data.io import MANIFEST_COLUMNS

    path = tmp_path / "manifest.csv"
    path.write_text(",".join(MANIFEST_COLUMNS) + "\n\na.png,a.dcm\n")
    with pytest.raises(RadpipeError, match=r"^manifest\.csv:3: no cell for patient_key, "):
        read_manifest(path)
