"""Several header windows or VOI LUTs: the first is used (PS3.3 C.11.2.1.2) and the manifest's
``window`` cell says which, with its explanation. Expected values: the LINEAR formula by hand
(C.11.2.1.2.1) and pydicom's ``apply_voi_lut(..., index=0)``.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut as pyd_modality
from pydicom.pixels import apply_voi_lut as pyd_voi

from pipeline.dicom.read import image_from_dataset, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.conftest import bundled


def _windows(explanation: object = None) -> Dataset:
    ds = pydicom.dcmread(bundled("CT_small.dcm"))  # rescale -1024, no window tags
    ds.WindowCenter, ds.WindowWidth = [40, -600], [400, 1500]
    if explanation is not None:
        ds.WindowCenterWidthExplanation = explanation
    return ds


@pytest.mark.parametrize(
    ("explanation", "said"),
    [(["SOFT TISSUE", "LUNG"], "header (WindowCenter/WindowWidth 1 of 2: SOFT TISSUE)"),
     (None, "header (WindowCenter/WindowWidth 1 of 2)"),
     (["a\x1b[2Jname", "LUNG"], "header (WindowCenter/WindowWidth 1 of 2)"),
     # one name per window (PS3.3 C.11.2.1.2): with another count none is known to be whose
     (["LUNG", "SOFT TISSUE", "BONE"], "header (WindowCenter/WindowWidth 1 of 2, not named: "
      "WindowCenterWidthExplanation (0028,1055) holds 3 names for 2 windows)"),
     ("LUNG", "header (WindowCenter/WindowWidth 1 of 2, not named: "
      "WindowCenterWidthExplanation (0028,1055) holds 1 name for 2 windows)")],
    ids=["explained", "unexplained", "odd-text-not-shown", "more-names", "fewer-names"],
)  # fmt: skip
def test_the_first_window_is_used_and_said(explanation: object, said: str) -> None:
    ds = _windows(explanation)
    ours, used = render(image_from_dataset(ds, "ct"), 0, parse_window("header"))
    hu = pyd_modality(ds.pixel_array, ds).astype(np.float64)
    by_hand = np.clip((hu - 39.5) / 399 + 0.5, 0, 1)  # LINEAR, c=40, w=400
    assert used == said
    assert np.allclose(ours, by_hand, atol=1e-6)


def test_one_window_is_said_as_before() -> None:
    ds = _windows()
    ds.WindowCenter, ds.WindowWidth = 40, 400
    assert render(image_from_dataset(ds, "ct"), 0, parse_window("header"))[1] == "header"


def test_the_first_voi_lut_item_is_used_and_said() -> None:
    ds = pydicom.dcmread(bundled("CT_small.dcm"))
    del ds.RescaleSlope, ds.RescaleIntercept
    items = []
    for explanation, table in (("NORMAL", np.linspace(0, 4095, 512)),
                               ("HARD", np.linspace(4095, 0, 512))):  # fmt: skip
        item = Dataset()
        item.LUTDescriptor = [512, 800, 12]
        item.LUTData = [int(v) for v in table.round()]
        item.LUTExplanation = explanation
        items.append(item)
    ds.VOILUTSequence = items
    ours, used = render(image_from_dataset(ds, "ct"), 0, parse_window("header"))
    assert used == "header (VOILUTSequence item 1 of 2: NORMAL)"
    assert np.allclose(ours, pyd_voi(ds.pixel_array, ds, index=0) / 4095.0, atol=1e-6)


def test_the_manifest_window_cell_says_the_choice(tmp_path: Path) -> None:
    from workflows.cli import main

    (tmp_path / "src").mkdir()
    _windows(["SOFT", "LUNG"]).save_as(tmp_path / "src" / "x.dcm")
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "png", "--quiet"]) == 0
    with (out / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["window"] == "header (WindowCenter/WindowWidth 1 of 2: SOFT)"
    assert row["problems"] == ""  # information, not a defect: --strict converts it


@pytest.mark.parametrize(
    ("luts", "said"),
    [(1, "header (VOILUTSequence: NORMAL, not its 2 WindowCenter/WindowWidth windows)"),
     (2, "header (VOILUTSequence item 1 of 2: NORMAL, not its 2 WindowCenter/WindowWidth "
         "windows)")],
    ids=["one-lut", "two-luts"],
)  # fmt: skip
def test_a_voi_lut_beside_windows_is_used_and_the_windows_said_unused(luts: int, said: str) -> None:
    """A VOI LUT and windows in one header are alternatives (PS3.3 C.11.2.1.2): the LUT is
    used, as pydicom's ``apply_voi_lut`` prefers it, and the cell said ``header`` alone."""
    ds = _windows(["SOFT TISSUE", "LUNG"])
    del ds.RescaleSlope, ds.RescaleIntercept
    items = []
    for explanation in ("NORMAL", "HARD")[:luts]:
        item = Dataset()
        item.LUTDescriptor = [512, 800, 12]
        item.LUTData = [int(v) for v in np.linspace(0, 4095, 512).round()]
        item.LUTExplanation = explanation
        items.append(item)
    ds.VOILUTSequence = items
    ours, used = render(image_from_dataset(ds, "ct"), 0, parse_window("header"))
    assert used == said
    assert np.allclose(ours, pyd_voi(ds.pixel_array, ds, index=0, prefer_lut=True) / 4095.0)
