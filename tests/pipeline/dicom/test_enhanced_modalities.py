"""Enhanced CT, MR and PET frames: placed by position whatever their order, or refused naming
the frame.

One file of six 6x6 frames stored in the order of z-indices 3, 0, 4, 1, 2, 5: frame ``f``
holds ``100 + z`` at LPS (-3, -3, 10 + 2 z) (axial, 1 mm pixels, Shared orientation and
pixel measures). By hand: the volume runs 100..105 along z, its RAS affine has slice column
(0, 0, 2) and origin (3, 3, 10) (LPS x and y negated), whatever the order, the
DimensionIndexValues / InStackPositionNumber (written 1..6 in stored order, disagreeing
with the positions) or whether the orientation is Shared or per frame. A frame without
PlanePositionSequence (stored frame 3, numbered from 1) refuses the series, naming the file,
the frame and the attribute (it said "missing on 1 of 6 images" only).
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.pipeline.dicom.geometry_cases import EMR, convert_nifti, image, save

ECT, EPET = "1.2.840.10008.5.1.4.1.1.2.1", "1.2.840.10008.5.1.4.1.1.130"
ORDER = [3, 0, 4, 1, 2, 5]
KINDS = [(EMR, "MR"), (ECT, "CT"), (EPET, "PT")]


def _item(**values: object) -> Sequence:
    ds = Dataset()
    for key, value in values.items():
        setattr(ds, key, value)
    return Sequence([ds])


def _enhanced(sop: str, modality: str, *, shared_iop: bool = True,
              no_position: int | None = None) -> Dataset:  # fmt: skip
    ds = image(np.stack([np.full((6, 6), 100 + z) for z in ORDER]), sop)
    ds.Modality = modality
    shared = Dataset()
    shared.PixelMeasuresSequence = _item(PixelSpacing=[1.0, 1.0], SliceThickness=2.0)
    if shared_iop:
        shared.PlaneOrientationSequence = _item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
    if modality != "MR":
        shared.PixelValueTransformationSequence = _item(RescaleSlope=1, RescaleIntercept=0,
                                                        RescaleType="US")  # fmt: skip
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per = []
    for f, z in enumerate(ORDER):
        item = Dataset()
        if f != no_position:
            item.PlanePositionSequence = _item(ImagePositionPatient=[-3.0, -3.0, 10.0 + 2 * z])
        if not shared_iop:
            item.PlaneOrientationSequence = _item(ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
        item.FrameContentSequence = _item(StackID="1", InStackPositionNumber=f + 1,
                                          DimensionIndexValues=[1, f + 1])  # fmt: skip
        per.append(item)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per)
    ds.DimensionIndexSequence = Sequence(
        [_item(DimensionIndexPointer=tag, FunctionalGroupPointer=0x00209111)[0]
         for tag in (0x00209056, 0x00209057)]
    )  # fmt: skip
    return ds


@pytest.mark.parametrize(("sop", "modality"), KINDS, ids=[k[1] for k in KINDS])
@pytest.mark.parametrize("shared_iop", [True, False], ids=["shared-iop", "per-frame-iop"])
def test_frames_out_of_order_are_placed_by_position(
    tmp_path: Path, sop: str, modality: str, shared_iop: bool
) -> None:
    src = save(tmp_path / "s", [_enhanced(sop, modality, shared_iop=shared_iop)])
    rows, errors, code = convert_nifti(src, tmp_path / "o")
    assert code == 0 and not errors and len({r["output"] for r in rows}) == 1
    assert rows[0]["problems"] == ""
    img = nib.load(tmp_path / "o" / rows[0]["output"])
    assert np.asarray(img.get_fdata())[0, 0].tolist() == [100, 101, 102, 103, 104, 105]
    want = np.array([[-1, 0, 0, 3], [0, -1, 0, 3], [0, 0, 2, 10], [0, 0, 0, 1]], float)
    assert np.allclose(img.affine, want)


@pytest.mark.parametrize(("sop", "modality"), KINDS, ids=[k[1] for k in KINDS])
def test_a_frame_without_position_refuses_naming_the_frame(
    tmp_path: Path, sop: str, modality: str
) -> None:
    src = save(tmp_path / "s", [_enhanced(sop, modality, no_position=2)], names=["e"])
    rows, errors, code = convert_nifti(src, tmp_path / "o")
    assert code == 1 and rows == []
    assert errors["e.dcm"].endswith(
        "refused: slice geometry (ImagePositionPatient/ImageOrientationPatient/PixelSpacing) "
        "missing on 1 of 6 images: frame 3 of the 6 of a multi-frame file (numbered from 1) "
        "without ImagePositionPatient, in its Per-frame or Shared Functional Groups "
        "(PS3.3 C.7.6.16)"
    )
