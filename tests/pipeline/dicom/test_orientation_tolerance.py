"""Two acquisitions whose planes differ by cosines of 1e-4..1e-3: not one volume.

ImageOrientationPatient cosines within 1e-3 were one orientation group, so two stacks
rotated 5e-4 rad apart about the slice normal (0.029 degrees, by hand 5e-4 * 180 / pi;
0.18 mm at the far corner of a 256 mm field, 256 * sqrt(2) * 5e-4) were written as one
volume in the first stack's plane without a word. dcm2niix stacks slices only when every
cosine agrees within 1e-4 (``isSameFloatGE``, "Slices not stacked: orientation varies"):
now each acquisition is its own volume, in its own plane, and the note gives the angle.
Cosines 5e-5 apart (under the 1e-4) are still one volume.
"""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np

from tests.pipeline.dicom.geometry_cases import LPS_TO_RAS, convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.9393"


def _iop(angle: float) -> tuple[float, ...]:
    c, s = np.cos(angle), np.sin(angle)
    return (c, s, 0.0, -s, c, 0.0)


def _two_acquisitions(angle: float) -> list:
    """Acquisition a (1, 2): four axial slices 3 mm apart, the second rotated by ``angle``."""
    return [plane((0.0, 0.0, 3.0 * z), iop=_iop(angle * a), value=10 * a + z + 1,
                  series=SERIES, AcquisitionNumber=a + 1, InstanceNumber=4 * a + z + 1)
            for a in range(2) for z in range(4)]  # fmt: skip


def test_planes_5e_4_apart_are_two_volumes_with_the_angle(tmp_path: Path) -> None:
    rows, errors, code = convert_nifti(save(tmp_path / "s", _two_acquisitions(5e-4)),
                                       tmp_path / "o")  # fmt: skip
    assert code == 0 and not errors
    outputs = sorted({r["output"] for r in rows})
    assert len(outputs) == 2
    for a, name in enumerate(outputs):
        img = nib.load(tmp_path / "o" / name)
        assert np.asarray(img.dataobj)[0, 0].tolist() == [10 * a + z + 1 for z in range(4)]
        lps = LPS_TO_RAS @ img.affine
        assert np.allclose(lps[:3, 0], _iop(5e-4 * a)[:3], atol=1e-7)
        assert np.allclose(lps[:3, 1], _iop(5e-4 * a)[3:], atol=1e-7)
    (said,) = {r["problems"] for r in rows}
    assert "split: 2 orientations" in said
    assert "orientations differing by up to 0.029 degrees between time points by " \
        "AcquisitionNumber" in said  # fmt: skip


def test_slices_within_1e_4_are_one_volume(tmp_path: Path) -> None:
    """One stack, its last two slices' cosines 5e-5 off (written rounding): one volume."""
    slices = [plane((0.0, 0.0, 3.0 * z), iop=_iop(5e-5 * (z > 1)), value=z + 1, series=SERIES,
                    InstanceNumber=z + 1) for z in range(4)]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "s", slices), tmp_path / "o")
    assert code == 0 and not errors
    (name,) = {r["output"] for r in rows}
    assert np.asarray(nib.load(tmp_path / "o" / name).dataobj)[0, 0].tolist() == [1, 2, 3, 4]
    assert not any("orientation" in r["problems"] for r in rows)
