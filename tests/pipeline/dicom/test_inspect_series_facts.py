"""The header facts kept whole per series give what the full reading gives.

``inspect`` keeps, for a clean classic plain file, everything its header facts hold but the
file's own values (:func:`pipeline.dicom.header._plain_shared`, once per series) and reads
only those per file: SOPInstanceUID, InstanceNumber, ImagePositionPatient, the times and
SliceLocation. Files of several series, read in turn, with those values varied, missing or
odd, multi-frame, with private tags, sequences and other VRs, must give exactly what pydicom's
reading gives with nothing kept, file by file and as the whole index.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pydicom.dataelem import RawDataElement
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence
from pydicom.tag import Tag

from pipeline.dicom import plain, plain_memo
from pipeline.dicom.frames import FrameRef
from pipeline.dicom.frozen import made
from pipeline.dicom.header import Instance, read_header
from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.plain_files import ct_dataset, nothing_kept, read_all, save


@pytest.fixture(autouse=True)
def fresh() -> Iterator[None]:
    yield from nothing_kept()


def _slice(series: int, k: int, **changes: Any) -> Dataset:
    own = {"SeriesInstanceUID": f"1.2.3.4.{series}", "SOPInstanceUID": f"1.2.3.{series}.{k}",
           "InstanceNumber": str(k + 1), "AcquisitionTime": f"1015{k:02d}",
           "ImagePositionPatient": ["-125.5", "-130", str(k * 1.25)]}  # fmt: skip
    ds = ct_dataset(**own)
    for key, value in changes.items():
        if key == "raw":  # the value's bytes as they are
            tag, vr, data = value
            ds[tag] = RawDataElement(Tag(tag), vr, len(data), data, 0, False, True)
        elif value is None:
            delattr(ds, key)
        else:
            setattr(ds, key, value)
    return ds


def _code() -> Sequence:
    item = Dataset()
    item.CodeValue, item.CodingSchemeDesignator = "113691", "DCM"
    return Sequence([item])


#: Per file of series 2: what differs from a clean slice (``None`` deletes the attribute).
VARIED: list[dict[str, Any]] = [
    {},
    {"InstanceNumber": None},
    {"ImagePositionPatient": None},
    {"AcquisitionTime": None},  # and no ContentTime: no time
    {"AcquisitionTime": "235959.5", "AcquisitionDate": "20261202"},
    {"SliceLocation": "-12.5"},
    {"raw": (0x00201041, "DS", b"n/a ")},  # SliceLocation not a number: pydicom reads it
    {"raw": (0x00201041, "LO", b"-12.5 ")},  # SliceLocation in another VR: pydicom's
    {"InstanceNumber": " 7 "},
    {"ImagePositionPatient": ["-1.255e2", "-130", "+2.5"]},
    {"ImagePositionPatient": ["-125.5", "-130"]},  # two values: refused
    {"raw": (0x00200032, "DS", b"-125.5,-130,3 ")},  # position with commas: noted
    {"WindowCenter": "50", "WindowWidth": "350"},  # a window of its own
    {"NumberOfFrames": "2", "PixelData": bytes(120), "SpacingBetweenSlices": "1.25"},
    {"NumberOfFrames": "3", "PixelData": bytes(180), "FrameTime": "33.3"},  # a cine
    {"ProcedureCodeSequence": _code()},
    {"SOPInstanceUID": "1.2.3.4.5.0678"},  # a UID pydicom warns about
    {"SeriesDescription": "Chest\\Lung"},  # two values where one is expected
    {"Modality": "SEG"},
]


def _files(tmp: Path) -> list[Path]:
    """Three series in turn: clean slices of 1 and 3 between the varied files of 2."""
    made = []
    for k, changes in enumerate(VARIED):
        ds = _slice(2, k, **changes)
        if k % 4 == 1:
            ds.private_block(0x0011, "ACME 1.1", create=True).add_new(0x01, "SH", "x")
        if k % 5 == 2:  # an element of a VR the plain reader leaves to pydicom
            ds.add_new(0x00189004, "CS", "RESEARCH")  # ContentQualification
        made += [save(ds, tmp / f"{k:02d}b.dcm")]
        made += [save(_slice(series, k), tmp / f"{k:02d}{'ac'[series // 2]}.dcm")
                 for series in (1, 3)]  # fmt: skip
    return sorted(made)


def test_each_file_gives_what_the_full_reading_gives(tmp_path: Path) -> None:
    paths = _files(tmp_path)
    fast, full = read_all(paths, fast=True), read_all(paths, fast=False)
    for path, a, b in zip(paths, fast, full, strict=True):
        assert a == b, path.name
        if isinstance(a, Instance):
            assert a.frame_refs == b.frame_refs and a.notes == b.notes, path.name
    by_name = {p.name: f for p, f in zip(paths, fast, strict=True)}
    assert [by_name[f"{k:02d}a.dcm"].position for k in range(3)] == [
        (-125.5, -130.0, 0.0), (-125.5, -130.0, 1.25), (-125.5, -130.0, 2.5)]  # fmt: skip
    assert by_name["01b.dcm"].instance_number is None
    assert by_name["02b.dcm"].position is None and by_name["02b.dcm"].frame_refs[0].position is None
    assert by_name["08b.dcm"].instance_number == 7
    assert by_name["09b.dcm"].position == (-125.5, -130.0, 2.5)
    assert "must hold 3 numbers" in by_name["10b.dcm"].reason
    # 10:15:03 is 36903 s into the day; the frame has it, and its own number and UID
    ref = by_name["03a.dcm"].frame_refs[0]
    assert (ref.time, ref.instance_number, ref.sop_uid) == (36903.0, 4, "1.2.3.1.3")
    late = by_name["04b.dcm"].frame_refs[0].time  # 23:59:59.5 on 2026-12-02, in seconds:
    days = 2025 * 365 + 491 + 334 + 2  # date.toordinal: years before (491 leap days) + 336
    assert late == days * 86400.0 + 86399.5
    assert by_name["05b.dcm"].frame_refs[0].slice_location == -12.5
    assert by_name["06b.dcm"].frame_refs[0].slice_location is None
    assert by_name["07b.dcm"].frame_refs[0].slice_location == -12.5
    assert any("ImagePositionPatient" in n for n in by_name["11b.dcm"].notes)
    assert by_name["18b.dcm"].skipped and by_name["03b.dcm"].frame_refs[0].time is None
    stacked = [r.position for r in by_name["13b.dcm"].frame_refs]
    assert stacked[0] == (-125.5, -130.0, 16.25) and len(stacked) == 2  # 13 x 1.25 mm
    cine = by_name["14b.dcm"].frame_refs
    assert [r.position for r in cine] == [None] * 3
    assert [r.frame_time for r in cine] == [None, 33.3, 33.3]


def test_the_index_is_the_same_either_way(tmp_path: Path) -> None:
    _files(tmp_path)
    plain.ENABLED = plain_memo.ENABLED = False
    full = index_folder(tmp_path)
    plain.ENABLED = plain_memo.ENABLED = True
    plain_memo.clear()
    fast = index_folder(tmp_path)
    assert fast.to_dict() == full.to_dict()
    assert list(fast.rows()) == list(full.rows())
    assert [s.instances for s in fast.series] == [s.instances for s in full.series]
    assert len(fast.series) == 3 and len(fast.series[0].instances) == len(VARIED)


def test_a_clean_file_of_a_known_series_looks_up_one_kept_result(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    looked: list[int] = []
    same = plain.PlainDataset.memo_same

    def counting(self: plain.PlainDataset, states: Any) -> bool:
        looked.append(1)
        return same(self, states)

    monkeypatch.setattr(plain.PlainDataset, "memo_same", counting)
    paths = [save(_slice(1, k), tmp_path / f"{k}.dcm") for k in range(5)]
    read_header(paths[0], tmp_path)
    looked.clear()
    found = [read_header(p, tmp_path) for p in paths[1:]]
    assert len(looked) == 4  # one a file (some eight before the facts were kept whole)
    assert [f.instance_number for f in found] == [2, 3, 4, 5]
    assert [f.frame_refs[0].position for f in found] == [
        (-125.5, -130.0, 1.25 * k) for k in range(1, 5)]  # fmt: skip


def test_a_frame_made_without_init_is_the_one_init_makes() -> None:
    values = {"source": "a.dcm", "frame": 0, "sop_uid": "1.2.3", "rows": 6, "columns": 5,
              "position": (1.0, 2.0, 3.0), "orientation": None, "pixel_spacing": None,
              "note": "n"}  # fmt: skip
    fast = made(FrameRef, values)
    assert fast == FrameRef(**values) and hash(fast) == hash(FrameRef(**values))
    assert (fast.mosaic, fast.rescale, fast.stack_values) == (0, (1.0, 0.0), ())  # defaults
    assert pickle.loads(pickle.dumps(fast)) == fast  # as a worker sends it
    with pytest.raises(TypeError):
        made(FrameRef, {k: v for k, v in values.items() if k != "rows"})
    with pytest.raises(TypeError):
        made(FrameRef, {**values, "row": 6})
    with pytest.raises(TypeError):  # one missing, one unknown: as many names as fields
        made(FrameRef, {**{k: v for k, v in values.items() if k != "rows"}, "row": 6})
