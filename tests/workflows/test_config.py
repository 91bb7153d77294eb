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
        (BASE + "train: {optimizer: rmsprop}\n", "train.optimizer: Input should be 'adam'"),
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
    with pytest.raises(ConfigError, match="expected a list index below 1"):
        load_config(path, ["preprocess.3.mode=image"])
    with pytest.raises(ConfigError, match=r"expects key\.path=value"):
        apply_override({}, "train.lr")


def test_paths_resolve_against_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
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
    assert "epochs" in schema["$defs"]["TrainConfig"]["properties"]
