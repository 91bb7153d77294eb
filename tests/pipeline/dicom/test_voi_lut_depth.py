"""A VOI LUT whose LUT Descriptor misstates the depth of its entries (real CR and XA files).

Agfa CRs write 16 bits in the descriptor over entries that reach 4095 (dicom-rs PR #825,
cornerstone #106; OHIF #818 shows an XA with ``4096\\0\\16``): scaled by 2**16 - 1 the image
came out near black, unsaid. The other way round (8 over 12-bit entries) it came out white.
Viewers (Horos, Cornerstone, dcmtk's automatic mode) take the depth from the largest entry.
Expected values are by hand: an identity LUT over 12-bit stored values 0, 1024, 2048, 4095
spans the whole output, so PNG 0, 64, 128, 255.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom.read import image_from_dataset, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset, item
from workflows.cli import main

DX = "1.2.840.10008.5.1.4.1.1.1.1"
STORED = [0, 1024, 2048, 4095]


def _dx(descriptor_bits: int, top: int, photometric: str = "MONOCHROME2"):  # type: ignore[no-untyped-def]
    ds = image_dataset(DX, "DX", 4, 4, stored=12, photometric=photometric)
    ds.PixelData = np.array([STORED] * 4, "<u2").tobytes()
    entries = np.rint(np.arange(4096) * (top / 4095)).astype("<u2")  # a linear LUT to `top`
    ds.VOILUTSequence = [item(LUTDescriptor=[4096, 0, descriptor_bits], LUTData=entries.tobytes())]
    return ds


@pytest.mark.parametrize(
    ("bits", "top", "note"),
    [
        (16, 4095, "says 16-bit entries but they reach 4095, so the output is scaled as 12-bit"),
        (8, 4095, "says 8-bit entries but they reach 4095, so the output is scaled as 12-bit"),
        (16, 255, "says 16-bit entries but they reach 255, so the output is scaled as 8-bit"),
        (12, 4095, ""),  # as the descriptor says: used as it is
        (16, 65535, ""),
    ],
    ids=["agfa-16-over-12", "8-over-12", "16-over-8", "12-right", "16-right"],
)
def test_voi_lut_output_depth_from_its_entries(bits: int, top: int, note: str) -> None:
    image = image_from_dataset(_dx(bits, top), "dx.dcm")
    out, used = render(image, 0, parse_window("header"))
    assert used == "header"
    assert np.allclose(out[0], np.array(STORED) / 4095, atol=2.5e-3)  # full range, +-0.5/255
    said = [p for p in image.problems if p.startswith("VOI LUT bits corrected")]
    assert (note in said[0]) if note else not said


def test_entries_below_8_bits_are_scaled_as_8_bit() -> None:
    # entries 0..100 under a 16-bit descriptor: the depth found is 8 bits at least, so the
    # largest entry is 100 / 255 (not 100 / 127, a 7-bit output stretched to white)
    image = image_from_dataset(_dx(16, 100), "dx.dcm")
    out, _ = render(image, 0, parse_window("header"))
    expected = np.rint(np.array(STORED) * (100 / 4095)) / 255
    assert np.allclose(out[0], expected, atol=1e-6)
    assert any("scaled as 8-bit" in p for p in image.problems)


def test_monochrome1_voi_lut_depth_inverted_over_the_full_range() -> None:
    image = image_from_dataset(_dx(16, 4095, "MONOCHROME1"), "dx.dcm")
    out, _ = render(image, 0, parse_window("header"))
    assert np.allclose(out[0], 1 - np.array(STORED) / 4095, atol=1e-3)


def test_convert_and_inspect_say_the_corrected_depth(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    from PIL import Image

    src = tmp_path / "src"
    src.mkdir()
    _dx(16, 4095).save_as(src / "cr.dcm", enforce_file_format=True)
    assert main(["convert", str(src), str(tmp_path / "out"), "--quiet"]) == 0
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    png = np.asarray(Image.open(tmp_path / "out" / row["output"]))
    assert png[0].tolist() == [0, 64, 128, 255]  # 4095 -> 255, not 16 (4095 / 65535)
    assert "VOI LUT bits corrected: LUTDescriptor (0028,3002) says 16-bit" in row["problems"]
    capsys.readouterr()
    assert main(["inspect", str(src), "--json"]) == 1  # a problem in a usable file
    found = json.dumps(json.loads(capsys.readouterr().out)["problems"])
    assert "VOI LUT bits corrected" in found
