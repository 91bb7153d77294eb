"""``radpipe run --nproc 2`` ends like ``radpipe run``: a source file that cannot be converted
gives exit 1 and the normal end, not a torchrun ``ChildFailedError`` traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from pipeline.synth import StudySpec, write_study

ROOT = Path(__file__).parents[2]


def _run(
    tmp_path: Path, *overrides: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    study = tmp_path / "cr"
    config = ROOT / "configs" / "xray_classify.yaml"
    cmd = [
        sys.executable, "-m", "workflows.cli", "run", str(config), "--nproc", "2", "--quiet",
        "--set", f"data.source={study / 'dicom'}", "--set", f"data.labels={study / 'labels.csv'}",
        "--set", f"output={tmp_path / 'runs'}", "--set", "train.epochs=1",
        "--set", "train.batch_size=8", "--set", "convert.workers=1",
        "--set", "report.enabled=false", "--set", "evaluate.explain=0",  # not what is tested
        *(a for o in overrides for a in ("--set", o)),
    ]  # fmt: skip
    env = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)


def test_nproc_run_with_a_bad_file_exits_1_without_a_traceback(tmp_path: Path) -> None:
    """The whole configured pipeline under torchrun (2 gloo ranks): rank 0 converts, splits,
    fits and evaluates; both ranks train; one run directory, written once; the file that
    could not be converted is said once and gives exit 1."""
    study = tmp_path / "cr"
    write_study(study, StudySpec(patients=16, modality="CR", size=32, series_per_patient=1))
    (study / "dicom" / "broken.dcm").write_bytes(b"not a DICOM file at all")
    res = _run(tmp_path, "train.epochs=2")
    assert res.returncode == 1, res.stderr[-3000:]
    assert res.stderr.count("1 source file could not be converted") == 1, res.stderr
    assert "test metrics:" in res.stdout  # the run ended normally, once (rank 0)
    assert res.stdout.count("run directory:") == 1
    for noise in ("Traceback", "ChildFailedError", "failed (exitcode"):
        assert noise not in res.stderr, res.stderr
    (run,) = (tmp_path / "runs").glob("xray_classify-*")
    done = json.loads((run / "train_done.json").read_text())
    assert done["world_size"] == 2 and done["epochs"] == 2
    log = [json.loads(line) for line in (run / "log.jsonl").read_text().splitlines()]
    assert [r["epoch"] for r in log] == [1, 2]  # written by rank 0 only, once per epoch
    metrics = json.loads((run / "metrics.json").read_text())
    split = (run / "split.csv").read_text().splitlines()
    assert metrics["num_cases"] == sum(1 for line in split if ",test," in line) > 0
    assert json.loads((run / "provenance.json").read_text())["world_size"] == 2


def test_nproc_run_that_diverges_says_so_once_and_exits_1(tmp_path: Path) -> None:
    study = tmp_path / "cr"
    write_study(study, StudySpec(patients=16, modality="CR", size=32, series_per_patient=1))
    res = _run(tmp_path, "train.lr=1e38")  # the weights overflow in the first epoch
    assert res.returncode == 1, res.stderr[-3000:]
    assert res.stderr.count("Training diverged at epoch 1") == 1, res.stderr
    for noise in ("Traceback", "ChildFailedError", "failed (exitcode"):
        assert noise not in res.stderr, res.stderr


_FAIL_RANK_1 = """\
import os
if os.environ.get("RANK") == "1":  # rank 1 alone fails in its first epoch
    import workflows.train.epoch as epoch

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("CUDA out of memory. Tried to allocate 2.00 GiB")

    epoch.train_one_epoch = out_of_memory
"""


def test_one_rank_failing_is_one_clear_error(tmp_path: Path) -> None:
    """Rank 1 fails (as a GPU out of memory would); rank 0 loses its peer in the next
    collective. Both printed raw tracebacks ('[rank0]: RuntimeError: [.../gloo/...] Connection
    closed by peer'), then torchrun its ChildFailedError report: 126 lines. Now one line
    names the rank that failed first and what it said; its traceback is kept in a file. The
    run's failed.json is named last, with the resume command."""
    study = tmp_path / "cr"
    write_study(study, StudySpec(patients=16, modality="CR", size=32, series_per_patient=1))
    inject = tmp_path / "inject"
    inject.mkdir()
    (inject / "sitecustomize.py").write_text(_FAIL_RANK_1)
    env = {"PYTHONPATH": f"{inject}{os.pathsep}{ROOT}"}
    res = _run(tmp_path, env=env)
    assert res.returncode == 1, res.stderr[-3000:]
    (said,) = [line for line in res.stderr.splitlines() if "error" in line.lower()]
    head = (
        "radpipe run: error: DDP rank 1 of 2 failed: RuntimeError: CUDA out of memory. "
        "Tried to allocate 2.00 GiB; 1 other rank stopped with it (its traceback: "
    )
    assert said.startswith(head) and said.endswith("rank1.traceback.txt)"), said
    kept = Path(said[len(head) : -1]).read_text()
    assert kept.startswith("Traceback") and "CUDA out of memory" in kept
    for noise in ("Traceback", "ChildFailedError", "failed (exitcode", "[rank", "gloo"):
        assert noise not in res.stderr, res.stderr
    # the last lines name the run's failed.json and the resume command, as `radpipe run`'s
    # do (they named neither); rank 0 saw only its lost peer: the record says the cause
    (run,) = (tmp_path / "runs").glob("xray_classify-*")
    assert res.stderr.strip().splitlines()[-2:] == [
        f"radpipe run: the run stopped; runs/{run.name}/failed.json records what happened. "
        "Once the cause is fixed, continue it with:",
        f"  radpipe run --nproc 2 --resume runs/{run.name}",
    ]
    record = json.loads((run / "failed.json").read_text())
    assert record["error"] == "RuntimeError" and record["rank"] == 1
    assert record["message"] == "DDP rank 1: CUDA out of memory. Tried to allocate 2.00 GiB"
    assert record["resume"] == f"radpipe run --nproc 2 --resume {run.name}"
