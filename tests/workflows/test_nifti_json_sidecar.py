"""``convert --format nifti`` writes a BIDS-style ``<name>.json`` beside each volume.

NIfTI outputs had no sidecar: echo time, repetition time, flip angle, field strength and
slice timing, which dcm2niix users read from its ``-b y`` JSON, were lost. Expected values
are the header values written into the files, converted to BIDS units by hand (ms / 1000 =
s), slice times looked up by each NIfTI slice's position (from its affine, with nibabel);
where dcm2niix is installed, its sidecar of the same files is compared key by key.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.sequence import Sequence

from tests.pipeline.dicom.builders import item
from tests.pipeline.dicom.geometry_cases import convert_nifti, enhanced, plane, save
from workflows.cli import main

SERIES = "1.2.826.0.1.3680043.8.498.1171"
#: Slice z (at 3 z mm) acquired at 10:10:10 + TIMES[z] s: interleaved, 0 2 1 3.
TIMES = {0: 0.0, 1: 1.0, 2: 0.5, 3: 1.5}
IDENTIFYING = {
    "PatientName": "DOE^JOHN", "PatientID": "MRN-99817", "PatientBirthDate": "19700101",
    "StudyDate": "20260101", "SeriesDate": "20260101", "AccessionNumber": "ACC7781",
    "InstitutionName": "St Elsewhere Hospital", "StationName": "MRC-ROOM-3",
    "DeviceSerialNumber": "SN445566", "SeriesDescription": "bold JOHN DOE",
    "ProtocolName": "bold_for_DOE", "ReferringPhysicianName": "HOUSE^GREGORY",
}  # fmt: skip
MR_VALUES = {
    "Manufacturer": "SIEMENS", "ManufacturerModelName": "Prisma", "MagneticFieldStrength": 3.0,
    "EchoTime": 30.0, "RepetitionTime": 2000.0, "FlipAngle": 90.0, "SliceThickness": 3.0,
    "SpacingBetweenSlices": 3.0, "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND"],
    "SeriesNumber": 5, "MRAcquisitionType": "2D", "InPlanePhaseEncodingDirection": "COL",
}  # fmt: skip


def _series(src: Path, **extra: object) -> Path:
    slices = [plane((0.0, 0.0, 3.0 * z), value=100 + z, series=SERIES, InstanceNumber=z + 1,
                    AcquisitionTime=f"1010{10 + TIMES[z]:09.6f}",
                    **{**MR_VALUES, **IDENTIFYING, **extra})
              for z in range(4)]  # fmt: skip
    return save(src, slices)


def _sidecar(out: Path, row: dict[str, str]) -> tuple[dict[str, object], Path]:
    nifti = out / row["output"]
    path = nifti.with_name(nifti.name.removesuffix(".nii.gz").removesuffix(".nii") + ".json")
    return json.loads(path.read_text()), path


def test_mr_sidecar_holds_the_header_values_in_bids_units(tmp_path: Path) -> None:
    rows, errors, code = convert_nifti(_series(tmp_path / "src"), tmp_path / "out")
    assert code == 0 and not errors
    (row,) = rows
    found, path = _sidecar(tmp_path / "out", row)
    image = nib.load(tmp_path / "out" / row["output"])
    z_of_k = [float((image.affine @ [0, 0, k, 1])[2]) for k in range(4)]  # RAS z = LPS z
    want_timing = [TIMES[round(z / 3.0)] for z in z_of_k]
    assert found == {
        "Modality": "MR", "MagneticFieldStrength": 3.0, "Manufacturer": "SIEMENS",
        "ManufacturersModelName": "Prisma", "ImageType": ["ORIGINAL", "PRIMARY", "M", "ND"],
        "SeriesNumber": 5, "MRAcquisitionType": "2D", "SliceThickness": 3.0,
        "SpacingBetweenSlices": 3.0, "EchoTime": 0.03, "RepetitionTime": 2.0, "FlipAngle": 90.0,
        "PhaseEncodingAxis": "j", "SliceTiming": want_timing, "ConversionSoftware": "radpipe",
        "ConversionSoftwareVersion": found["ConversionSoftwareVersion"],
    }  # fmt: skip
    text = path.read_text()
    for value in [*IDENTIFYING.values(), SERIES, "1.2.3.4", "2026", "101010"]:
        assert value.split("^")[0] not in text, value  # no identifier, UID, date or time


def test_slice_timing_only_within_one_repetition(tmp_path: Path) -> None:
    """Slices 1.5 s apart at most under a TR of 1 s: not the slices of one repetition (a
    3-D acquisition, or times of something else), so no SliceTiming; nor from ContentTime."""
    rows, _, _ = convert_nifti(_series(tmp_path / "src", RepetitionTime=1000.0), tmp_path / "o")
    found, _ = _sidecar(tmp_path / "o", rows[0])
    assert found["RepetitionTime"] == 1.0 and "SliceTiming" not in found
    src = _series(tmp_path / "src2")
    for path in src.glob("*.dcm"):
        ds = __import__("pydicom").dcmread(path)
        ds.ContentTime = ds.AcquisitionTime
        del ds.AcquisitionTime
        ds.save_as(path)
    rows, _, _ = convert_nifti(src, tmp_path / "o2")
    found, _ = _sidecar(tmp_path / "o2", rows[0])
    assert "SliceTiming" not in found and found["EchoTime"] == 0.03


def test_enhanced_mr_values_come_from_its_functional_groups(tmp_path: Path) -> None:
    ds = enhanced([(0.0, 0.0, 2.0 * z) for z in range(3)])
    ds.Manufacturer, ds.MagneticFieldStrength, ds.MRAcquisitionType = "Philips", 1.5, "3D"
    ds.SharedFunctionalGroupsSequence[0].MRTimingAndRelatedParametersSequence = Sequence(
        [item(RepetitionTime=7.5, FlipAngle=8.0)]
    )
    ds.SharedFunctionalGroupsSequence[0].MRFOVGeometrySequence = Sequence(
        [item(InPlanePhaseEncodingDirection="ROW")]
    )
    for frame in ds.PerFrameFunctionalGroupsSequence:
        frame.MREchoSequence = Sequence([item(EffectiveEchoTime=3.5)])
        frame.MRImageFrameTypeSequence = Sequence([item(FrameType=["ORIGINAL", "PRIMARY",
                                                                   "M_FFE", "M_FFE"])])  # fmt: skip
    ds.Modality = "MR"
    rows, errors, code = convert_nifti(save(tmp_path / "src", [ds]), tmp_path / "out")
    assert code == 0 and not errors
    found, _ = _sidecar(tmp_path / "out", rows[0])
    assert {k: found.get(k) for k in ("EchoTime", "RepetitionTime", "FlipAngle", "ImageType",
                                      "MagneticFieldStrength", "PhaseEncodingAxis",
                                      "SpacingBetweenSlices", "SliceTiming")} == {
        "EchoTime": 0.0035, "RepetitionTime": 0.0075, "FlipAngle": 8.0,
        "ImageType": ["ORIGINAL", "PRIMARY", "M_FFE", "M_FFE"], "MagneticFieldStrength": 1.5,
        "PhaseEncodingAxis": "i", "SpacingBetweenSlices": 2.0, "SliceTiming": None,
    }  # fmt: skip


def _convert(src: Path, out: Path, *extra: str) -> list[Path]:
    args = ["convert", str(src), str(out), "--format", "nifti", "--quiet", *extra]
    assert main(args) == 0
    return sorted(p for p in out.rglob("*.json") if p.parent != out)


def test_no_json_option_and_reruns(tmp_path: Path) -> None:
    src, out = _series(tmp_path / "src"), tmp_path / "out"
    assert _convert(src, out, "--no-json") == []
    (written,) = _convert(src, out)  # a rerun without --no-json writes it
    assert json.loads(written.read_text())["EchoTime"] == 0.03
    assert _convert(src, out, "--no-json") == []  # and with it again removes it
    assert _convert(src, out, "--no-gzip")[0].name == written.name  # <name>.json of <name>.nii


@pytest.mark.skipif(
    shutil.which("dcm2niix") is None and not (Path(sys.executable).parent / "dcm2niix").exists(),
    reason="dcm2niix not installed",
)
def test_same_values_as_dcm2niix(tmp_path: Path) -> None:
    src = _series(tmp_path / "src")
    rows, _, _ = convert_nifti(src, tmp_path / "out")
    ours, _ = _sidecar(tmp_path / "out", rows[0])
    ours_image = nib.load(tmp_path / "out" / rows[0]["output"])
    tool = shutil.which("dcm2niix") or str(Path(sys.executable).parent / "dcm2niix")
    (tmp_path / "d").mkdir()
    subprocess.run([tool, "-b", "y", "-z", "n", "-f", "v", "-o", str(tmp_path / "d"), str(src)],
                   check=True, capture_output=True, timeout=120)  # fmt: skip
    theirs = json.loads((tmp_path / "d" / "v.json").read_text())
    their_image = nib.load(tmp_path / "d" / "v.nii")
    for key in ("Modality", "MagneticFieldStrength", "ManufacturersModelName", "SeriesNumber",
                "MRAcquisitionType", "SliceThickness", "SpacingBetweenSlices", "EchoTime",
                "RepetitionTime", "FlipAngle", "PhaseEncodingAxis"):  # fmt: skip
        assert ours[key] == theirs[key], key
    assert theirs["ImageType"][:4] == ours["ImageType"]  # dcm2niix adds MAGNITUDE

    # slice times by slice position (either tool may order the slices its own way)
    def by_z(image: nib.Nifti1Image, times: list[float]) -> dict[float, float]:
        return {round(float((image.affine @ [0, 0, k, 1])[2]), 3): t for k, t in enumerate(times)}

    assert by_z(ours_image, ours["SliceTiming"]) == by_z(their_image, theirs["SliceTiming"])
    assert np.isclose(sorted(ours["SliceTiming"])[-1], 1.5)


def test_sidecars_stay_when_nii_gz_is_rewritten_as_nii(tmp_path: Path) -> None:
    """``--no-gzip`` on a rerun writes ``<name>.nii`` and removes the earlier ``<name>.nii.gz``
    with its sidecars: those were the new file's too (same name), and a DWI lost its ``.bval``
    and ``.bvec`` (and now its ``.json``)."""
    from tests.pipeline.dicom.test_diffusion_sidecars import _dwi

    src, out = tmp_path / "src", tmp_path / "out"
    _dwi(src, [1.0, 0, 0, 0, 1, 0], [0.0, 0, 1])
    _convert(src, out)
    _convert(src, out, "--no-gzip")
    names = sorted(p.name for p in out.rglob("*") if p.is_file() and p.parent != out)
    stem = names[0].split(".")[0]
    assert names == [f"{stem}.bval", f"{stem}.bvec", f"{stem}.json", f"{stem}.nii"]


@pytest.mark.parametrize(("fmt", "converted"), [("nifti", 1), ("npy", 0)])
def test_a_folder_from_before_the_json_is_converted_again(
    tmp_path: Path, fmt: str, converted: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A per-series folder of the radpipe before this sidecar (convert.json ``"sidecars": 1``)
    resumed as done, its NIfTIs without a JSON; an NPY folder of then lacks nothing."""
    src, out = _series(tmp_path / "src"), tmp_path / "out"
    args = ["convert", str(src), str(out), "--format", fmt, "--per", "series", "--quiet"]
    assert main(args) == 0
    settings = json.loads((out / "convert.json").read_text())
    settings["sidecars"] = 1
    settings.pop("json")
    (out / "convert.json").write_text(json.dumps(settings))
    for path in out.rglob("*.json"):
        if path.parent != out:
            path.unlink()
    capsys.readouterr()
    assert main(args) == 0
    assert f"({converted} converted, {1 - converted} already done)" in capsys.readouterr().out
    assert len([p for p in out.rglob("*.json") if p.parent != out]) == converted


