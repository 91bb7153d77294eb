r"""Header bytes of a legal file changed where the reader looks (fuzz_header_bytes.py).

* A DS attribute written with a binary VR: pydicom reads RescaleSlope ``'1 '`` with VR SS as
  8241 (0x2031: the bytes ``1`` and space), so the slice's values were 8241 times its
  neighbours', unsaid. Now read as the text its bytes spell, with a note.
* A SeriesInstanceUID with an extra empty value (``'1.2.3\'``), a NUL in front, or a binary
  VR: compared as written, the slice made a one-slice series of its own, unsaid. Now read as
  the one UID it holds, with a note; an empty one is refused as a missing one is.

Expected values by hand: ``ct_series`` stores 1024 + 10 k in the first pixel of slice k
(1024 elsewhere) with intercept -1024, so slice k reads 10 k HU there and 0 elsewhere.
"""

from __future__ import annotations

import csv
import struct
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.builders import ct_series
from workflows.cli import main


def _patch(path: Path, tag: tuple[int, int], vr: bytes | None, value: bytes | None) -> None:
    """Rewrite the explicit-VR element ``tag``: its VR and/or its value (length fixed up)."""
    data = path.read_bytes()
    at = data.index(struct.pack("<HH", *tag), 132)
    length = struct.unpack("<H", data[at + 6 : at + 8])[0]
    old = data[at + 8 : at + 8 + length]
    new = old if value is None else value
    head = data[at : at + 4] + (vr or data[at + 4 : at + 6]) + struct.pack("<H", len(new))
    path.write_bytes(data[:at] + head + new + data[at + 8 + length :])


def _rows(out: Path, name: str) -> list[dict[str, str]]:
    with open(out / name, newline="") as f:
        return list(csv.DictReader(f))


def _series(tmp_path: Path) -> Path:
    return ct_series(tmp_path / "src", [[1024 + 10 * k] for k in range(3)])


@pytest.mark.parametrize("vr", [b"SS", b"US", b"UL", b"FL"])
def test_a_rescale_written_with_a_binary_vr_is_read_as_its_text(tmp_path: Path, vr: bytes) -> None:
    src = _series(tmp_path)
    _patch(src / "s1.dcm", (0x0028, 0x1052), vr, b"-1024   ")  # 8 bytes: fits UL's 4 too
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    (row,) = [r for r in _rows(out, "manifest.csv") if r["source"] == "s1.dcm"]
    image = np.load(out / row["output"])
    assert image.flat[0] == 10.0 and np.all(image.flat[1:] == 0.0)
    assert (
        f"RescaleIntercept (0028,1052) is written with VR {vr.decode()}, not DS"
        in (row["problems"])
    )


@pytest.mark.parametrize(
    ("vr", "value"),
    [(None, "uid\\"), (None, "uid\\\\"), (None, "\x00uid"), (b"UL", "uid")],
    ids=["extra-value", "two-extra-values", "nul-in-front", "binary-vr"],
)
def test_a_series_uid_with_stray_bytes_keeps_the_slice_in_its_series(
    tmp_path: Path, vr: bytes | None, value: str
) -> None:
    src = _series(tmp_path)
    import pydicom

    uid = str(pydicom.dcmread(src / "s0.dcm").SeriesInstanceUID)
    written = value.replace("uid", uid).encode()
    _patch(src / "s1.dcm", (0x0020, 0x000E), vr, written + b"\x00" * (len(written) % 2))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = _rows(out, "manifest.csv")
    volume = np.asarray(nib.load(out / row["output"]).dataobj)
    assert volume.shape == (4, 4, 3)
    assert volume[0, 0].tolist() == [0, 10, 20]
    assert "SeriesInstanceUID (0020,000E) is" in row["problems"]


def test_an_empty_series_uid_is_refused_as_a_missing_one(tmp_path: Path) -> None:
    src = _series(tmp_path)
    _patch(src / "s1.dcm", (0x0020, 0x000E), None, b"")
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    errors = {r["source"]: r["reason"] for r in _rows(out, "errors.csv")}
    assert errors == {"s1.dcm": "no SeriesInstanceUID (0020,000E) (empty)"}
    (row,) = _rows(out, "manifest.csv")
    assert row["shape"] == "2x4x4"
