"""``radpipe run --resume`` does not train longer through an edited ``train.epochs``: the
README says the ``epochs`` a resume may change is ``train()``'s rule from Python, while
the command line refuses the edit as it does any training setting. The started config is
written here by hand, so the refused key and values are known."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from workflows.run.config_edits import check_config_unedited


def test_an_edited_train_epochs_is_refused_on_resume(tmp_path: Path) -> None:
    started = {"train": {"epochs": 2, "lr": 0.001, "device": "cpu"}}
    (tmp_path / "provenance.json").write_text(json.dumps({"config": started}))
    edited = {"train": {"epochs": 5, "lr": 0.001, "device": "cpu"}}
    with pytest.raises(ConfigError, match=r"train\.epochs 2 -> 5"):
        check_config_unedited(tmp_path, edited)
