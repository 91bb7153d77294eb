"""A window on a colour image is not applied, and now said so.

Windowing is defined for MONOCHROME1/2 only (PS3.3 C.11.2): radpipe writes an RGB image as
its colour values whatever ``--window`` says. A window asked for (``lung``) or the file's own
WindowCenter/Width under ``header`` was left unapplied without a word (the ``window`` cell
``none`` alone hinted at it); per series a ``lung`` window even added the HU preset note, as
if the window had been applied to non-HU values. Expected: the stored RGB bytes unchanged
(built here), the note in ``problems``, no HU preset note.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.builders import image_dataset, write_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti

SC = "1.2.840.10008.5.1.4.1.1.7"
RGB = np.arange(12, dtype=np.uint8).reshape(2, 2, 3)
COLOUR = "a colour image (RGB) takes no window"


def _rgb(tmp_path: Path, own_window: bool) -> Path:
    ds = image_dataset(SC, "OT", 2, 2, bits=8, samples=3, photometric="RGB")
    ds.PlanarConfiguration, ds.PixelData = 0, RGB.tobytes()
    if own_window:
        ds.WindowCenter, ds.WindowWidth = 40, 80
    return write_folder(tmp_path / "src", rgb=ds)


@pytest.mark.parametrize(
    ("window", "own", "said"),
    [("lung", False, "window 'lung' not applied"), ("40,400", False, "window '40,400' not applied"),
     ("header", True, "WindowCenter/WindowWidth (0028,1050)/(0028,1051) or VOI LUT (0028,3010) "
                      "not applied"),
     ("header", False, ""), ("none", True, "")],
    ids=["preset", "explicit", "header-own", "header-without", "none"],
)  # fmt: skip
@pytest.mark.parametrize("fmt", ["npy", "nifti"])
def test_a_window_on_a_colour_image_is_said(
    tmp_path: Path, window: str, own: bool, said: str, fmt: str
) -> None:
    src = _rgb(tmp_path, own)
    rows, errors, code = convert_nifti(src, tmp_path / "out", format=fmt, window=window)
    assert code == 0 and not errors and len(rows) == 1
    (row,) = rows
    out = tmp_path / "out" / row["output"]
    if fmt == "npy":
        pixels = np.load(out).reshape(-1, 3)
    else:  # RGB24 records, in NIfTI's axis order: compared as a set of pixels
        records = np.asarray(nib.load(out).dataobj).reshape(-1)
        pixels = np.stack([records[name] for name in records.dtype.names], -1)
    assert sorted(map(tuple, pixels.tolist())) == sorted(map(tuple, RGB.reshape(-1, 3).tolist()))
    assert row["window"] == "none"
    problems = row["problems"].split("; ")
    notes = [p for p in problems if COLOUR in p]
    assert [n.split(":")[0] for n in notes] == ([said] if said else [])
    assert not [p for p in problems if p.startswith("HU preset")]
