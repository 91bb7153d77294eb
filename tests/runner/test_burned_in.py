"""Test images whose header says BurnedInAnnotation YES are in no figure of the report unless
``report.burned_in_images: true``; the report and ``metrics.json`` say how many were left out.
Which images are flagged is read here from the files with pydicom, never from radpipe."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path
from typing import Any

import pydicom
import pytest

from pipeline.keys import hash_key
from tests.runner.conftest import base_config, read_json
from workflows.run.burned_in import burned_in_series
from workflows.run.config import validate_config
from workflows.run.runner import run_study


def _flag(study: Path, flagged: set[int]) -> tuple[set[str], set[str]]:
    """Set BurnedInAnnotation YES on the files of patients ``flagged`` (index in sorted
    PatientID order), NO on the others; returns the flagged instance and series keys."""
    paths = sorted((study / "dicom").rglob("*.dcm"))
    patients = sorted({str(pydicom.dcmread(p, stop_before_pixels=True).PatientID) for p in paths})
    instances, series = set(), set()
    for path in paths:
        ds = pydicom.dcmread(path)
        yes = patients.index(str(ds.PatientID)) in flagged
        ds.BurnedInAnnotation = "YES" if yes else "NO"
        ds.save_as(path)
        if yes:
            instances.add(hash_key(ds.SOPInstanceUID))
            series.add(hash_key(ds.SeriesInstanceUID))
    return instances, series


def _run(study: Path, out: Path, monkeypatch: pytest.MonkeyPatch, **report: Any) -> Any:
    """Run a classification config with the report on; the ids every image figure drew."""
    from workflows.report import plots

    drawn: list[str] = []
    for name in ("plot_thumbnails", "plot_saliency"):
        real = getattr(plots, name)

        def record(rows: Any, *args: Any, _real: Any = real, **kwargs: Any) -> Any:
            drawn.extend(str(r[0]) for r in rows)
            return _real(rows, *args, **kwargs)

        monkeypatch.setattr(plots, name, record)
    raw = base_config(study, out)
    raw["report"] = {"enabled": True, **report}
    raw["evaluate"] = {"explain": 2, "bootstrap": 0}
    outcome = run_study(validate_config(raw), progress=False)
    assert outcome is not None
    return outcome.run_dir, drawn


@pytest.fixture()
def study(cr16: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "study"
    shutil.copytree(cr16, copy)
    return copy


def test_flagged_images_are_in_no_figure(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instances, series = _flag(study, set(range(0, 16, 2)))
    run_dir, drawn = _run(study, tmp_path / "out", monkeypatch)
    with (run_dir / "split.csv").open(newline="") as fh:
        test = [r["series_key"] for r in csv.DictReader(fh) if r["split"] == "test"]
    hidden = sum(k in series for k in test)  # one image per series in this study
    assert 0 < hidden < len(test)  # the split put both kinds in the test set
    assert drawn and not set(drawn) & instances, drawn
    metrics = read_json(run_dir / "metrics.json")
    assert metrics["report_images"] == {
        "burned_in_hidden": hidden,
        "burned_in_series": hidden,
        "burned_in_unchecked_files": 0,
    }
    html = (run_dir / "report.html").read_text()
    images = f"{hidden} test image" + "s" * (hidden != 1)  # one image per series
    assert f"{images} of {hidden} series whose header says BurnedInAnnotation" in html


def test_all_flagged_shows_no_image_unless_asked(
    study: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    instances, _ = _flag(study, set(range(16)))
    run_dir, drawn = _run(study, tmp_path / "out", monkeypatch)
    assert drawn == []
    assert not [p.stem for p in (run_dir / "plots").glob("*.png") if "example" in p.stem]
    run_dir, drawn = _run(study, tmp_path / "out2", monkeypatch, burned_in_images=True)
    assert drawn and set(drawn) <= instances
    assert "report_images" not in read_json(run_dir / "metrics.json")


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
def test_burned_in_series_reads_each_series_until_a_flag(tmp_path: Path) -> None:
    """A series is flagged by any of its files; a missing file is counted, not guessed."""
    src = tmp_path / "src"
    rows = []
    for series, flags in {"a": ["NO", "YES"], "b": ["NO", ""], "c": [None], "d": ["yes"]}.items():
        for i, flag in enumerate(flags):
            name = f"{series}{i}.dcm"
            if flag is not None:
                ds = pydicom.Dataset()
                ds.PatientID = "P"
                if flag:
                    ds.BurnedInAnnotation = flag
                src.mkdir(exist_ok=True)
                ds.save_as(src / name, implicit_vr=True, little_endian=True)
            rows.append({"source": name, "series_key": series})
    conversion = tmp_path / "conv"
    conversion.mkdir()
    with (conversion / "manifest.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=["source", "series_key"])
        writer.writeheader()
        writer.writerows(rows)
    assert burned_in_series(conversion, src, ["a", "b", "c", "d"]) == ({"a", "d"}, 1)
    assert burned_in_series(conversion, src, ["b"]) == (set(), 0)
