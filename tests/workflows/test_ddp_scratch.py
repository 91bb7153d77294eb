"""``radpipe run --nproc N`` keeps its rank records in a ``radpipe-ddp-*`` folder of the
temporary directory. A run stopped by Ctrl-C (torchrun's ``run`` raising
``KeyboardInterrupt``, stood in for here) left the folder behind each time; it is removed
now, and kept only when the error line points to a rank's traceback in it."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import pytest
import torch.distributed.run

from workflows.commands.ddp_launch import discard_scratch, launch


def test_an_interrupted_launch_leaves_no_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))

    def interrupted(args: Any) -> None:
        assert [p.name[:11] for p in tmp_path.iterdir()] == ["radpipe-ddp"]  # made, in use
        raise KeyboardInterrupt

    monkeypatch.setattr(torch.distributed.run, "run", interrupted)
    with pytest.raises(KeyboardInterrupt):
        launch(2, ["config.yaml"])
    assert list(tmp_path.iterdir()) == []


def test_a_folder_holding_a_traceback_the_error_names_is_kept(tmp_path: Path) -> None:
    said, silent = tmp_path / "said", tmp_path / "silent"
    for folder in (said, silent):
        folder.mkdir()
        (folder / "rank0.json").write_text("{}")
    (said / "rank1.traceback.txt").write_text("Traceback ...")
    discard_scratch(said)
    discard_scratch(silent)
    assert said.is_dir() and not silent.exists()
