"""Uncombined coil images at the same positions: one volume per coil, never mixed.

A Siemens series saved uncombined holds, at each slice position, one image per receive coil
element, named in (0051,xx0F) of ``SIEMENS MR HEADER`` (``H1``, ``H2``); ReceiveCoilName
(0018,1250) names one element per image on other scanners. Nothing told them apart but
acquisition order: with InstanceNumbers that do not keep the coils in one order at every
position, a volume took coil 1 at one slice and coil 2 at the next, and with time points the
coils became time points of one 4-D volume. dcm2niix never stacks two coils ("slices not
stacked: coil varies"). Expected by hand: image (coil c, slice z, time t) holds
100 + 10 c + z + 50 t, so each volume runs 100 + 10 c + z along z.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from tests.pipeline.dicom.geometry_cases import convert_nifti, plane, save

SERIES = "1.2.3.9"
#: InstanceNumbers that put coil 2 first at some positions and coil 1 at others
NUMBERS = {(c, z): [1, 2, 3, 4, 5, 6][(c * 3 + z * 5) % 6] for c in range(2) for z in range(3)}


def _slice(c: int, z: int, t: int = 0, siemens: bool = True, **attrs: object):  # type: ignore[no-untyped-def]
    ds = plane((0, 0, 2.0 * z), value=100 + 10 * c + z + 50 * t, series=SERIES, **attrs)
    if siemens:
        block = ds.private_block(0x0051, "SIEMENS MR HEADER", create=True)
        block.add_new(0x0F, "LO", f"H{c + 1}")
        ds.ReceiveCoilName = "Head_32"  # the whole coil, in every image
    else:
        ds.ReceiveCoilName = f"C{c}"
    return ds


def _profiles(tmp_path: Path, slices: list) -> list[list]:  # type: ignore[type-arg]
    rows, errors, code = convert_nifti(save(tmp_path / "s", slices), tmp_path / "o")
    assert code == 0 and not errors
    outputs = sorted({r["output"] for r in rows})
    return [np.asarray(nib.load(tmp_path / "o" / o).get_fdata())[0, 0].tolist() for o in outputs]


@pytest.mark.parametrize("siemens", [True, False], ids=["siemens-element", "receive-coil-name"])
def test_coil_images_at_one_position_are_one_volume_each(tmp_path: Path, siemens: bool) -> None:
    slices = [_slice(c, z, siemens=siemens, InstanceNumber=NUMBERS[c, z])
              for c in range(2) for z in range(3)]  # fmt: skip
    assert _profiles(tmp_path, slices) == [[100, 101, 102], [110, 111, 112]]  # was mixed


def test_coils_of_a_time_series_are_not_time_points(tmp_path: Path) -> None:
    slices = [_slice(c, z, t, TemporalPositionIdentifier=t + 1, RepetitionTime=2000.0,
                     InstanceNumber=1 + t * 6 + c * 3 + z)
              for t in range(2) for c in range(2) for z in range(3)]  # fmt: skip
    # one 4-D volume per coil, its 2 time points 50 apart (was one of 4 "time points")
    assert _profiles(tmp_path, slices) == [[[100, 150], [101, 151], [102, 152]],
                                           [[110, 160], [111, 161], [112, 162]]]  # fmt: skip


def test_coil_sets_changing_along_the_table_stay_one_volume(tmp_path: Path) -> None:
    slices = [_slice(0 if z < 3 else 1, z, InstanceNumber=z + 1) for z in range(6)]
    for ds, z in zip(slices, range(6), strict=True):  # values by z only: one spine volume
        ds.PixelData = np.full((8, 8), 100 + z, np.uint16).tobytes()
    assert _profiles(tmp_path, slices) == [[100, 101, 102, 103, 104, 105]]


def test_images_of_two_protocols_at_one_position_are_one_volume_each(tmp_path: Path) -> None:
    """As coils: two ProtocolName values at the same positions (a merged export) were told
    apart by acquisition order and mixed; each protocol is one volume (dcm2niix splits)."""
    slices = [plane((0, 0, 2.0 * z), value=100 + 10 * c + z, series=SERIES,
                    ProtocolName=f"P{c}", InstanceNumber=NUMBERS[c, z])
              for c in range(2) for z in range(3)]  # fmt: skip
    assert _profiles(tmp_path, slices) == [[100, 101, 102], [110, 111, 112]]
