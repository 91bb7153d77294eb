from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipeline.errors import ConfigError
from workflows.cli import main
from workflows.run.config import apply_override, json_schema, load_config

CONFIGS = sorted((Path(__file__).parents[2] / "configs").glob("*.yaml"))


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(text)
    return path


BASE = """
task: classification
data: {source: data}
model: {type: mlp_classifier}
"""


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_shipped_configs_validate(path: Path) -> None:
    config = load_config(path)
    assert config.name == path.stem


@pytest.mark.parametrize(
    "text, message",
    [
        (BASE + "trian: {epochs: 3}\n", "trian: unknown key; valid keys here: name, seed"),
        (BASE + "train: {epcohs: 3}\n", "train.epcohs: unknown key; valid keys here: epochs"),
        (BASE + "train: {epochs: three}\n", "train.epochs: Input should be a valid integer"),
        (BASE + "train: {optimizer: rmsprop}\n", "train.optimizer: must be one of 'adam'"),
        (
            BASE + "preprocess: [{type: zscore}]\n",
            "preprocess: unknown type 'zscore'; choose one of:",
        ),
        (
            BASE + "preprocess: [{type: z_score, mdoe: image}]\n",
            "z_score has no parameter 'mdoe'; valid: mode",
        ),
        (BASE + "preprocess: [{type: z_score, mode: patient}]\n", "item 0 (z_score)"),
        (
            BASE.replace("mlp_classifier", "transformer"),
            "model: unknown type 'transformer'; choose one of: cnn_classifier",
        ),
        ("task: classification\nmodel: {type: mlp_classifier}\n", "data: required key"),
        (BASE + "split: {folds: 1}\n", "folds must be 0"),
    ],
    ids=[
        "top-typo",
        "nested-typo",
        "wrong-type",
        "bad-choice",
        "unknown-stage",
        "stage-param-typo",
        "stage-param-value",
        "unknown-model",
        "missing",
        "one-fold",
    ],
)
def test_bad_config_names_key_and_choices(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(_write(tmp_path, text))
    assert message in str(info.value)


def test_bad_config_on_command_line_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    path = _write(tmp_path, BASE + "train: {epcohs: 3}\n")
    assert main(["run", str(path)]) == 2
    assert "train.epcohs: unknown key" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.yaml"]


def test_validation_does_not_import_torch(tmp_path: Path) -> None:
    # Validation must stay light (well under a second): torch and MONAI are not imported.
    path = _write(tmp_path, BASE + "preprocess: [{type: z_score}]\n")
    code = (
        "import sys\nfrom workflows.run.config import load_config\n"
        f"load_config({str(path)!r})\n"
        "print(sorted(m for m in ('torch', 'monai') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_overrides_are_validated(tmp_path: Path) -> None:
    path = _write(tmp_path, BASE + "preprocess: [{type: z_score}]\n")
    config = load_config(path, ["train.lr=0.01", "preprocess.0.mode=dataset", "seed=7"])
    assert (config.train.lr, config.preprocess[0]["mode"], config.seed) == (0.01, "dataset", 7)
    with pytest.raises(ConfigError, match=r"train\.lrr: unknown key"):
        load_config(path, ["train.lrr=0.01"])
    with pytest.raises(ConfigError, match=r"index 3 is past the end of the list preprocess"):
        load_config(path, ["preprocess.3.mode=image"])
    with pytest.raises(ConfigError, match=r"expects key\.path=value"):
        apply_override({}, "train.lr")


def test_paths_resolve_against_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    config = load_config(_write(tmp_path, BASE))
    assert config.data.source == tmp_path / "data"


def test_config_show_and_schema(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, BASE)
    assert main(["config", "show", str(path), "--set", "train.epochs=3"]) == 0
    shown = yaml.safe_load(capsys.readouterr().out)
    assert shown["train"]["epochs"] == 3 and shown["train"]["optimizer"] == "adam"
    assert main(["config", "schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema == json_schema() and schema["title"] == "RunConfig"
    assert "epochs" in schema["$defs"]["TrainSection"]["properties"]


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("lr", 0.0, "train.lr: must be > 0; got 0.0"),
        ("momentum", 1.0, "train.momentum: must be < 1; got 1.0"),
        ("gamma", -0.5, "train.gamma: must be > 0; got -0.5"),
        ("early_stopping", 0, "train.early_stopping: must be > 0; got 0"),
        ("optimizer", "rmsprop", "train.optimizer: must be one of 'adam', 'adamw', 'sgd'"),
        ("nesterov", True, "train.nesterov: needs optimizer 'sgd' with momentum > 0"),
    ],
)
def test_a_train_rule_is_caught_identically_from_yaml_and_python(
    tmp_path: Path, key: str, value: object, message: str
) -> None:
    from workflows.train.config import TrainConfig

    with pytest.raises(ConfigError) as from_python:
        TrainConfig(**{key: value})
    with pytest.raises(ConfigError) as from_yaml:
        load_config(_write(tmp_path, BASE + f"train: {{{key}: {json.dumps(value)}}}\n"))
    assert str(from_python.value).startswith(message)
    assert str(from_yaml.value) == f"{tmp_path / 'c.yaml'}: {from_python.value}"


def test_the_train_section_has_the_train_config_fields_and_defaults() -> None:
    import dataclasses

    from workflows.run.config import TrainSection
    from workflows.train.config import TrainConfig

    python = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    yaml_ = {
        k: f.get_default(call_default_factory=True) for k, f in TrainSection.model_fields.items()
    }
    assert set(yaml_) == set(python) - {"seed", "progress"} | {"init_from", "freeze"}
    assert {k: python[k] for k in yaml_ if k in python} == {
        k: yaml_[k] for k in yaml_ if k in python
    }
    props = json_schema()["$defs"]["TrainSection"]["properties"]  # for editors
    assert props["optimizer"]["enum"] == ["adam", "adamw", "sgd"]
    assert props["loss"]["enum"] == [None, "ce", "dice", "dice_ce"]
    section = TrainSection(lr=0.5, optimizer="sgd", nesterov=True)
    assert section.train_config(seed=7) == TrainConfig(
        lr=0.5, optimizer="sgd", nesterov=True, seed=7
    )
