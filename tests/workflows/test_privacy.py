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
    # a label row for a series that is not in the data: warned about by key, never by UID
    extra = {"patient_id": f"{PATIENT_IDS}99", "series_uid": f"{UID_ROOT}.999"}
    _rewrite_csv(study / "labels.csv", new, extra)
    if (study / "masks.csv").exists():
        _rewrite_csv(study / "masks.csv", new)


def _rewrite_csv(path: Path, new: dict[str, str], extra: dict[str, str] | None = None) -> None:
    """``path`` with its identifiers replaced by ``new`` (+ a row: the first one updated with
    ``extra``); mask files renamed to names that hold no identifier."""
    with path.open(newline="") as fh:
        rows = [{k: new.get(v, v) for k, v in r.items()} for r in csv.DictReader(fh)]
    for i, row in enumerate(rows):
        if "mask" in row:
            name = f"masks/m{i:04d}.png"
            (path.parent / row["mask"]).rename(path.parent / name)
            row["mask"] = name
    rows += [{**rows[0], **extra}] if extra else []
    with path.open("w", newline="") as fh:
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
    # malformed identifiers, which pydicom's warnings would quote: an over-long PatientID and
    # a SeriesInstanceUID that is no UID (a series of its own, without a label)
    first, second = sorted((study / "SRC").rglob("*.dcm"))[1:3]
    bad = [(first, "PatientID", f"{PATIENT_IDS}{'X' * 70}"),
           (second, "SeriesInstanceUID", f"{UID_ROOT}.DOE^JOHN")]  # fmt: skip
    for path, keyword, value in bad:
        ds = pydicom.dcmread(path)
        with pytest.warns(UserWarning):  # pydicom: not a valid value for its VR
            setattr(ds, keyword, value)
        ds.save_as(path)
    (study / "SRC" / f"{FOLDER}_00" / "broken.dcm").write_bytes(b"DICM" * 8)
    (study / "SRC" / f"{FOLDER}_01" / "link.dcm").symlink_to(site / "DOE_JOHN_GONE.dcm")
    return site


@pytest.fixture(scope="module")
def seg_site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``SITE/study/SRC/SMITH_ALICE_NN/*.dcm``: MR series with masks (``masks.csv``)."""
    site = tmp_path_factory.mktemp("HOSPITAL_QQX_SEG")
    spec = StudySpec(patients=6, modality="MR", task="segmentation", size=16, slices=3,
                     series_per_patient=1)  # fmt: skip
    write_study(site / "study", spec)
    _identify(site / "study")
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


def _audit(site: Path, commands: list[list[str]], capsys: pytest.CaptureFixture[str]
           ) -> tuple[list[int], dict[str, bytes]]:  # fmt: skip
    """Run ``commands`` (``{run}``: the run directory made by the first one that makes one)
    from ``site``; their exit codes, and every text they left: stdout and stderr, the log
    lines, every file under ``site/out`` by its name (DICOM SEG objects aside: they must name
    the patient and the source UIDs, README)."""
    lines = _Lines()
    logger = logging.getLogger("radpipe")
    logger.addHandler(lines)
    codes = []
    try:
        for command in commands:
            runs = sorted((site / "out").glob("runs*/*-*/config.yaml"), key=os.path.getmtime)
            run = runs[-1].parent.relative_to(site).as_posix() if runs else ""  # the newest
            codes.append(main([a.replace("{run}", run) for a in command]))
    finally:
        logger.removeHandler(lines)
    out, err = capsys.readouterr()
    texts = {"stdout+stderr": (out + err).encode(), "log": "\n".join(lines.lines).encode()}
    for name, data in _files(site / "out"):
        texts[name] = b"" if "/seg/" in name and name.endswith(".dcm") else data
    return codes, texts


def _leaks(site: Path, texts: dict[str, bytes]) -> list[tuple[str, str]]:
    """(where, what) for every identifying value found in ``texts`` or in a file's name."""
    needles = [*HEADER.values(), DESCRIPTION, PATIENT_IDS, UID_ROOT, "DOE_JOHN_GONE",
               str(site), os.path.realpath(site)]  # fmt: skip
    found = [(name, n) for name, data in texts.items() for n in needles if n.encode() in data]
    return found + [(name, n) for name in texts for n in (*needles, FOLDER) if n in name]


def _run_args(config: str, *overrides: str) -> list[str]:
    common = ["data.source=study/SRC", "data.labels=study/labels.csv", "output=out/runs",
              "train.epochs=1", "compute.threads=1", "convert.workers=1",
              "evaluate.bootstrap=20", *overrides]  # fmt: skip
    return ["run", str(CONFIGS / f"{config}.yaml"), *[a for o in common for a in ("--set", o)],
            "--quiet"]  # fmt: skip


