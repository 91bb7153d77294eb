"""The reader's header-only facts are worked out once per series of clean plain files.

:mod:`pipeline.dicom.image_memo` and ``decode_stored``'s size check keep their results per
series (:mod:`pipeline.dicom.plain_memo`, issue 15: about 0.5 M instructions a 64x64 file of
``convert --format npy``); the images read must be exactly those read with nothing kept.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pipeline.dicom import decode, image_memo, plain_memo, read
from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.plain_files import ct_dataset, save
from tests.pipeline.dicom.test_plain_memo import fresh  # noqa: F401  (autouse: nothing kept)

#: Each worked out once for a series of clean files (module, name).
KEPT = [(image_memo, "overlay_note"), (image_memo, "shutter_note"),
        (image_memo, "subtraction_note"), (image_memo, "value_unit"),
        (image_memo, "lossy_history"), (image_memo, "presentation_inverse"),
        (image_memo, "voi_choice"), (image_memo, "vendor_notes"),
        (decode, "check_pixel_size"), (read, "signed_pixels")]  # fmt: skip


def _count(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[int]:
    calls: list[int] = []
    original = getattr(module, name)

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, counting)
    return calls


def _series(folder: Path, **changes: Any) -> list[Path]:
    return [save(ct_dataset(SOPInstanceUID=f"1.2.3.4.5.{20 + k}", InstanceNumber=str(k + 1),
                            ImagePositionPatient=["-125.5", "-130", str(k * 1.25)], **changes),
                 folder / f"{k}.dcm") for k in range(4)]  # fmt: skip


def _seen(paths: list[Path], *, kept: bool) -> list[Any]:
    plain_memo.ENABLED = kept
    plain_memo.clear()
    try:
        images = [read_instance(p, p.name) for p in paths]
    finally:
        plain_memo.ENABLED = True
    return _facts(images)


def _facts(images: list[Any]) -> list[Any]:
    """What the reader gives, with each frame's window choice (FrameInfo compares without)."""
    return [(i.frames, [f.voi_choice for f in i.frames], i.problems, i.units, i.unit, i.lossy,
             i.inverse, i.signed, i.stored.tolist()) for i in images]  # fmt: skip


def test_the_header_facts_are_worked_out_once_per_series(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = {name: _count(monkeypatch, module, name) for module, name in KEPT}
    paths = _series(tmp_path)
    kept = _seen(paths, kept=True)
    assert {name: len(c) for name, c in calls.items()} == {name: 1 for _, name in KEPT}
    assert kept == _seen(paths, kept=False)
    assert [k[3:5] for k in kept] == [(("", ""), "HU")] * 4  # CT, rescaled: HU
    assert {k[2] for k in kept} == {()}  # clean files: nothing said
    assert [k[1] for k in kept] == [["WindowCenter/WindowWidth 1 of 2"]] * 4


@pytest.mark.parametrize(
    "changes",
    [{"PresentationLUTShape": "INVERSE"}, {"LossyImageCompression": "01"},
     {"RescaleType": "OD"}, {"ShutterShape": "RECTANGULAR", "ShutterLeftVerticalEdge": "1",
      "ShutterRightVerticalEdge": "4", "ShutterUpperHorizontalEdge": "1",
      "ShutterLowerHorizontalEdge": "5"}, {"PixelRepresentation": 1},
     {"WindowCenter": "40", "WindowWidth": "400"}],
    ids=["inverse", "lossy", "rescale type", "shutter", "signed", "one window"],
)  # fmt: skip
def test_a_series_after_another_gets_its_own_facts(tmp_path: Path, changes: Any) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    base = _series(tmp_path / "a")
    other = _series(tmp_path / "b", **changes)  # the same series UID: the same memo key
    plain_memo.clear()
    for p in base:
        read_instance(p, p.name)
    after = [read_instance(p, p.name) for p in other]
    alone = _seen(other, kept=False)
    assert _facts(after) == alone
    assert alone != _seen(base, kept=False)
