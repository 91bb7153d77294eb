"""A radiograph's Display Shutter (PS3.3 C.7.6.11) is what a viewer blanks (collimated margins).
radpipe writes the pixels as stored, as pydicom, dcm2niix and ITK do, and did so unsaid: the
model saw margins no reader of the image sees. Now the file's problems say the shutter was not
applied, with its bounds as the header gives them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset

DX = "1.2.840.10008.5.1.4.1.1.1.1"


def _dx(path: Path, **shutter: object) -> Path:
    ds = image_dataset(DX, "DX", 4, 6, stored=12)
    ds.ImagerPixelSpacing = [0.2, 0.2]
    for key, value in shutter.items():
        setattr(ds, key, value)
    ds.PixelData = (np.arange(24) * 100).astype("<u2").tobytes()
    ds.save_as(path, enforce_file_format=True)
    return path


def _notes(path: Path) -> list[str]:
    image = read_instance(path, path.name)
    assert np.array_equal(image.modality(0), (np.arange(24) * 100.0).reshape(4, 6))  # as stored
    return [p for p in image.problems if "shutter" in p]


def test_rectangular_shutter_is_said_with_its_edges(tmp_path: Path) -> None:
    path = _dx(tmp_path / "a.dcm", ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=2,
               ShutterRightVerticalEdge=5, ShutterUpperHorizontalEdge=1,
               ShutterLowerHorizontalEdge=3, ShutterPresentationValue=0)  # fmt: skip
    assert _notes(path) == [
        "display shutter not applied: ShutterShape (0018,1600) RECTANGULAR (columns 2-5, rows "
        "1-3): the pixels outside it (a viewer shows them as ShutterPresentationValue 0) are "
        "written as stored"
    ]


def test_several_shapes_each_said(tmp_path: Path) -> None:
    path = _dx(tmp_path / "a.dcm", ShutterShape=["CIRCULAR", "POLYGONAL"],
               CenterOfCircularShutter=[2, 3], RadiusOfCircularShutter=2,
               VerticesOfThePolygonalShutter=[1, 1, 1, 6, 4, 6])  # fmt: skip
    assert _notes(path) == [
        "display shutter not applied: ShutterShape (0018,1600) CIRCULAR (centre row 2, column "
        "3, radius 2), POLYGONAL (of 3 vertices): the pixels outside it (a viewer shows them "
        "black) are written as stored"
    ]


def test_no_shutter_no_note(tmp_path: Path) -> None:
    assert _notes(_dx(tmp_path / "a.dcm")) == []
