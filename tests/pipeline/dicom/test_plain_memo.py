"""Checks kept per series (:mod:`pipeline.dicom.plain_memo`) answer as the checks themselves do.

Each variant changes one value the header checks or the frame facts read; read after a clean
file whose results were kept, it must give exactly what it gives with nothing kept.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.uid import ImplicitVRLittleEndian

from pipeline.dicom import frames, header_checks, plain, plain_memo
from pipeline.dicom.header import Instance, read_header
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.plain_files import counted as _counted
from tests.pipeline.dicom.plain_files import ct_dataset, save

#: One value changed per variant (``None`` deletes the attribute).
VARIANTS: dict[str, dict[str, Any]] = {
    "bits stored over allocated": {"BitsStored": 17},
    "bits stored missing": {"BitsStored": None},
    "photometric misspelt": {"PhotometricInterpretation": "MONOCHROMU2"},
    "three samples, monochrome": {"SamplesPerPixel": 3},
    "rows zero": {"Rows": 0},
    "parallel orientation": {"ImageOrientationPatient": ["1", "0", "0", "1", "0", "0"]},
    "pixel spacing zero": {"PixelSpacing": ["0.7", "0"]},
    "slope zero": {"RescaleSlope": "0"},
    "window width zero": {"WindowWidth": ["0", "1500"]},
    "slice thickness": {"SliceThickness": "2.5"},
    "kernel": {"ConvolutionKernel": "B70f"},
    "repetition time": {"RepetitionTime": "900"},
    "localizer": {"ImageType": ["ORIGINAL", "PRIMARY", "LOCALIZER"]},
    "echo time": {"EchoTime": "4.2"},
    "no pixel representation": {"PixelRepresentation": None},
    "slope": {"RescaleSlope": "2"},
    "intercept": {"RescaleIntercept": "0"},
    "one window": {"WindowCenter": "40", "WindowWidth": "400"},
}


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    plain_memo.clear()
    yield
    plain_memo.ENABLED = True
    plain_memo.clear()


def _header(path: Path) -> object:
    return read_header(path, path.parent)


def _image(path: Path) -> object:
    """What the reader gives: frames (rescale, window, geometry), problems and pixels."""
    try:
        image = read_instance(path, path.name)
        return image.frames, image.problems, image.stored.tolist()
    except Exception as err:
        return f"{type(err).__name__}: {err}"


def _read(path: Path, *, kept: bool, how: Any = _header) -> Any:
    plain_memo.ENABLED = kept
    try:
        return how(path)
    finally:
        plain_memo.ENABLED = True


@pytest.mark.parametrize("how", [_header, _image], ids=["index", "reader"])
@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_a_variant_read_after_a_clean_file_is_checked_in_full(
    tmp_path: Path, name: str, how: Any
) -> None:
    base = save(ct_dataset(), tmp_path / "base.dcm")
    changed = save(ct_dataset(SOPInstanceUID="1.2.3.4.5.9", **VARIANTS[name]), tmp_path / "v.dcm")
    first = _read(base, kept=True, how=how)
    clean = not first.notes if isinstance(first, Instance) else first[1] == ()
    assert clean  # so its checks and facts were kept
    after_base = _read(changed, kept=True, how=how)
    plain_memo.clear()
    assert after_base == _read(changed, kept=False, how=how)
    assert _read(base, kept=True, how=how) == first  # and the base again, after the variant


def test_a_variant_in_the_other_transfer_syntax_is_checked_in_full(tmp_path: Path) -> None:
    base = save(ct_dataset(), tmp_path / "base.dcm")
    implicit = save(ct_dataset(), tmp_path / "i.dcm", ImplicitVRLittleEndian)
    _read(base, kept=True)
    seen = _read(implicit, kept=True)
    plain_memo.clear()
    assert seen == _read(implicit, kept=False)
    assert isinstance(seen, Instance) and seen.transfer_syntax == ImplicitVRLittleEndian


def test_the_checks_run_once_per_series_of_clean_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    checks = _counted(monkeypatch, header_checks, "image_checks")
    values = _counted(monkeypatch, header_checks, "value_checks")
    facts = _counted(monkeypatch, frames, "_stack_facts")
    paths = [save(ct_dataset(SOPInstanceUID=f"1.2.3.4.5.{20 + k}", InstanceNumber=str(k + 1),
                             ImagePositionPatient=["-125.5", "-130", str(k * 1.25)]),
                  tmp_path / f"{k}.dcm") for k in range(4)]  # fmt: skip
    found = [read_header(p, tmp_path) for p in paths]
    assert (len(checks), len(values), len(facts)) == (1, 1, 1)
    positions = [f.position[2] for f in found if isinstance(f, Instance) and f.position]
    assert positions == [0.0, 1.25, 2.5, 3.75]
    assert [f.frame_refs[0].instance_number for f in found if isinstance(f, Instance)] == [
        1, 2, 3, 4]  # fmt: skip
    save(ct_dataset(SOPInstanceUID="1.2.3.4.5.30", BitsStored=None), tmp_path / "n.dcm")
    for _ in range(2):  # a note: not clean, so nothing kept and checked every time
        noted = read_header(tmp_path / "n.dcm", tmp_path)
        assert isinstance(noted, Instance) and any("BitsStored" in n for n in noted.notes)
    assert len(checks) == 1 + 2 * 2  # the plain reading, then pydicom's, each time


def _plain(tmp_path: Path, name: str = "a.dcm", **changes: Any) -> plain.PlainDataset:
    ds = plain.read_plain(save(ct_dataset(**changes), tmp_path / name))
    assert ds is not None
    return ds


def _kept(fn: Any, ds: Any, *args: Any) -> Any:
    with plain_memo.session() as staged:
        result = plain_memo.memoized(fn, ds, *args)
    plain_memo.commit(staged)
    return result


def test_a_result_is_kept_only_for_the_same_bytes_and_a_clean_check(tmp_path: Path) -> None:
    calls: list[str] = []

    def rows(ds: Any) -> Any:
        calls.append("rows")
        return [ds.get("Rows"), "EchoTime" in ds]

    a, b = _plain(tmp_path), _plain(tmp_path, "b.dcm", SOPInstanceUID="1.2.3.4.5.7")
    c = _plain(tmp_path, "c.dcm", Rows=7, PixelData=bytes(70))
    assert _kept(rows, a) == [6, False] and _kept(rows, b) == [6, False]
    assert calls == ["rows"]  # b holds a's Rows bytes and has no EchoTime either
    assert _kept(rows, c) == [7, False] and calls == ["rows", "rows"]
    with plain_memo.session():  # not committed (the reading was not clean): c's is kept
        plain_memo.memoized(rows, a)
    assert _kept(rows, a) == [6, False] and calls == ["rows"] * 4
    assert _kept(rows, b) == [6, False] and calls == ["rows"] * 4
    echo = _plain(tmp_path, "e.dcm", EchoTime="4.2")  # the same Rows; EchoTime present
    assert _kept(rows, echo) == [6, True] and calls == ["rows"] * 5

    def through_pydicom(ds: Any) -> int:
        calls.append("full")
        return len(ds.full())

    def length(ds: Any) -> int:
        calls.append("len")
        return len(ds)

    for fn in (through_pydicom, length, through_pydicom, length):
        _kept(fn, a)
    assert calls.count("full") == 2 and calls.count("len") == 2  # never kept


def test_a_kept_inner_result_counts_as_read_by_the_outer_check(tmp_path: Path) -> None:
    def inner(ds: Any) -> Any:
        return ds.get("BitsStored")

    def outer(ds: Any) -> Any:
        return (plain_memo.memoized(inner, ds), ds.get("Rows"))

    a = _plain(tmp_path)
    assert _kept(inner, a) == 12
    assert _kept(outer, a) == (12, 6)  # inner from what was kept
    other = _plain(tmp_path, "b.dcm", BitsStored=10)
    assert _kept(outer, other) == (10, 6)  # outer read BitsStored too: not reused


def test_the_results_kept_are_bounded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plain_memo, "_MAX_KEPT", 3)
    a = _plain(tmp_path)
    for k in range(10):  # a check per frame of a long multi-frame file, say
        _kept(lambda ds, f: ds.get("Rows") + f, a, k)
        assert len(plain_memo._KEPT) <= 3


def test_the_oldest_results_go_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the bound the oldest series' results are dropped, not all: the series read just
    before keep theirs (a series read in turn with others still finds them)."""
    monkeypatch.setattr(plain_memo, "_MAX_KEPT", 3)
    calls: list[str] = []

    def rows(ds: Any) -> Any:
        calls.append(str(ds.get("SeriesInstanceUID")))
        return ds.get("Rows")

    files = {s: _plain(tmp_path, f"{s}.dcm", SeriesInstanceUID=f"1.2.3.9.{k}")
             for k, s in enumerate("ABCD")}  # fmt: skip
    for name in "ABCD":  # one result each: A's is the oldest when D's comes
        _kept(rows, files[name])
    calls.clear()
    for name in "BCDA":
        _kept(rows, files[name])
    assert calls == ["1.2.3.9.0"]  # only A checked again; B, C and D were kept


def test_the_memory_of_kept_results_stops_growing_over_many_series(tmp_path: Path) -> None:
    """The header checks of 300 one-file series hold no more after the 150th than after the
    whole: the bound is reached (with 4,096 entries kept the held memory grew 1.6 MB more here,
    and a 100,000-file conversion's peak RSS 14 MB over a 1,000-file one's)."""
    import tracemalloc

    paths = [save(ct_dataset(SeriesInstanceUID=f"1.2.3.8.{k}", SOPInstanceUID=f"1.2.3.7.{k}"),
                  tmp_path / f"{k}.dcm") for k in range(300)]  # fmt: skip
    tracemalloc.start()
    try:
        held = []
        for k, path in enumerate(paths):
            assert not _header(path).notes  # type: ignore[attr-defined]
            if k in (149, 299):
                held.append(tracemalloc.get_traced_memory()[0])
    finally:
        tracemalloc.stop()
    assert held[1] - held[0] < 0.25 * 2**20
