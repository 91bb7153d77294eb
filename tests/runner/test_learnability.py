"""The shipped classification pipeline learns a learnable study, and does not "learn" noise.

A fixed seed on a synthetic CR study whose lesion decides the label must give a result far
above chance; the same images with the labels shuffled across patients (a fixed permutation)
must stay near chance. The pair catches a runner that leaks test images or labels into
training, scores the wrong split, or trains on nothing: each turns one of the two red.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.synth import StudySpec, write_study
from workflows.run.config import load_config
from workflows.run.runner import run_study

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "xray_classify.yaml"


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("learn") / "cr"
    write_study(root, StudySpec(modality="CR", patients=600, series_per_patient=1, seed=1))
    rows = list(csv.DictReader((root / "labels.csv").open()))
    order = np.random.default_rng(0).permutation(len(rows))
    shuffled = [dict(r, label=rows[j]["label"], class_name=rows[j]["class_name"])
                for r, j in zip(rows, order)]  # fmt: skip
    with (root / "shuffled.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(shuffled)
    return root


def _summary(study: Path, labels: str, out: Path) -> dict[str, float]:
    """The test figures of a run over ``study`` with ``labels``; runs sharing ``out`` share its
    conversion cache (the same DICOM files). The summary's figures are point estimates: the
    report (and the bootstrap that only it asks for) and saliency maps are not what is tested."""
    config = load_config(CONFIG, [
        f"data.source={study / 'dicom'}", f"data.labels={study / labels}", f"output={out}",
        "train.epochs=20", "evaluate.explain=0", "evaluate.bootstrap=0", "report.enabled=false",
    ])  # fmt: skip
    outcome = run_study(config, progress=False)
    metrics = json.loads((outcome.run_dir / "metrics.json").read_text())
    return {k: float(v) for k, v in metrics["summary"].items() if isinstance(v, int | float)}


@pytest.mark.slow
def test_fixed_seed_learns_the_lesion_and_shuffled_labels_stay_at_chance(
    study: Path, tmp_path: Path
) -> None:
    real = _summary(study, "labels.csv", tmp_path)
    noise = _summary(study, "shuffled.csv", tmp_path)
    # Measured on this study: accuracy 0.907, AUC 0.988 (real); 0.487, 0.495 (shuffled).
    assert real["accuracy"] >= 0.8 and real["roc_auc_macro"] >= 0.9
    assert abs(noise["accuracy"] - 0.5) <= 0.12 and abs(noise["roc_auc_macro"] - 0.5) <= 0.12
