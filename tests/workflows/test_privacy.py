"""Privacy audit: every user-facing command, run with its default options on a study whose
headers, folder names and location are full of recognisable identifying values, writes and
prints none of them (no patient data, raw UIDs or absolute local paths), except what README
documents as deliberate."""

from __future__ import annotations

import csv
import gzip
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest

from pipeline.synth import StudySpec, write_study
from workflows.cli import main

CONFIGS = Path(__file__).parents[2] / "configs"
UID_ROOT = "1.2.826.0.1.3680043.8.498.99999"
#: Header values that must never leave the source files (keyword -> value written).
HEADER = {
    "PatientName": "DOE^JOHN",
    "PatientBirthDate": "19450704",
    "AccessionNumber": "ACCX98765",
    "InstitutionName": "ST ELSEWHERE HOSPITAL",
    "ReferringPhysicianName": "HOUSE^GREGORY",
    "StudyDescription": "CHEST OF JOHN DOE",
    "StudyDate": "19991231",
    "StudyTime": "235959",
}
#: SeriesDescription: free text, shown by ``radpipe inspect`` only (README, inspect).
DESCRIPTION = "KNEE OF JANE ROE"
PATIENT_IDS = "PID12345"
FOLDER = "SMITH_ALICE"  # a source folder named after a patient: relative paths may name it


