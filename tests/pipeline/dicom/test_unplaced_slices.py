"""Slices whose ImagePositionPatient was not written per slice (vtk-dicom #164).

A converter that copies the first slice's ImagePositionPatient into every file leaves the
slices at one position, told apart by nothing but acquisition order: radpipe wrote them as
one-slice "time points" (five NIfTI files of one slice each), though their SliceLocation
values said they were slices 2 mm apart. Such a series is refused with the reason; images at
one position with one SliceLocation are still time points.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pydicom.uid import generate_uid

from pipeline.dicom.index import index_folder
from pipeline.dicom.volume import read_volumes
from tests.pipeline.dicom.builders import image_dataset, write_folder

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
