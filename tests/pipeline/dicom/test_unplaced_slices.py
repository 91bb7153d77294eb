"""Slices whose ImagePositionPatient was not written per slice (vtk-dicom #164).

A converter that copies the first slice's ImagePositionPatient into every file leaves the
slices at one position, told apart by nothing but acquisition order: radpipe wrote them as
one-slice "time points" (five NIfTI files of one slice each), though their SliceLocation
values said they were slices 2 mm apart. Such a series is refused with the reason; images at
one position with one SliceLocation are still time points. Likewise the frames of an Enhanced
object whose only Plane Position is in its Shared Functional Groups, when their
InStackPositionNumbers say they are slices of one stack.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.sequence import Sequence
from pydicom.uid import generate_uid

from pipeline.dicom.index import index_folder
from pipeline.dicom.volume import read_volumes
from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups, write_folder

CT = "1.2.840.10008.5.1.4.1.1.2"


def _series(src: Path, locations: list[float]) -> list[str]:
    series, study, files = generate_uid(), generate_uid(), {}
    for k, location in enumerate(locations):
        ds = image_dataset(CT, "CT", 2, 2)
        ds.SeriesInstanceUID, ds.StudyInstanceUID, ds.InstanceNumber = series, study, k + 1
        ds.ImagePositionPatient, ds.ImageOrientationPatient = [0.0, 0.0, 0.0], [1, 0, 0, 0, 1, 0]
        ds.PixelSpacing, ds.SliceLocation = [1.0, 1.0], location
        ds.PixelData = np.full((2, 2), k, np.uint16).tobytes()
        files[f"s{k}"] = ds
    write_folder(src, **files)
    return sorted(f"{name}.dcm" for name in files)


def test_one_position_with_distinct_slice_locations_is_refused(tmp_path: Path) -> None:
    names = _series(tmp_path, [0.0, 2.0, 4.0, 6.0, 8.0])
    plan, volumes = read_volumes(tmp_path, names)
    assert volumes == [] and plan.refusal == (
        "5 images share one ImagePositionPatient (0020,0032) but their SliceLocation "
        "(0020,1041) values differ (0 to 8 mm): positions not written per slice, so the slices "
        "cannot be placed"
    )
    (series,) = index_folder(tmp_path).series  # inspect says the same
    assert f"refused: {plan.refusal}" in series.problems


def test_one_position_and_one_slice_location_are_still_time_points(tmp_path: Path) -> None:
    names = _series(tmp_path, [4.0, 4.0, 4.0])
    plan, volumes = read_volumes(tmp_path, names)
    assert not plan.refusal and [v.image[:, 0, 0].tolist() for v in volumes] == [[0], [1], [2]]


EMR = "1.2.840.10008.5.1.4.1.1.4.1"


def _enhanced(src: Path, in_stack: list[int]) -> list[str]:
    """An Enhanced MR whose only Plane Position is in its Shared Functional Groups."""
    ds = image_dataset(EMR, "MR", 2, 2)
    ds.NumberOfFrames = len(in_stack)
    shared = shared_plane_groups()
    shared[0].PlanePositionSequence = Sequence([item(ImagePositionPatient=[0.0, 0.0, 0.0])])
    ds.SharedFunctionalGroupsSequence = shared
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        item(FrameContentSequence=Sequence([item(StackID="1", InStackPositionNumber=n)]))
        for n in in_stack
    )
    ds.PixelData = np.stack([np.full((2, 2), k, np.uint16) for k in range(len(in_stack))]).tobytes()
    write_folder(src, e=ds)
    return ["e.dcm"]


def test_frames_of_one_stack_at_one_shared_position_are_refused(tmp_path: Path) -> None:
    # PS3.3 C.7.6.16.2.2.4: frames of one StackID with different InStackPositionNumbers are
    # at different positions; they were written as 4 one-slice 'time points'
    plan, volumes = read_volumes(tmp_path, _enhanced(tmp_path, [1, 2, 3, 4]))
    assert volumes == [] and plan.refusal == (
        "4 images share one ImagePositionPatient (0020,0032) but their InStackPositionNumber "
        "(0020,9057) values differ (1 to 4): positions not written per slice, so the slices "
        "cannot be placed"
    )


def test_frames_at_one_in_stack_position_are_still_time_points(tmp_path: Path) -> None:
    plan, volumes = read_volumes(tmp_path, _enhanced(tmp_path, [1, 1, 1]))
    assert plan.refusal == "" and len(volumes) == 3
