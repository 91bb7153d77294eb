"""Edges of the display shutter note (:func:`pipeline.dicom.shutters.shutter_note`), on bare
data sets. ShutterShape's defined terms are capitals (PS3.3 C.7.6.11): a writer's lower case
means them; a shape whose bounds cannot be read is said without them."""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from pipeline.dicom.shutters import shutter_note


def _ds(**values: object) -> Dataset:
    ds = Dataset()
    for key, value in values.items():
        setattr(ds, key, value)
    return ds


@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")
def test_a_lower_case_shape_is_read_as_its_defined_term() -> None:
    ds = _ds(ShutterShape="rectangular", ShutterLeftVerticalEdge=2, ShutterRightVerticalEdge=5,
             ShutterUpperHorizontalEdge=1, ShutterLowerHorizontalEdge=3)  # fmt: skip
    assert shutter_note(ds).startswith(
        "display shutter not applied: ShutterShape (0018,1600) RECTANGULAR (columns 2-5, rows 1-3)"
    )


def test_a_shape_without_readable_bounds_is_said_alone() -> None:
    assert shutter_note(_ds(ShutterShape="RECTANGULAR", ShutterLeftVerticalEdge=2)) == (
        "display shutter not applied: ShutterShape (0018,1600) RECTANGULAR: the pixels outside "
        "it (a viewer shows them black) are written as stored"
    )


@pytest.mark.parametrize(
    "bounds",
    [{"CenterOfCircularShutter": [2, 3]}, {"RadiusOfCircularShutter": 2}],
    ids=["centre-only", "radius-only"],
)
def test_a_circle_missing_its_centre_or_radius_is_said_alone(bounds: dict[str, object]) -> None:
    assert shutter_note(_ds(ShutterShape="CIRCULAR", **bounds)) == (
        "display shutter not applied: ShutterShape (0018,1600) CIRCULAR: the pixels outside "
        "it (a viewer shows them black) are written as stored"
    )
