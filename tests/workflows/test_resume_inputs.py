"""``radpipe run --resume`` refuses a run whose data changed since it started: its split,
fitted stages and checkpoints belong to the old data, and going on would mix the two."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main

CONFIG = Path(__file__).parents[2] / "configs" / "xray_classify.yaml"


@pytest.fixture(scope="module")
def made(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("cr")
    write_study(out, StudySpec(patients=16, modality="CR", size=32, series_per_patient=1))
    return out


def _started_run(made: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the study and a finished 1-epoch run on it, marked as interrupted."""
    study = tmp_path / "study"
    shutil.copytree(made, study)
    code = main([
        "run", str(CONFIG), "--quiet", "--set", f"data.source={study / 'dicom'}",
        "--set", f"data.labels={study / 'labels.csv'}", "--set", f"output={tmp_path / 'runs'}",
        "--set", "train.epochs=1", "--set", "convert.workers=1",
    ])  # fmt: skip
    assert code == 0
    (run,) = [p for p in (tmp_path / "runs").iterdir() if not p.name.startswith(".")]
    for name in ("metrics.json", "report.html", "train_done.json"):
        (run / name).unlink()
    return study, run


def test_resume_with_the_same_data_goes_on(made: Path, tmp_path: Path) -> None:
    _, run = _started_run(made, tmp_path)
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    assert (run / "metrics.json").is_file()


def test_resume_after_a_copy_or_chmod_of_the_same_data_goes_on(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The folder copied again (new times, new inodes) and chmod-ed, its contents the same:
    the stat fingerprint changed, so the run converted it again and then refused to resume
    ('the files of data.source were added, removed or rewritten'), losing its training. The
    new conversion is the run's, byte for byte: the run resumes, saying why it converted."""
    study, run = _started_run(made, tmp_path)
    old = json.loads((run / "provenance.json").read_text())
    copy = tmp_path / "copy"
    shutil.copytree(study / "dicom", copy)  # new inodes and times
    shutil.rmtree(study / "dicom")
    copy.rename(study / "dicom")
    for path in (study / "dicom").rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o600)
    capsys.readouterr()
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert (run / "metrics.json").is_file()
    new = json.loads((run / "provenance.json").read_text())
    assert new["input_fingerprint"] != old["input_fingerprint"]
    assert new["conversion"] != old["conversion"]  # converted again, into its own cache
    (said,) = [line for line in err.splitlines() if "byte for byte" in line]
    assert said == (
        f"radpipe: resuming {run.name}: the files of data.source have new times or inodes since it "
        f"started (copied, restored or chmod-ed; fingerprint {old['input_fingerprint']}, now "
        f"{new['input_fingerprint']}), so they were converted again; the conversion is the "
        "same as the run's, byte for byte"
    )


@pytest.mark.parametrize("change", ["labels", "new file", "removed file", "rewritten pixels"])
def test_resume_after_the_data_changed_is_refused(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], change: str
) -> None:
    study, run = _started_run(made, tmp_path)
    provenance = (run / "provenance.json").read_text()
    if change == "labels":  # two series of different classes swap their labels
        rows = [line.split(",") for line in (study / "labels.csv").read_text().splitlines()]
        i = next(i for i in range(2, len(rows)) if rows[i][3:] != rows[1][3:])
        rows[1][3:], rows[i][3:] = rows[i][3:], rows[1][3:]  # label, class_name
        (study / "labels.csv").write_text("".join(",".join(r) + "\n" for r in rows))
        said = "data.labels or data.masks CSV changed"
    else:
        files = sorted(p for p in (study / "dicom").rglob("*") if p.is_file())
        if change == "new file":
            shutil.copyfile(files[0], files[0].with_name("copy.dcm"))
        elif change == "removed file":
            files[-1].unlink()
        else:  # the same size and mtime (as cp -p or rsync -a over it leave them)
            data, times = bytearray(files[0].read_bytes()), files[0].stat()
            data[-1] ^= 0xFF  # the last pixel's high byte
            files[0].write_bytes(bytes(data))
            os.utime(files[0], ns=(times.st_atime_ns, times.st_mtime_ns))
        said = "files of data.source were added, removed or rewritten"
    capsys.readouterr()
    assert main(["run", "--resume", str(run), "--quiet"]) == 1
    err = capsys.readouterr().err
    assert f"Cannot resume {run.name}" in err and said in err
    assert not (run / "metrics.json").exists()  # nothing evaluated on the mixed data
    assert (run / "provenance.json").read_text() == provenance  # the old record is kept
    assert "truth_fingerprint" in json.loads(provenance)


