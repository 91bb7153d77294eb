"""A rescale whose modality values float32 outputs cannot hold (found by
``benchmarks/fuzz_oracle.py``): past float32's range they were written as infinities, and values
far larger than the slope merged adjacent stored values; both with exit 0 and no word.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from pipeline.dicom.read import read_instance
from pipeline.errors import DicomError
from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

CT = "1.2.840.10008.5.1.4.1.1.2"
STORED = [-211, 0, 5, 6, 3999, 7]  # 2 x 3, signed


def _ct(slope: str, intercept: str) -> Dataset:
    ds = image_dataset(CT, "CT", 2, 3, signed=True)
    ds.RescaleSlope, ds.RescaleIntercept = slope, intercept
    ds.PixelData = np.array(STORED, dtype="<i2").tobytes()
    return ds


def _convert(tmp_path: Path, ds: Dataset) -> tuple[int, list[dict[str, str]], list[dict[str, str]]]:
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    ds.save_as(src / "ct.dcm", enforce_file_format=True)
    code = main(["convert", str(src), str(out), "--format", "npy", "--quiet"])
    with open(out / "manifest.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    with open(out / "errors.csv", newline="") as f:
        errors = list(csv.DictReader(f))
    return code, rows, errors


@pytest.mark.parametrize(("slope", "intercept", "low", "high"), [
    ("1e38", "0", "-2.11e+40", "3.999e+41"),  # -211 x 1e38 and 3999 x 1e38, by hand
    ("-1e36", "0", "2.11e+38", "-3.999e+39"),  # 3999 x 1e36 only is past 3.4e38
    ("1", "3.3e38", "3.3e+38", "3.3e+38"),  # 3.3e38 + 3999: rounds to 3.3e38, no overflow
], ids=["slope-1e38", "negative-slope", "intercept-near-top"])  # fmt: skip
def test_rescale_past_float32_is_refused(
    tmp_path: Path, slope: str, intercept: str, low: str, high: str
) -> None:
    path = tmp_path / "ct.dcm"
    _ct(slope, intercept).save_as(path, enforce_file_format=True)
    if slope == "1":  # 3.3e38 + 3999 stays below float32's 3.4028e38: converted
        image = read_instance(path, "ct.dcm")
        assert np.isfinite(image.modality(0)).all()
        return
    with pytest.raises(DicomError) as err:
        read_instance(path, "ct.dcm")
    assert str(err.value) == (
        f"ct.dcm: RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) {float(slope):g} and 0 "
        f"map the stored values -211..3999 to {low}..{high}, past float32's range (3.4e38) "
        "that the outputs hold (they would be infinities); a damaged value."
    )


def test_convert_lists_the_overflowing_file_in_errors(tmp_path: Path) -> None:
    code, rows, errors = _convert(tmp_path, _ct("1e38", "0"))
    assert code != 0 and rows == []
    assert [e["source"] for e in errors] == ["ct.dcm"]
    assert "past float32's range (3.4e38)" in errors[0]["reason"]


def test_values_far_larger_than_the_slope_are_noted(tmp_path: Path) -> None:
    # intercept 1e30: float32 holds 1e30 + v as the same number for every stored v here
    code, rows, _ = _convert(tmp_path, _ct("1", "1e30"))
    assert code == 0
    (row,) = rows
    values = np.load(tmp_path / "out" / row["output"])
    assert values.ravel().tolist() == [float(np.float32(1e30))] * 6  # all stored values merged
    assert (
        "RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) 1 and 1e+30 gives values up to "
        "1e+30, 1e+30 times the slope: float32 outputs (NPY, NIfTI) hold 24 significant bits, "
        "so stored values 1 apart may be written as the same value"
    ) in row["problems"]


@pytest.mark.parametrize(("slope", "intercept", "noted"), [
    ("0.001", "100000", True),  # float32 steps near 1e5 are 0.0078: 1e5 and 1e5 + 0.001 merge
    ("0.001", "0", False),  # values up to 4, steps of 0.001: 4000 steps, exact enough
    ("1", "-1024", False),  # a CT: whole numbers below 2**24
    ("2.5", "-8000000", False),  # 8e6 / 2.5 = 3.2e6 steps, below 2**24
], ids=["pet-like-merge", "small-slope", "ct", "large-intercept-large-slope"])  # fmt: skip
def test_merge_note_only_when_float32_loses_a_step(
    tmp_path: Path, slope: str, intercept: str, noted: bool
) -> None:
    assert (np.float32(1e5 + 0.001) == np.float32(1e5)) and np.float32(4.0) != np.float32(3.999)
    path = tmp_path / "ct.dcm"
    _ct(slope, intercept).save_as(path, enforce_file_format=True)
    image = read_instance(path, "ct.dcm")
    said = [p for p in image.problems if "24 significant bits" in p]
    assert bool(said) is noted


@pytest.mark.parametrize(("slope", "kept"), [
    ("1e38", "-3..3"),  # 3.4028e38 / 1e38 = 3.4: stored 4 or -4 gives 4e38, past it
    ("-2e37", "-17..17"),  # 3.4028e38 / 2e37 = 17.01
], ids=["slope-1e38", "negative-slope"])  # fmt: skip
def test_inspect_notes_a_rescale_that_convert_may_refuse(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], slope: str, kept: str
) -> None:
    """``inspect`` (headers only) said nothing of a rescale that ``convert`` refused."""
    import json

    src = tmp_path / "src"
    src.mkdir()
    _ct(slope, "0").save_as(src / "ct.dcm", enforce_file_format=True)
    main(["inspect", str(src), "--json"])
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems == [{"where": "ct.dcm", "kind": "note", "reason": (
        f"note: RescaleSlope/RescaleIntercept (0028,1053)/(0028,1052) {float(slope):g} and 0 map "
        f"stored values outside {kept} (of -32768..32767) past float32's range (3.4e38) that "
        "the outputs hold: a file holding any of them is refused when converted (inspect "
        "--decode tries)")}]  # fmt: skip


def test_inspect_says_nothing_of_a_rescale_every_stored_value_fits(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    _ct("1e33", "-1024").save_as(src / "ct.dcm", enforce_file_format=True)  # 32768e33 < 3.4e38
    assert main(["inspect", str(src), "--json"]) == 0
