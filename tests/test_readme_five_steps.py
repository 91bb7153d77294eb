"""README's "Your own study in five steps" works as written: its commands, its CSV columns and
its config keys, read from README.md itself, run on a small synthetic MR segmentation study
(``/data/`` is a temporary folder, ``RUN`` the run directory that ``radpipe run`` made).

The commands go through the command line's ``main`` in this process, in the folder the README
runs them from: the same parser and code as ``radpipe``, without a new interpreter and torch
import per command (4 commands, 8-25 s each on a loaded machine; not what is tested)."""

from __future__ import annotations

import csv
import re
import shlex
import shutil
from pathlib import Path

import pytest
import yaml

from pipeline.synth import StudySpec, write_study
from workflows.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


def section() -> str:
    text = README.read_text(encoding="utf-8")
    return text[text.index("## Your own study in five steps") : text.index("\n## From your DICOM")]


def blocks(kind: str) -> list[str]:
    return re.findall(rf"^```{kind}\n(.*?)^```", section(), re.S | re.M)


def radpipe(line: str, cwd: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    """``line``'s exit code and what it wrote to stderr, run from the folder ``cwd``."""
    args = shlex.split(line, comments=True)
    assert args[0] == "radpipe", line
    argv = [*args[1:], "--quiet"]
    if args[1] == "inspect":  # no --quiet
        argv.pop()
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(cwd)
        try:
            code = main(argv)
        except SystemExit as exit:  # a usage error (argparse exits): a README option gone
            code = int(exit.code or 0)
    return code, capsys.readouterr().err


def study(folder: Path, out: Path, seed: int, patients: int, columns: list[list[str]]) -> None:
    """A synthetic study (as ``radpipe synth --task segmentation --modality MR``) moved to
    ``out`` (dicom/, masks/), its labels and masks CSVs rewritten with exactly the README's
    columns."""
    spec = StudySpec(patients=patients, task="segmentation", modality="MR", seed=seed, size=32,
                     slices=4)  # fmt: skip
    write_study(folder, spec)
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
@pytest.mark.usefixtures("one_thread")  # restored after the test: a run sets torch's threads
def test_five_steps_run_as_written(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
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

    code, err = radpipe(lines[0], home, capsys)
    assert code == 0, err
    assert (data / "my_study" / "index.csv").read_text().count("series_key") == 1

    copy = re.search(r"`cp (configs/\S+\.yaml) (\S+\.yaml)`", section().replace("\n", " "))
    assert copy, "step 3's cp command"
    config = yaml.safe_load((home / copy.group(1)).read_text())
    edit = yaml.safe_load(blocks("yaml")[0].replace("/data/", f"{data}/"))
    config |= {k: v for k, v in edit.items() if k != "data"}
    config["data"] |= edit["data"]
    (home / copy.group(2)).write_text(yaml.safe_dump(config))

    code, err = radpipe(lines[1], home, capsys)
    assert code == 0, err
    (run,) = (home / "runs").glob(f"{edit['name']}-*")
    for name in ("report.html", "metrics.json", "checkpoints/best.pt"):
        assert (run / name).is_file(), name
    wrote = (["predictions.csv"], ["metrics.json", "report.html"])  # predict, evaluate
    for line, names in zip(lines[2:], wrote, strict=True):
        code, err = radpipe(line.replace("RUN", str(run)), home, capsys)
        assert code == 0, err
        out = Path(shlex.split(line, comments=True)[-1])  # --out's folder
        assert [name for name in names if (out / name).is_file()] == names, line
