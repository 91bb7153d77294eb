"""README's "Your own study in five steps" works as written: its commands, its CSV columns and
its config keys, read from README.md itself, run on a small synthetic MR segmentation study
(``/data/`` is a temporary folder, ``RUN`` the run directory that ``radpipe run`` made)."""

from __future__ import annotations

import csv
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Your own study in five steps") : text.index("\n## From your DICOM")]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", section(), re.S | re.M)


def radpipe(line: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    args = shlex.split(line, comments=True)
    assert args[0] == "radpipe", line
    command = [sys.executable, "-m", "workflows.cli", *args[1:], "--quiet"]
    if args[1] == "inspect":  # no --quiet
        command.pop()
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=600)


def study(folder: Path, out: Path, seed: int, patients: int, columns: list[list[str]]) -> None:
    """A synthetic study moved to ``out`` (dicom/, masks/), its labels and masks CSVs rewritten
    with exactly the README's columns."""
    synth = [sys.executable, "-m", "workflows.cli", "synth", str(folder), "--task"]
    synth += ["segmentation", "--modality", "MR", "--patients", str(patients), "--seed"]
    subprocess.run([*synth, str(seed), "--size", "32", "--slices", "4"], check=True, cwd=ROOT)
    out.mkdir(parents=True)
    for name in ("dicom", "masks"):
        shutil.move(folder / name, out / name)
    for name, header in zip(("labels", "masks"), columns, strict=True):
        with (folder / f"{name}.csv").open(newline="") as f:
            rows = list(csv.DictReader(f))
        with (out / f"{name}.csv").open("w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows([row[c] for c in header] for row in rows)


@pytest.mark.slow
def test_five_steps_run_as_written(tmp_path: Path) -> None:
    data, home = tmp_path / "data", tmp_path / "radpipe"
    shutil.copytree(ROOT / "configs", home / "configs")
    columns = [b.splitlines()[0].split(",") for b in blocks("csv")]
    assert columns == [["series_uid", "label", "class_name"], ["sop_instance_uid", "frame", "mask"]]
    study(tmp_path / "s1", data / "my_study", 0, 6, columns)
    study(tmp_path / "s2", data / "test_set", 7, 3, columns)
    shutil.copytree(data / "test_set" / "dicom", data / "new_scans")
    lines = [
        line.replace("/data/", f"{data}/")
        for block in blocks("bash")
        for line in block.splitlines()
        if line.startswith("radpipe ")
    ]
    assert [line.split()[1] for line in lines] == ["inspect", "run", "predict", "evaluate"]

    done = radpipe(lines[0], home)
    assert done.returncode == 0, done.stderr
    assert (data / "my_study" / "index.csv").read_text().count("series_key") == 1

    copy = re.search(r"`cp (configs/\S+\.yaml) (\S+\.yaml)`", section().replace("\n", " "))
    assert copy, "step 3's cp command"
    config = yaml.safe_load((home / copy.group(1)).read_text())
    edit = yaml.safe_load(blocks("yaml")[0].replace("/data/", f"{data}/"))
    config |= {k: v for k, v in edit.items() if k != "data"}
    config["data"] |= edit["data"]
    (home / copy.group(2)).write_text(yaml.safe_dump(config))

    done = radpipe(lines[1], home)
    assert done.returncode == 0, done.stderr
    (run,) = (home / "runs").glob(f"{edit['name']}-*")
    for name in ("report.html", "metrics.json", "checkpoints/best.pt"):
        assert (run / name).is_file(), name
    wrote = (["predictions.csv"], ["metrics.json", "report.html"])  # predict, evaluate
    for line, names in zip(lines[2:], wrote, strict=True):
        done = radpipe(line.replace("RUN", str(run)), home)
        assert done.returncode == 0, done.stderr
        out = Path(shlex.split(line, comments=True)[-1])  # --out's folder
        assert [name for name in names if (out / name).is_file()] == names, line
