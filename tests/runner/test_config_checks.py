"""Config-time checks before any work (issue 13, item 7): model parameters and the
task/model/data fit fail at validation, ``--set`` errors name the override, and
``radpipe run`` stops before making a run directory or converting anything."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pipeline.errors import ConfigError
from tests.runner.conftest import base_config
from workflows.cli import main
from workflows.run.checks import check_inputs
from workflows.run.config import load_config, validate_config


def _config(tmp_path: Path, **changes: Any) -> dict[str, Any]:
    raw = base_config(tmp_path / "study", tmp_path / "out")
    for key, value in changes.items():
        section, _, name = key.partition("__")
        if name:
            raw[section][name] = value
        else:
            raw[section] = value
    return raw


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"model": {"type": "unet"}}, "'unet' is a segmentation model but task is 'classif"),
        ({"task": "segmentation"}, "'mlp_classifier' is a classification model but task is"),
        ({"model__dropout": None}, "mlp_classifier parameter 'dropout': Input should be a valid"),
        ({"model__hidden": [16, -4]}, "'hidden' parameter of MLPClassifier must hold sizes >= 1"),
        ({"model": {"type": "recurrent_classifier", "hidden_size": -1}},
         "'hidden_size' parameter of RecurrentClassifier must be > 0"),
        ({"model__activation": "swish"}, "'activation' parameter of MLPClassifier must be one of"),
    ],
    ids=["seg-model-for-classes", "classifier-for-masks", "dropout-null", "negative-hidden",
         "negative-hidden-size", "bad-activation"],
)  # fmt: skip
def test_model_and_task_are_checked_at_validation(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(_config(tmp_path, **changes), source="c.yaml")
    assert message in str(info.value)


@pytest.mark.parametrize(
    ("task", "monitor", "refused"),
    [("classification", "val_dice", True), ("classification", "val_auc", True),
     ("segmentation", "val_balanced_accuracy", True), ("classification", "lr", True),
     ("classification", "val_balanced_accuracy", False), ("segmentation", "val_dice", False),
     ("segmentation", "train_loss", False)],
)  # fmt: skip
def test_a_monitor_no_epoch_logs_is_refused_before_any_training(
    tmp_path: Path, task: str, monitor: str, refused: bool
) -> None:
    # The epoch's log row (workflows.train.epoch.evaluate) holds train_loss, val_loss,
    # val_accuracy and val_dice (segmentation) or val_balanced_accuracy: a typo was found only
    # when the first epoch ended ("... is not one of ..."), after its training.
    model = {"type": "mlp_segmenter"} if task == "segmentation" else {"type": "mlp_classifier"}
    raw = _config(tmp_path, task=task, model=model, train__monitor=monitor)
    if not refused:
        validate_config(raw, source="c.yaml")
        return
    with pytest.raises(ConfigError, match=f"train.monitor '{monitor}' is no metric a {task} run"):
        validate_config(raw, source="c.yaml")


def test_set_errors_name_the_override(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(_config(tmp_path)))
    with pytest.raises(ConfigError) as info:
        load_config(path, ["train.lr=fast"])
    assert str(info.value).startswith("--set train.lr=fast: train.lr: Input should be")
    with pytest.raises(ConfigError, match=r"^--set model.dropout=null: .*'dropout'"):
        load_config(path, ["model.dropout=null"])
    path.write_text(yaml.safe_dump(_config(tmp_path, train__lr="fast")))
    with pytest.raises(ConfigError, match=r"c\.yaml: train\.lr: Input should be") as info:
        load_config(path, ["seed=3"])  # the file's error is named as the file's
    assert "--set" not in str(info.value)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"data__labels": None}, "task 'classification' needs data.labels"),
        ({"data__label_column": "diagnosis"}, "data.label_column 'diagnosis' is not a column"),
        ({"task": "segmentation", "model": {"type": "unet"}}, "needs data.masks"),
        ({"data__masks": "nowhere.csv"}, "data.masks: no such file"),
    ],
    ids=["no-labels", "no-label-column", "no-masks", "missing-masks-file"],
)
def test_inputs_are_checked_before_any_work(
    cr16: Path, tmp_path: Path, changes: dict[str, Any], message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    raw = _config(tmp_path, **changes)
    raw["data"] = {**base_config(cr16, tmp_path)["data"], **{
        k.partition("__")[2]: v for k, v in changes.items() if k.startswith("data__")}}  # fmt: skip
    if raw["data"].get("masks") == "nowhere.csv":
        raw["data"]["masks"] = str(tmp_path / "nowhere.csv")
    with pytest.raises(ConfigError, match=message):
        check_inputs(validate_config(raw))
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["run", str(path), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()  # no run directory, no conversion cache


def test_a_rule_over_several_keys_is_not_given_an_empty_key_path(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        validate_config(_config(tmp_path, model={"type": "unet"}), source="c.yaml")
    assert str(info.value).startswith("c.yaml: model.type 'unet' is a segmentation model")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("patient_id,series_uid,label\nP\u00e9,1.2,0\n".encode("latin-1"),  # 28 bytes, P, é
         "data.labels: lab.csv: not UTF-8 text (byte 0xE9 at offset 29"),
        (b"patient_id;series_uid;label\nP;1.2;0\n",
         "(the file seems to separate its values with ';': radpipe reads commas)"),
    ],
    ids=["latin-1", "semicolons"],
)  # fmt: skip
def test_a_labels_csv_radpipe_cannot_read_is_a_config_error(
    cr16: Path, tmp_path: Path, content: bytes, message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """A latin-1 labels CSV was a UnicodeDecodeError traceback out of ``radpipe run``."""
    (tmp_path / "lab.csv").write_bytes(content)
    raw = _config(tmp_path)
    raw["data"] = {**base_config(cr16, tmp_path)["data"], "labels": str(tmp_path / "lab.csv")}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["run", str(path), "--quiet"]) == 2
    assert message in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", ["resume", "predict", "evaluate"])
def test_a_folder_that_is_no_run_directory_is_refused_by_name(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Mutation: the "no config.yaml" check of the run directory removed (a traceback or a
    missing-file error instead of what the folder is not)."""
    folder = tmp_path / "notarun"
    folder.mkdir()
    args = {
        "resume": ["run", "--resume", str(folder)],
        "predict": ["predict", str(folder), str(tmp_path)],
        "evaluate": ["evaluate", str(folder), str(tmp_path), "--labels", str(tmp_path / "l.csv")],
    }[command]
    assert main(args) == 2  # a usage error, as README's exit codes say
    assert "notarun is not a radpipe run directory (no config.yaml)." in capsys.readouterr().err


