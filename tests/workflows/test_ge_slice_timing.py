"""A GE 2-D fMRI's slices share one AcquisitionTime per volume, so its sidecar had no
SliceTiming; GE's "epi" sequence gives each slice's time within the repetition in its
TriggerTime (0018,1060, ms), which dcm2niix reads as the slice timing. Now radpipe does too
(GE only, 4-D only). Expected values by hand: slice at z = 0, 3, 6 mm has TriggerTime 0,
1000, 500 ms, so 0, 1.0, 0.5 s, looked up by each NIfTI slice's z (from its affine)."""

from __future__ import annotations

import json
from pathlib import Path

import nibabel as nib
import pytest

from tests.pipeline.dicom.geometry_cases import convert_nifti, plane, save

SERIES = "1.2.826.0.1.3680043.8.498.1173"
TRIGGER = {0: 0.0, 1: 1000.0, 2: 500.0}  # slice z index -> TriggerTime (ms)


def _fmri(src: Path, manufacturer: str, triggers: dict[int, float] = TRIGGER) -> Path:
    slices = [plane((0.0, 0.0, 3.0 * z), value=10 * t + z, series=SERIES, Modality="MR",
                    Manufacturer=manufacturer, MRAcquisitionType="2D", RepetitionTime=1500.0,
                    AcquisitionNumber=t + 1, InstanceNumber=3 * t + z + 1,
                    TemporalPositionIdentifier=t + 1, AcquisitionTime=f"10101{t}.000000",
                    TriggerTime=triggers[z], SliceThickness=3.0)
              for t in range(2) for z in range(3)]  # fmt: skip
    return save(src, slices)


def _convert(tmp_path: Path, src: Path) -> tuple[dict[str, object], nib.Nifti1Image]:
    rows, errors, code = convert_nifti(src, tmp_path / "out")
    assert code == 0 and not errors
    (row,) = rows
    nifti = tmp_path / "out" / row["output"]
    found = json.loads(nifti.with_name(nifti.name.removesuffix(".nii.gz") + ".json").read_text())
    return found, nib.load(nifti)


def test_ge_trigger_times_are_the_slice_timing(tmp_path: Path) -> None:
    found, image = _convert(tmp_path, _fmri(tmp_path / "src", "GE MEDICAL SYSTEMS"))
    assert image.shape == (8, 8, 3, 2)
    z_of_k = [float((image.affine @ [0, 0, k, 1])[2]) for k in range(3)]
    assert found["SliceTiming"] == [TRIGGER[round(z / 3.0)] / 1000.0 for z in z_of_k]


@pytest.mark.parametrize(
    ("manufacturer", "triggers"),
    [("SIEMENS", TRIGGER), ("GE MEDICAL SYSTEMS", {0: 0.0, 1: 0.0, 2: 0.0}),
     ("GE MEDICAL SYSTEMS", {0: 0.0, 1: 1600.0, 2: 500.0})],
    ids=["not-ge", "all-one-time", "beyond-one-tr"],
)  # fmt: skip
def test_no_slice_timing_without_ge_times_within_one_tr(
    tmp_path: Path, manufacturer: str, triggers: dict[int, float]
) -> None:
    found, _ = _convert(tmp_path, _fmri(tmp_path / "src", manufacturer, triggers))
    assert "SliceTiming" not in found
