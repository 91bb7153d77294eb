"""A run stopped while its data were prepared leaves no run directory behind.

Its directory (config.yaml and little else) would hold nothing to resume: ``radpipe run
--resume`` of it fails the same way, and a listing of the output folder shows a run that never
was. :func:`workflows.run.failure.remove_unstarted` removes it and says so. Here every file of
``data.source`` fails to convert (no image at all): the run exits 1 naming the file, its
directory is gone, and the conversion cache (``.cache``) stays.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.runner.conftest import base_config
from workflows.cli import main


def test_a_run_whose_data_cannot_be_prepared_leaves_no_run_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.dcm").write_bytes(b"not a DICOM file at all" * 4)
    (tmp_path / "labels.csv").write_text("series_uid,label\n1.2.3,0\n")
    raw = base_config(tmp_path, tmp_path / "runs")
    raw["data"] = {"source": str(tmp_path / "src"), "labels": str(tmp_path / "labels.csv")}
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(raw))
    assert main(["run", str(tmp_path / "c.yaml"), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert "a.dcm: not a DICOM file" in err
    assert [p.name for p in (tmp_path / "runs").iterdir()] == [".cache"]  # no run-* left
    (made,) = (line for line in err.splitlines() if " was removed: " in line)
    assert made.endswith(
        " was removed: the run stopped while its data were prepared; once the cause is fixed, "
        "run it again (nothing to resume)"
    )
