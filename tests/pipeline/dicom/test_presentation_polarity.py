"""Projection radiographs: the polarity the header means, and raw FOR PROCESSING images.

In DX, MG and IO images Presentation LUT Shape (2050,0020) restates the photometric term (PS3.3
C.8.11.3: INVERSE with MONOCHROME1, IDENTITY with MONOCHROME2), so MONOCHROME1 + INVERSE is
inverted once (Weasis #372: twice showed radiographs as negatives). Where the two disagree
(Fuji CR/DX files: dcm4che #944, dcm4chee-arc-light #3155) the photometric term decides, as
dcm4che's ``--noshape`` does, and a note says so: a MONOCHROME2 DX with INVERSE was written as
a negative, unsaid. Outside that family (a secondary capture) INVERSE still inverts.

Presentation Intent Type (0008,0068) FOR PROCESSING marks raw detector values, not meant for
display (PS3.3 C.8.11.1.1.1; nyukat/breast_cancer_classifier #17 asks which a data set holds):
converted without a word, they sat beside FOR PRESENTATION images as if of one kind.

Expected values by hand: stored 0 and 4095 of 12 bits, no window, PNG 8-bit: the minimum is 0
(black) and the maximum 255, or the reverse when inverted.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence

from pipeline.dicom.index import index_folder
from pipeline.dicom.read import read_instance, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

DX = "1.2.840.10008.5.1.4.1.1.1.1"
MG_PRESENTATION, MG_PROCESSING = "1.2.840.10008.5.1.4.1.1.1.2", "1.2.840.10008.5.1.4.1.1.1.2.1"
SC = "1.2.840.10008.5.1.4.1.1.7"


def _radiograph(sop: str, modality: str, photometric: str, shape: str | None):  # type: ignore[no-untyped-def]
    ds = image_dataset(sop, modality, 1, 2, bits=16, stored=12, photometric=photometric)
    ds.PixelData = np.array([0, 4095], "<u2").tobytes()
    if shape:
        ds.PresentationLUTShape = shape
    return ds


@pytest.mark.parametrize(
    ("sop", "modality", "photometric", "shape", "grey", "said"),
    [
        (DX, "DX", "MONOCHROME2", "INVERSE", [0, 255], "as MONOCHROME2 says, its minimum black"),
        (DX, "DX", "MONOCHROME1", "IDENTITY", [255, 0], "as MONOCHROME1 says, its minimum white"),
        (DX, "DX", "MONOCHROME1", "INVERSE", [255, 0], ""),  # one inversion, as the module means
        (DX, "DX", "MONOCHROME2", "IDENTITY", [0, 255], ""),
        (DX, "CR", "MONOCHROME2", "INVERSE", [0, 255], "INVERSE contradicts"),  # a Fuji CR
        (SC, "OT", "MONOCHROME2", "INVERSE", [255, 0], ""),  # no DX module: the shape inverts
    ],
    ids=["dx-m2-inverse", "dx-m1-identity", "dx-m1-inverse", "dx-m2-identity", "cr-m2-inverse",
         "sc-m2-inverse"],
)  # fmt: skip
def test_polarity_of_projection_radiographs(
    tmp_path: Path, sop: str, modality: str, photometric: str, shape: str, grey: list[int],
    said: str,
) -> None:  # fmt: skip
    write_folder(tmp_path, x=_radiograph(sop, modality, photometric, shape))
    image = read_instance(tmp_path / "x.dcm", "x.dcm")
    out, _ = render(image, 0, parse_window("none"), "uint8")
    assert out.ravel().tolist() == grey
    found = [p for p in image.problems if "PresentationLUTShape" in p]
    assert bool(found) == bool(said)
    if said:
        assert said in found[0] and "(2050,0020)" in found[0] and "(0028,0004)" in found[0]


def test_windowed_png_of_a_contradicting_dx_is_not_a_negative(tmp_path: Path) -> None:
    ds = _radiograph(DX, "DX", "MONOCHROME2", "INVERSE")
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    src = write_folder(tmp_path / "src", a=ds)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="png"), progress=False)
    (row,) = csv.DictReader((tmp_path / "out" / "manifest.csv").open())
    png = np.asarray(Image.open(tmp_path / "out" / row["output"]))
    # LINEAR window (PS3.3 C.11.2.1.2): 0 -> 0 and 4095 -> 255, not inverted
    assert png.ravel().tolist() == [0, 255]
    assert row["window"] == "header" and "INVERSE contradicts" in row["problems"]


@pytest.mark.parametrize(
    ("sop", "intent", "said"),
    [
        (MG_PRESENTATION, "FOR PROCESSING", "PresentationIntentType (0008,0068) is FOR PROCESSING"),
        (MG_PROCESSING, None, "its SOP class is a For Processing one"),
        (MG_PRESENTATION, "FOR PRESENTATION", ""),
        (MG_PRESENTATION, None, ""),
    ],
    ids=["intent", "sop-class", "presentation", "neither"],
)
def test_for_processing_images_are_said_by_inspect_and_convert(
    tmp_path: Path, sop: str, intent: str | None, said: str
) -> None:
    ds = _radiograph(sop, "MG", "MONOCHROME2", "IDENTITY")
    if intent:
        ds.PresentationIntentType = intent
    src = write_folder(tmp_path / "src", mg=ds)
    inspected = [p.reason for p in index_folder(src).all_problems() if p.where == "mg.dcm"]
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    (row,) = csv.DictReader((tmp_path / "out" / "manifest.csv").open())
    values = np.load(tmp_path / "out" / row["output"])
    assert values.ravel().tolist() == [0.0, 4095.0]  # converted as they are
    if not said:
        assert inspected == [] and row["problems"] == ""
        return
    assert len(inspected) == 1 and said in inspected[0] and "not for display" in inspected[0]
    assert said in row["problems"] and "converted as they are" in row["problems"]


def test_a_presentation_lut_sequence_in_an_image_is_said_not_applied(tmp_path: Path) -> None:
    """A Presentation LUT (2050,0010) belongs to a presentation state (PS3.3 C.11.6; pydicom PR
    #2080): an image carrying one (here an inverting table) is shown as its photometric term
    says, stored 0 black and 4095 white, and now says so (it was ignored unsaid)."""
    ds = _radiograph(SC, "OT", "MONOCHROME2", None)
    table = Dataset()
    table.LUTDescriptor = [4096, 0, 12]
    table.add_new(0x00283006, "OW", np.arange(4095, -1, -1, dtype="<u2").tobytes())
    ds.PresentationLUTSequence = DicomSequence([table])
    src = write_folder(tmp_path / "src", a=ds)
    inspected = [p.reason for p in index_folder(src).all_problems() if p.where == "a.dcm"]
    convert_folder(src, tmp_path / "out", ConvertOptions(format="png"), progress=False)
    (row,) = csv.DictReader((tmp_path / "out" / "manifest.csv").open())
    assert np.asarray(Image.open(tmp_path / "out" / row["output"])).ravel().tolist() == [0, 255]
    said = "PresentationLUTSequence (2050,0010) not applied"
    assert len(inspected) == 1 and said in inspected[0] and said in row["problems"]
