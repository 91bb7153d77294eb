"""A cine's time step reaches its NIfTI. An ultrasound cine (one classic multi-frame file, no
positions) gives the time between frames in FrameTime (0018,1063) or FrameTimeVector
(0018,1065); its NIfTI was 3-D with a frame step of 1 and no time, so the frame rate was lost.
Like other 4-D series (RepetitionTime, ``pixdim[4]`` in seconds, ``xyzt_units`` time s), it
is now ``(W, H, 1, T)`` with ``pixdim[4]`` the frame time in seconds. Expected values are the
synthetic headers' (33.3 ms -> 0.0333 s)."""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.tag import Tag

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder

US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"


def _convert(src: Path, out: Path, fmt: str = "nifti") -> dict[str, str]:
    opts = ConvertOptions(format=fmt, per="series")  # type: ignore[arg-type]
    assert convert_folder(src, out, opts, progress=False).exit_code == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    return row


def _cine(tmp_path: Path, **attrs: object) -> Path:
    """5 frames of 6 x 8 pixels, frame t holding t + 1; PixelSpacing 0.5 x 0.25 mm."""
    pixels = np.stack([np.full((6, 8), t + 1) for t in range(5)])
    ds = G.image(pixels, US_MULTIFRAME, PixelSpacing=[0.5, 0.25], **attrs)
    ds.Modality = "US"
    return G.save(tmp_path / "in", [ds])


def test_a_cine_nifti_carries_its_frame_time(tmp_path: Path) -> None:
    src = _cine(tmp_path, FrameTime=33.3, FrameIncrementPointer=Tag(0x0018, 0x1063))
    row = _convert(src, tmp_path / "out")
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.shape == (8, 6, 1, 5)
    assert image.header.get_zooms() == pytest.approx((0.25, 0.5, 1.0, 0.0333))
    assert image.header.get_xyzt_units() == ("unknown", "sec")
    assert np.asarray(image.dataobj)[0, 0, 0].tolist() == [1, 2, 3, 4, 5]
    assert row["shape"] == "5x1x6x8" and row["num_slices"] == "1"
    assert "cine time step" not in row["problems"]


def test_an_uneven_frame_time_vector_gives_its_mean_and_says_so(tmp_path: Path) -> None:
    # increments 30, 40, 30, 40 ms after the first frame: mean 35 ms
    src = _cine(tmp_path, FrameTimeVector=[0, 30, 40, 30, 40],
                FrameIncrementPointer=Tag(0x0018, 0x1065))  # fmt: skip
    row = _convert(src, tmp_path / "out")
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.header.get_zooms()[3] == pytest.approx(0.035)
    assert (
        "cine time step: frame intervals of 30 to 40 ms (FrameTimeVector), the NIfTI's time "
        "step is their mean, 35 ms" in row["problems"]
    )


def test_a_cine_without_frame_time_stays_3d(tmp_path: Path) -> None:
    row = _convert(_cine(tmp_path), tmp_path / "out")
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.shape == (8, 6, 5)
    assert image.header.get_xyzt_units() == ("unknown", "unknown")
    # the frames of one file, in its order: not "images ... stacked in acquisition order"
    assert row["problems"] == (
        "no geometry: 5 frames of one file without ImagePositionPatient/"
        "ImageOrientationPatient, affine unknown, in the file's frame order"
    )


def test_npy_output_is_unchanged(tmp_path: Path) -> None:
    src = _cine(tmp_path, FrameTime=33.3)
    row = _convert(src, tmp_path / "out", "npy")
    assert np.load(tmp_path / "out" / row["output"]).shape == (5, 6, 8)


def test_frames_along_another_vector_get_no_time_step(tmp_path: Path) -> None:
    # FrameIncrementPointer names SliceVector (0054,0080), as an NM file's does: its frames
    # are not time points even with a FrameTime
    src = _cine(tmp_path, FrameTime=33.3, FrameIncrementPointer=Tag(0x0054, 0x0080))
    image = nib.load(tmp_path / "out" / _convert(src, tmp_path / "out")["output"])
    assert image.shape == (8, 6, 5)


@pytest.mark.parametrize(
    ("attrs", "which"),
    [
        ({"FrameTime": 0, "FrameIncrementPointer": Tag(0x0018, 0x1063)},
         "FrameTime (0018,1063), which is missing or not above 0"),
        ({"FrameIncrementPointer": Tag(0x0018, 0x1063)},
         "FrameTime (0018,1063), which is missing or not above 0"),
        ({"FrameTimeVector": [0, 33, 33], "FrameIncrementPointer": Tag(0x0018, 0x1065)},
         "FrameTimeVector (0018,1065), which is missing, not 5 values or with an increment"),
    ],
    ids=["frame-time-0", "frame-time-missing", "vector-too-short"],
)  # fmt: skip
def test_unusable_frame_times_are_said(
    tmp_path: Path, attrs: dict[str, object], which: str
) -> None:
    # OHIF #5178: a missing Frame Time fell back to a rate of its own, unsaid; here the NIfTI
    # was 3-D with a frame step of 1, the frame rate lost without a word
    row = _convert(_cine(tmp_path, **attrs), tmp_path / "out")
    assert row["shape"] == "5x6x8"  # no time points: no step to give them
    assert (
        f"cine time step unknown: FrameIncrementPointer (0028,0009) names {which}"
        in (row["problems"])
    )