def _identify(study: Path) -> None:
    """Rewrite the study's headers with identifying values and UIDs under ``UID_ROOT``, put
    each patient's files in a folder named after them, and rewrite labels.csv to match."""
    new: dict[str, str] = {}

    def renamed(old: str, make: str) -> str:
        return new.setdefault(old, make)

    for path in sorted((study / "dicom").rglob("*.dcm")):
        ds = pydicom.dcmread(path)
        p = int(str(ds.PatientID)[-4:])
        ds.PatientID = renamed(str(ds.PatientID), f"{PATIENT_IDS}{p:02d}")
        for keyword, value in HEADER.items():
            setattr(ds, keyword, value)
        ds.SeriesDescription = DESCRIPTION
        for keyword in ("StudyInstanceUID", "SeriesInstanceUID", "SOPInstanceUID",
                        "FrameOfReferenceUID"):  # fmt: skip
            if keyword in ds:
                old = str(getattr(ds, keyword))
                setattr(ds, keyword, renamed(old, f"{UID_ROOT}.{len(new) + 1}"))
        ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
        dest = study / "SRC" / f"{FOLDER}_{p:02d}" / path.name
        dest.parent.mkdir(parents=True, exist_ok=True)
        ds.save_as(dest, enforce_file_format=True)
    with (study / "labels.csv").open(newline="") as fh:
        rows = [{k: new.get(v, v) for k, v in r.items()} for r in csv.DictReader(fh)]
    # a label row for a series that is not in the data: warned about by key, never by UID
    rows.append({**rows[0], "patient_id": f"{PATIENT_IDS}99", "series_uid": f"{UID_ROOT}.999"})
    with (study / "labels.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``SITE/study/SRC/SMITH_ALICE_NN/*.dcm`` (+ a broken file and a dangling link whose
    target names the patient and the absolute location)."""
    site = tmp_path_factory.mktemp("HOSPITAL_QQX_SITE")
    study = site / "study"
    write_study(study, StudySpec(patients=8, modality="CR", size=32, series_per_patient=1))
    _identify(study)
    (study / "SRC" / f"{FOLDER}_00" / "broken.dcm").write_bytes(b"DICM" * 8)
    (study / "SRC" / f"{FOLDER}_01" / "link.dcm").symlink_to(site / "DOE_JOHN_GONE.dcm")
    return site


class _Lines(logging.Handler):
    """Every line the ``radpipe`` logger emits (the command line's stderr lines)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _files(root: Path) -> Iterator[tuple[str, bytes]]:
    """(path relative to ``root``, content; gzip unpacked) of every file below ``root``."""
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if data[:2] == b"\x1f\x8b":
                data = gzip.decompress(data)
            yield path.relative_to(root).as_posix(), data


def _commands(run: str) -> list[list[str]]:
    src, labels = "study/SRC", "study/labels.csv"
    return [
        ["predict", run, src, "--quiet"],
        ["predict", run, src, "--out", "out/pred", "--quiet"],
        ["evaluate", run, src, "--labels", labels, "--out", "out/external", "--quiet"],
        ["report", run],
    ]


def test_default_outputs_hold_no_identifying_value(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(site)  # the user's own paths, given relative as typed
    lines = _Lines()
    logger = logging.getLogger("radpipe")
    logger.addHandler(lines)
    streams: dict[str, str] = {}
    try:
        codes = {
            "inspect": main(["inspect", "study/SRC", "--index", "out/index.csv"]),
            "inspect --json": main(["inspect", "study/SRC", "--json"]),
        }
        streams["inspect"] = capsys.readouterr().out
        for fmt, per in (("png", "instance"), ("png", "instance"), ("nifti", "series")):
            name = f"convert {fmt} {per}"
            codes[name] = main(["convert", "study/SRC", f"out/{fmt}-{per}", "--format", fmt,
                                "--per", per, "--quiet"])  # fmt: skip
        overrides = ["data.source=study/SRC", "data.labels=study/labels.csv", "output=out/runs",
                     "train.epochs=1", "convert.workers=1", "evaluate.bootstrap=20",
                     "evaluate.explain=1"]  # fmt: skip
        args = [a for o in overrides for a in ("--set", o)]
        codes["run"] = main(["run", str(CONFIGS / "xray_classify.yaml"), *args, "--quiet"])
        (run,) = [p.relative_to(site).as_posix() for p in (site / "out" / "runs").glob("x*")]
        for command in _commands(run):
            codes[" ".join(command[:1])] = main(command)
    finally:
        logger.removeHandler(lines)
    out, err = capsys.readouterr()
    # the broken file and the dangling link fail (exit 1) and are listed, by relative path
    assert codes == {"inspect": 1, "inspect --json": 1, "convert png instance": 1,
                     "convert nifti series": 1, "run": 1, "predict": 1, "evaluate": 0,
                     "report": 0}  # fmt: skip
    assert f"{FOLDER}_01/link.dcm" in (site / "out" / "png-instance" / "errors.csv").read_text()
    rows = list(csv.DictReader((site / "out" / "pred" / "predictions.csv").open()))
    assert len(rows) == 8 and rows[0]["source"].startswith(f"{FOLDER}_")  # join-back: relative
    # The documented exception: inspect shows each series' description (README, inspect).
    assert DESCRIPTION in streams["inspect"]
    texts = {"stdout+stderr": (out + err).encode(), "log": "\n".join(lines.lines).encode()}
    texts |= dict(_files(site / "out"))
    needles = [*HEADER.values(), DESCRIPTION, PATIENT_IDS, UID_ROOT, "DOE_JOHN_GONE",
               str(site), os.path.realpath(site)]  # fmt: skip
    leaks = [(name, needle) for name, data in texts.items() for needle in needles
             if needle.encode() in data]  # fmt: skip
    assert leaks == []
    names = [name for name in texts if any(n in name for n in (*needles, UID_ROOT))]
    assert names == []


def test_config_errors_name_the_users_paths_as_typed(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A missing input named in the config (resolved against the current directory) is named
    relative to it, not by the absolute path it was resolved to."""
    monkeypatch.chdir(site)
    base = ["--set", "output=out/runs", "--set", "data.labels=study/labels.csv"]
    missing = {
        "data.source=study/GONE_DOE": "data.source: no such folder study/GONE_DOE",
        "data.masks=study/no_masks.csv": "data.masks: no such file study/no_masks.csv",
    }
    for override, said in missing.items():
        source = [] if override.startswith("data.source") else ["--set", "data.source=study/SRC"]
        args = ["run", str(CONFIGS / "xray_classify.yaml"), *base, *source, "--set", override]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert said in err and str(site) not in err and os.path.realpath(site) not in err
