"""Which images follow the DX Image Module's polarity rule (PS3.3 C.8.11.3: Presentation LUT
Shape restates the photometric term), at its edges: a DX-family SOP class is enough (a DX file
written with a blank Modality), and so is a projection modality with another SOP class (a CR
Image Storage file, the Fuji CR of dcm4che #944). Either way a MONOCHROME2 image with INVERSE
is shown as MONOCHROME2 says, minimum black, and a note says so.

Expected values by hand: stored 0 and 4095 of 12 bits, no window, 8-bit output: 0 -> 0 (black),
4095 -> 255; an inversion would give 255, 0.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom.read import read_instance, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset, write_folder

DX = "1.2.840.10008.5.1.4.1.1.1.1"
CR = "1.2.840.10008.5.1.4.1.1.1"  # Computed Radiography Image Storage: not a DX-family class


@pytest.mark.parametrize(
    ("sop", "modality"),
    [(DX, ""), (CR, "CR")],
    ids=["dx-class-blank-modality", "cr-class-cr-modality"],
)
def test_either_the_class_or_the_modality_ties_the_shape(
    tmp_path: Path, sop: str, modality: str
) -> None:
    ds = image_dataset(sop, modality or "DX", 1, 2, bits=16, stored=12)
    ds.Modality = modality
    ds.PresentationLUTShape = "INVERSE"
    ds.PixelData = np.array([0, 4095], "<u2").tobytes()
    write_folder(tmp_path, x=ds)
    image = read_instance(tmp_path / "x.dcm", "x.dcm")
    out, _ = render(image, 0, parse_window("none"), "uint8")
    assert out.ravel().tolist() == [0, 255]
    (said,) = [p for p in image.problems if "PresentationLUTShape" in p]
    assert "INVERSE contradicts PhotometricInterpretation (0028,0004) MONOCHROME2" in said
    assert said.endswith("displayed as MONOCHROME2 says, its minimum black")
