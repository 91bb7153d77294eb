"""The time step of a 4-D NIfTI: the RepetitionTime is the time between volumes only for some
sequences (2-D EPI). A 3-D dynamic (DCE) series has a TR of a few ms and volumes seconds
apart (dcm2niix #825; vtk-dicom #121: "except for certain EPI sequences, TR is not the time
resolution"): its 4-D NIfTI said the volumes were 4.2 ms apart."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main


def _save_slice(tmp_path: Path, t: int, z: int, **attrs: object) -> None:
    """SRC/t_z.dcm: time point t at z = 3 z mm (series 1.2.3.4), holding 10 t + z."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", "1.2.3.4", "P"
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 3.0 * z]
    ds.PixelSpacing = [1, 1]
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.PixelData = np.full((4, 4), 10 * t + z, "<u2").tobytes()
    ds.save_as(tmp_path / "src" / f"{t}_{z}.dcm", enforce_file_format=True)


def _one_volume(tmp_path: Path) -> tuple[dict[str, str], nib.Nifti1Image]:
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    return row, nib.load(out / row["output"])


@pytest.mark.parametrize(
    ("tr", "seconds", "step", "said"),
    [
        (4.2, [0.0, 10.0, 20.0], 10.0, "4-D time step: 10 s, the median interval"),  # DCE
        (2000.0, [0.0, 2.0, 4.0], 2.0, ""),  # EPI: TR is the volume time, nothing to say
        (4.2, [0.0, 10.0, 25.0], 12.5, "time points unevenly spaced (10 to 15 s apart)"),
        # the time point at 20 s missing: its gap is two steps (it said only 'unevenly spaced')
        (4.2, [0.0, 10.0, 30.0], 15.0, "(10 to 20 s apart, about 1 time point missing)"),
        # cardiac phases (TriggerTime 0, 40, 80 ms, 2 ms later per slice), one AcquisitionTime:
        # a 3.2 ms TR; the per-slice drift made 9 single-slice volumes, one per trigger time
        (3.2, None, 0.04, "4-D time step: 0.04 s, the median interval"),
    ],
)
def test_time_step_from_acquisition_times(
    tmp_path: Path, tr: float, seconds: list[float] | None, step: float, said: str
) -> None:
    (tmp_path / "src").mkdir()
    for t, start in enumerate(seconds or [0.0, 0.0, 0.0]):
        for z in range(3):
            key = "TriggerTime" if seconds is None else "TemporalPositionIdentifier"
            _save_slice(tmp_path, t, z, RepetitionTime=tr,
                        **{key: 40.0 * t + 2.0 * z if seconds is None else t + 1},
                        AcquisitionTime=f"1200{int(start + 0.3 * z):02d}."
                        f"{round((0.3 * z) % 1 * 1e6):06d}")  # fmt: skip
    row, image = _one_volume(tmp_path)
    assert image.shape == (4, 4, 3, 3)
    assert image.header.get_zooms()[3] == pytest.approx(step)
    assert (said in row["problems"]) if said else row["problems"] == ""
    assert np.asarray(image.dataobj)[0, 0].tolist() == [
        [10 * t + z for t in range(3)] for z in range(3)
    ]


@pytest.mark.parametrize(
    "how", ["AcquisitionDate", "ContentDate", "FrameAcquisitionDateTime", "undated"]
)
def test_time_points_across_midnight_keep_their_order(tmp_path: Path, how: str) -> None:
    """Times counted from midnight put 00:00:00 before 23:59:50: the time points told apart
    by acquisition order were written out of order (by hand: 200 300 100) and the 4-D step
    was half a day; a DT with a UTC offset was not read at all (InstanceNumber, running
    against time here as in dcm2niix #184, ordered them). With the date (AcquisitionDate or
    ContentDate beside the time, or the DT's own) they keep their order, 10 s apart; so do
    undated times, which span more than half a day only when they crossed midnight."""
    from pydicom.uid import generate_uid

    from tests.pipeline.dicom.geometry_cases import MR, image, save

    series, slices = generate_uid(), []
    stamps = [("20200101", "235950"), ("20200102", "000000"), ("20200102", "000010")]
    for t, (day, tm) in enumerate(stamps):
        for z in range(3):
            ds = image(np.full((4, 4), 100 * (t + 1) + z, np.uint16), MR, series,
                       ImagePositionPatient=[0.0, 0.0, 3.0 * z], PixelSpacing=[1.0, 1.0],
                       ImageOrientationPatient=[1, 0, 0, 0, 1, 0],
                       InstanceNumber=(2 - t) * 3 + z + 1, RepetitionTime=10000.0)  # fmt: skip
            if how == "AcquisitionDate":
                ds.AcquisitionDate, ds.AcquisitionTime = day, tm
            elif how == "undated":  # times of day only (Dcm2Bids PR #370): spans > half a day
                ds.AcquisitionTime = tm
            elif how == "ContentDate":
                ds.ContentDate, ds.ContentTime = day, tm
            else:  # a DT with its date and a UTC offset (top level here: the reader's fallback)
                ds.FrameAcquisitionDateTime = f"{day}{tm}.000000+0100"
            slices.append(ds)
    save(tmp_path / "src", slices)
    assert main(["convert", str(tmp_path / "src"), str(tmp_path / "out"), "--format", "nifti",
                 "--quiet"]) == 0  # fmt: skip
    (volume,) = sorted((tmp_path / "out").rglob("*.nii.gz"))
    img = nib.load(volume)
    data = np.asarray(img.get_fdata())
    assert data[0, 0].T.tolist() == [[100, 101, 102], [200, 201, 202], [300, 301, 302]]
    assert img.header.get_zooms()[3] == pytest.approx(10.0)


