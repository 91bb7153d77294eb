"""Runner-level fixtures: small synthetic studies and a shared output folder (so that the
conversion cache is made once per session), and a minimal config to vary."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from pipeline.synth import StudySpec, write_study


@pytest.fixture(scope="session")
def cr16(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """16 patients x 1 CR image of 16x16, labels 0/1 (no_lesion/round_lesion)."""
    out = tmp_path_factory.mktemp("cr16")
    write_study(out, StudySpec(patients=16, modality="CR", size=16, series_per_patient=1))
    return out


@pytest.fixture(scope="session")
def shared_output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``output`` for the session's runs: they share the conversion cache."""
    return tmp_path_factory.mktemp("runs")


def base_config(study: Path, output: Path, **data: Any) -> dict[str, Any]:
    """A small classification config (raw mapping) over ``study``; ``data`` updates ``data``."""
    return {
        "task": "classification",
        "output": str(output),
        "data": {"source": str(study / "dicom"), "labels": str(study / "labels.csv"), **data},
        "convert": {"workers": 1},
        "split": {"test": 0.25, "val": 0.25},
        "preprocess": [{"type": "z_score", "mode": "dataset"}],
        "model": {"type": "mlp_classifier", "hidden": [8]},
        "train": {"epochs": 1, "batch_size": 8, "device": "cpu"},
        "report": {"enabled": False},
    }


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return [dict(r) for r in csv.DictReader(fh)]


def write_rows(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(dict.fromkeys(c for r in rows for c in r)))
        writer.writeheader()
        writer.writerows(rows)
    return path


def read_json(path: Path) -> Any:
    return json.loads(path.read_text())


@pytest.fixture(scope="session")
def mr_seg(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """4 patients x 2 MR series x 3 slices of 32x32 with masks {0, 1 organ, 2 lesion}."""
    out = tmp_path_factory.mktemp("mr_seg")
    write_study(out, StudySpec(patients=4, modality="MR", task="segmentation", size=32, slices=3))
    return out


def seg_config(study: Path, output: Path, preprocess: list[dict[str, Any]]) -> dict[str, Any]:
    """A small segmentation config (raw mapping) over ``study``."""
    raw = base_config(study, output, masks=str(study / "masks.csv"))
    return raw | {
        "task": "segmentation",
        "preprocess": preprocess,
        "model": {"type": "mlp_segmenter", "hidden": [8], "context": 0},
        "split": {"test": 0.25, "val": 0.25},
    }


@pytest.fixture(scope="session")
def cr_run(cr16: Path, shared_output: Path) -> Path:
    """A finished classification run over ``cr16`` (1 epoch; report off)."""
    from workflows.run.config import validate_config
    from workflows.run.runner import run_study

    outcome = run_study(validate_config(base_config(cr16, shared_output)), progress=False)
    assert outcome is not None
    return outcome.run_dir


@pytest.fixture(scope="session")
def kfold_run(cr16: Path, shared_output: Path) -> Path:
    """A finished 2-fold cross-validation run over ``cr16`` (2 epochs each)."""
    from workflows.run.config import validate_config
    from workflows.run.runner import run_study

    raw = base_config(cr16, shared_output)
    raw["split"] = {"test": 0.25, "folds": 2}
    raw["train"]["epochs"] = 2
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    return outcome.run_dir