def test_a_second_process_on_the_same_run_is_refused(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two `radpipe run --resume RUN` at once both trained the run: log.jsonl got every epoch
    twice and both wrote its checkpoints and metrics.json. While one process holds the run,
    a second is refused at once (exit 1) and changes nothing; once it let go, resume works."""
    import subprocess
    import sys

    _, run = _started_run(made, tmp_path)
    log, last = (run / "log.jsonl").read_bytes(), (run / "checkpoints" / "last.pt").read_bytes()
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from filelock import FileLock; "
         f"lock = FileLock({str(run / '.radpipe-run.lock')!r}); lock.acquire(); "
         "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        capsys.readouterr()
        assert main(["run", "--resume", str(run)]) == 1  # not --quiet: what a user sees
        out, err = capsys.readouterr()
        assert f"{run.name} is in use by another radpipe run" in err and ".radpipe-run.lock" in err
        assert "resuming" not in out + err  # only the refusal: nothing is resumed
        assert (run / "log.jsonl").read_bytes() == log
        assert (run / "checkpoints" / "last.pt").read_bytes() == last
        assert not (run / "metrics.json").exists()
    finally:
        holder.communicate("", timeout=30)
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    assert (run / "metrics.json").is_file()


def test_output_inside_the_source_folder_is_not_read_as_input(
    made: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`output` (or `predict --out`) inside data.source: the run's own config, checkpoints and
    plots were converted as failed source files (exit 1), changed the source's fingerprint (a
    fresh conversion every run, and `--resume` refused as if the data had changed), and a
    second predict read the first's predictions.csv. Radpipe's result folders are marked
    (.radpipe-output) and left out, as convert's own output folder is."""
    study = tmp_path / "study"
    shutil.copytree(made, study)
    src, runs = study / "dicom", study / "dicom" / "runs"
    sets = [f"data.source={src}", f"data.labels={study / 'labels.csv'}", f"output={runs}",
            "train.epochs=1", "convert.workers=1"]  # fmt: skip
    args = ["run", str(CONFIG), "--quiet", *[a for s in sets for a in ("--set", s)]]
    assert main(args) == 0
    (run,) = runs.glob("xray_classify-*")
    assert (run / ".radpipe-output").is_file()
    first = json.loads((run / "provenance.json").read_text())
    assert first["failed_files"] == 0
    for name in ("metrics.json", "report.html", "train_done.json"):  # as if interrupted
        (run / name).unlink()
    assert main(["run", "--resume", str(run), "--quiet"]) == 0
    assert (run / "metrics.json").is_file()
    assert main(args) == 0  # a second run: the same data, so the same conversion
    (second,) = set(runs.glob("xray_classify-*")) - {run}
    provenance = json.loads((second / "provenance.json").read_text())
    assert provenance["reused_conversion"] and provenance["input_fingerprint"] == first[
        "input_fingerprint"]  # fmt: skip
    out = src / "predictions"
    for _ in range(2):
        capsys.readouterr()
        assert main(["predict", str(run), str(src), "--out", str(out)]) == 0
        rows = (out / "predictions.csv").read_text().splitlines()
        assert len(rows) == 1 + 16, capsys.readouterr().err  # the 16 images, nothing of ours