def test_default_outputs_hold_no_identifying_value(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(site)  # the user's own paths, given relative as typed
    src = "study/SRC"
    for options in (["--json"], ["--index", "out/index.csv"]):  # its CSV: audited below
        assert main(["inspect", src, *options]) == 1  # the broken file, the dangling link
        shown = capsys.readouterr().out
        # The documented exception: each series' description (README, inspect).
        assert DESCRIPTION in shown
        assert _leaks(site, {"inspect": shown.replace(DESCRIPTION, "").encode()}) == []
    commands = [
        *[["convert", src, f"out/{fmt}-{per}", "--format", fmt, "--per", per, "--quiet"]
          for fmt, per in (("png", "instance"), ("png", "instance"), ("nifti", "series"))],
        _run_args("xray_classify", "evaluate.explain=1"),
        ["predict", "{run}", src, "--quiet"],
        ["predict", "{run}", src, "--out", "out/pred", "--quiet"],
        ["evaluate", "{run}", src, "--labels", "study/labels.csv", "--out", "out/ext", "--quiet"],
        ["report", "{run}"],
    ]  # fmt: skip
    codes, texts = _audit(site, commands, capsys)
    # the broken file and the dangling link fail (exit 1), listed by relative path
    assert codes == [1, 1, 1, 1, 1, 1, 1, 0]  # evaluate too (README: some work failed)
    assert f"{FOLDER}_01/link.dcm" in (site / "out" / "png-instance" / "errors.csv").read_text()
    rows = list(csv.DictReader((site / "out" / "pred" / "predictions.csv").open()))
    assert len(rows) == 8 and rows[0]["source"].startswith(f"{FOLDER}_")  # join-back: relative
    assert len(texts) > 100 and "out/runs/.cache" not in texts  # the audit saw every file
    plots = {Path(name).name for name in texts if "/plots/" in name}
    assert {"examples_per_class.png", "explanations.png"} <= plots  # images: by default
    assert _leaks(site, texts) == []


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


def test_segmentation_outputs_hold_no_identifying_value(
    seg_site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Masks, DICOM SEG file names, predictions.csv, metrics and report of a segmentation run
    (the SEG objects' content must name the patient and the source UIDs: README)."""
    site = seg_site
    monkeypatch.chdir(site)
    masks = ["--masks", "study/masks.csv"]
    commands = [
        _run_args("mr_segment_mlp", "data.masks=study/masks.csv", "preprocess.0.shape=[16,16]"),
        ["predict", "{run}", "study/SRC", "--out", "out/pred", "--quiet"],
        ["evaluate", "{run}", "study/SRC", "--labels", "study/labels.csv", *masks, "--out",
         "out/ext", "--quiet"],
    ]  # fmt: skip
    codes, texts = _audit(site, commands, capsys)
    assert codes == [0, 0, 0]
    rows = list(csv.DictReader((site / "out" / "pred" / "predictions.csv").open()))
    assert len(rows) == 6 * 3 and all((site / "out" / "pred" / r["mask"]).is_file() for r in rows)
    segs = [n for n in texts if n.startswith("pred/seg/")]
    assert len(segs) == 6  # one per series, named by keys (checked by _leaks)
    assert _leaks(site, texts) == []


def test_report_images_false_shows_no_test_image(
    site: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``report.images: false`` (text burned into the pixels): no figure of the run, nor of
    ``radpipe evaluate`` into a folder an earlier evaluation left figures in, shows an image."""
    monkeypatch.chdir(site)
    stale = site / "out" / "ext-noimg" / "plots" / "examples_per_class.png"
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"an earlier evaluation's figure")
    commands = [
        _run_args("xray_classify", "output=out/runs-noimg", "report.images=false",
                  "evaluate.explain=2"),
        ["evaluate", "{run}", "study/SRC", "--labels", "study/labels.csv", "--out",
         "out/ext-noimg", "--quiet"],
    ]  # fmt: skip
    codes, texts = _audit(site, commands, capsys)
    assert codes == [1, 1] and _leaks(site, texts) == []  # 1: the broken file, the link
    from workflows.run.evaluate import IMAGE_FIGURES

    for folder in (*(site / "out" / "runs-noimg").glob("x*"), site / "out" / "ext-noimg"):
        plots = {p.stem for p in (folder / "plots").glob("*.png")}
        assert "roc" in plots and not plots & set(IMAGE_FIGURES), folder
        html = (folder / "report.html").read_text()
        assert "examples per class" not in html and "explanations" not in html