def test_times_read_with_their_date_offset_and_old_colons() -> None:
    from pipeline.dicom.frame_time import dicom_seconds as _seconds

    day = 737426 * 86400.0  # date(2020, 1, 2).toordinal() days, by hand
    assert _seconds("000010", "20200102") == day + 10.0
    assert _seconds("20200102000010.000000+0100") == day + 10.0  # DT: its own date
    assert _seconds("10:10:10") == _seconds("101010") == 36610.0  # ACR-NEMA TM
    assert _seconds("101010", "") == 36610.0 and _seconds("xx") is None


@pytest.mark.parametrize(
    ("times", "step", "said"),
    [
        # undated (a de-identification kept the times of day, Dcm2Bids PR #370): 23:59:50 to
        # 00:00:10 fell back by a day, so no interval was measured and TR (4.2 ms) stood
        (["235950", "000000", "000010"], 10.0, "4-D time step: 10 s, the median interval"),
        # times against the time points' order: TR, and now said (it was silent)
        (["120020", "120010", "120000"], 0.0042, "acquisition times do not increase with them"),
        # a DT may stop at the minute or the hour (PS3.5 6.2: YYYYMMDDHH[MM]); shorter than 14
        # characters it was read as a TM, 202001021201 as 20:20 plus 1021201 s, so time
        # points a minute apart were 1 s apart (an hour apart, 100 s)
        (["DT202001021200", "DT202001021201", "DT202001021202"], 60.0, ""),
        (["DT2020010210", "DT2020010211", "DT2020010212"], 3600.0, ""),
        (["DT2020010223", "DT2020010300", "DT2020010301"], 3600.0, ""),  # past midnight
    ],
    ids=["undated-past-midnight", "times-against-order", "dt-minute", "dt-hour", "dt-midnight"],
)
def test_time_step_of_undated_or_disordered_times(
    tmp_path: Path, times: list[str], step: float, said: str
) -> None:
    (tmp_path / "src").mkdir()
    for t, tm in enumerate(times):
        key = "FrameAcquisitionDateTime" if tm.startswith("DT") else "AcquisitionTime"
        for z in range(2):
            _save_slice(tmp_path, t, z, RepetitionTime=4.2, TemporalPositionIdentifier=t + 1,
                        **{key: tm.removeprefix("DT")})  # fmt: skip
    row, image = _one_volume(tmp_path)
    assert image.shape == (4, 4, 2, 3) and image.header.get_zooms()[3] == pytest.approx(step)
    assert said in row["problems"]
    assert np.asarray(image.dataobj)[0, 0].tolist() == [
        [10 * t + z for t in range(3)] for z in range(2)
    ]


def test_undated_times_are_a_day_later_only_across_midnight() -> None:
    from pipeline.dicom.colocated import day_times
    from pipeline.dicom.frames import FrameRef

    def times(*found: float | None) -> list[float | None]:
        refs = [FrameRef("a.dcm", 0, "1.2", 4, 4, None, None, None, time=t) for t in found]
        return [f.time for f in day_times(refs)]

    hour = 3600.0
    assert times(23 * hour, 600.0, None) == [23 * hour, 86400.0 + 600.0, None]  # 23:00, 00:10
    assert times(8 * hour, 21 * hour) == [8 * hour, 21 * hour]  # one day, 13 h apart: kept
    dated = 737426 * 86400.0  # with a date (from year 1): never moved
    assert times(dated + 23 * hour, dated + 600.0) == [dated + 23 * hour, dated + 600.0]


def test_a_time_point_missing_by_its_number_is_said(tmp_path: Path) -> None:
    """TemporalPositionIdentifier 1, 2 and 4, no acquisition times: the 4-D volume's three
    time points are one TR apart, the fourth written a step early, and nothing was said."""
    (tmp_path / "src").mkdir()
    for t in (0, 1, 3):
        for z in range(3):
            _save_slice(tmp_path, t, z, RepetitionTime=2000.0, TemporalPositionIdentifier=t + 1)
    row, image = _one_volume(tmp_path)
    assert image.shape == (4, 4, 3, 3) and image.header.get_zooms()[3] == pytest.approx(2.0)
    assert row["problems"] == (
        "missing time points: TemporalPositionIdentifier 1 to 4 without 3, 3 time points "
        "written one step apart in the 4-D volume"
    )
    assert np.asarray(image.dataobj)[0, 0].tolist() == [[10 * t + z for t in (0, 1, 3)]
                                                       for z in range(3)]  # fmt: skip


def test_datetime_precision_by_hand() -> None:
    from pipeline.dicom.frame_time import dicom_seconds as _seconds

    day = 737426 * 86400.0  # date(2020, 1, 2).toordinal() days, by hand
    assert _seconds("2020010212") == day + 12 * 3600.0
    assert _seconds("202001021230+0100") == day + 12 * 3600.0 + 30 * 60.0
    assert _seconds("20200102") == day
    assert _seconds("202001", dt=True) == (737426 - 1) * 86400.0  # 2020-01-01
    assert _seconds("123015.5") == 12 * 3600.0 + 30 * 60.0 + 15.5  # a TM stays a TM
