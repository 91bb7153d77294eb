"""``radpipe report RUN`` and ``radpipe evaluate`` named what they wrote by the path as given:
an absolute RUN (or ``--out``) printed the user's folders (``wrote /home/alice/.../report.html``)
where ``radpipe predict`` prints the path relative to the working directory. Now they do too."""

from __future__ import annotations

import json
from pathlib import Path

from tests.runner.conftest import radpipe_in as _cli


def test_report_names_its_file_relative_to_the_working_directory(tmp_path: Path) -> None:
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "metrics.json").write_text(json.dumps({"task": "classification"}))
    proc = _cli(tmp_path, "report", str(tmp_path.resolve() / "r"))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "wrote r/report.html\n"
