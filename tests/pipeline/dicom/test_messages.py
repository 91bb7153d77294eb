"""Decoder warnings stay readable after sanitizing (pydicom PR #2280: a JPEG whose (0028,0004)
says RGB but whose JFIF stream is YCbCr): element names and photometric terms are kept,
values are still hashed, and an apostrophe inside a word opens no quote."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
from PIL import Image
from pydicom.encaps import encapsulate
from pydicom.uid import JPEGBaseline8Bit

from pipeline.dicom.files import sanitize
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

PYDICOM_JFIF = (
    "The (0028,0004) 'Photometric Interpretation' value is 'RGB' however the encoded image's "
    "codestream contains a JFIF APP marker which indicates it should be 'YBR_FULL_422'"
)


def test_element_names_and_photometric_terms_are_kept() -> None:
    assert sanitize(PYDICOM_JFIF) == PYDICOM_JFIF


def test_values_are_still_hashed() -> None:
    text = sanitize("bad value b'DOE^JOHN', name=\"SMITH\", 'MONOCHROME2' isn't it")
    assert "DOE" not in text and "SMITH" not in text
    assert text.startswith("bad value b'#") and "'MONOCHROME2' isn't it" in text


def test_convert_notes_a_mislabelled_jpeg_readably(tmp_path: Path) -> None:
    yy, xx = np.mgrid[0:32, 0:32]
    rgb = np.stack([xx * 8, yy * 8, np.full_like(xx, 200)], -1).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgb).save(buffer, "JPEG", quality=95)  # JFIF, YCbCr 4:2:0
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 32, 32, bits=8, samples=3,
                       photometric="RGB", syntax=JPEGBaseline8Bit)  # fmt: skip
    ds.PlanarConfiguration = 0
    ds.PixelData = encapsulate([buffer.getvalue()])
    ds["PixelData"].VR = "OB"
    src = tmp_path / "src"
    src.mkdir()
    ds.save_as(src / "a.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "png", "--quiet"]) == 0
    with open(out / "manifest.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    # radpipe reads the stream's colour space itself (pipeline/dicom/jpeg_colour.py), so
    # pydicom's own warning is not raised; radpipe's note says the same, readably
    said = "PhotometricInterpretation (0028,0004) is RGB, but the JPEG stream's samples are YCbCr"
    assert said in row["problems"] and "JFIF APP0 marker" in row["problems"]
    png = np.asarray(Image.open(out / row["output"]))
    assert np.abs(png.astype(int) - rgb).max() <= 8  # lossy JPEG, colours right (not YCbCr)