@pytest.mark.parametrize("recorded", [2, 3])
@pytest.mark.parametrize(("fmt", "converted"), [("nifti", 1), ("npy", 0)])
def test_a_folder_of_the_header_repetition_time_is_converted_again(
    tmp_path: Path, fmt: str, converted: int, recorded: int, capsys: pytest.CaptureFixture[str]
) -> None:
    """A per-series folder recorded ``"sidecars": 2`` (2026-12-03): its NIfTI JSONs gave a
    4-D volume the header's RepetitionTime, so it is converted again; an NPY's lack nothing.
    So is one recorded 3 (before 2026-12-04's JSON: a cine's time step, a field strength in
    gauss written as tesla, a GE fMRI's slice timing from its TriggerTimes)."""
    src, out = _series(tmp_path / "src"), tmp_path / "out"
    args = ["convert", str(src), str(out), "--format", fmt, "--per", "series", "--quiet"]
    assert main(args) == 0
    settings = json.loads((out / "convert.json").read_text())
    (out / "convert.json").write_text(json.dumps({**settings, "sidecars": recorded}))
    capsys.readouterr()
    assert main(args) == 0
    assert f"({converted} converted, {1 - converted} already done)" in capsys.readouterr().out


def test_repetition_time_of_a_dynamic_series_is_its_time_step(tmp_path: Path) -> None:
    """A 2-D dynamic (DCE) series: TR 4.2 ms, its time points 10 s apart (AcquisitionTime),
    so the 4-D NIfTI's ``pixdim[4]`` is 10 s. BIDS requires the sidecar's RepetitionTime to be
    that zoom; it said 0.0042 s (the header's TR), and no SliceTiming, the slices (1 s apart)
    not being within those 4.2 ms. dcm2niix 1.0.20260724 on these files writes RepetitionTime
    10, RepetitionTimeExcitation 0.0042 and SliceTiming [0, 1, 2] ("Discrepancy between
    reported (0.0042s) and estimated (10s) repetition time (issue 560)")."""
    values = {**MR_VALUES, "RepetitionTime": 4.2, "EchoTime": 1.5}
    slices = [plane((0.0, 0.0, 3.0 * z), value=10 * t + z, series=SERIES,
                    InstanceNumber=3 * t + z + 1, TemporalPositionIdentifier=t + 1,
                    AcquisitionTime=f"1010{10 + 10 * t + z:02d}", **values)
              for t in range(3) for z in range(3)]  # fmt: skip
    rows, errors, code = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out")
    assert code == 0 and not errors and len(rows) == 1
    found, _ = _sidecar(tmp_path / "out", rows[0])
    image = nib.load(tmp_path / "out" / rows[0]["output"])
    assert image.shape == (8, 8, 3, 3) and image.header.get_zooms()[3] == 10.0
    assert (found["RepetitionTime"], found["RepetitionTimeExcitation"]) == (10.0, 0.0042)
    assert found["SliceTiming"] == [0.0, 1.0, 2.0]  # slice z acquired z s after slice 0
    assert found["EchoTime"] == 0.0015


