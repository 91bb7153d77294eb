"""The plain walk's shortcuts give pydicom's values: File Meta kept, headers read in pieces.

The File Meta of a file whose elements around the Media Storage SOP Instance UID repeat the
last file's is taken from that file (:func:`pipeline.dicom.elements.file_meta`): each file
must still get its own UID, its own values where they differ, and the UID's check. A header
longer than the first read is read again with more bytes
(:func:`pipeline.dicom.top_level.walk` raises ``Short``): wherever the first read ends, inside
an element's tag, its length or its value, the values must be pydicom's.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from pipeline.dicom import elements, plain, top_level
from tests.pipeline.dicom.plain_files import ct_dataset, save


@pytest.fixture(autouse=True)
def _no_meta_kept() -> Iterator[None]:
    elements._META_LAST = None
    yield
    elements._META_LAST = None


def _meta_of(path: Path) -> dict[int, bytes]:
    data = path.read_bytes()
    return top_level.walk(data, len(data))["meta"]


def _pydicom_meta(path: Path) -> dict[int, str]:
    """pydicom's File Meta values as text (padding stripped), by tag."""
    meta = pydicom.dcmread(path).file_meta
    return {int(e.tag): str(e.value) for e in meta if e.VR in ("UI", "SH")}


def _text(meta: dict[int, bytes]) -> dict[int, str]:
    return {tag: meta[tag].rstrip(b"\0 ").decode() for tag in meta if tag not in (0x00020001,)}


def test_each_file_of_a_series_gets_its_own_file_meta(tmp_path: Path) -> None:
    """UIDs of other lengths (the group length changes), another SOP class, another version."""
    files = []
    for k, uid in enumerate(["1.2.3.4.5.6", "1.2.3.4.5.77", "1.2.3.4.5.6.7.8.9.10", "1.2.9"]):
        ds = ct_dataset(SOPInstanceUID=uid)
        if k == 2:
            ds.SOPClassUID = "1.2.840.10008.5.1.4.1.1.4"  # MR Image Storage: before the UID
        files.append(save(ds, tmp_path / f"{k}.dcm"))
    version = pydicom.dcmread(files[0]).file_meta.ImplementationVersionName
    for k, name in enumerate([version[:-1] + "X", "OTHER_1_0"], start=4):  # after the UID
        ds = ct_dataset(SOPInstanceUID="1.2.3.4.5.8")
        save(ds, tmp_path / f"{k}.dcm")
        ds.file_meta.ImplementationVersionName = name  # of the same length, then another
        ds.save_as(tmp_path / f"{k}.dcm", enforce_file_format=True)
        files.append(tmp_path / f"{k}.dcm")
    for path in [*files, *files[::-1]]:
        meta = _meta_of(path)
        expected = _pydicom_meta(path)
        assert {t: v for t, v in _text(meta).items() if t in expected} == expected, path.name
        assert meta.keys() - {0x00020000, 0x00020001} == expected.keys()


def test_a_kept_file_meta_still_checks_each_files_uid(tmp_path: Path) -> None:
    """A Media Storage SOP Instance UID pydicom warns about (a leading zero in a component),
    beside a data set whose own SOPInstanceUID is clean: the file is left to pydicom."""
    clean = save(ct_dataset(SOPInstanceUID="1.2.3.4.5.6"), tmp_path / "clean.dcm")
    odd = save(ct_dataset(SOPInstanceUID="1.2.3.4.5.7"), tmp_path / "odd.dcm")
    data = odd.read_bytes()
    assert data.count(b"1.2.3.4.5.7\0") == 2
    odd.write_bytes(data.replace(b"1.2.3.4.5.7\0", b"1.2.3.4.05.7", 1))  # the File Meta's
    assert plain.read_plain(clean) is not None
    assert plain.read_plain(odd) is None
    assert pydicom.dcmread(odd).SOPInstanceUID == "1.2.3.4.5.7"
    with pytest.warns(UserWarning, match="UI"):
        pydicom.dcmread(odd).file_meta.MediaStorageSOPInstanceUID  # noqa: B018


def _long_header(tmp_path: Path, pad: int, syntax: str) -> Path:
    """A CT slice with a private OB element of ``pad`` bytes (even) before the UIDs."""
    ds = ct_dataset()
    ds.add_new(0x00090010, "LO", "RADPIPE TEST")
    ds.add_new(0x00091010, "OB", b"x" * pad)
    return save(ds, tmp_path / f"long{pad}.dcm", syntax)


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_a_header_cut_by_the_first_read_anywhere_reads_as_pydicom_reads_it(
    tmp_path: Path, syntax: str
) -> None:
    """The first read (16 KiB) ends at every even byte (elements are even) from the end of
    the private element to the pixel data: in a tag, a VR, a length, a held value, a grouping
    UID (checked with the bytes at hand) and the pixel data element's header."""
    data = _long_header(tmp_path, 2, syntax).read_bytes()
    after = data.index(b"xx") + 2  # where the private element ends with 2 bytes
    rest = data.index(b"\xe0\x7f\x10\x00") + 12 - after  # from there to the pixel data's value
    ref = pydicom.dcmread(tmp_path / "long2.dcm")
    first = elements.FIRST_READ - after + 2  # a private value this long ends at the first read
    for pad in range(first - rest, first + 2, 2):
        path = _long_header(tmp_path, pad, syntax)
        assert pydicom.dcmread(path)[0x00091010].value == b"x" * pad
        ds = plain.read_plain(path)
        assert ds is not None, pad
        for keyword in plain.HELD:
            mine, theirs = ds.get(keyword), ref.get(keyword)
            if isinstance(theirs, pydicom.multival.MultiValue):
                theirs = list(theirs)
            assert mine == theirs, (pad, keyword)
        assert ds.file_size == path.stat().st_size and bytes(ds.pixel_bytes()) == ref.PixelData
        path.unlink()
