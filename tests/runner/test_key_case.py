"""A labels CSV whose ``series_key`` cells are in upper case (a spreadsheet's ``UPPER()``, a
key copied from a report that capitalises hex).

radpipe writes its keys as lower-case hex (HMAC-SHA256 hex digests). Until 2026-12-04 such a
CSV matched no series, and the run stopped saying that its keys were of another project
secret. Keys are now read case-blind; a UID column is compared exactly, as before.
"""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.cells import csv_uid
from pipeline.keys import hash_key
from tests.runner.conftest import base_config, radpipe_in, read_rows, write_rows


def test_upper_case_series_keys_label_their_series(cr16: Path, tmp_path: Path) -> None:
    rows = [{"series_key": hash_key(r["series_uid"]).upper(), "label": r["label"]}
            for r in read_rows(cr16 / "labels.csv")]  # fmt: skip
    assert all(any(c in "ABCDEF" for c in r["series_key"]) for r in rows[:3])
    labels = write_rows(tmp_path / "upper.csv", rows)
    raw = base_config(cr16, tmp_path / "runs", labels=str(labels))
    (tmp_path / "c.yaml").write_text(json.dumps(raw))
    proc = radpipe_in(tmp_path, "run", "c.yaml", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "have no label" not in proc.stderr
    (run,) = (tmp_path / "runs").glob("run-*")
    split = read_rows(run / "split.csv")
    assert len(split) == 16  # every series labelled and split


def test_key_cells_are_lower_cased_and_uid_cells_kept() -> None:
    assert csv_uid(" 8E32019382960DA6 ", "series_key") == "8e32019382960da6"
    assert csv_uid("00AbCd", "instance_key") == "00abcd"
    assert csv_uid("1.2.840.ABC", "series_uid") == "1.2.840.ABC"  # a UID: as written
    assert csv_uid("Not-Hex", "series_key") == "Not-Hex"  # no key: left to say it matches none
