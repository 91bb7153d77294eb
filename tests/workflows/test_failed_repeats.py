"""A failed file in a series converted ``--per series``: a repeat is left out, a gap refuses.

A truncated copy of a slice (resent by a PACS, the same position as a readable slice) made
the whole series fail (``not converted: its series failed on X``). Now the series is
converted without it and ``errors.csv`` says so; the run still exits 1. A failed file that is
the only image at its position (or one time point's slice, the other time point's readable)
still refuses the series, as dcm2niix fails a series whose slice it cannot load, and the
reason now says a volume would have a gap.

Expected values by construction: slice k at z = 2k mm holds the stored value 100 (k + 1)
(RescaleSlope 1 by default), so the volume's voxels along k are 100, 200, 300, 400.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pydicom
import pytest
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit, RLELossless, generate_uid

from pipeline.dicom.index import index_folder
from pipeline.keys import hash_key
from tests.pipeline.dicom import geometry_cases as G
from workflows.cli import main
from workflows.convert.batch import ConvertOptions, convert_folder

GAP = (
    "whose place no readable image takes: a volume without it would have a gap "
    "(refused, as dcm2niix fails such a series)"
)


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


def _truncate(path: Path) -> None:
    raw = path.read_bytes()
    path.write_bytes(raw[:-40])  # PixelData 40 bytes short: its header still reads


def _slices(series: str, **attrs: object) -> list:
    return [G.plane((0.0, 0.0, 2.0 * k), value=100 * (k + 1), series=series, **attrs)
            for k in range(4)]  # fmt: skip


def test_a_truncated_repeat_is_left_out_and_named(tmp_path: Path) -> None:
    series = generate_uid()
    copy = G.plane((0.0, 0.0, 4.0), value=300, series=series)  # another SOPInstanceUID
    src = G.save(tmp_path / "in", [*_slices(series), copy], ["s0", "s1", "s2", "s3", "s2copy"])
    _truncate(src / "s2copy.dcm")
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 1  # a bad file was met
    (row,) = _rows(out / "manifest.csv")
    volume = np.asarray(nib.load(out / row["output"]).dataobj)
    assert volume.shape == (8, 8, 4)
    assert volume[3, 5, :].tolist() == [100, 200, 300, 400]
    (error,) = _rows(out / "errors.csv")
    assert error["source"] == "s2copy.dcm"
    assert error["reason"].startswith("truncated file: PixelData (7FE0,0010)")
    assert error["reason"].endswith(
        "; left out of its series: it repeats the position of s2.dcm (its series converted "
        "without it)"
    )
    (said,) = [s.problems for s in index_folder(src).series]  # inspect says the same
    assert said[0] == (
        "incomplete: s2copy.dcm of this series failed, left out of its series: it repeats the "
        "position of s2.dcm, so convert --per series converts the series without it"
    )


@pytest.mark.parametrize("time_points", [False, True], ids=["unique-position", "time-point"])
def test_a_failed_slice_no_image_repeats_refuses_its_series(
    tmp_path: Path, time_points: bool
) -> None:
    """A slice alone at its position, or one time point's slice where the other time
    point's is readable (2 images at each position, 1 left there): a gap either way."""
    series = generate_uid()
    files = _slices(series, TemporalPositionIdentifier=1, RepetitionTime=2000.0)
    if time_points:
        files += _slices(series, TemporalPositionIdentifier=2, RepetitionTime=2000.0)
    names = [f"s{k}" for k in range(len(files))]
    src = G.save(tmp_path / "in", files, names)
    _truncate(src / "s2.dcm")
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 1 and result.outputs == 0
    errors = {r["source"]: r["reason"] for r in _rows(out / "errors.csv")}
    assert errors.pop("s2.dcm").startswith("truncated file: PixelData (7FE0,0010)")
    assert errors == dict.fromkeys(
        (f"{n}.dcm" for n in names if n != "s2"),
        f"not converted: its series failed on s2.dcm, {GAP}",
    )
    (series_found,) = index_folder(src).series
    assert series_found.key == hash_key(series)
    assert series_found.problems[0] == (
        f"incomplete: s2.dcm of this series failed, {GAP}, so convert --per series refuses it"
    )


def test_a_truncated_localizer_of_another_plane_is_left_out(tmp_path: Path) -> None:
    """Its own volume (dcm2niix converts another orientation apart): the slices are whole."""
    series = generate_uid()
    scout = G.plane((0.0, -40.0, 3.0), (1.0, 0.0, 0.0, 0.0, 0.0, -1.0), value=900, series=series)
    src = G.save(tmp_path / "in", [scout, *_slices(series)], ["a0", "s0", "s1", "s2", "s3"])
    _truncate(src / "a0.dcm")
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 1
    (row,) = _rows(out / "manifest.csv")
    assert np.asarray(nib.load(out / row["output"]).dataobj)[0, 0].tolist() == [100, 200, 300, 400]
    _left_out(out, "a0.dcm", "no readable image shares its orientation and size, so it was a "
              "volume of its own (a localizer?), not a slice of the others")  # fmt: skip


def _left_out(out: Path, source: str, why: str) -> None:
    """``errors.csv`` lists ``source`` alone, left out of its series for ``why``."""
    (error,) = _rows(out / "errors.csv")
    assert error["source"] == source
    assert error["reason"].endswith(
        f"; left out of its series: {why} (its series converted without it)"
    )


