"""Spaces around an image list's paths (``img/0.png , 1`` as a hand-typed or spreadsheet
CSV holds them) are no part of the path.

The checks before the run read the path stripped and found the file; the run then stopped
once its directory was made, with a ``FileNotFoundError`` traceback naming the absolute path
with its space (``/.../img/0.png ``), ``failed.json`` and advice to resume that could not
work. Now every reader strips it, as it strips UIDs, keys and labels.
"""

from __future__ import annotations

import csv
from pathlib import Path

from tests.runner.conftest import radpipe_in as _cli
from tests.workflows.test_class_name_shared import _study


def test_spaces_around_image_paths_are_ignored(tmp_path: Path) -> None:
    _study(tmp_path, slipped=False)
    rows = (tmp_path / "list.csv").read_text().splitlines()
    spaced = [rows[0]] + [" , ".join(r.split(",")[:2]) for r in rows[1:]]  # img/0.png , 0
    (tmp_path / "list.csv").write_text("\r\n".join(spaced) + "\r\n")
    proc = _cli(tmp_path, "run", "c.yaml", "--quiet")
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr
    (run,) = [p.parent for p in (tmp_path / "runs").glob("*/classes.json")]
    listed = []
    for part in run.glob("images-*.csv"):
        with part.open(newline="") as fh:
            listed += [(r["image"], r["label"]) for r in csv.DictReader(fh)]
    # every image used once, by its path without the spaces, with its label (i % 2)
    assert sorted(listed) == sorted((f"img/{i}.png", str(i % 2)) for i in range(12))
