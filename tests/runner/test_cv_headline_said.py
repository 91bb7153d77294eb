"""A cross-validated run (``split.folds``) printed ``test metrics:  accuracy ...`` like any run:
nothing said the figures were of the ensemble of its fold models (``metrics.json``'s
``evaluated``), nor where each fold model's own were, and ``radpipe predict`` did not say
whose probabilities it wrote. ``radpipe evaluate`` and ``radpipe run`` now say it under the
figures, ``predict`` under its count."""

from __future__ import annotations

from pathlib import Path

from tests.runner.conftest import radpipe_in


def test_evaluate_of_a_cross_validated_run_says_its_figures_are_the_ensembles(
    kfold_run: Path, cr16: Path, tmp_path: Path
) -> None:
    proc = radpipe_in(tmp_path, "evaluate", str(kfold_run), str(cr16 / "dicom"), "--labels",
                      str(cr16 / "labels.csv"), "--out", "ev", "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    at = next(k for k, line in enumerate(lines) if line.startswith("16 test cases"))
    assert (
        "  (figures of the ensemble of the 2 fold models; each fold model's own: metrics.json "
        "folds and cross_validation)"
    ) in lines[at + 1 :]


def test_predict_with_a_cross_validated_run_says_its_folds_predicted(
    kfold_run: Path, cr16: Path, tmp_path: Path
) -> None:
    proc = radpipe_in(tmp_path, "predict", str(kfold_run), str(cr16 / "dicom"), "--out", "p",
                      "--quiet")  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith(
        "16 predictions -> p/predictions.csv\n"
        "  (each the mean of the probabilities of the run's 2 fold models)\n"
    )