def test_repetition_time_of_an_fmri_series_stays_alone(tmp_path: Path) -> None:
    """Time points one TR (2 s) apart: RepetitionTime 2, the 4th zoom; no
    RepetitionTimeExcitation (dcm2niix writes none either)."""
    slices = [plane((0.0, 0.0, 3.0 * z), value=10 * t + z, series=SERIES,
                    InstanceNumber=4 * t + z + 1, AcquisitionNumber=t + 1,
                    AcquisitionTime=f"1010{10 + 2 * t + TIMES[z]:09.6f}", **MR_VALUES)
              for t in range(3) for z in range(4)]  # fmt: skip
    rows, _, _ = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out")
    found, _ = _sidecar(tmp_path / "out", rows[0])
    assert nib.load(tmp_path / "out" / rows[0]["output"]).header.get_zooms()[3] == 2.0
    assert found["RepetitionTime"] == 2.0 and "RepetitionTimeExcitation" not in found
    assert found["SliceTiming"] == [TIMES[z] for z in range(4)]


def test_slice_timing_of_dated_times_keeps_the_header_digits(tmp_path: Path) -> None:
    """AcquisitionDate beside AcquisitionTime: times counted from year 1 (6e10 s) carry float
    noise of some 8 us, and slice times 0.2525 s apart (a 2.5 ms clock) came out 0.252502,
    0.504997 and 0.7575."""
    offsets = [0.0, 0.2525, 0.505, 0.7575]
    slices = [plane((0.0, 0.0, 3.0 * z), value=100 + z, series=SERIES, InstanceNumber=z + 1,
                    AcquisitionDate="20260115", AcquisitionTime=f"1010{10 + offsets[z]:09.6f}",
                    **MR_VALUES)
              for z in range(4)]  # fmt: skip
    rows, _, _ = convert_nifti(save(tmp_path / "src", slices), tmp_path / "out")
    found, _ = _sidecar(tmp_path / "out", rows[0])
    assert found["SliceTiming"] == offsets  # slice z (NIfTI order, z ascending) at offsets[z]
