"""Paths (issue 13, item 8 and "Also"): relative paths in a config are taken from its folder
(``--set`` ones from the current directory); CSV paths stay inside their folder unless
allowed; a run stores no absolute path of this machine in its config copy, provenance,
report or checkpoints, and still resumes and predicts from them."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from pipeline.errors import ConfigError
from tests.runner.conftest import base_config, read_rows, write_rows
from workflows.cli import main
from workflows.run.checks import check_inputs
from workflows.run.config import load_config, validate_config
from workflows.run.rundir import load_run_config


def test_relative_paths_in_the_file_follow_the_file_and_set_follows_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project" / "configs"
    project.mkdir(parents=True)
    path = project / "c.yaml"
    raw = base_config(Path("../data"), Path("../runs"))
    raw["train"]["init_from"] = "../weights/best.pt"
    path.write_text(yaml.safe_dump(raw))
    monkeypatch.chdir(tmp_path)
    config = load_config(Path("project/configs/c.yaml"))
    root = tmp_path / "project"
    assert config.data.source == root / "data" / "dicom"
    assert config.data.labels == root / "data" / "labels.csv"
    assert config.output == root / "runs"
    assert config.train.init_from == root / "weights" / "best.pt"
    moved = load_config(path, ["data.source=scans", "output=out"])
    assert (moved.data.source, moved.output) == (tmp_path / "scans", tmp_path / "out")


def test_a_run_stores_no_absolute_path_and_reads_its_config_back(
    cr16: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "project"
    (project / "configs").mkdir(parents=True)
    raw = base_config(Path("../study"), Path("../runs"))
    raw["report"] = {"enabled": True}
    (project / "configs" / "c.yaml").write_text(yaml.safe_dump(raw))
    shutil.copytree(cr16, project / "study")
    monkeypatch.chdir(tmp_path)  # not the config's folder
    assert main(["run", "project/configs/c.yaml", "--quiet"]) == 0
    (run,) = (project / "runs").glob("run-*")
    secret = str(tmp_path)
    for name in ("config.yaml", "provenance.json", "report.html", "metrics.json"):
        assert secret not in (run / name).read_text(), name
    saved = torch.load(run / "checkpoints" / "best.pt", weights_only=True)
    assert secret not in json.dumps(saved["resolved_config"])
    assert saved["resolved_config"]["data"]["source"] == "../../study/dicom"
    config = load_run_config(run)
    assert config.data.source == project / "study" / "dicom"
    assert config.output == project / "runs"


def test_mask_paths_outside_the_csv_folder_are_refused(cr16: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.png").write_bytes(b"")
    rows = [{"instance_key": "abc", "frame": "0", "mask": "../secret.png"},
            {"instance_key": "abd", "frame": "0", "mask": "ok.png"},
            {"instance_key": "abe", "frame": "0", "mask": "..\\secret.png"}]  # fmt: skip
    masks = write_rows(tmp_path / "masks" / "masks.csv", rows)
    (tmp_path / "masks" / "ok.png").write_bytes(b"")  # a missing mask is refused too
    raw = base_config(cr16, tmp_path / "out", masks=str(masks))
    said = r"data.masks: 2 paths in masks.csv point outside masks/ \(\.\./secret\.png, \.\.\\sec"
    with pytest.raises(ConfigError, match=said):  # a Windows path is resolved as a path
        check_inputs(validate_config(raw))
    raw["data"]["allow_outside_paths"] = True
    check_inputs(validate_config(raw))  # allowed on request
    assert read_rows(masks)[1]["mask"] == "ok.png"


def test_paths_leading_out_through_a_symbolic_link_name_the_link(tmp_path: Path) -> None:
    """A data folder linked into the project (``img -> /data/hc18``, a common layout) made
    ``img/a.png`` "point outside project/" with no word of the link: the paths looked inside.
    The link is named; a path that leaves by ``..`` names none."""
    from PIL import Image

    data = tmp_path / "data"
    data.mkdir()
    project = tmp_path / "project"
    project.mkdir()
    for path in (data / "a.png", data / "b.png", project / "c.png"):  # images that load
        Image.fromarray(np.zeros((4, 4), np.uint8)).save(path)
    (project / "img").symlink_to(data, target_is_directory=True)
    rows = [{"image": "img/a.png", "label": "0"}, {"image": "img/b.png", "label": "1"}]
    listed = write_rows(project / "list.csv", rows)
    raw = {"task": "classification", "output": str(tmp_path / "runs"),
           "data": {"kind": "images", "source": str(project), "labels": str(listed)},
           "model": {"type": "mlp_classifier"},
           "split": {"test": 0.0, "val": 0.5}}  # 2 patients: 2 parts  # fmt: skip
    said = (r"data.labels: 2 paths in list.csv point outside project/ through the symbolic "
            r"link img/ in project/ \(img/a.png, img/b.png\)")  # fmt: skip
    with pytest.raises(ConfigError, match=said):
        check_inputs(validate_config(raw))
    write_rows(listed, [{"image": "../data/a.png", "label": "0"}, {"image": "c.png", "label": "1"}])
    with pytest.raises(
        ConfigError, match=r"1 path in list.csv points outside project/ \(\.\./data/a\.png\)"
    ):
        check_inputs(validate_config(raw))
    raw["data"]["allow_outside_paths"] = True
    check_inputs(validate_config(raw))  # allowed on request


def test_terminal_shows_run_directories_relative_to_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.run.paths import shown

    monkeypatch.chdir(tmp_path)
    assert shown(tmp_path / "runs" / "a-1") == Path("runs/a-1")
    outside = tmp_path.parent / "elsewhere"
    assert shown(outside) == Path("../elsewhere")  # beside it: through "..", never absolute


def test_a_config_written_for_the_current_directory_is_taken_from_there_and_said(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workflows.run.paths import pick_base

    (tmp_path / "in" / "dicom").mkdir(parents=True)
    (tmp_path / "in" / "labels.csv").write_text("x\n")
    conf = tmp_path / "in"
    cwd_style = {"data": {"source": "in/dicom", "labels": "in/labels.csv"}, "output": "runs"}
    base, note = pick_base(cwd_style, conf, tmp_path)
    assert base == tmp_path and note.startswith(
        "the relative paths of the config (data.source, data.labels) do not all exist"
    )
    # written for the config's folder (as documented): that folder, nothing said
    assert pick_base({"data": {"source": "dicom", "labels": "labels.csv"}}, conf, tmp_path) == (
        conf,
        "",
    )
    # found in neither, or only partly under the current directory: the documented base
    assert pick_base({"data": {"source": "in/dicom", "labels": "nope.csv"}}, conf, tmp_path) == (
        conf,
        "",
    )
    # both bases hold them: the config's folder wins
    (conf / "in" / "dicom").mkdir(parents=True)
    (conf / "in" / "labels.csv").write_text("x\n")
    assert pick_base(cwd_style, conf, tmp_path) == (conf, "")


def test_load_config_takes_a_cwd_written_config_from_the_cwd(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "in" / "data" / "dicom").mkdir(parents=True)
    (tmp_path / "in" / "data" / "labels.csv").write_text("x\n")
    raw = base_config(Path("in/data"), Path("runs"))  # written for tmp_path, kept in tmp_path/in
    (tmp_path / "in" / "c.yaml").write_text(yaml.safe_dump(raw))
    monkeypatch.chdir(tmp_path)
    with caplog.at_level("WARNING", logger="radpipe"):
        config = load_config(Path("in/c.yaml"))
    assert config.data.source == tmp_path / "in" / "data" / "dicom"
    assert config.data.labels == tmp_path / "in" / "data" / "labels.csv"
    assert config.output == tmp_path / "runs"  # output follows the same base
    (said,) = [r.getMessage() for r in caplog.records]
    # the file as given (it said "c.yaml:", naming no folder of the user's)
    assert said.startswith("in/c.yaml: the relative paths of the config (data.source, data.labels)")
