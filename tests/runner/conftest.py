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
        # neither is what these tests check (the shipped configs' tests run both): 1,000
        # bootstrap resamples and saliency maps cost ~4 s of every run
        "evaluate": {"bootstrap": 0, "explain": 0},
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


def model_predictions(
    folders: list[Path], root: Path, keys: set[str] | None
) -> tuple[list[str], list[Any]]:
    """Item ids and the probabilities of the model in each of ``folders`` (a fold or
    ensemble member), from its own stages and best checkpoint, on the converted ``root``."""
    import numpy as np

    from pipeline.data import ManifestDataset
    from pipeline.stage import Pipeline
    from workflows.train.infer import load_model_from_checkpoint, predict

    probs = []
    for folder in folders:
        ds = ManifestDataset(root, series_keys=keys, pipeline=Pipeline.load(folder / "stages"))
        model = load_model_from_checkpoint(folder / "checkpoints" / "best.pt")
        probs.append(predict(model, ds, device="cpu"))
    ids = [ds[i]["id"] for i in range(len(ds))]
    assert not np.allclose(probs[0], probs[1])  # the models differ
    return ids, probs


def assert_scored_mean(metrics: dict[str, Any], folders: list[Path], root: Path,
                       keys: set[str] | None) -> None:  # fmt: skip
    """Every case of ``metrics`` is scored with the mean probabilities of the models in
    ``folders``, computed here from their checkpoints on the converted ``root``."""
    import numpy as np

    ids, probs = model_predictions(folders, root, keys)
    scored = {c["id"]: c["probs"] for c in metrics["per_case"]}
    assert sorted(scored) == sorted(ids)
    for key, mean in zip(ids, np.mean(probs, axis=0)):
        np.testing.assert_allclose(scored[key], mean, atol=1e-6)


def assert_predicted_mean(run: Path, folders: list[Path], study: Path, out: Path) -> None:
    """``radpipe predict`` on ``study`` writes the mean probabilities of the models in
    ``folders``, computed here from their checkpoints."""
    import numpy as np

    from workflows.cli import main

    assert main(["predict", str(run), str(study / "dicom"), "--out", str(out), "--quiet"]) == 0
    ids, probs = model_predictions(folders, out / "converted", None)
    written = {r["instance_key"]: r for r in read_rows(out / "predictions.csv")}
    names = read_json(run / "classes.json")["class_names"]
    assert sorted(written) == sorted(ids)
    for key, mean in zip(ids, np.mean(probs, axis=0)):
        got = [float(written[key][f"prob_{n}"]) for n in names]
        np.testing.assert_allclose(got, mean, atol=2e-6)


def evaluate_external(run: Path, study: Path, out: Path) -> tuple[dict[str, Any], Path]:
    """``radpipe evaluate`` of ``run`` on ``study``: its metrics and the converted folder."""
    from workflows.cli import main

    assert main(["evaluate", str(run), str(study / "dicom"), "--labels",
                 str(study / "labels.csv"), "--out", str(out), "--quiet"]) == 0  # fmt: skip
    return read_json(out / "metrics.json"), next(p.parent for p in out.rglob("manifest.csv"))


def images_study_warnings(
    folder: Path, image_list: Path, split: dict[str, Any], caplog: Any, words: str,
    task: str = "classification",
) -> list[str]:  # fmt: skip
    """The radpipe warnings holding ``words`` while ``prepare_study`` reads a ``task``
    ``data.kind: images`` run over ``image_list`` (files in ``folder``) with ``split``."""
    import logging

    from workflows.run.config import validate_config
    from workflows.run.study import prepare_study

    raw = {
        "task": task,
        "output": str(folder / "runs"),
        "data": {"kind": "images", "source": str(folder), "labels": str(image_list)},
        "split": split,
        "model": {"type": "mlp_classifier" if task == "classification" else "mlp_segmenter"},
        "train": {"monitor": "train_loss"},
    }
    (folder / "run").mkdir()
    with caplog.at_level(logging.WARNING, logger="radpipe"):
        prepare_study(validate_config(raw), folder / "run", progress=False)
    return [r.getMessage() for r in caplog.records if words in r.getMessage()]


def radpipe_in(cwd: Path, *args: str, timeout: float = 300) -> Any:
    """``radpipe ARGS`` as a user runs it: a subprocess in ``cwd`` (relative paths as typed),
    this worktree's package first, a bare environment but the suite's project secret (the
    runs it reads were made under it, as a user's are under theirs); its ``CompletedProcess``."""
    import os
    import subprocess
    import sys

    env = {"PYTHONPATH": str(Path(__file__).resolve().parents[2]), "PATH": "/usr/bin:/bin",
           "RADPIPE_SECRET_FILE": os.environ["RADPIPE_SECRET_FILE"]}  # fmt: skip
    return subprocess.run([sys.executable, "-m", "workflows.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)  # fmt: skip


def main_in(cwd: Path, *args: str) -> Any:
    """``radpipe ARGS`` through the command line's ``main`` in this process, from ``cwd``
    (relative paths as typed): its exit code and what it printed, as ``returncode``,
    ``stdout`` and ``stderr``. For tests of what a command does and says, where a subprocess
    (an interpreter, torch, torch._dynamo and matplotlib imported per command) is not what
    is tested; :func:`radpipe_in` is the user's process."""
    import contextlib
    import io
    import os
    from types import SimpleNamespace

    from workflows.cli import main

    out, err, before = io.StringIO(), io.StringIO(), Path.cwd()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(list(args))
    finally:
        os.chdir(before)
    return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def run_config_cli(raw: dict[str, Any], folder: Path) -> Any:
    """``radpipe run CONFIG --quiet`` on ``raw`` written to ``folder/config.yaml``, from the
    repository root, through :func:`main_in` (until 2026-12-04 a subprocess); must exit 0."""
    config = folder / "config.yaml"
    config.write_text(json.dumps(raw))
    proc = main_in(Path(__file__).resolve().parents[2], "run", str(config), "--quiet")
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc


def images_refusal(folder: Path, rows: list[dict[str, Any]], segmentation: bool = False) -> str:
    """The configuration error the pre-run checks of ``radpipe run`` give an images run over
    ``rows`` (written to ``folder/l.csv``, paths relative to ``folder``); must refuse."""
    import pytest

    from pipeline.errors import ConfigError
    from workflows.run.checks import check_inputs
    from workflows.run.config import validate_config

    raw = base_config(folder, folder / "out", kind="images")
    raw["data"].update(source=str(folder), labels=str(write_rows(folder / "l.csv", rows)))
    if segmentation:
        raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [8]}}
    with pytest.raises(ConfigError) as err:
        check_inputs(validate_config(raw))
    return str(err.value)
