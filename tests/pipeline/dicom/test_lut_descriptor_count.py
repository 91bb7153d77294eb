"""A LUT Descriptor's entry count above 32767 in an Implicit VR file of signed pixel data.

The LUT Descriptor (0028,3002) is 'US or SS' by its second value, the first value mapped,
but its first value (the number of entries) and third (bits) are always unsigned (PS3.3
C.11.1.1.1). An Implicit VR reader resolves the VR from PixelRepresentation alone, and
pydicom applies SS to all three values (pydicom #942, "LUT Descriptor values don't follow
standard"): 40000 entries read -25536. radpipe took that count as it came, so the table was
cut to its first 14464 entries (``table[:-25536]``) and every value past them took entry
14463, unsaid: a VOI LUT's top third came out one grey, a Modality LUT's values wrong.

Expected values by hand: identity tables (entry i is i) over stored values -20000, -1, 0,
19999 with first value mapped -20000 give entries 0, 19999, 20000, 39999: as modality
values, and as VOI outputs of 16-bit entries, / 65535.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.uid import ImplicitVRLittleEndian

from tests.pipeline.dicom.builders import image_dataset, item
from workflows.cli import main

STORED = [-20000, -1, 0, 19999]
ENTRIES = np.array(STORED) + 20000  # identity table from -20000


def _dx(src: Path, sequence: str) -> None:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.1.1", "DX", 1, 4, signed=True,
                       syntax=ImplicitVRLittleEndian)  # fmt: skip
    ds.PixelData = np.array(STORED, "<i2").tobytes()
    lut = item()
    lut.add_new(0x00283002, "SS", [40000, -20000, 16])
    lut.add_new(0x00283006, "OW", np.arange(40000, dtype="<u2").tobytes())
    setattr(ds, sequence, [lut])
    src.mkdir()
    ds.save_as(src / "dx.dcm", enforce_file_format=True)
    read = pydicom.dcmread(src / "dx.dcm")[sequence][0].LUTDescriptor
    assert list(read) == [-25536, -20000, 16]  # pydicom #942: the count read as SS


def _converted(src: Path, out: Path, window: str) -> tuple[np.ndarray, str]:
    assert main(["convert", str(src), str(out), "--format", "npy", "--window", window,
                 "--quiet"]) == 0  # fmt: skip
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    return np.load(out / row["output"]), row["problems"]


@pytest.mark.filterwarnings("ignore::UserWarning")  # pydicom: -20000 is no valid US
def test_voi_lut_of_more_than_32767_entries(tmp_path: Path) -> None:
    _dx(tmp_path / "src", "VOILUTSequence")
    found, problems = _converted(tmp_path / "src", tmp_path / "out", "header")
    assert np.allclose(found, [ENTRIES / 65535], atol=1e-6)
    assert "LUT entries" not in problems  # 40000 entries, as the descriptor means


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_modality_lut_of_more_than_32767_entries(tmp_path: Path) -> None:
    _dx(tmp_path / "src", "ModalityLUTSequence")
    found, _ = _converted(tmp_path / "src", tmp_path / "out", "none")
    assert found.tolist() == [ENTRIES.tolist()]
