"""A header value that only ``--window header`` uses never makes ``convert`` refuse a file:
an unusable WindowCenter/WindowWidth, VOILUTFunction or VOI LUT Sequence is ignored with a
note, whatever the format, exactly as ``inspect`` reports it; a header value every output
needs (a Modality LUT) is refused by both."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian

from workflows.cli import main

SERIES = "1.2.826.0.1.3680043.8.498.77"
IGNORED = ": the header's window is ignored"


def _ct(path: Path, z: float, **attrs: object) -> Path:
    """A 4x4 CT slice of stored value 7 (rescale 1, 0: modality value 7.0), 16-bit unsigned;
    a Modality LUT Sequence in ``attrs`` instead of the rescale."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = f"{SERIES}.{int(z) + 1}"
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P1", "1.2.3", SERIES
    ds.Modality, ds.Rows, ds.Columns = "CT", 4, 4
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, z]
    ds.PixelSpacing = [1, 1]
    if "ModalityLUTSequence" not in attrs:  # a CT has one or the other (PS3.3 C.8.2.1)
        ds.RescaleSlope, ds.RescaleIntercept = 1, 0
    for keyword, value in attrs.items():
        setattr(ds, keyword, value)
    ds.PixelData = np.full((4, 4), 7, dtype="<u2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def _patch(path: Path, old: bytes, new: bytes) -> None:
    """Replace a value in place, keeping its (even) length: a damaged header as found."""
    data = path.read_bytes()
    assert len(old) == len(new) and data.count(old) == 1
    path.write_bytes(data.replace(old, new))


def _bad_voi_lut() -> Sequence:
    item = Dataset()
    item.LUTDescriptor = [4, 0, 20]  # 20 bits per entry: PS3.3 C.11.2.1.1 allows 8..16
    item.LUTData = np.arange(4, dtype="<u2").tobytes()
    return Sequence([item])


# (attributes written, bytes patched in afterwards or None, the note the file gets)
CASES = {
    "width-text": (
        {"WindowCenter": 40, "WindowWidth": ["40000000", "1"]},
        (b"40000000\\1", b"-JOHNDOE\\1"),
        "WindowWidth (0028,1051) is not numeric: text of 10 characters (not shown: it is no "
        f"number){IGNORED}",
    ),
    "width-infinite": (
        {"WindowCenter": 40, "WindowWidth": "4000"},
        (b"4000", b"inf "),
        "WindowWidth (0028,1051) must hold numbers, got text of 3 characters (not shown: it "
        f"is no number){IGNORED}",
    ),
    "width-zero": (
        {"WindowCenter": 40, "WindowWidth": 0},
        None,
        f"WindowWidth 0 is not positive{IGNORED}",
    ),
    "width-below-1-linear": (
        {"WindowCenter": 40, "WindowWidth": "0.5"},
        None,
        f"WindowWidth 0.5 is below 1, the least a LINEAR window allows{IGNORED}",
    ),
    "counts-differ": (
        {"WindowCenter": [40, -600], "WindowWidth": 400},
        None,
        f"WindowCenter (0028,1050) has 2 values and WindowWidth (0028,1051) 1{IGNORED}",
    ),
    "width-missing": ({"WindowCenter": 40}, None, f"WindowWidth (0028,1051) is missing{IGNORED}"),
    "unknown-function": (
        {"WindowCenter": 40, "WindowWidth": 400, "VOILUTFunction": "BOGUS"},
        None,
        "VOILUTFunction (0028,1056) is none of LINEAR, LINEAR_EXACT, SIGMOID (got text of 5 "
        f"characters (not shown: it is no number)){IGNORED}",
    ),
    "voi-lut-unusable": (
        {"VOILUTSequence": _bad_voi_lut()},
        None,
        "VOILUTSequence (0028,3010) is unusable ((0028,3002) LUTDescriptor bits must be 1..16, "
        "got 20): ignored",
    ),
    "voi-lut-empty": (  # Type 1C: present means an item (found by benchmarks/fuzz_oracle.py)
        {"VOILUTSequence": Sequence([])},
        None,
        "VOILUTSequence (0028,3010) is unusable (it holds no item): ignored",
    ),
}


def _study(tmp_path: Path, case: str) -> tuple[Path, str]:
    attrs, patch, note = CASES[case]
    src = tmp_path / "src"
    bad = _ct(src / "f5.dcm", 5.0, **attrs)
    if patch is not None:
        _patch(bad, *patch)
    for z in range(5):  # the rest of the series, without window tags
        _ct(src / f"f{z}.dcm", float(z))
    return src, note


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.mark.parametrize("case", sorted(CASES))
def test_an_unusable_header_window_is_noted_never_refused(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, note = _study(tmp_path, case)
    assert main(["inspect", str(src), "--json"]) == 1  # a note is a problem found
    found = json.loads(capsys.readouterr().out)
    assert (found["files"], found["instances"]) == (6, 6)  # every file an image
    assert {(p["where"], p["reason"]) for p in found["problems"]} == {("f5.dcm", f"note: {note}")}
    for fmt, extra in (("npy", []), ("png", ["--window", "header"]), ("nifti", [])):
        out = tmp_path / f"out-{fmt}"
        assert main(["convert", str(src), str(out), "--format", fmt, "--quiet", *extra]) == 0
        assert not (out / "errors.csv").exists() or _rows(out / "errors.csv") == []
        rows = _rows(out / "manifest.csv")
        noted = [r for r in rows if note in r["problems"]]
        assert len(noted) == 1 and noted[0]["source"] in ("f5.dcm", "f0.dcm")  # per series: f0
    npy = [r for r in _rows(tmp_path / "out-npy" / "manifest.csv") if r["source"] == "f5.dcm"]
    assert np.load(tmp_path / "out-npy" / npy[0]["output"]).tolist() == [[7.0] * 4] * 4


@pytest.mark.parametrize("case", ["width-text", "voi-lut-unusable", "voi-lut-empty"])
def test_window_header_falls_back_as_for_a_file_without_a_window(case: str, tmp_path: Path) -> None:
    """``--window header`` on the damaged file writes what a file without window tags gets:
    the full stored range mapped to 0..255, recorded as ``none``."""
    src, _ = _study(tmp_path, case)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--window", "header", "--quiet"]) == 0
    rows = {r["source"]: r for r in _rows(out / "manifest.csv")}
    assert rows["f5.dcm"]["window"] == rows["f4.dcm"]["window"] == "none"
    damaged, plain = ((out / rows[k]["output"]).read_bytes() for k in ("f5.dcm", "f4.dcm"))
    assert damaged == plain


def test_an_unusable_modality_lut_is_refused_by_inspect_as_by_convert(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every output applies the Modality LUT: both commands refuse the file, same reason."""
    src = tmp_path / "src"
    item = Dataset()
    item.LUTDescriptor, item.LUTData = [4, 0, 20], np.arange(4, dtype="<u2").tobytes()
    _ct(src / "a.dcm", 0.0, ModalityLUTSequence=Sequence([item]))
    _ct(src / "b.dcm", 0.0, SeriesInstanceUID=f"{SERIES}.9", SOPInstanceUID=f"{SERIES}.9.1")
    reason = (
        "(0028,3002) LUTDescriptor bits must be 1..16; got 20, and no RescaleSlope/"
        "Intercept (0028,1053)/(0028,1052) beside it to use instead."
    )  # nothing to use
    assert main(["inspect", str(src), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert [(p["where"], p["reason"]) for p in problems] == [("a.dcm", reason)]
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 1
    assert [(r["source"], r["reason"]) for r in _rows(out / "errors.csv")] == [("a.dcm", reason)]


@pytest.mark.parametrize(("rescale", "value", "used"), [
    ({"RescaleSlope": 1, "RescaleIntercept": -1024}, -1017.0,
     "RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) applied instead"),
    ({}, 7.0, "the stored values are used as they are"),
], ids=["beside-a-rescale", "alone"])  # fmt: skip
def test_an_empty_modality_lut_is_said_by_inspect_as_by_convert(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rescale: dict[str, object],
    value: float,
    used: str,
) -> None:
    # Type 1C: present means an item; taken for none (as pydicom and dcmtk do), unsaid until
    # 2026-12-03 (found by benchmarks/fuzz_oracle.py). Stored 7: 7 - 1024 by hand, or 7
    src = tmp_path / "src"
    _ct(src / "a.dcm", 0.0, ModalityLUTSequence=Sequence([]), **rescale)
    note = f"Modality LUT Sequence (0028,3000) holds no item: {used}"
    assert main(["inspect", str(src), "--json"]) == 1
    problems = json.loads(capsys.readouterr().out)["problems"]
    # alone, a CT also lacks its rescale: that series note comes too
    assert [p["reason"] for p in problems if p["where"] == "a.dcm"] == [f"note: {note}"]
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    (row,) = _rows(out / "manifest.csv")
    assert note in row["problems"].split("; ")
    assert np.load(out / row["output"]).tolist() == [[value] * 4] * 4
