"""A config `radpipe run` refuses is refused before torch is imported.

The checks of a run's inputs (paths, CSV columns, split column) need no torch; importing
it (about 2-4 s of CPU) before saying "no such folder" made every refusal slow. The
subprocess runs `main()` and then looks at ``sys.modules``: red if the check path imports
torch again (as it did through ``pipeline.data``'s package ``__init__``).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import sys
from workflows.cli import main
rc = main(["run", sys.argv[1], "--set", "data.source=" + sys.argv[2], "--set",
           "data.labels=" + sys.argv[3]])
print("rc", rc, "torch", "torch" in sys.modules)
"""


def test_a_refused_config_is_refused_without_importing_torch(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("series_uid,label\n1.2.3,0\n")
    missing = tmp_path / "no-such-folder"
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(ROOT / "configs" / "xray_classify.yaml"),
         str(missing), str(labels)],
        capture_output=True, text=True, cwd=tmp_path, timeout=120,
    )  # fmt: skip
    assert "no such folder no-such-folder" in done.stderr, done.stderr
    assert done.stdout.split() == ["rc", "2", "torch", "False"], done.stdout + done.stderr


ANY_ARGS = """
import sys
from workflows.cli import main
rc = main(sys.argv[1:])
print("rc", rc, "torch", "torch" in sys.modules)
"""


def test_a_mistyped_run_directory_is_said_without_importing_torch(tmp_path: Path) -> None:
    """predict, evaluate and run --resume of a run directory that is not there: exit 2,
    naming it, before torch (they imported it first, then said the folder was missing)."""
    (tmp_path / "src").mkdir()
    for args in (["predict", "runs/typo", "src"],
                 ["evaluate", "runs/typo", "src", "--labels", "labels.csv"],
                 ["run", "--resume", "runs/typo"]):  # fmt: skip
        done = subprocess.run([sys.executable, "-c", ANY_ARGS, *args], capture_output=True,
                              text=True, cwd=tmp_path, timeout=120)  # fmt: skip
        assert f"radpipe {args[0]}: config error: runs/typo: no such run directory." in (
            done.stderr
        ), done.stderr
        assert done.stdout.split() == ["rc", "2", "torch", "False"], (args, done.stdout)
