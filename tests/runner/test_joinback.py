"""``predictions.csv`` join-back columns: the user's own names, never run as formulas."""

from __future__ import annotations

from pathlib import Path

import pydicom
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from workflows.run.joinback import source_columns


def _header_only(path: Path, sop: str) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = sop
    ds.SeriesInstanceUID = generate_uid()
    ds.save_as(path, enforce_file_format=True)


def test_source_names_starting_like_a_formula_are_neutralised(tmp_path: Path) -> None:
    sop = generate_uid()
    for name in ("=HYPERLINK(1).dcm", "-2+3.dcm", "plain.dcm"):
        _header_only(tmp_path / name, sop)
    cells = {n: source_columns(tmp_path, [{"source": n}], "image", with_uid=True)
             for n in ("=HYPERLINK(1).dcm", "-2+3.dcm", "plain.dcm")}  # fmt: skip
    assert cells["=HYPERLINK(1).dcm"] == {"source": "'=HYPERLINK(1).dcm", "sop_instance_uid": sop}
    assert cells["-2+3.dcm"]["source"] == "'-2+3.dcm"
    assert cells["plain.dcm"] == {"source": "plain.dcm", "sop_instance_uid": sop}


def test_raw_uids_only_when_asked_for(tmp_path: Path) -> None:
    sop = generate_uid()
    _header_only(tmp_path / "a.dcm", sop)
    assert source_columns(tmp_path, [{"source": "a.dcm"}], "image") == {"source": "a.dcm"}
    asked = source_columns(tmp_path, [{"source": "a.dcm"}], "image", with_uid=True)
    assert asked == {"source": "a.dcm", "sop_instance_uid": sop}


def test_series_rows_name_the_series_uid_when_asked_for(tmp_path: Path) -> None:
    _header_only(tmp_path / "a.dcm", generate_uid())
    series = str(pydicom.dcmread(tmp_path / "a.dcm").SeriesInstanceUID)
    rows = [{"source": "a.dcm"}, {"source": "b.dcm"}]  # a series: its first slice's file
    assert source_columns(tmp_path, rows, "series") == {"source": "a.dcm"}
    asked = source_columns(tmp_path, rows, "series", with_uid=True)
    assert asked == {"source": "a.dcm", "series_instance_uid": series}
