"""An Enhanced XA/XRF cine's time step from its frames' Frame Content times (PS3.3
C.7.6.16.2.2): the IOD has no FrameTime or FrameTimeVector (A.47, A.48), and such a file was
written 3-D with a frame step of 1, its frame rate lost unsaid. Expected values by hand from
the synthetic DT values: frames 40 ms apart -> pixdim[4] 0.04 s; 0, 33, 67 and 100 ms (30
frames/s on a millisecond clock) -> 100 / 3 = 33.33 ms."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from tests.pipeline.dicom.builders import image_dataset, item, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

ENHANCED_XA = "1.2.840.10008.5.1.4.1.1.12.1.1"
ENHANCED_XRF = "1.2.840.10008.5.1.4.1.1.12.2.1"
ENHANCED_MR = "1.2.840.10008.5.1.4.1.1.4.1"


def _dt(ms: float) -> str:
    """A DT ``ms`` milliseconds after 2024-01-01 23:59:59.9 (so later frames cross midnight)."""
    total = 23 * 3600 + 59 * 60 + 59.9 + ms / 1000.0
    day, seconds = 1 + int(total // 86400), total % 86400
    hh, mm, ss = int(seconds // 3600), int(seconds % 3600 // 60), seconds % 60
    return f"202401{day:02d}{hh:02d}{mm:02d}{ss:09.6f}"


def _cine(sop_class: str, **times: list[float | None]) -> Dataset:
    """Frames of 4 x 4 pixels, frame k holding k + 1; each keyword's times (ms) per frame."""
    count = len(next(iter(times.values())))
    ds = image_dataset(sop_class, "XA" if sop_class == ENHANCED_XA else "RF", 4, 4)
    ds.NumberOfFrames = count
    ds.SharedFunctionalGroupsSequence = Sequence([item()])
    ds.PerFrameFunctionalGroupsSequence = Sequence(
        [item(FrameContentSequence=Sequence([item(**{key: _dt(values[k])
                                                     for key, values in times.items()
                                                     if values[k] is not None})]))
         for k in range(count)]
    )  # fmt: skip
    ds.PixelData = np.stack([np.full((4, 4), k + 1, "<u2") for k in range(count)]).tobytes()
    return ds


def _convert(tmp_path: Path, ds: Dataset, fmt: str = "nifti") -> dict[str, str]:
    src, out = write_folder(tmp_path / "src", a=ds), tmp_path / "out"
    opts = ConvertOptions(format=fmt, per="series")  # type: ignore[arg-type]
    assert convert_folder(src, out, opts, progress=False).exit_code == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    return row


@pytest.mark.parametrize(
    ("sop_class", "times", "step_s"),
    [
        (ENHANCED_XA, {"FrameAcquisitionDateTime": [0, 40, 80, 120]}, 0.04),
        (ENHANCED_XRF, {"FrameAcquisitionDateTime": [0, 40, 80, 120]}, 0.04),
        (ENHANCED_XA, {"FrameAcquisitionDateTime": [0, 33, 67, 100]}, 0.1 / 3),
        (ENHANCED_XA, {"FrameReferenceDateTime": [0, 50, 100, 150]}, 0.05),
        # both given: the acquisition's start times first
        (ENHANCED_XA, {"FrameAcquisitionDateTime": [0, 40, 80, 120],
                       "FrameReferenceDateTime": [0, 50, 100, 150]}, 0.04),
    ],
    ids=["xa", "xrf", "millisecond-clock", "reference", "acquisition-first"],
)  # fmt: skip
def test_an_enhanced_xray_cine_takes_its_step_from_its_frame_times(
    tmp_path: Path, sop_class: str, times: dict[str, list[float | None]], step_s: float
) -> None:
    row = _convert(tmp_path, _cine(sop_class, **times))
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.shape == (4, 4, 1, 4) and row["shape"] == "4x1x4x4"
    assert float(image.header.get_zooms()[3]) == pytest.approx(step_s, abs=1e-7)
    assert image.header.get_xyzt_units()[1] == "sec"
    assert np.asarray(image.dataobj)[0, 0, 0].tolist() == [1, 2, 3, 4]
    assert f"{step_s * 1000:.4g} ms apart" in row["problems"]
    assert "cine time step unknown" not in row["problems"]


