"""The index's per-series shortcuts give exactly what pydicom's reading gives.

``inspect`` reads each plain file's header with :mod:`pipeline.dicom.plain` and keeps, per
series, what the files share (:mod:`pipeline.dicom.plain_memo`): the frames' layout
(:func:`pipeline.dicom.frame_layout.frame_layout`), the pixel data checks (the pixel
element's length is compared, not only the header's bytes) and whether the file is an image.
Files of every kind are read in turn after clean ones, and each must give what it gives read
by pydicom with nothing kept; File Meta values found clean once and UIDs taken in one step
(:mod:`pipeline.dicom.elements`) must be what pydicom reads.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.uid import ExplicitVRBigEndian, ImplicitVRLittleEndian

from pipeline.dicom import elements, frames, header, plain, plain_memo
from pipeline.dicom.header import Instance, read_header
from tests.pipeline.dicom.plain_files import counted as _counted
from tests.pipeline.dicom.plain_files import ct_dataset, save
from tests.pipeline.dicom.plain_files import read_all as _read_all


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    plain_memo.clear()
    yield
    plain.ENABLED = plain_memo.ENABLED = True
    plain_memo.clear()


def _slice(k: int, **changes: Any) -> Dataset:
    return ct_dataset(SOPInstanceUID=f"1.2.3.4.5.{20 + k}", InstanceNumber=str(k + 1),
                      ImagePositionPatient=["-125.5", "-130", str(k * 1.25)],
                      **changes)  # fmt: skip


def _sequence() -> Sequence:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator = "113691", "DCM"
    return Sequence([item])


def _files(tmp: Path) -> list[Path]:
    """Clean slices, then each kind of file between clean ones (names sort in that order)."""
    made = [save(_slice(k), tmp / f"{k:02d}.dcm") for k in range(3)]
    kinds: list[tuple[Dataset, str]] = [
        (_slice(3), ImplicitVRLittleEndian),
        (_slice(4), ExplicitVRBigEndian),
        (_slice(5, PixelData=bytes(80)), ""),  # 20 bytes more than 6x5x16 bits: a note
        (_slice(6, PixelData=bytes(40)), ""),  # 20 bytes short: truncated
        (_slice(7, NumberOfFrames="2"), ""),  # two frames claimed, one held
        (_slice(8, NumberOfFrames="2", PixelData=bytes(120), SpacingBetweenSlices="1.25"), ""),
        (_slice(9, Modality="SEG"), ""),
        (_slice(10, ImageType=["DERIVED", "PRIMARY", "MOSAIC"]), ""),
        (_slice(11, GridFrameOffsetVector=["0"]), ""),
        (_slice(12, ProcedureCodeSequence=_sequence()), "undefined"),
        (_slice(13), "private"),
        (_slice(14), "no meta"),
    ]
    for k, (ds, how) in enumerate(kinds):
        path = tmp / f"{10 + 2 * k:02d}.dcm"
        if how == "private":
            ds.private_block(0x0011, "ACME 1.1", create=True).add_new(0x01, "SH", "x")
        if how == "undefined":
            ds["ProcedureCodeSequence"].is_undefined_length = True
        if how == "no meta":  # no preamble, no File Meta
            ds.save_as(path, implicit_vr=True, little_endian=True)
        elif how == ImplicitVRLittleEndian:
            save(ds, path, how)
        elif how == ExplicitVRBigEndian:
            save(ds, path)  # File Meta, then written again big endian
            ds.file_meta.TransferSyntaxUID = how
            ds.save_as(path, enforce_file_format=True, little_endian=False, implicit_vr=False)
        else:
            save(ds, path)
        made += [path, save(_slice(40 + k), tmp / f"{11 + 2 * k:02d}.dcm")]  # a clean one after
    return made


def test_every_kind_of_file_read_after_clean_ones_gives_what_pydicom_gives(
    tmp_path: Path,
) -> None:
    paths = _files(tmp_path)
    fast, slow = _read_all(paths, fast=True), _read_all(paths, fast=False)
    for path, a, b in zip(paths, fast, slow, strict=True):
        assert a == b, path.name
    by_name = {p.name: f for p, f in zip(paths, fast, strict=True)}
    extra = by_name["14.dcm"]  # the kinds are what they should be, not only equal
    assert isinstance(extra, Instance) and any("20 more than" in n for n in extra.notes)
    assert "holds 40 bytes" in getattr(by_name["16.dcm"], "reason", "")
    assert by_name["22.dcm"].skipped and by_name["22.dcm"].where == "22.dcm"  # SEG, named
    stacked = by_name["20.dcm"]
    # the second frame 1.25 mm along the normal (0, 0.0871557, 0.9961947) of the tilted rows
    assert isinstance(stacked, Instance) and [r.position for r in stacked.frame_refs] == [
        (-125.5, -130.0, 10.0), pytest.approx((-125.5, -129.8910554, 11.2452434))]  # fmt: skip
    assert all(isinstance(f, Instance) and not f.notes for f in fast[:3])


def test_layout_pixel_checks_and_kind_run_once_per_series_of_clean_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    shared = ((frames, "frame_layout"), (header, "_pixel_checks"), (header, "_not_an_image"))
    calls = {name: _counted(monkeypatch, module, name) for module, name in shared}
    found = [read_header(save(_slice(k), tmp_path / f"{k}.dcm"), tmp_path) for k in range(4)]
    assert {name: len(c) for name, c in calls.items()} == dict.fromkeys(calls, 1)
    assert [f.frame_refs[0].position[2] for f in found] == [0.0, 1.25, 2.5, 3.75]
    assert [f.frame_refs[0].sop_uid for f in found] == [f"1.2.3.4.5.{20 + k}" for k in range(4)]
    assert [f.frame_refs[0].source for f in found] == [f"{k}.dcm" for k in range(4)]
    short = save(_slice(9, PixelData=bytes(40)), tmp_path / "short.dcm")  # same header bytes
    assert "holds 40 bytes" in getattr(read_header(short, tmp_path), "reason", "")
    assert len(calls["_pixel_checks"]) == 1 + 2  # its pixel length differs: plain, then pydicom


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"1.2.840.10008.5.1.4.1.1.2\0", "1.2.840.10008.5.1.4.1.1.2"),
        (b"1.2.3 ", "1.2.3"),
        (b"1.2.3\0\0 \0", "1.2.3"),
        (b"0.0", "0.0"),
        (b"1.2.3\\1.2.4", ["1.2.3", "1.2.4"]),
        (b"1.02.3", None),  # a component with a leading zero
        (b"1.2.", None),
        (b"", None),
        (b"1." + b"2" * 63, None),  # 65 characters
        (b"1.2.\xe9", None),
    ],
    ids=[
        "padded",
        "space",
        "nulls",
        "zeros",
        "two",
        "leading zero",
        "trailing dot",
        "empty",
        "too long",
        "not ascii",
    ],
)
def test_a_uid_is_taken_as_pydicom_takes_it(raw: bytes, expected: Any) -> None:
    _taken("UI", raw, expected)


def _taken(vr: str, raw: bytes, expected: Any) -> None:
    """``raw`` as a value of ``vr`` is ``expected``; ``None``: not plain (pydicom reads it)."""
    if expected is None:
        with pytest.raises(elements.Odd):
            elements.value(vr, raw)
    else:
        assert elements.value(vr, raw) == expected


def test_file_meta_found_clean_once_is_still_checked_in_each_file(tmp_path: Path) -> None:
    clean = [save(_slice(k), tmp_path / f"{k}.dcm") for k in range(2)]
    assert all(plain.read_plain(p) is not None for p in clean)  # their File Meta, kept clean
    odd_uid = save(ct_dataset(SOPInstanceUID="1.2.03.4"), tmp_path / "uid.dcm")
    version = _slice(3)
    save(version, tmp_path / "version.dcm")
    version.file_meta.ImplementationVersionName = "RADPIPE_VERSION_1"  # SH holds 16
    version.save_as(tmp_path / "version.dcm", enforce_file_format=True)
    for path in (odd_uid, tmp_path / "version.dcm"):
        assert plain.read_plain(path) is None  # pydicom reads these (and warns as it does)
    assert plain.read_plain(clean[0]) is not None


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"12", 12),
        (b" 12 ", 12),
        (b"+7\0", 7),
        (b"-0", 0),
        (b"000000000012", 12),  # 12 characters: the most IS holds
        (b"0000000000012", None),
        (b"2147483647", 2147483647),
        (b"2147483648", None),  # past a signed 32-bit integer
        (b"-2147483648", -2147483648),
        (b"1\\2", [1, 2]),
        (b"1.0", None),
        (b"", None),
        (b"1 2", None),
    ],
)
def test_an_integer_string_is_taken_as_pydicom_takes_it(raw: bytes, expected: Any) -> None:
    """IS values are taken in one step when they hold one number (elements._ONE_IS)."""
    _taken("IS", raw, expected)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"-180\\-180\\53", [-180.0, -180.0, 53.0]),
        (b" 1.5 ", 1.5),
        (b"0.7\\0.7\0", [0.7, 0.7]),
        (b"1\\ 2", [1.0, 2.0]),  # leading spaces belong to the number
        (b"1e3", 1000.0),
        (b".5\\-2.E+1", [0.5, -20.0]),
        (b"1234567890.12345", 1234567890.12345),  # 16 characters: the most DS holds
        (b"1234567890.123456", None),
        (b"1 \\2", None),  # a space before the backslash
        (b"1\\", None),
        (b"", None),
        (b"nan", None),
        (b"1,5", None),
    ],
)
def test_a_decimal_string_is_taken_as_pydicom_takes_it(raw: bytes, expected: Any) -> None:
    """DS values are taken in one step when each number is clean (elements._SOME_DS)."""
    _taken("DS", raw, expected)
    if expected is not None:  # in that one step, not the general checks
        assert elements._SOME_DS.fullmatch(raw)