@pytest.mark.parametrize("placed", [True, False], ids=["with-position", "without"])
def test_a_cine_says_it_is_a_cine_not_that_it_lacks_a_position(
    tmp_path: Path, placed: bool
) -> None:
    # a cine of one file with an ImagePositionPatient was "images without
    # ImagePositionPatient": untrue; its frames are one place over time whatever it gives
    where = {"ImagePositionPatient": [0, 0, 0], "ImageOrientationPatient": [1, 0, 0, 0, 1, 0]}
    src = _cine(tmp_path, FrameTime=33.3, FrameIncrementPointer=Tag(0x0018, 0x1063),
                **(where if placed else {}))  # fmt: skip
    row = _convert(src, tmp_path / "out")
    assert row["problems"] == (
        "no geometry: a cine (5 frames of one file at one place over time, 33.3 ms apart), "
        "affine unknown"
    )


def test_two_cine_files_of_one_series_are_two_cines(tmp_path: Path) -> None:
    # two ultrasound clips filed in one series were stacked end to end as one 10-frame
    # volume "without ImagePositionPatient", their frame time lost
    pulse = {"FrameTime": 40.0, "FrameIncrementPointer": Tag(0x0018, 0x1063)}
    clips = []
    for c in range(2):
        pixels = np.stack([np.full((6, 8), 10 * c + t + 1) for t in range(5)])
        ds = G.image(pixels, US_MULTIFRAME, "1.2.826.0.1.3680043.8.498.77", InstanceNumber=c + 1,
                     PixelSpacing=[0.5, 0.25], **pulse)  # fmt: skip
        ds.Modality = "US"
        clips.append(ds)
    src = G.save(tmp_path / "in", clips)
    opts = ConvertOptions(format="nifti", per="series")  # type: ignore[arg-type]
    assert convert_folder(src, tmp_path / "out", opts, progress=False).exit_code == 0
    with (tmp_path / "out" / "manifest.csv").open() as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["output"])
    assert [r["shape"] for r in rows] == ["5x1x6x8", "5x1x6x8"]
    for c, row in enumerate(rows):
        image = nib.load(tmp_path / "out" / row["output"])
        assert image.header.get_zooms()[3] == pytest.approx(0.04)
        assert np.asarray(image.dataobj)[0, 0, 0].tolist() == [10 * c + t + 1 for t in range(5)]
        assert row["problems"].startswith("split: 2 cine files among images without slice ")


_NO_TIME = "no FrameTime (0018,1063) or FrameTimeVector (0018,1065)"


@pytest.mark.parametrize(
    ("attrs", "step", "said"),
    [({"CineRate": 30}, 1000 / 30,
      f"cine time step 33.33 ms, 1000 / CineRate (0018,0040) 30 frames/s: {_NO_TIME}"),
     ({"RecommendedDisplayFrameRate": 25}, 40.0,
      "cine time step 40 ms, 1000 / RecommendedDisplayFrameRate (0008,2144) 25 frames/s (the "
      f"rate to display it at): {_NO_TIME}"),
     ({"CineRate": 20, "RecommendedDisplayFrameRate": 25}, 50.0,
      f"cine time step 50 ms, 1000 / CineRate (0018,0040) 20 frames/s: {_NO_TIME}"),
     ({"CineRate": 30, "FrameIncrementPointer": Tag(0x0018, 0x1063)}, 1000 / 30,
      "cine time step 33.33 ms, 1000 / CineRate (0018,0040) 30 frames/s: FrameIncrementPointer "
      "(0028,0009) names FrameTime (0018,1063), which is missing or not above 0")],
    ids=["cine-rate", "display-rate", "cine-rate-first", "pointer-to-missing-frame-time"],
)  # fmt: skip
def test_a_cine_with_only_a_frame_rate_takes_its_step_from_it(
    tmp_path: Path, attrs: dict[str, object], step: float, said: str
) -> None:
    """PS3.3 C.7.6.5: CineRate and RecommendedDisplayFrameRate are frames per second,
    FrameTime ms per frame, so the step is 1000 / rate ms. It was lost (3-D, a frame step of
    1) and the frames called "images without ImagePositionPatient ... stacked in acquisition
    order", not the frames of one file."""
    src = _cine(tmp_path, **attrs)
    row = _convert(src, tmp_path / "out")
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.shape == (8, 6, 1, 5)
    assert image.header.get_zooms()[3] == pytest.approx(step / 1000, rel=1e-6)  # seconds
    assert image.header.get_xyzt_units() == ("unknown", "sec")
    assert row["problems"].split("; ") == [
        said,
        f"no geometry: a cine (5 frames of one file at one place over time, {step:.4g} ms "
        "apart), affine unknown",
    ]
    assert list(index_folder(src).series[0].problems) == row["problems"].split("; ")  # inspect


def test_a_frame_time_outranks_a_frame_rate(tmp_path: Path) -> None:
    row = _convert(_cine(tmp_path, FrameTime=40.0, CineRate=30), tmp_path / "out")
    assert nib.load(tmp_path / "out" / row["output"]).header.get_zooms()[3] == pytest.approx(0.04)
    assert "CineRate" not in row["problems"]
