"""A VOI LUT whose LUT Data holds more entries than its LUT Descriptor's first value says.

dcmtk meets such files often enough to handle them (``DiLookupTable::checkTable``: "invalid
value for 'NumberOfTableEntries' (256) ... assuming 4096"): the descriptor's count is the
wrong one and the data is taken whole. radpipe kept the first N entries, as pydicom does, so a
12-bit CR's VOI LUT of 4096 entries under a descriptor of 256 mapped every stored value past
255 to entry 255: a white image, with only a misleading "VOI LUT bits corrected ... 8-bit"
note. Now every entry is used, as dcmtk does, and the note says so.

Expected values by hand: an identity LUT of 12-bit entries 0..4095 over stored values 0, 255,
256, 4095 gives 0, 255/4095, 256/4095, 1 of white.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom.read import image_from_dataset, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset, item
from workflows.cli import main

CR = "1.2.840.10008.5.1.4.1.1.1"
STORED = [0, 255, 256, 4095]
NOTE = (
    "LUT entries: VOILUTSequence (0028,3010) LUTData (0028,3006) holds 4096 entries but its "
    "LUTDescriptor (0028,3002) says 256: all used, as dcmtk does"
)


def _cr(count: int, data: str, sequence: str = "VOILUTSequence"):  # type: ignore[no-untyped-def]
    ds = image_dataset(CR, "CR", 1, 4, stored=12)
    ds.PixelData = np.array(STORED, "<u2").tobytes()
    entries = np.arange(4096, dtype="<u2")  # identity: entry i is i
    lut = item()
    lut.add_new(0x00283002, "US", [count, 0, 12])
    if data == "OW":
        lut.add_new(0x00283006, "OW", entries.tobytes())
    else:
        lut.add_new(0x00283006, "US", entries.tolist())
    setattr(ds, sequence, [lut])
    return ds


@pytest.mark.parametrize("data", ["OW", "US"])
def test_lut_data_longer_than_the_descriptor_says_is_used_whole(data: str) -> None:
    image = image_from_dataset(_cr(256, data), "cr.dcm")
    out, used = render(image, 0, parse_window("header"))
    assert used == "header"
    assert np.allclose(out[0], np.array(STORED) / 4095, atol=1e-6)
    assert any(p.startswith(NOTE) for p in image.problems)
    assert not any("bits corrected" in p for p in image.problems)  # the entries are 12-bit


def test_a_descriptor_that_counts_the_data_is_read_as_before() -> None:
    image = image_from_dataset(_cr(4096, "OW"), "cr.dcm")
    out, _ = render(image, 0, parse_window("header"))
    assert np.allclose(out[0], np.array(STORED) / 4095, atol=1e-6)
    assert not any("LUT entries" in p for p in image.problems)


def test_convert_and_inspect_say_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _cr(256, "OW").save_as(src / "cr.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--window", "header",
                 "--quiet"]) == 0  # fmt: skip
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert NOTE in row["problems"]
    assert np.allclose(np.load(out / row["output"]), np.array([STORED]) / 4095, atol=1e-6)
    capsys.readouterr()
    main(["inspect", str(src)])
    assert NOTE in capsys.readouterr().out


def test_a_modality_lut_longer_than_its_descriptor_says_is_used_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """dcmtk's check is the same for the Modality LUT (one ``DiLookupTable``): the modality
    values of 256, 4095 were entry 255, 255; now 256, 4095, noted in convert and inspect."""
    src = tmp_path / "src"
    src.mkdir()
    _cr(256, "OW", "ModalityLUTSequence").save_as(src / "cr.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert np.load(out / row["output"]).tolist() == [STORED]  # identity table
    said = NOTE.replace("VOILUTSequence (0028,3010)", "ModalityLUTSequence (0028,3000)")
    assert said in row["problems"]
    capsys.readouterr()
    main(["inspect", str(src)])
    assert said in capsys.readouterr().out
