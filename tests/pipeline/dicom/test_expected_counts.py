"""Slices or time points missing at the ends, said where the header gives their number.

Positions show a gap inside a stack, never slices missing at its ends (nor a whole time point
at the end of a run): a GE series of LocationsInAcquisition (0021,104F) 6 whose first and last
slices were lost was written as a whole 4-slice volume, unsaid (dcm2niix warns: "DICOM
images may be missing, expected 6 spatial locations per volume"). Counts by construction.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest

from pipeline.dicom import index_folder
from tests.pipeline.dicom.geometry_cases import convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.9192"


#: Each vendor's private slice count per volume: (group, creator, element, VR).
PRIVATE = {
    "LocationsInAcquisition (0021,104F)": (0x0021, "GEMS_RELA_01", 0x4F, "SS"),
    "NumberOfSlicesMR (2001,1018)": (0x2001, "Philips Imaging DD 001", 0x18, "SL"),
}
GE = "LocationsInAcquisition (0021,104F)"


def _slice(z: int, locations: int | None = None, t: int = 0, vendor: str = GE,
           **attrs: Any) -> Any:  # fmt: skip
    """Slice z (3 mm apart) of time point t holding 100 t + z + 1; the ``vendor``'s private
    slice count when ``locations`` is given."""
    ds = plane((0.0, 0.0, 3.0 * z), value=100 * t + z + 1, series=SERIES,
               InstanceNumber=10 * t + z + 1, **attrs)  # fmt: skip
    if locations is not None:
        group, creator, element, vr = PRIVATE[vendor]
        ds.private_block(group, creator, create=True).add_new(element, vr, locations)
    return ds


def _said(src: Path, out: Path) -> tuple[set[str], list[Any]]:
    """Each volume's problems cell (convert), its pixel (0, 0) profiles; inspect agrees."""
    rows, errors, code = convert_nifti(src, out)
    assert code == 0 and not errors
    (series,) = index_folder(src).series
    cells = {r["problems"] for r in rows}
    assert {p for cell in cells for p in cell.split("; ") if p} == set(series.problems)
    data = [
        np.asarray(nib.load(out / name).dataobj) for name in sorted({r["output"] for r in rows})
    ]
    return cells, [d[0, 0].T.tolist() for d in data]


@pytest.mark.parametrize("vendor", list(PRIVATE))
def test_slices_missing_at_the_ends_are_said(tmp_path: Path, vendor: str) -> None:
    cells, profiles = _said(
        save(tmp_path / "s", [_slice(z, 6, vendor=vendor) for z in range(1, 5)]), tmp_path / "o"
    )
    assert cells == {f"{vendor} says 6 slices, 4 present: slices may be missing at the ends"}
    assert profiles == [[2, 3, 4, 5]]  # written as they are


def test_a_gap_inside_counts_towards_the_slices_present(tmp_path: Path) -> None:
    """Slices 0, 1, 3, 4 of 6: the gap is resampled (5 slice positions) and said; one more
    is missing at an end."""
    cells, _ = _said(save(tmp_path / "s", [_slice(z, 6) for z in (0, 1, 3, 4)]), tmp_path / "o")
    (cell,) = cells
    assert cell.startswith("resampled: missing slices: 1 gap of up to 6 mm in a 3 mm spacing")
    assert cell.endswith(
        "; LocationsInAcquisition (0021,104F) says 6 slices, 4 present spanning 5 slice "
        "positions: slices may be missing at the ends"
    )


@pytest.mark.parametrize("locations", [4, 2], ids=["as-said", "interpolated"])
def test_as_many_slices_as_said_or_more_are_no_problem(tmp_path: Path, locations: int) -> None:
    """GE's ZIP interpolation writes more slices than LocationsInAcquisition counts."""
    cells, _ = _said(save(tmp_path / "s", [_slice(z, locations) for z in range(4)]),
                     tmp_path / "o")  # fmt: skip
    assert cells == {""}


def test_images_in_acquisition_short_is_said(tmp_path: Path) -> None:
    src = save(tmp_path / "s", [_slice(z, ImagesInAcquisition=5, AcquisitionNumber=1)
                                for z in range(4)])  # fmt: skip
    cells, _ = _said(src, tmp_path / "o")
    assert cells == {"ImagesInAcquisition (0020,1002) says 5 images, 4 present: images may be "
                     "missing"}  # fmt: skip


def test_a_time_point_missing_at_the_end_is_said(tmp_path: Path) -> None:
    """NumberOfTemporalPositions 3, time points 1 and 2 present: one 4-D volume of the two."""
    src = save(tmp_path / "s", [_slice(z, t=t, TemporalPositionIdentifier=t + 1,
                                       NumberOfTemporalPositions=3, RepetitionTime=2000.0)
                                for t in range(2) for z in range(3)])  # fmt: skip
    cells, profiles = _said(src, tmp_path / "o")
    assert cells == {"NumberOfTemporalPositions (0020,0105) says 3 time points, 2 present "
                     "(TemporalPositionIdentifier): a whole time point may be missing"}  # fmt: skip
    assert profiles == [[[1, 2, 3], [101, 102, 103]]]


@pytest.mark.parametrize("start", [1, 3], ids=["from-1", "from-3"])
def test_an_enhanced_stack_numbered_from_past_1_is_said(tmp_path: Path, start: int) -> None:
    """Enhanced MR frames at 3 mm steps whose InStackPositionNumber runs start .. start + 3
    (StackID 1): from 3, slices 1 and 2 of the stack were lost; from 1, nothing is said."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    from tests.pipeline.dicom.geometry_cases import enhanced

    ds = enhanced([(0.0, 0.0, 3.0 * z) for z in range(4)])
    ds.SeriesInstanceUID = SERIES
    for z, item in enumerate(ds.PerFrameFunctionalGroupsSequence):
        content = Dataset()
        content.StackID, content.InStackPositionNumber = "1", start + z
        item.FrameContentSequence = Sequence([content])
    cells, profiles = _said(save(tmp_path / "s", [ds]), tmp_path / "o")
    assert profiles == [[100, 101, 102, 103]]
    said = ("InStackPositionNumber (0020,9057) starts at 3 in StackID 1 (numbered from 1, PS3.3 "
            "C.7.6.16.2.2.4): slices 1 to 2 may be missing at the start")  # fmt: skip
    assert cells == ({""} if start == 1 else {said})
