"""The report of a cross-validated run (`split.folds`), as `radpipe report` writes it: each
fold's figures with their spread, and each fold's training (its log and learning curves)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html import unescape
from pathlib import Path

import numpy as np

from workflows.report.results import evaluate_classification, write_metrics

ROOT = Path(__file__).resolve().parents[2]

#: Each fold's model alone on the test split: hand-made figures.
FOLD_ACCURACY = [0.5, 0.75, 1.0]
FOLD_AUC = [0.625, 0.875, 0.9]


def _cv_run(tmp_path: Path) -> Path:
    run = tmp_path / "runs" / "cv-20261130-2000"
    true = np.array([0, 1, 0, 1])
    probs = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4], [0.55, 0.45]])
    metrics = evaluate_classification(true, probs, ["no", "yes"], ids=["a", "b", "c", "d"])
    metrics["folds"] = [
        {"accuracy": acc, "roc_auc_macro": auc}
        for acc, auc in zip(FOLD_ACCURACY, FOLD_AUC, strict=True)
    ]
    metrics["cross_validation"] = {
        key: {"mean": float(np.mean(v)), "std": float(np.std(v)), "min": min(v), "max": max(v)}
        for key, v in (("accuracy", FOLD_ACCURACY), ("roc_auc_macro", FOLD_AUC))
    }
    write_metrics(run, metrics)
    for fold in range(3):
        log = [
            {"epoch": e, "train_loss": 1.0 / e, "val_loss": [0.9, 0.4 + fold / 10, 0.7][e - 1]}
            for e in (1, 2, 3)
        ]
        folder = run / "folds" / f"fold-{fold}"
        folder.mkdir(parents=True)
        (folder / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in log))
    folds = [-1, -1, 0, 0, 0, 1, 1, 2, 2, 2]  # -1: the held-out test split
    (run / "split.csv").write_text(
        "patient_key,series_key,label,split,fold\n"
        + "".join(
            f"p{i},s{i},{i % 2},{'test' if f < 0 else 'train'},{f}\n" for i, f in enumerate(folds)
        )
    )
    return run


def _text(html: str) -> str:
    html = re.sub(r"<img[^>]*>", "", html)
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def test_a_cross_validated_report_shows_each_fold_and_its_training(tmp_path: Path) -> None:
    run = _cv_run(tmp_path)
    cmd = [sys.executable, "-m", "workflows.cli", "report", str(run)]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    html = (run / "report.html").read_text()
    text = _text(html)
    # per fold, then mean, population std (ddof 0: sqrt(0.125 / 3) = 0.204), min, max
    assert "Cross-validation" in text
    assert "figure fold 0 fold 1 fold 2 mean std min max" in text
    assert "accuracy 0.500 0.750 1.000 0.750 0.204 0.500 1.000" in text
    # AUC: mean 2.4 / 3 = 0.8, std sqrt((0.175^2 + 0.075^2 + 0.1^2) / 3) = 0.1242
    said = "roc_auc_macro (positive class: yes (by default: class 1, not no; "
    assert said + "evaluate.positive_class chooses)) 0.625 0.875 0.900 0.800 0.124 0.625" in text
    # each fold's training: its last epoch and its lowest val_loss (epoch 2: 0.4, 0.5, 0.6)
    assert "fold 0: last epoch 3 0.333 0.700" in text
    assert "fold 1: lowest val_loss 2 0.500 0.500" in text
    assert "fold 2: lowest val_loss 2 0.500 0.600" in text
    # the split by fold (labels of s2..s9: 0 1 0 | 1 0 | 1 0 1), not one 'train' of 8; the
    # class indices of split.csv named (0: no, 1: yes)
    assert (
        "split size no yes train fold 0 3 2 1 train fold 1 2 1 1 train fold 2 3 1 2 test 2 1 1"
    ) in text
    curves = sorted(p.name for p in (run / "plots").glob("learning_curves*.png"))
    assert curves == [f"learning_curves_fold_{k}.png" for k in range(3)]
    for k in range(3):
        assert f"<figcaption>learning curves fold {k}</figcaption>" in html