@pytest.mark.parametrize(
    ("times", "said"),
    [
        ({"FrameAcquisitionDateTime": [0, 40, 80, 160]},
         "are 40 to 80 ms apart by FrameAcquisitionDateTime (0018,9074), uneven"),
        ({"FrameAcquisitionDateTime": [0, 80, 40, 120]},
         "do not follow each other in time by FrameAcquisitionDateTime (0018,9074) (an "
         "interval of -40 ms)"),
        ({"FrameAcquisitionDateTime": [0, 0, 0, 0]},
         "do not follow each other in time by FrameAcquisitionDateTime (0018,9074) (an "
         "interval of 0 ms)"),
        ({"FrameAcquisitionDateTime": [0, 40, None, 120]},
         "do not all give a FrameAcquisitionDateTime (0018,9074) or FrameReferenceDateTime "
         "(0018,9151)"),
    ],
    ids=["uneven", "out-of-order", "all-equal", "one-missing"],
)  # fmt: skip
def test_frame_times_that_give_no_step_are_said(
    tmp_path: Path, times: dict[str, list[float | None]], said: str
) -> None:
    row = _convert(tmp_path, _cine(ENHANCED_XA, **times))
    image = nib.load(tmp_path / "out" / row["output"])
    assert image.shape == (4, 4, 4) and image.header.get_xyzt_units()[1] == "unknown"
    assert (
        "cine time step unknown: the 4 frames of an Enhanced XA image (no FrameTime: their "
        f"times are in Frame Content (0020,9111), PS3.3 C.7.6.16.2.2) {said}"
    ) in row["problems"]
    assert row["problems"].count("the frames are written without a time step") == 1


def test_the_npy_sidecar_carries_the_step(tmp_path: Path) -> None:
    row = _convert(tmp_path, _cine(ENHANCED_XA, FrameAcquisitionDateTime=[0, 40, 80, 120]), "npy")
    out = tmp_path / "out" / row["output"]
    assert np.load(out).shape == (4, 4, 4)
    side = json.loads(out.with_suffix(".json").read_text())
    assert side["axes"] == ["time", "row", "column"]
    assert side["time_step_s"] == pytest.approx(0.04, abs=1e-9)


def test_other_enhanced_objects_are_no_cine(tmp_path: Path) -> None:
    # an Enhanced MR without geometry holds slices as well as time points: its frame times
    # do not make it a cine (unchanged: 3-D, in the file's frame order)
    row = _convert(tmp_path, _cine(ENHANCED_MR, FrameAcquisitionDateTime=[0, 40, 80, 120]))
    assert row["shape"] == "4x4x4"
    assert "cine" not in row["problems"]


@pytest.mark.parametrize("fmt", ["nifti", "npy"])
def test_a_frame_without_its_time_keeps_its_stored_place(tmp_path: Path, fmt: str) -> None:
    """Frame 3 (holding 3) without FrameAcquisitionDateTime read as no time (0) and sorted
    first in acquisition order: written 3, 1, 2, 4, unsaid. Now the frames keep their stored
    order (1, 2, 3, 4, by construction) and the file says why."""
    row = _convert(tmp_path, _cine(ENHANCED_XA, FrameAcquisitionDateTime=[0, 40, None, 120]), fmt)
    out = tmp_path / "out" / row["output"]
    values = np.load(out) if fmt == "npy" else np.asarray(nib.load(out).dataobj).transpose(2, 1, 0)
    assert [int(v[0, 0]) for v in values] == [1, 2, 3, 4]
    assert (
        "frame order: 1 of the 4 frames of an Enhanced XA image (frame 3) give no "
        "FrameAcquisitionDateTime (0018,9074): the frames are kept in their stored order, not "
        "sorted by their times"
    ) in row["problems"]


def test_frames_that_all_give_their_time_are_not_said(tmp_path: Path) -> None:
    row = _convert(tmp_path, _cine(ENHANCED_XA, FrameAcquisitionDateTime=[0, 40, 80, 120]))
    assert "frame order" not in row["problems"]
