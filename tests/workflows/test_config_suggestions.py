"""A misspelt key, stage, model or parameter is refused with the name it most likely means.

The refusal listed every valid name (36 keys under ``train``), the one meant lost among them:
``train.boundary_weigth: unknown key; valid keys here: epochs, batch_size, ...,
boundary_weight, boundary_width``. It now ends ``; did you mean 'boundary_weight'?``; a name
like no valid one gets no guess. The expected names are the ones a user meant, by hand.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from workflows.run.config import load_config

ROOT = Path(__file__).resolve().parents[2]
BASE = "task: classification\ndata: {source: data}\nmodel: {type: mlp_classifier}\n"


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("train: {boundary_weigth: 1}\n", "boundary_weight"),
        ("train: {epoch: 3}\n", "epochs"),
        ("nme: x\n", "name"),
        ("preprocess: [{type: zscore}]\n", "z_score"),
        ("preprocess: [{type: z_score, mdoe: image}]\n", "mode"),
        ("postprocess: [{type: fill_hole}]\n", "fill_holes"),
    ],
    ids=["train-key", "plural", "top-key", "stage", "stage-param", "postprocess"],
)
def test_a_misspelt_name_ends_with_the_one_meant(tmp_path: Path, text: str, meant: str) -> None:
    (tmp_path / "c.yaml").write_text(BASE + text)
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.yaml")
    assert str(info.value).endswith(f"; did you mean {meant!r}?")


def test_a_name_like_none_gets_no_guess(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BASE + "train: {speed: 3}\n")
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "c.yaml")
    assert "did you mean" not in str(info.value)


def test_the_command_line_says_it(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(BASE.replace("mlp_classifier", "mlp_clasifier"))
    proc = subprocess.run(
        [sys.executable, "-m", "workflows.cli", "run", str(tmp_path / "c.yaml")],
        cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 2
    assert proc.stderr.startswith("radpipe run: config error: ")
    assert proc.stderr.endswith("model: unknown type 'mlp_clasifier'; choose one of: "
                                "cnn_classifier, mixer_classifier, mixer_unet, mlp_classifier, "
                                "mlp_segmenter, recurrent_classifier, renet_segmenter, "
                                "reseg_unet, resnet_classifier, unet; did you mean "
                                "'mlp_classifier'?\n")  # fmt: skip
