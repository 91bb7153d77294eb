"""Volumes of exact integer modality values (``read_volumes(..., exact_integers=True)``, what
``convert --format nifti`` uses) hold the same values as the float32 path, in the type
``write_nifti`` chooses for them: int16 where every value fits, else uint16, else float32."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.dicom.volume import read_volumes
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


def _series(folder: Path, stored: list[np.ndarray], signed: bool, rescale: list[dict]) -> Path:
    """Axial slices 2 mm apart; slice k stores ``stored[k]`` with ``rescale[k]``'s values."""
    series = generate_uid()
    slices = []
    for k, (values, attrs) in enumerate(zip(stored, rescale)):
        ds = G.image(values.astype(np.int16 if signed else np.uint16), G.CT, series,
                     ImagePositionPatient=[0.0, 0.0, 2.0 * k],
                     ImageOrientationPatient=list(G.AXIAL), PixelSpacing=[1.0, 1.0],
                     InstanceNumber=k + 1, **attrs)  # fmt: skip
        ds.PixelRepresentation = int(signed)
        ds.PixelData = values.astype("<i2" if signed else "<u2").tobytes()
        slices.append(ds)
    return G.save(folder, slices[::-1])


def _stored(low: int, high: int, depth: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    out = [rng.integers(low, high + 1, size=(6, 5)) for _ in range(depth)]
    out[0][0, :2] = [low, high]  # the range's ends are present
    return out


CASES = {
    # name: (signed, stored low/high, intercept per slice, expected dtype)
    "ct_int16": (True, (-2000, 3000), [-1024, -1024, -1024], np.int16),
    "intercepts_differ": (False, (0, 4095), [-1024, 0, 1000], np.int16),
    "fits_both": (False, (0, 4095), [0, 0, 0], np.int16),  # int16 first, as write_nifti
    "uint16_wide": (False, (0, 60000), [0, 0, 0], np.uint16),
    "stored_past_int16": (False, (40000, 65535), [-40000, -40000, -40000], np.int16),
    "uint16_negative_shift": (False, (2000, 65535), [-1000, -1000, -1000], np.uint16),
    "neither_fits": (False, (0, 60000), [-1024, -1024, -1024], np.float32),
}


@pytest.mark.parametrize("case", list(CASES))
def test_exact_volume_values_and_type(tmp_path: Path, case: str) -> None:
    signed, (low, high), intercepts, dtype = CASES[case]
    stored = _stored(low, high, 3)
    rescale = [{"RescaleSlope": 1, "RescaleIntercept": b} for b in intercepts]
    src = _series(tmp_path / "in", stored, signed, rescale)
    expected = np.stack([s + b for s, b in zip(stored, intercepts)])  # by hand, int64

    _plan, (exact,) = read_volumes(src, sorted(p.name for p in src.iterdir()),
                                   exact_integers=True)  # fmt: skip
    _plan, (floats,) = read_volumes(src, sorted(p.name for p in src.iterdir()))
    assert exact.image.dtype == dtype and floats.image.dtype == np.float32
    np.testing.assert_array_equal(exact.image.astype(np.int64), expected)
    np.testing.assert_array_equal(floats.image, expected.astype(np.float32))

    out = tmp_path / "out"
    result = convert_folder(src, out, ConvertOptions(format="nifti", gzip=False), progress=False)
    assert result.exit_code == 0
    (nifti,) = out.rglob("*.nii")
    img = nib.load(nifti)
    assert img.get_data_dtype() == dtype
    # NIfTI is (W, H, D): column i, row j, slice k
    np.testing.assert_array_equal(np.asarray(img.dataobj).transpose(2, 1, 0), expected)


def test_a_slice_that_is_not_exact_puts_the_volume_on_the_float_path(tmp_path: Path) -> None:
    stored = _stored(0, 4000, 3, seed=1)
    rescale = [{"RescaleSlope": 1, "RescaleIntercept": -1024}] * 2 + [
        {"RescaleSlope": 0.5, "RescaleIntercept": -1024}
    ]
    src = _series(tmp_path / "in", stored, False, rescale)
    _plan, (volume,) = read_volumes(src, sorted(p.name for p in src.iterdir()),
                                    exact_integers=True)  # fmt: skip
    expected = np.stack([stored[0] - 1024, stored[1] - 1024, stored[2] * 0.5 - 1024])
    assert volume.image.dtype == np.float32
    np.testing.assert_array_equal(volume.image, expected.astype(np.float32))
