"""Enhanced MR frames placed by PlanePositionSequence, whatever order they are stored in.

Expected values by hand: frame (z, t) of a stack lies at z * 3 mm along its normal and holds
10 t + z (a stack's second frames 20 + z); an axial stack's normal is (0, 0, 1), a coronal
one's (ImageOrientationPatient 1\\0\\0\\0\\0\\-1) row x column = (0, 1, 0).
Stored reversed, shuffled, or time points interleaved, the volume runs along the normal;
two stacks in other planes are two volumes; two stacks of one plane whose slices interleave
are one evenly spaced volume (as dcm2niix, which reads no StackID), now said.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.pipeline.dicom.geometry_cases import AXIAL, EMR, LPS_TO_RAS, convert_nifti, image, save

CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)


def _item(**values: object) -> Sequence:
    ds = Dataset()
    for key, value in values.items():
        setattr(ds, key, value)
    return Sequence([ds])


def _enhanced(frames: list[tuple[int, tuple, tuple, int, int]], tr: float | None = None):
    """Frames (value, position, orientation, StackID, TemporalPositionIndex), in file order."""
    ds = image(np.stack([np.full((6, 6), f[0]) for f in frames]), EMR)
    shared = Dataset()
    shared.PixelMeasuresSequence = _item(PixelSpacing=[1.0, 1.0], SliceThickness=3.0)
    if tr:
        shared.MRTimingAndRelatedParametersSequence = _item(RepetitionTime=tr)
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    for _, position, orientation, stack, t in frames:
        item = Dataset()
        item.PlanePositionSequence = _item(ImagePositionPatient=list(position))
        item.PlaneOrientationSequence = _item(ImageOrientationPatient=list(orientation))
        item.FrameContentSequence = _item(StackID=str(stack), TemporalPositionIndex=t,
                                          DimensionIndexValues=[stack, t])  # fmt: skip
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    pointers = [_item(DimensionIndexPointer=tag, FunctionalGroupPointer=0x00209111)[0]
                for tag in (0x00209056, 0x00209128)]  # fmt: skip
    ds.DimensionIndexSequence = Sequence(pointers)
    return ds


def _volumes(tmp_path: Path, frames: list, tr: float | None = None):
    rows, errors, code = convert_nifti(save(tmp_path / "s", [_enhanced(frames, tr)]),
                                       tmp_path / "o")  # fmt: skip
    assert code == 0 and not errors
    images = [nib.load(tmp_path / "o" / name) for name in sorted({r["output"] for r in rows})]
    return images, {r["problems"] for r in rows}


def _axial(z: int, t: int = 1, stack: int = 1, offset: float = 0.0) -> tuple:
    return (10 * t + z, (0.0, 0.0, 3.0 * z + offset), AXIAL, stack, t)


@pytest.mark.parametrize("order", [[4, 3, 2, 1, 0], [4, 0, 2, 1, 3]], ids=["reversed", "shuffled"])
def test_frames_stored_out_of_order_run_along_the_normal(tmp_path: Path, order: list) -> None:
    (img,), said = _volumes(tmp_path, [_axial(z) for z in order])
    assert np.asarray(img.dataobj)[0, 0].tolist() == [10, 11, 12, 13, 14]
    lps = LPS_TO_RAS @ img.affine
    assert np.allclose(lps[:3, 2], [0, 0, 3]) and np.allclose(lps[:3, 3], [0, 0, 0])
    assert said == {""}


def test_time_points_interleaved_and_reversed_are_one_4d_volume(tmp_path: Path) -> None:
    frames = [_axial(z, t) for z in range(3) for t in (1, 2)][::-1]
    (img,), said = _volumes(tmp_path, frames, tr=1500.0)
    assert img.shape == (6, 6, 3, 2)
    assert np.asarray(img.dataobj)[0, 0].tolist() == [[10, 20], [11, 21], [12, 22]]
    assert np.allclose(img.header.get_zooms(), (1, 1, 3, 1.5))
    assert said == {""}


def test_two_stacks_in_other_planes_are_two_volumes(tmp_path: Path) -> None:
    frames = [_axial(z, stack=1) for z in range(3)]
    frames += [(20 + z, (0.0, 3.0 * z, 0.0), CORONAL, 2, 1) for z in range(3)][::-1]
    (axial, coronal), said = _volumes(tmp_path, frames)
    assert np.asarray(axial.dataobj)[0, 0].tolist() == [10, 11, 12]
    assert np.asarray(coronal.dataobj)[0, 0].tolist() == [20, 21, 22]
    assert np.allclose((LPS_TO_RAS @ axial.affine)[:3, 2], [0, 0, 3])
    assert np.allclose((LPS_TO_RAS @ coronal.affine)[:3, :3], [[1, 0, 0], [0, 0, 3], [0, -1, 0]])
    assert {s.split(" (")[0] for s in said} == {
        "split: 2 orientations, image sizes or pixel spacings in one series, one volume each"
    }


def test_two_stacks_whose_slices_interleave_are_said(tmp_path: Path) -> None:
    """StackID 1 at 0, 3, 6 mm, StackID 2 at 1.5, 4.5, 7.5 mm: one 1.5 mm volume, said."""
    frames = [_axial(z, stack=1) for z in range(3)]
    frames += [(20 + z, (0.0, 0.0, 3.0 * z + 1.5), AXIAL, 2, 1) for z in range(3)]
    (img,), said = _volumes(tmp_path, frames)
    assert np.asarray(img.dataobj)[0, 0].tolist() == [10, 20, 11, 21, 12, 22]
    assert np.allclose((LPS_TO_RAS @ img.affine)[:3, 2], [0, 0, 1.5])
    assert said == {
        "2 stacks by StackID (0020,9056) interleave: stacked as one evenly spaced volume, "
        "slices of the stacks alternating (as dcm2niix, which reads no StackID)"
    }


def test_co_located_frames_told_apart_by_their_dimension_index(tmp_path: Path) -> None:
    """Two images per position whose only difference is a dimension of AcquisitionDuration
    (0018,9073), an attribute no stack key reads; at 3 mm the second one is stored first.

    They were ranked by frame number, "so a volume may mix them", and volume 0 was 10, 21, 12;
    DimensionIndexValues (its index 1 or 2; InStackPositionNumber left out) tell them apart.
    """
    order = [(0, 1), (0, 2), (1, 2), (1, 1), (2, 1), (2, 2)]
    ds = _enhanced([(10 * g + z, (0.0, 0.0, 3.0 * z), AXIAL, 1, 1) for z, g in order])
    for (z, g), item in zip(order, ds.PerFrameFunctionalGroupsSequence, strict=True):
        content = item.FrameContentSequence[0]
        del content.StackID, content.TemporalPositionIndex
        content.InStackPositionNumber, content.DimensionIndexValues = z + 1, [g, z + 1]
    ds.DimensionIndexSequence = Sequence(
        [_item(DimensionIndexPointer=tag, FunctionalGroupPointer=0x00209111)[0]
         for tag in (0x00189073, 0x00209057)]
    )  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "s", [ds]), tmp_path / "o")
    assert code == 0 and not errors
    names = sorted({r["output"] for r in rows})
    found = [np.asarray(nib.load(tmp_path / "o" / n).dataobj)[0, 0].tolist() for n in names]
    assert found == [[10, 11, 12], [20, 21, 22]]
    assert not any("may mix them" in r["problems"] for r in rows)
