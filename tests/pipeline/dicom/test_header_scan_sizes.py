"""The header scan before a DICOM segmentation run: a file whose image size cannot be read is
named with its problem in the conversion's words (it was a ``TypeError`` traceback from
``int(None)``), and the
process-wide header memo keeps at most ``MAX_HEADERS`` files (it grew without bound: ~60 MB
for 100,000 files) without changing what it returns."""

from __future__ import annotations

import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import pydicom
import pytest
from pydicom.uid import MRImageStorage

from pipeline.dicom import header_scan
from pipeline.dicom.seg_masks import scan_images
from pipeline.errors import RadpipeError
from tests.pipeline.dicom.builders import image_dataset


def _write(path: Path, **tags: Any) -> Path:
    ds = image_dataset(MRImageStorage, "MR", 4, 6)
    with warnings.catch_warnings():  # pydicom warns of the invalid values written on purpose
        warnings.simplefilter("ignore")
        for keyword, value in tags.items():
            if value is None:
                delattr(ds, keyword)
            else:
                setattr(ds, keyword, value)
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


@pytest.mark.parametrize(
    ("tags", "said"),
    [({"Columns": None}, "Columns (0028,0011) is missing."),
     ({"Rows": None}, "Rows (0028,0010) is missing."),
     ({"Rows": 0}, "Rows (0028,0010) must be a whole number in 1..65535; got 0."),
     ({"Columns": 0}, "Columns (0028,0011) must be a whole number in 1..65535; got 0."),
     ({"NumberOfFrames": "-2"},
      "NumberOfFrames (0028,0008) must be a whole number in 0..2147483647; got '-2'."),
     ({"NumberOfFrames": "2.5"},
      "NumberOfFrames (0028,0008) must be a whole number in 0..2147483647; got 2.5.")],
    ids=["no-columns", "no-rows", "zero-rows", "zero-columns", "negative-frames", "half-frames"],
)  # fmt: skip
def test_a_file_whose_size_cannot_be_read_is_named(
    tmp_path: Path, tags: dict[str, Any], said: str
) -> None:
    good = _write(tmp_path / "a" / "good.dcm")
    bad = _write(tmp_path / "a" / "bad.dcm", **tags)
    with pytest.raises(RadpipeError) as err:
        scan_images(tmp_path, [good, bad])
    assert str(err.value).endswith(f"a/bad.dcm: {said}"), str(err.value)
    assert str(tmp_path) not in str(err.value)
    assert "good.dcm" not in str(err.value)


def test_sound_files_keep_their_size(tmp_path: Path) -> None:
    files = [_write(tmp_path / "one.dcm"), _write(tmp_path / "three.dcm", NumberOfFrames="3")]
    got = [(im.rel, im.frames, im.rows, im.columns) for im in scan_images(tmp_path, files)]
    assert got == [("one.dcm", 1, 4, 6), ("three.dcm", 3, 4, 6)]  # as written: 4 x 6


def test_the_header_memo_keeps_the_most_recent_files_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(header_scan, "MAX_HEADERS", 3, raising=False)  # red without the bound
    monkeypatch.setattr(header_scan, "_READ", OrderedDict())
    files = [_write(tmp_path / f"{i}.dcm") for i in range(5)]
    reads: list[str] = []
    real = pydicom.dcmread

    def counting(path: Any, *args: Any, **kwargs: Any) -> Any:
        reads.append(Path(path).name)
        return real(path, *args, **kwargs)

    monkeypatch.setattr(pydicom, "dcmread", counting)
    got = [header_scan.file_header(f) for f in files]
    assert len(header_scan._READ) == 3
    assert reads == [f"{i}.dcm" for i in range(5)]
    header_scan.file_header(files[4])  # held: not read again
    header_scan.file_header(files[0])  # let go: read again, the same facts
    assert reads[5:] == ["0.dcm"]
    assert len(header_scan._READ) == 3
    again = [header_scan.file_header(f) for f in files]
    assert again == got
    assert [h.sop_uid for h in got if h] == [real(f).SOPInstanceUID for f in files]