@pytest.mark.parametrize(
    ("window", "stage"),
    [("-600,1500", "{type: window, center: -600, width: 1500}"),
     ("lung", "{type: window, preset: lung}"),
     ("none", None)],
)  # fmt: skip
def test_a_window_for_images_used_as_stored_is_refused_naming_the_stage(
    tmp_path: Path, window: str, stage: str | None
) -> None:
    """``data.kind: images`` uses its images as stored: ``convert.window: -600,1500`` was
    ignored without a word (the run trained on the unwindowed values). A preset or C,W is now
    a config error giving the preprocess stage that windows; ``none`` leaves images as stored
    (``header``: :func:`test_a_header_window_or_format_for_images_is_refused`)."""
    raw = _config(tmp_path, convert={"window": window})
    raw["data"]["kind"] = "images"
    if stage is None:
        assert validate_config(raw).convert.window == window
        return
    with pytest.raises(ConfigError, match=r"would be ignored; window them in preprocess \(") as err:
        validate_config(raw)
    assert stage in str(err.value)
    raw["convert"] = {}
    raw["preprocess"] = [yaml.safe_load(stage)]  # the advice, as given, is a valid config
    assert validate_config(raw).preprocess[0]["type"] == "window"


@pytest.mark.parametrize(
    ("convert", "said"),
    [({"window": "header"}, "convert.window 'header' windows DICOM by each file's own "),
     ({"window": "HEADER"}, "convert.window 'header'"),
     ({"format": "png"}, "convert.format 'png' is the format DICOM is converted to")],
    ids=["header", "header-upper", "format"],
)  # fmt: skip
def test_a_header_window_or_format_for_images_is_refused(
    tmp_path: Path, convert: dict[str, str], said: str
) -> None:
    """``convert.window: header`` (and ``convert.format``) of a ``data.kind: images`` run were
    accepted and ignored without a word: an image file has no DICOM header, nothing is
    converted. Now a config error naming the key; a run saved so before is still read as it
    ran (window none, format npy), so predict, evaluate and --resume take it."""
    from workflows.run.config import load_saved_config

    raw = _config(tmp_path, convert=convert)
    raw["data"]["kind"] = "images"
    with pytest.raises(ConfigError, match=r"data\.kind: images uses the images as stored") as err:
        validate_config(raw)
    assert said in str(err.value)
    saved = tmp_path / "saved" / "config.yaml"
    saved.parent.mkdir()
    saved.write_text(yaml.safe_dump(raw))
    got = load_saved_config(saved).convert
    assert (got.window, got.format) == ("none", "npy")
