"""``radpipe evaluate`` / ``predict`` / a resume under another project secret than the run's.

Every key of the run's ``split.csv`` was made with the run's secret; read again under another
one (``RADPIPE_SECRET_FILE`` of another project, a machine without the run's), the run's own
data get other keys and none of its series is found again. ``evaluate`` then scored the run's
own training images as "48 external test cases" with no warning (a newcomer found it,
2026-12-03). ``provenance.json`` now records the secret's fingerprint (``keys``): ``evaluate``
and a resume refuse (exit 2 / an error), ``predict`` says that it cannot flag the run's own
images. A run made before the fingerprint was recorded is scored without an operating point,
as before, and says why.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _cli(args: list[str], secret: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(ROOT), "RADPIPE_SECRET_FILE": str(secret)}
    return subprocess.run([sys.executable, "-m", "workflows.cli", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _fingerprint_under(secret: Path) -> str:
    code = "from pipeline.keys import key_fingerprint; print(key_fingerprint())"
    env = os.environ | {"PYTHONPATH": str(ROOT), "RADPIPE_SECRET_FILE": str(secret)}
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=60, check=True)  # fmt: skip
    return out.stdout.strip()


def test_the_run_records_its_secrets_fingerprint(cr_run: Path) -> None:
    from pipeline.keys import key_fingerprint

    assert json.loads((cr_run / "provenance.json").read_text())["keys"] == key_fingerprint()


def test_evaluate_under_another_secret_is_refused(cr_run: Path, cr16: Path, tmp_path: Path) -> None:
    other = tmp_path / "s"
    recorded = json.loads((cr_run / "provenance.json").read_text())["keys"]
    args = ["evaluate", str(cr_run), str(cr16 / "dicom"), "--labels", str(cr16 / "labels.csv")]
    proc = _cli([*args, "--out", str(tmp_path / "ext"), "--quiet"], other)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    now = _fingerprint_under(other)
    assert now != recorded
    assert (
        "radpipe evaluate: config error: Cannot evaluate RUN on SRC: the run was made under "
        "another project secret than the one in use now "
        f"(key fingerprint {recorded}, now {now}; set by RADPIPE_SECRET_FILE, else "
        "~/.config/radpipe/secret), so every key differs"
    ) in proc.stderr
    assert not (tmp_path / "ext").exists()  # refused before anything was made


def test_predict_under_another_secret_says_nothing_is_flagged(
    cr_run: Path, cr16: Path, tmp_path: Path
) -> None:
    proc = _cli(["predict", str(cr_run), str(cr16 / "dicom"), "--out", str(tmp_path / "p"),
                 "--quiet"], tmp_path / "s")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no image of SRC is flagged as one the run trained on" in proc.stderr
    # under the run's own secret the same SRC is flagged (its training series are in it)
    same = _cli(["predict", str(cr_run), str(cr16 / "dicom"), "--out", str(tmp_path / "q"),
                 "--quiet"], Path(os.environ["RADPIPE_SECRET_FILE"]))  # fmt: skip
    assert same.returncode == 0, same.stderr[-2000:]
    assert "SRC holds images the run trained on" in same.stderr
    assert "no image of SRC is flagged" not in same.stderr


def test_a_resume_under_another_secret_is_refused(tmp_path: Path) -> None:
    from pipeline.errors import RadpipeError
    from workflows.run.rundir import check_resume_inputs

    run = tmp_path / "r-1"
    run.mkdir()
    (run / "provenance.json").write_text(json.dumps({"keys": "000000000000"}))
    with pytest.raises(RadpipeError, match=r"Cannot resume r-1: the run was made under another "
                       r"project secret .*key fingerprint 000000000000"):  # fmt: skip
        check_resume_inputs(run, "fp", "truth")


def test_a_run_made_before_the_fingerprint_is_scored_without_operating_point(
    cr_run: Path, cr16: Path, tmp_path: Path
) -> None:
    old = tmp_path / "old-run"
    shutil.copytree(cr_run, old, ignore=shutil.ignore_patterns(".radpipe-run*"))
    info = json.loads((old / "provenance.json").read_text())
    del info["keys"]
    (old / "provenance.json").write_text(json.dumps(info))
    proc = _cli(["evaluate", str(old), str(cr16 / "dicom"), "--labels", str(cr16 / "labels.csv"),
                 "--out", str(tmp_path / "ext"), "--quiet"], tmp_path / "s")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr
    val = sum(r.split(",")[3] == "val" for r in (cr_run / "split.csv").read_text().splitlines())
    assert (
        f"radpipe: the run's own validation data are not usable (none of its {val} validation "
        "series is in data.source as converted now: its files changed, or the project secret "
        "(RADPIPE_SECRET_FILE) is not the one the run was made with, so every key differs): no "
        "operating point"
    ) in proc.stderr.splitlines()
    assert "operating_point" not in json.loads((tmp_path / "ext" / "metrics.json").read_text())
