"""``radpipe evaluate`` names the report it wrote, not only ``metrics.json``: a user was told
``wrote ext/metrics.json`` and had to find ``ext/report.html`` by looking. A run without a
report (``report.enabled: false``) names ``metrics.json`` alone."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from tests.runner.conftest import radpipe_in  # the suite's project secret made cr_run's keys


def test_evaluate_names_the_report_when_it_writes_one(
    cr_run: Path, cr16: Path, tmp_path: Path
) -> None:
    run = cr_run.parent / f"{cr_run.name}-report-{tmp_path.name}"  # beside it: same paths
    shutil.copytree(cr_run, run)
    args = ["evaluate", str(run), str(cr16 / "dicom"), "--labels", str(cr16 / "labels.csv")]
    proc = radpipe_in(tmp_path, *args, "--out", "plain", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == "wrote plain/metrics.json"
    config = yaml.safe_load((run / "config.yaml").read_text())
    config["report"]["enabled"] = True  # a report.* edit is used (and said)
    (run / "config.yaml").write_text(yaml.safe_dump(config))
    proc = radpipe_in(tmp_path, *args, "--out", "ext", "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.splitlines()[-1] == "wrote ext/metrics.json and ext/report.html"
    assert (tmp_path / "ext" / "report.html").is_file()
