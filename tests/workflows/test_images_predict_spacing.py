"""``radpipe predict`` of a ``data.kind: images`` run given a list CSV with a ``spacing``
column (HC18's pixel sizes copied in, as the README tells): the column is read as a run's
list reads it. It was dropped: every image was said to have "no pixel size ... nor a spacing
column in the image list", and an image of another pixel size went through unsaid.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.workflows.test_images_predict import _cli, _pairs, _train, _write_csv


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A classification run on 24 PNGs of 0.5 mm pixels (no resize: 0.5 mm after
    preprocessing too), and a folder of 6 new PNGs."""
    tmp = tmp_path_factory.mktemp("predict_spacing")
    ext = tmp / "ext"
    _pairs(ext / "a", 6, 3, "e")
    return _train(tmp, "classification"), ext


def test_the_lists_spacing_is_read_and_judged(run: tuple[Path, Path]) -> None:
    """Four images at the training images' 0.5 mm and two at 2 mm (four times it, far past
    the 10% tolerance): the two are said, the first by name with its 2 x 2 mm, and no image
    is said to have no pixel size."""
    cls, ext = run
    rows = [{"image": f"a/e{i}.png", "spacing": 2.0 if i in (2, 4) else 0.5} for i in range(6)]
    listed = _write_csv(ext / "spaced.csv", rows, ["image", "spacing"])
    proc = _cli("predict", cls, listed, "--out", ext.parent / "p-spaced")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "no pixel size" not in proc.stderr
    assert ("2 images of 6 have a pixel size after preprocessing outside that of the run's "
            "training images (0.5 mm; e.g. a/e2.png: 2 x 2 mm)") in proc.stderr  # fmt: skip


def test_a_bad_spacing_cell_is_named_by_the_lists_own_line(run: tuple[Path, Path]) -> None:
    """A cell that is no pixel size stops the command naming the list and its line (line 5:
    the header, a blank line, then three rows), before anything is written, with exit code 2
    (README: usage or configuration error)."""
    cls, ext = run
    text = "image,spacing\r\n\r\na/e0.png,0.5\r\na/e1.png,0.5\r\na/e2.png,fine\r\n"
    (ext / "bad.csv").write_text(text)
    out = ext.parent / "p-bad"
    proc = _cli("predict", cls, ext / "bad.csv", "--out", out)
    assert proc.returncode == 2  # an input error, as a run's own list refuses the cell; was 1
    assert "bad.csv line 5: spacing 'fine' is not a pixel size in mm" in proc.stderr
    assert not (out / "predictions.csv").exists()


def test_a_spacing_of_the_wrong_count_skips_the_image_naming_its_line(
    run: tuple[Path, Path],
) -> None:
    """Three sizes for a 2-D image are found once it is read: that image is skipped with the
    list's name and its own line (4, after a blank line), the others predicted (exit 1)."""
    cls, ext = run
    text = "image,spacing\n\na/e0.png,0.5\na/e1.png,0.5x0.5x0.5\na/e3.png,\n"
    (ext / "count.csv").write_text(text)
    out = ext.parent / "p-count"
    proc = _cli("predict", cls, ext / "count.csv", "--out", out)
    assert proc.returncode == 1, proc.stderr[-2000:]
    skipped = (out / "skipped.csv").read_text()
    assert "a/e1.png" in skipped and "count.csv line 4: spacing '0.5x0.5x0.5'" in skipped
    assert (out / "predictions.csv").read_text().count("\n") == 3  # header and two images


def test_a_runs_own_bad_spacing_cell_is_refused_before_its_directory(tmp_path: Path) -> None:
    """The same cell in a run's own list: exit 2 naming the list and its line (4: header, two
    rows), no run directory made. It stopped the run once its directory was made (exit 1),
    naming a split's list (``images-train-<hash>.csv``) and that list's line."""
    import json

    rows = [r | {"spacing": "fine" if i == 2 else 0.5}
            for i, r in enumerate(_pairs(tmp_path / "img", 8, 0, "i"))]  # fmt: skip
    listed = _write_csv(tmp_path / "own.csv", rows, ["image", "label", "spacing"])
    raw = {"task": "classification", "output": str(tmp_path / "runs"),
           "data": {"kind": "images", "source": str(tmp_path), "labels": str(listed)},
           "model": {"type": "mlp_classifier", "hidden": [4]}}  # fmt: skip
    (tmp_path / "c.yaml").write_text(json.dumps(raw))
    proc = _cli("run", tmp_path / "c.yaml", "--quiet")
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "data.labels: own.csv line 4: spacing 'fine' is not a pixel size in mm" in proc.stderr
    assert not (tmp_path / "runs").exists()
