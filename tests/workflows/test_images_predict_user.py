"""``radpipe predict`` and ``evaluate`` of a run trained on converted images, as a user
meets them.

A rerun of ``predict`` into the same ``--out``: masks of the earlier prediction that the
rerun does not write stayed in ``masks/``, unlisted in ``predictions.csv``: the mask of an
image since removed from SRC, and, after a rerun with ``--hashed-keys-only``, every mask
named by its source path (the names that option keeps out). The expected files are listed
here by hand.

``evaluate``'s list naming a file that is not there was said to be "not a file under
data.source (ext/)": the run's setting, which names the training folder, not SRC; and the
refusal left an empty output folder (``RUN/external-<hash>`` or ``--out``) behind.

Every image ``predict`` skipped, a missing file among them, was said to be one "the run's
model cannot take".
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.keys import hash_key
from tests.workflows.test_images_predict import ROOT, _main, _pairs, _read, _train, _write_csv


@pytest.fixture(scope="module")
def seg_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _train(tmp_path_factory.mktemp("images_rerun"), "segmentation")


def _files(folder: Path) -> list[str]:
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_a_rerun_removes_masks_it_did_not_write(
    seg_run: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    src, out = tmp_path / "new", tmp_path / "out"
    _pairs(src / "sub", 3, 5, "n")
    for mask in (src / "sub").glob("*_m.png"):
        mask.unlink()
    assert _main("predict", seg_run, src, "--out", out, "--quiet") == 0
    assert _files(out / "masks") == ["sub/n0.png", "sub/n1.png", "sub/n2.png"]

    (src / "sub" / "n2.png").unlink()  # removed from SRC: its mask goes too
    assert _main("predict", seg_run, src, "--out", out, "--quiet") == 0
    assert _files(out / "masks") == ["sub/n0.png", "sub/n1.png"]
    assert [r["mask"] for r in _read(out / "predictions.csv")] == ["masks/sub/n0.png",
                                                                   "masks/sub/n1.png"]  # fmt: skip

    caplog.clear()
    assert _main("predict", seg_run, src, "--out", out, "--quiet", "--hashed-keys-only") == 0
    keys = sorted(f"{hash_key(f'sub/n{i}.png')}.png" for i in range(2))
    assert _files(out / "masks") == keys  # no mask named by its source path is left
    assert "removed 2 mask files of an earlier prediction" in caplog.text


def test_evaluate_names_src_not_data_source(
    seg_run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ext = tmp_path / "ext"
    rows = _pairs(ext / "a", 2, 6, "e")
    rows.append({"image": "a/gone.png", "label": 0, "mask": "a/gone_m.png"})
    _write_csv(ext / "l.csv", rows, ["image", "label", "mask"])
    assert _main("evaluate", seg_run, ext, "--labels", ext / "l.csv", "--quiet") == 2
    err = capsys.readouterr().err
    assert ("--labels: 1 image file named in l.csv is not a file under SRC (ext/): a/gone.png "
            "(line 4)") in err  # fmt: skip
    assert (
        "--labels: 1 mask file named in l.csv is not a file under SRC (ext/): a/gone_m.png" in err
    )
    assert "data.source" not in err
    assert not list(seg_run.glob("external-*"))  # the refusal left no empty output folder
    assert _main("evaluate", seg_run, ext, "--labels", ext / "l.csv", "--out", tmp_path / "o") == 2
    assert not (tmp_path / "o").exists()


def test_skipped_images_are_said_as_not_predicted(
    seg_run: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A file of a list SRC that is not there is no image "the run's model cannot take"."""
    monkeypatch.chdir(tmp_path)  # outputs are shown relative to the working directory
    src = tmp_path / "new"
    _pairs(src, 1, 7, "n")
    _write_csv(src / "l.csv", [{"image": "n0.png"}, {"image": "gone.png"}], ["image"])
    assert _main("predict", seg_run, src / "l.csv", "--out", tmp_path / "o", "--quiet") == 1
    said = capsys.readouterr().out
    assert "1 image not predicted; why, for each: o/skipped.csv" in said
    assert "model cannot take" not in said
    assert [r["source"] for r in _read(tmp_path / "o" / "skipped.csv")] == ["gone.png"]


def test_evaluate_with_paths_relative_to_the_working_directory(
    seg_run: Path, tmp_path: Path
) -> None:
    """``radpipe evaluate RUN ext --labels ext/l.csv --out ev`` with each path relative to the
    working directory, as a user types them: it stopped with ``images-test-<key>.csv: file not
    found`` (the list written under ``ev/`` was looked for under SRC; a relative RUN's
    validation list too), exit 1, no metrics."""
    _pairs(tmp_path / "ext" / "a", 3, 8, "e")
    rows = [{"image": f"a/e{i}.png", "mask": f"a/e{i}_m.png"} for i in range(3)]
    _write_csv(tmp_path / "ext" / "l.csv", rows, ["image", "mask"])
    run = os.path.relpath(seg_run, tmp_path)
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "evaluate", run, "ext", "--labels", "ext/l.csv",
         "--out", "ev", "--quiet"],
        cwd=tmp_path, env=os.environ | {"PYTHONPATH": str(ROOT)}, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "wrote ev/metrics.json" in proc.stdout
    metrics = json.loads((tmp_path / "ev" / "metrics.json").read_text())
    assert metrics["num_cases"] == 3
    assert str(tmp_path) not in (tmp_path / "ev" / "metrics.json").read_text()
