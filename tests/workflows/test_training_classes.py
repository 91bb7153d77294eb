"""Class weights must be one per class and non-negative; a class with no series in a training
split is said (and recorded), since its model cannot learn it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from pipeline.errors import ConfigError
from pipeline.synth import StudySpec, write_study
from workflows.cli import main
from workflows.train.config import TrainConfig

CONFIG = Path(__file__).parents[2] / "configs" / "xray_classify.yaml"


@pytest.mark.parametrize("weights", [[1.0, -0.5], [0.0, 0.0], [1.0, float("nan")]])
def test_class_weights_must_be_non_negative_and_not_all_zero(weights: list[float]) -> None:
    with pytest.raises(ConfigError, match=r"train\.class_weights: must be finite and >= 0"):
        TrainConfig(class_weights=weights)


@pytest.mark.parametrize("setting", [{"class_weights": [1.0, 2.0, 2.0]}, {"label_smoothing": 0.1}])
def test_cross_entropy_settings_are_refused_with_the_dice_loss(setting: dict[str, object]) -> None:
    with pytest.raises(ConfigError, match="which loss 'dice' does not have"):
        TrainConfig(loss="dice", **setting)  # type: ignore[arg-type]
    TrainConfig(loss="dice_ce", **setting)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cr")
    write_study(out, StudySpec(patients=16, modality="CR", size=32, series_per_patient=1))
    return out


def _run(study: Path, out: Path, *extra: str) -> int:
    return main([
        "run", str(CONFIG), "--quiet", "--set", f"data.source={study / 'dicom'}",
        "--set", f"data.labels={study / 'labels.csv'}", "--set", f"output={out}",
        "--set", "train.epochs=1", "--set", "convert.workers=1",
        *(a for e in extra for a in ("--set", e)),
    ])  # fmt: skip


def test_labels_1_and_2_leave_class_0_untrained_and_it_is_said(
    made: Path, tmp_path: Path, said: list[str]
) -> None:
    study = tmp_path / "study"
    shutil.copytree(made, study)
    rows = [line.split(",") for line in (study / "labels.csv").read_text().splitlines()]
    # labels 1 and 2, no class_name column: counted from 1, refused (class "0" would be
    # empty; tests/workflows/test_class_name_shared.py); declared, three classes "0", "1",
    # "2", none of the series of class "0"
    text = "series_uid,label\n" + "".join(f"{r[2]},{int(r[3]) + 1}\n" for r in rows[1:])
    (study / "labels.csv").write_text(text)
    assert _run(study, tmp_path / "runs") == 2  # a config error: before the run dir
    names = 'data.class_names=["0", "1", "2"]'
    assert _run(study, tmp_path / "runs", names, "train.class_weights=[1, 1]") == 2  # 3 classes
    assert not (tmp_path / "runs").exists() or not [  # refused before a run directory stays
        p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")
    ]
    said.clear()
    assert _run(study, tmp_path / "runs", names, "train.class_weights=[0, 1, 3]") == 0
    (run,) = [p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]
    assert json.loads((run / "train_done.json").read_text())["classes_absent_from_training"] == [
        "0"
    ]
    text = "the training split has no series of class '0': its model cannot learn it"
    assert any(m.startswith(text) for m in said), said


def test_wrong_number_of_class_weights_is_a_config_error(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(made, tmp_path / "runs", "train.class_weights=[1, 2, 3]") == 2
    err = capsys.readouterr().err
    assert "train.class_weights: 3 weights for 2 classes (no_lesion, round_lesion)" in err


def test_a_class_only_in_validation_or_test_rows_is_said_untrained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Mutation: the check counting the classes of every row, not of the training split's:
    class 'lesion' labels only a validation and a test series, so the training split of
    series a and b (both 'normal') has none of it."""
    from types import SimpleNamespace

    from workflows.run.checks import check_training_classes
    from workflows.run.config import validate_config

    raw = {"task": "classification", "data": {"source": "x"}, "model": {"type": "mlp_classifier"}}
    split = [{"series_key": "a", "label": 0, "split": "train"},
             {"series_key": "b", "label": 0, "split": "train"},
             {"series_key": "c", "label": 1, "split": "val"},
             {"series_key": "d", "label": 1, "split": "test"}]  # fmt: skip
    study = SimpleNamespace(class_names=["normal", "lesion"], split=split)
    with caplog.at_level("WARNING", logger="radpipe"):
        absent = check_training_classes(validate_config(raw), study, ["a", "b"], 2, None)
    assert absent == ["lesion"]
    assert caplog.messages[0].startswith("the training split has no series of class 'lesion'")
