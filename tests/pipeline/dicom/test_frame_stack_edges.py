"""Edges of :func:`pipeline.dicom.frame_stack.frame_stack` (a classic multi-frame file with one
ImagePositionPatient), each case one that a changed line would place, or not place, wrongly.

Expected values by hand: frames from (1, 2, 3) with row (1, 0, 0) and column (0, 1, 0), so the
normal is +z, every SpacingBetweenSlices 2 mm: (1, 2, 3), (1, 2, 5), (1, 2, 7).
"""

from __future__ import annotations

import pytest
from pydicom.dataset import Dataset

from pipeline.dicom.frame_stack import frame_stack


def _classic(frames: int = 3, **extra: object) -> Dataset:
    ds = Dataset()
    ds.Modality, ds.NumberOfFrames = "CT", frames
    ds.ImagePositionPatient, ds.ImageOrientationPatient = [1, 2, 3], [1, 0, 0, 0, 1, 0]
    ds.SpacingBetweenSlices = 2
    for key, value in extra.items():
        setattr(ds, key, value)
    return ds


def test_frames_are_stacked_along_the_unit_normal() -> None:
    found = frame_stack(_classic())
    assert found is not None and found.positions == [(1, 2, 3), (1, 2, 5), (1, 2, 7)]


def test_cosines_of_another_length_still_step_by_the_spacing() -> None:
    """Row and column cosines of length 0.5 (a writer's unnormalised vectors): the normal is
    still +z of length 1, so the frames stay 2 mm apart."""
    found = frame_stack(_classic(ImageOrientationPatient=[0.5, 0, 0, 0, 0.5, 0]))
    assert found is not None and found.positions == [(1, 2, 3), (1, 2, 5), (1, 2, 7)]


def test_one_frame_is_no_stack() -> None:
    assert frame_stack(_classic(1)) is None


def test_a_position_without_an_orientation_places_nothing() -> None:
    ds = _classic()
    del ds.ImageOrientationPatient
    assert frame_stack(ds) is None


def test_parallel_cosines_place_nothing() -> None:
    assert frame_stack(_classic(ImageOrientationPatient=[1, 0, 0, 1, 0, 0])) is None


def test_an_rt_dose_grid_is_placed_by_its_offsets_not_here() -> None:
    assert frame_stack(_classic(GridFrameOffsetVector=[0, 2, 4])) is None


def test_an_nm_file_that_is_no_reconstruction_is_not_stacked_here() -> None:
    """NM frames without NumberOfSlices (gates, windows, projections): nm_geometry places
    none, and they are not slices to stack by SpacingBetweenSlices."""
    assert frame_stack(_classic(Modality="NM")) is None


@pytest.mark.parametrize("vector", [[0, 0, 0], [0, 40, 40]], ids=["zeros", "usable"])
def test_only_a_usable_frame_time_makes_a_cine(vector: list[int]) -> None:
    """A FrameTimeVector of zeros times nothing: the frames are still stacked."""
    found = frame_stack(_classic(FrameTimeVector=vector))
    if vector[1]:  # time points at the one position: not stacked, their place kept
        assert found is not None and found.positions is None and found.place == (1, 2, 3)
    else:
        assert found is not None and found.positions is not None
        assert found.positions[2] == (1, 2, 7)
