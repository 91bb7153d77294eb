"""GE and Philips DWI keep their b-values and gradients in private elements only (dcm2niix
reads GE (0043,1039) and (0019,10BB-10BD), Philips (2001,1003) and (2005,10B0-10B2)): their
volumes were told apart by acquisition order alone and got no ``.bval`` / ``.bvec``.
Philips' gradients are in patient coordinates and give both sidecars; GE's are along the
acquisition's phase, frequency and slice axes, so GE volumes get a ``.bval`` and a note
saying why there is no ``.bvec``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.uid import ExplicitVRLittleEndian, ImplicitVRLittleEndian

from tests.pipeline.dicom.test_diffusion_sidecars import _converted, _dwi, _sidecar, _world

Vendor = Callable[[Dataset, Any, Any], None]


def _ge(ds: Dataset, b: float, g: list[float]) -> None:
    ds.Manufacturer = "GE MEDICAL SYSTEMS"
    # GE adds 10**9 to the b-value on some systems (dcm2niix #602)
    parm = ds.private_block(0x0043, "GEMS_PARM_01", create=True)
    parm.add_new(0x39, "IS", [str(1_000_000_000 + int(b)), "8", "0", "0"])
    acqu = ds.private_block(0x0019, "GEMS_ACQU_01", create=True)
    for offset, v in zip((0xBB, 0xBC, 0xBD), g, strict=True):
        acqu.add_new(offset, "DS", f"{v:g}")
    acqu.add_new(0xE0, "DS", "3")  # the number of diffusion directions: a DTI series


def _philips(ds: Dataset, b: float, g: list[float]) -> None:
    ds.Manufacturer = "Philips Medical Systems"
    ds.private_block(0x2001, "Philips Imaging DD 001", create=True).add_new(0x03, "FL", b)
    block = ds.private_block(0x2005, "Philips MR Imaging DD 001", create=True)
    for offset, v in zip((0xB0, 0xB1, 0xB2), g, strict=True):
        block.add_new(offset, "FL", v)


def _series(
    src: Path, volumes: list[tuple[int, list[float] | None]], vendor: Vendor, syntax: str
) -> None:
    """Axial volumes of 3 slices 2 mm apart; volume t slice z holds 100 t + z."""
    _dwi(src, [1, 0, 0, 0, 1, 0], [0, 0, 1], volumes, syntax=syntax, vendor=vendor)


#: Listed out of acquisition order (shuffled InstanceNumbers are not needed: the b-values
#: and directions must give the volumes, and their order, as written).
PHILIPS = [(0, [0.0, 0.0, 0.0]), (1000, [1.0, 0.0, 0.0]), (1000, [0.0, 1.0, 0.0]),
           (2000, [0.6, 0.0, 0.8])]  # fmt: skip


@pytest.mark.parametrize("syntax", [ExplicitVRLittleEndian, ImplicitVRLittleEndian])
def test_philips_private_values_give_both_sidecars(tmp_path: Path, syntax: str) -> None:
    _series(tmp_path / "src", PHILIPS, _philips, syntax)
    nifti, image, problems = _converted(tmp_path)
    assert image.shape == (4, 4, 3, 4)
    assert np.asarray(image.dataobj)[0, 0, 0].tolist() == [0, 100, 200, 300]
    assert _sidecar(nifti, ".bval") == [[0, 1000, 1000, 2000]]
    # axial, RAS affine diag(-1, -1, 2) (det > 0): i = LPS x negated for FSL, j = y, k = z
    assert np.allclose(
        _sidecar(nifti, ".bvec"), [[0, -1, 0, -0.6], [0, 0, 1, 0], [0, 0, 0, 0.8]], atol=1e-6
    )
    assert "diffusion" not in problems


def test_philips_bvec_agrees_with_dcm2niix(tmp_path: Path) -> None:
    from tests.pipeline.dicom.test_volumes import _dcm2niix

    _series(tmp_path / "src", PHILIPS, _philips, ExplicitVRLittleEndian)
    nifti, image, _ = _converted(tmp_path)
    (theirs,) = _dcm2niix(tmp_path / "src", tmp_path / "d2n")
    lines = [line for line in theirs.with_suffix(".bvec").read_text().split("\n") if line]
    their_bvec = [[float(v) for v in line.split()] for line in lines]
    assert np.allclose(
        _world(image, _sidecar(nifti, ".bvec")), _world(nib.load(theirs), their_bvec), atol=1e-4
    )
    assert theirs.with_suffix(".bval").read_text().split() == ["0", "1000", "1000", "2000"]


def test_ge_private_values_give_bval_and_say_why_no_bvec(tmp_path: Path) -> None:
    # b = 0 of a DTI series: the nominal b-value 1000 with a zero gradient; the last volume's
    # gradient has |g|**2 = 0.25 + 0.25 = 0.5: its b-value is 1000 * 0.5 = 500
    volumes = [(1000, [0.0, 0.0, 0.0]), (1000, [1.0, 0.0, 0.0]), (1000, [0.0, 1.0, 0.0]),
               (1000, [0.5, 0.5, 0.0])]  # fmt: skip
    _series(tmp_path / "src", volumes, _ge, ExplicitVRLittleEndian)
    nifti, image, problems = _converted(tmp_path)
    assert image.shape == (4, 4, 3, 4)
    assert np.asarray(image.dataobj)[0, 0, 0].tolist() == [0, 100, 200, 300]
    assert _sidecar(nifti, ".bval") == [[0, 1000, 1000, 500]]
    assert not nifti.with_name(nifti.name.removesuffix(".nii.gz") + ".bvec").exists()
    assert "diffusion: .bval written, .bvec not: the gradient directions are GE's" in problems


def _same_for_every_volume(tmp_path: Path, b: float, g: list[float]) -> str:
    """Three Philips volumes of one b-value and direction, told apart by
    TemporalPositionIdentifier: one 4-D NIfTI and no sidecars; returns its problems."""

    def timed(ds: Dataset, b: float, g: list[float]) -> None:
        _philips(ds, b, g)
        ds.TemporalPositionIdentifier = (int(ds.InstanceNumber) - 1) // 3 + 1

    _series(tmp_path / "src", [(b, g)] * 3, timed, ExplicitVRLittleEndian)
    nifti, image, problems = _converted(tmp_path)
    assert image.shape == (4, 4, 3, 3)
    assert sorted(p.suffix for p in nifti.parent.iterdir()) == [".gz", ".json"]  # no .bval
    return problems


def test_a_private_b_value_0_on_every_image_is_no_diffusion(tmp_path: Path) -> None:
    # Philips writes (2001,1003) = 0 in images that are not diffusion-weighted: fMRI time
    # points get no sidecars, as in dcm2niix, and nothing is said
    assert "diffusion" not in _same_for_every_volume(tmp_path, 0, [0.0, 0.0, 0.0])


def test_one_b_value_and_direction_for_every_volume_is_said(tmp_path: Path) -> None:
    # three averages of b 1000 along one direction: nothing for the sidecars to tell apart,
    # so none is written, as dcm2niix does; said now
    assert _same_for_every_volume(tmp_path, 1000, [1.0, 0.0, 0.0]) == (
        "diffusion: every volume has b-value 1000 and the same direction: no .bval / .bvec "
        "written (as dcm2niix)"
    )
