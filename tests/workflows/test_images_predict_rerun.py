"""A rerun of ``radpipe predict`` into the same ``--out`` (a run trained on converted images).

Masks of the earlier prediction that the rerun does not write stayed in ``masks/``, unlisted
in ``predictions.csv``: the mask of an image since removed from SRC, and, after a rerun with
``--hashed-keys-only``, every mask named by its source path (the names that option keeps
out). The expected files are listed here by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.keys import hash_key
from tests.workflows.test_images_predict import _main, _pairs, _read, _train


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
