"""``radpipe evaluate`` said ``radpipe run``'s line on one scale of images again, twice.

A run trained with ``window: header`` on images none of which has a window says so once
(``window 'header': none of the N images has a window in its header ...``). ``evaluate`` then
said it of SRC's images (``... predict and evaluate then refuse images that have one``, while
evaluating them) and again of the run's own images, read for the validation operating point,
as if news. It is said of the data a run trains on only. Through the command line, from the
folder holding the config and both studies.
"""

from __future__ import annotations

import json
from pathlib import Path

import pydicom

from pipeline.synth import StudySpec, write_study
from tests.runner.conftest import base_config, radpipe_in

LINE = "has a window in its header"


def _bare_study(folder: Path, seed: int) -> Path:
    """A CR study of 8 patients, no window in any header."""
    write_study(folder, StudySpec(patients=8, modality="CR", size=16, series_per_patient=1,
                                  seed=seed))  # fmt: skip
    for path in sorted((folder / "dicom").rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        for keyword in ("WindowCenter", "WindowWidth", "VOILUTSequence", "VOILUTFunction"):
            if keyword in ds:
                delattr(ds, keyword)
        ds.save_as(path)
    return folder


def test_the_one_scale_line_is_said_by_the_run_not_again_by_evaluate(tmp_path: Path) -> None:
    _bare_study(tmp_path / "own", 0)
    _bare_study(tmp_path / "ext", 7)
    raw = base_config(tmp_path / "own", Path("runs"))
    raw["name"], raw["convert"] = "bare", {"workers": 1, "format": "npy", "window": "header"}
    (tmp_path / "c.yaml").write_text(json.dumps(raw))
    run = radpipe_in(tmp_path, "run", "c.yaml", "--quiet")
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stderr.count(LINE) == 1
    assert "radpipe: window 'header': none of the 8 images has a window in its header" in run.stderr
    (name,) = (p.name for p in (tmp_path / "runs").iterdir() if not p.name.startswith("."))
    ext = radpipe_in(tmp_path, "evaluate", f"runs/{name}", "ext/dicom", "--labels",
                     "ext/labels.csv", "--out", "ev", "--quiet")  # fmt: skip
    assert ext.returncode == 0, ext.stderr[-2000:]
    assert "reading the run's own data" in ext.stderr  # the run's own images were read again
    assert LINE not in ext.stderr
    assert (tmp_path / "ev" / "metrics.json").is_file()
