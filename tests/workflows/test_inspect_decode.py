"""``radpipe inspect --decode``: damaged compressed pixel data, which a header scan cannot
see (``inspect`` exited 0 on it), is listed in ``convert``'s words and marks its series
incomplete; without the flag ``inspect`` reads headers only, as before."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, generate_uid

from pipeline.keys import hash_key
from tests.workflows.test_shared_sop_across_series import _slice
from workflows.cli import main


def _folder(src: Path) -> tuple[str, str]:
    """Series ``a``: two good slices; series ``b``: a good slice and one whose JPEG stream
    does not decode. Returns the two SeriesInstanceUIDs."""
    a, b = generate_uid(), generate_uid()
    for name, series, z in (("a/0.dcm", a, 0.0), ("a/1.dcm", a, 1.0), ("b/0.dcm", b, 0.0),
                            ("b/1.dcm", b, 1.0)):  # fmt: skip
        _slice(src / name, series, generate_uid(), z, 7)
    ds = pydicom.dcmread(src / "b" / "1.dcm")
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + bytes(64) + b"\xff\xd9"])
    ds.save_as(src / "b" / "1.dcm", enforce_file_format=True)
    return a, b


def test_decode_lists_what_convert_refuses_in_its_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    _, b = _folder(src)
    assert main(["inspect", str(src), "--json"]) == 0  # headers only: nothing seen
    plain = json.loads(capsys.readouterr().out)
    assert [p for p in plain["problems"] if p["kind"] == "error"] == []

    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 1
    capsys.readouterr()
    with open(out / "errors.csv", newline="") as f:
        (error,) = list(csv.DictReader(f))
    assert error["source"] == "b/1.dcm" and error["kind"] == "error"

    assert main(["inspect", str(src), "--json", "--decode"]) == 1
    found = json.loads(capsys.readouterr().out)
    errors = [(p["where"], p["reason"]) for p in found["problems"] if p["kind"] == "error"]
    assert errors == [("b/1.dcm", error["reason"])]  # convert's words
    series = {p["where"]: p["reason"] for p in found["problems"] if p["kind"] == "series"}
    assert series == {
        f"series {hash_key(b)}": "incomplete: b/1.dcm of this series failed, whose place no "
        "readable image takes: a volume without it would have a gap (refused, as "
        "dcm2niix fails such a series), so convert --per series refuses it"
    }
    assert sorted(p.name for p in src.rglob("*") if p.is_file()) == ["0.dcm", "0.dcm", "1.dcm",
                                                                     "1.dcm"]  # fmt: skip


def test_decode_with_workers_gives_the_same_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    _folder(src)
    assert main(["inspect", str(src), "--json", "--decode"]) == 1
    one = json.loads(capsys.readouterr().out)["problems"]
    assert main(["inspect", str(src), "--json", "--decode", "--workers", "2"]) == 1
    assert json.loads(capsys.readouterr().out)["problems"] == one