def _undecodable(path: Path) -> None:
    """A JPEG stream that does not decode: the header reads, the pixels fail at conversion."""
    ds = pydicom.dcmread(path)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xdb" + bytes(64) + b"\xff\xd9"])
    ds.save_as(path, enforce_file_format=True)


@pytest.mark.parametrize("repeat", [True, False], ids=["repeat", "unique-position"])
def test_a_repeat_whose_pixels_fail_is_left_out_too(
    tmp_path: Path, repeat: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    series = generate_uid()
    files, names = _slices(series), ["s0", "s1", "s2", "s3"]
    if repeat:
        files, names = [*files, G.plane((0.0, 0.0, 4.0), value=300, series=series)], [*names, "x"]
    src = G.save(tmp_path / "in", files, names)
    bad = "x.dcm" if repeat else "s2.dcm"
    _undecodable(src / bad)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    errors = {r["source"]: r["reason"] for r in _rows(out / "errors.csv")}
    capsys.readouterr()
    assert main(["inspect", str(src), "--decode", "--json"]) == 1
    said = json.loads(capsys.readouterr().out)["problems"]
    (series_said,) = [p["reason"] for p in said if p["kind"] == "series"]
    if not repeat:  # as before: a volume without it would have a gap
        assert _rows(out / "manifest.csv") == []
        assert errors.pop("s0.dcm") == "not converted: its series failed on s2.dcm"
        assert series_said.endswith(f"{GAP}, so convert --per series refuses it")
        return
    (row,) = _rows(out / "manifest.csv")
    volume = np.asarray(nib.load(out / row["output"]).dataobj)
    assert volume[2, 6, :].tolist() == [100, 200, 300, 400]
    assert list(errors) == ["x.dcm"] and errors["x.dcm"].endswith(
        "; left out of its series: it repeats the position of s2.dcm (its series converted "
        "without it)"
    )
    assert series_said == (
        "incomplete: x.dcm of this series failed, left out of its series: it repeats the "
        "position of s2.dcm, so convert --per series converts the series without it"
    )


def test_a_failed_time_point_at_the_only_position_is_no_repeat(tmp_path: Path) -> None:
    """Three time points of one slice (a mosaic fMRI's files all share one position too):
    the failed one is a time point, not a repeat of the others; the series is refused."""
    series = generate_uid()
    files = [G.plane((0.0, 0.0, 0.0), value=10 * t, series=series, TemporalPositionIdentifier=t,
                     RepetitionTime=2000.0) for t in (1, 2, 3)]  # fmt: skip
    src = G.save(tmp_path / "in", files, ["t1", "t2", "t3"])
    _truncate(src / "t2.dcm")
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 1 and result.outputs == 0
    errors = {r["source"]: r["reason"] for r in _rows(out / "errors.csv")}
    assert errors["t1.dcm"] == f"not converted: its series failed on t2.dcm, {GAP}"


@pytest.mark.parametrize("damage", ["header", "pixels"])
def test_a_failed_volume_of_its_own_series_number_is_left_out(tmp_path: Path, damage: str) -> None:
    """dcm_qa_ts: one SeriesInstanceUID, three SeriesNumbers, all at one position (one volume
    each). One truncated file (its pixel data short: it fails on its header; or a JPEG that
    does not decode) took the two readable volumes with it, as if it left a gap in them."""
    series = generate_uid()
    files = [G.plane((0.0, 0.0, 0.0), value=10 * n, series=series, SeriesNumber=n)
             for n in (1, 2, 3)]  # fmt: skip
    src = G.save(tmp_path / "in", files, ["n1", "n2", "n3"])
    (_truncate if damage == "header" else _undecodable)(src / "n2.dcm")
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 1 and result.outputs == 2
    found = {r["source"]: np.asarray(nib.load(out / r["output"]).dataobj).ravel().tolist()
             for r in _rows(out / "manifest.csv")}  # fmt: skip
    assert found == {"n1.dcm": [10] * 64, "n3.dcm": [30] * 64}
    why = ("no readable image shares its SeriesNumber, so it was a volume of its own (the "
           "series is split by SeriesNumber), not a slice of the others")  # fmt: skip
    _left_out(out, "n2.dcm", why)


def test_a_compressed_slice_cut_short_refuses_its_series(tmp_path: Path) -> None:
    """An RLE slice whose encapsulated stream lacks its end (pydicom cannot read the file at
    all) was of no series: the series was written with that slice interpolated over
    ('resampled: missing slices') where a native slice cut short refuses it."""
    series = generate_uid()
    src = G.save(tmp_path / "in", _slices(series), ["s0", "s1", "s2", "s3"])
    for k in range(4):
        ds = pydicom.dcmread(src / f"s{k}.dcm")
        ds.compress(RLELossless, encoding_plugin="pydicom")
        ds.save_as(src / f"s{k}.dcm", enforce_file_format=True)
    raw = (src / "s2.dcm").read_bytes()
    (src / "s2.dcm").write_bytes(raw[:-30])  # into the last fragment: no end delimiter
    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 1 and result.outputs == 0
    errors = {r["source"]: r["reason"] for r in _rows(out / "errors.csv")}
    assert errors.pop("s2.dcm").startswith("truncated file: ")
    refused = f"not converted: its series failed on s2.dcm, {GAP}"
    assert errors == dict.fromkeys(("s0.dcm", "s1.dcm", "s3.dcm"), refused)
    (found,) = index_folder(src).series
    assert found.problems[0] == (
        f"incomplete: s2.dcm of this series failed, {GAP}, so convert --per series refuses it"
    )
