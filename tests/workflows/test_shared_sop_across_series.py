"""The same SOPInstanceUID in files of two series (an edited copy filed in a new series, or a
UID collision in merged exports) gave both images one ``instance_key``, with no note: a mask
row matched by ``sop_instance_uid`` went to both images, whatever their pixels. Like two files
of one series that share a UID, both are now named by UID and file, with the note
``SOPInstanceUID shared with another file``, and a masks CSV by UID says why it matches
neither.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

from pipeline.data.io import read_manifest
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from workflows.cli import main
from workflows.run.mask_rows import check_mask_rows


def _slice(path: Path, series: str, sop: str, z: float, value: int) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = "P", "1.2.3.4", series
    ds.Modality, ds.SeriesNumber, ds.Rows, ds.Columns = "CT", 1, 4, 5
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, z], [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing, ds.RescaleSlope, ds.RescaleIntercept = [0.5, 0.5], 1, 0  # CT: Type 1
    ds.PixelData = np.full(20, value, dtype="<i2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def test_a_uid_shared_across_series_gets_one_key_per_file(tmp_path: Path) -> None:
    src, shared = tmp_path / "src", generate_uid()
    for s, series in enumerate((generate_uid(), generate_uid())):
        _slice(src / f"s{s}" / "0.dcm", series, shared, 0.0, 10 + s)  # different pixels
        _slice(src / f"s{s}" / "1.dcm", series, generate_uid(), 1.0, 20 + s)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    rows = {r["source"]: r for r in read_manifest(out / "manifest.csv")}
    a, b = rows["s0/0.dcm"], rows["s1/0.dcm"]
    assert len({a["instance_key"], b["instance_key"], hash_key(shared)}) == 3
    assert a["series_key"] != b["series_key"]
    for row, value in ((a, 10), (b, 11)):
        assert (
            row["problems"]
            == "SOPInstanceUID shared with another file: output named by UID and file"
        )
        assert np.all(np.load(out / row["output"]) == value)
    assert rows["s0/1.dcm"]["problems"] == rows["s1/1.dcm"]["problems"] == ""

    masks = tmp_path / "masks"
    masks.mkdir()
    Image.fromarray(np.zeros((4, 5), np.uint8)).save(masks / "m.png")
    with open(masks / "masks.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["sop_instance_uid", "frame", "mask"])
        writer.writerow([shared, 0, "m.png"])
    manifest = read_manifest(out / "manifest.csv")
    with pytest.raises(RadpipeError, match="2 of them share their SOPInstanceUID"):
        check_mask_rows(masks / "masks.csv", manifest, [a["series_key"], b["series_key"]])


def test_a_rerun_follows_whether_the_uid_is_still_shared(tmp_path: Path) -> None:
    import shutil

    src, shared = tmp_path / "src", generate_uid()
    for s, series in enumerate((generate_uid(), generate_uid())):
        _slice(src / f"s{s}" / "0.dcm", series, shared, 0.0, 10 + s)
    out = tmp_path / "out"
    args = ["convert", str(src), str(out), "--format", "npy", "--quiet"]
    assert main(args) == 0
    first = {r["source"]: r["instance_key"] for r in read_manifest(out / "manifest.csv")}
    assert main(args) == 0  # unchanged: the same names again
    again = {r["source"]: r["instance_key"] for r in read_manifest(out / "manifest.csv")}
    assert again == first and hash_key(shared) not in first.values()
    shutil.rmtree(src / "s1")  # the copy is gone: the UID names its file alone again
    assert main(args) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert row["instance_key"] == hash_key(shared) and row["problems"] == ""
    assert [p.name for p in out.rglob("*.npy")] == [f"{hash_key(shared)}_000.npy"]


def test_inspect_notes_the_files_convert_notes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``inspect`` said nothing of a SOPInstanceUID shared by files with different pixels
    (exit 0), while ``convert`` noted both and skipped a byte-identical copy. Both now name
    the same files with the same words."""
    import json
    import shutil

    src, shared, alone = tmp_path / "src", generate_uid(), generate_uid()
    series = [generate_uid(), generate_uid()]
    _slice(src / "s0" / "0.dcm", series[0], shared, 0.0, 10)
    _slice(src / "s1" / "0.dcm", series[1], shared, 0.0, 11)  # other pixels, other series
    _slice(src / "s0" / "1.dcm", series[0], alone, 1.0, 20)
    shutil.copy(src / "s0" / "1.dcm", src / "s0" / "2.dcm")  # the same bytes
    _slice(src / "s1" / "1.dcm", series[1], generate_uid(), 1.0, 21)
    assert main(["inspect", str(src), "--json"]) == 1
    found = {p["where"]: p for p in json.loads(capsys.readouterr().out)["problems"]}
    note = "SOPInstanceUID shared with another file: output named by UID and file"
    copy = "duplicate of s0/1.dcm (the same file): skipped"
    files = {w: (p["kind"], p["reason"]) for w, p in found.items() if "/" in w}
    assert files == {
        "s0/0.dcm": ("note", f"note: {note}"),
        "s1/0.dcm": ("note", f"note: {note}"),
        "s0/2.dcm": ("note", f"note: {copy}"),
    }

    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    rows = {r["source"]: r["problems"] for r in read_manifest(out / "manifest.csv")}
    assert {s for s, p in rows.items() if note in p} == {"s0/0.dcm", "s1/0.dcm"}
    with open(out / "errors.csv", newline="") as f:
        skipped = {r["source"]: r["reason"] for r in csv.DictReader(f)}
    assert skipped == {"s0/2.dcm": copy}
