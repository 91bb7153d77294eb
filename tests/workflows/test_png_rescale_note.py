"""PNGs without a window of a series whose images' rescales differ (PET, Philips MR).

dcm2niix #978: Siemens tau PET slices each with their own RescaleSlope (7.6e-9 to 3.1e-8)
came out with slice artifacts. radpipe applies each slice's rescale for NPY and NIfTI, but a
PNG without a window spans its own image's stored range: the same activity (1000 Bq/ml,
stored 2000 under slope 0.5 and 500 under slope 2) was grey 2000 in one 16-bit PNG and 500
in the next, with exit 0 and no word. The mapping is unchanged (each PNG is written before
the series is known); each such row now says so. Expected greys by hand: a 16-bit PNG
without a window holds the stored value of 16-bit data (0..65535 onto 0..65535).
"""

from __future__ import annotations

import csv
from pathlib import Path

import imageio.v3 as iio
import numpy as np

from tests.pipeline.dicom.geometry_cases import AXIAL, PET, image, save
from workflows.cli import main

NOTE = "PNG greys not comparable between images: RescaleSlope/RescaleIntercept"


def _pet(src: Path, slopes: list[float], iops: list[list[float]] | None = None) -> Path:
    slices = []
    for k, slope in enumerate(slopes):
        stored = np.full((4, 4), round(1000 / slope), np.uint16)  # 1000 Bq/ml in every slice
        ds = image(stored, PET, "1.2.3.4.77", ImagePositionPatient=[0.0, 0.0, 2.0 * k],
                   ImageOrientationPatient=(iops or [list(AXIAL)] * 3)[k],
                   PixelSpacing=[1.0, 1.0], RescaleSlope=slope, RescaleIntercept=0,
                   Units="BQML")  # fmt: skip
        ds.Modality = "PT"
        slices.append(ds)
    return save(src, slices, ["a", "b", "c"][: len(slopes)])


def _convert(src: Path, out: Path, *options: str) -> dict[str, dict[str, str]]:
    assert main(["convert", str(src), str(out), "--quiet", *options]) == 0
    with (out / "manifest.csv").open() as fh:
        return {r["source"]: r for r in csv.DictReader(fh)}


def test_unwindowed_png_of_varying_rescales_is_said(tmp_path: Path) -> None:
    src = _pet(tmp_path / "src", [0.5, 2.0])
    rows = _convert(src, tmp_path / "png16", "--format", "png16", "--window", "none")
    greys = {s: int(iio.imread(tmp_path / "png16" / r["output"])[0, 0]) for s, r in rows.items()}
    assert greys == {"a.dcm": 2000, "b.dcm": 500}  # one activity, two greys (unchanged)
    for row in rows.values():
        assert NOTE in row["problems"] and "(slope 0.5 to 2, intercept 0 to 0)" in row["problems"]
    rows = _convert(src, tmp_path / "png", "--format", "png")  # `header`: none here either
    assert all(NOTE in r["problems"] for r in rows.values())


def test_windowed_npy_and_equal_rescales_say_nothing(tmp_path: Path) -> None:
    src = _pet(tmp_path / "src", [0.5, 2.0])
    rows = _convert(src, tmp_path / "win", "--format", "png", "--window", "1000,2000")
    assert all(NOTE not in r["problems"] for r in rows.values())
    rows = _convert(src, tmp_path / "npy", "--format", "npy")
    values = {s: float(np.load(tmp_path / "npy" / r["output"])[0, 0]) for s, r in rows.items()}
    assert values == {"a.dcm": 1000.0, "b.dcm": 1000.0}
    assert all(NOTE not in r["problems"] for r in rows.values())
    same = _pet(tmp_path / "same", [2.0, 2.0])
    rows = _convert(same, tmp_path / "same_png", "--format", "png16", "--window", "none")
    assert all(NOTE not in r["problems"] for r in rows.values())


def test_a_volume_of_equal_rescales_says_nothing_beside_another(tmp_path: Path) -> None:
    # two axial slices of slope 2 and a coronal image (another volume) of slope 0.5: each
    # volume's PNGs share one mapping, so nothing is said
    coronal = [1.0, 0.0, 0.0, 0.0, 0.0, -1.0]
    src = _pet(tmp_path / "src", [2.0, 2.0, 0.5], [list(AXIAL), list(AXIAL), coronal])
    rows = _convert(src, tmp_path / "png", "--format", "png16", "--window", "none")
    assert len({r["volume"] for r in rows.values()}) == 2
    assert all(NOTE not in r["problems"] for r in rows.values())
