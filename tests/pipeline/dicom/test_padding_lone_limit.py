"""Pixel Padding Range Limit (0028,0121) without Pixel Padding Value (0028,0120): said.

The limit is one end of the padding range and the value the other (PS3.3 C.7.5.1.1.2); alone
it marks no range. No pixel was taken for padding (the ``padding`` cell empty), unsaid, so the
-2000 corners of this CT slice passed for data. They still do, now with the reason.
"""

from __future__ import annotations

import csv
from pathlib import Path

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import ct_series
from workflows.cli import main

NOTE = ("PixelPaddingRangeLimit (0028,0121) is given without PixelPaddingValue (0028,0120), the "
        "other end of its range (PS3.3 C.7.5.1.1.2, which C.7.6.3 requires with it): no pixel "
        "is taken for padding")  # fmt: skip


def test_a_range_limit_alone_is_said(tmp_path: Path) -> None:
    src = ct_series(tmp_path / "src", [[-2000, -2000, 0, 1000]], PixelPaddingRangeLimit=-2000)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["padding"] == ""
    assert NOTE in row["problems"].split("; ")
    inspected = {p.where: p.reason for p in index_folder(src).all_problems()}
    assert inspected["s0.dcm"] == f"note: {NOTE}"
