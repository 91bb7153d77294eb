"""Tolerant reading of numeric header values: edge values the reading tests do not reach.

Expected values by hand, from PS3.3 (C.11.2.1.2 for windows) and the float32 range.
"""

from __future__ import annotations

import pytest

from pipeline.dicom.values import (
    first_number,
    integer,
    numbers,
    orientation,
    slice_size,
)
from pipeline.dicom.window_values import header_window, voi_function
from pipeline.errors import DicomError


def test_a_value_past_float32_is_refused_below_zero_too() -> None:
    with pytest.raises(DicomError, match="past float32's range"):
        numbers("-4e38", 1, "RescaleIntercept")
    assert numbers("-3e38", 1, "RescaleIntercept") == (-3e38,)


def test_a_width_below_one_is_refused_only_for_linear() -> None:
    # C.11.2.1.2: LINEAR needs width >= 1; LINEAR_EXACT and SIGMOID only > 0
    assert header_window(40, 0.5, "LINEAR_EXACT") == ((40.0, 0.5), None)
    assert header_window(40, 0.5, "SIGMOID") == ((40.0, 0.5), None)
    window, note = header_window(40, 0.5, "LINEAR")
    assert window is None and note is not None and "below 1" in note


def test_a_negative_slice_size_counts_by_its_size() -> None:
    assert slice_size("-2.5") == 2.5
    assert slice_size("-2,5") == 2.5  # a decimal comma too
    assert slice_size("0") is None


def test_a_fraction_is_no_whole_number() -> None:
    with pytest.raises(DicomError, match=r"Rows \(0028,0010\) must be a whole number"):
        integer({"Rows": "2.5"}, "Rows")
    assert integer({"Rows": "2.0"}, "Rows") == 2


def test_parallel_row_and_column_cosines_are_refused() -> None:
    with pytest.raises(DicomError, match="zero or parallel"):
        orientation("1\\0\\0\\1\\0\\0")
    assert orientation("1\\0\\0\\0\\1\\0") == (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)


def test_the_first_of_several_values_is_used() -> None:
    notes: list[str] = []
    assert first_number(["2", "3"], "RescaleSlope", notes) == 2.0  # a DS of VM 2
    assert notes == ["RescaleSlope (0028,1053) has 2 values, the first (2) is used"]


def test_a_decimal_comma_may_start_the_number() -> None:
    # any count wanted: ",5" is 0.5 written with a comma (not 5 after a delimiter)
    assert numbers(",5", None, "WindowWidth") == (0.5,)
    assert numbers("2,\\,5", None, "WindowWidth") == (2.0, 0.5)
    # one number wanted: still 0.5 (a delimiter before the first number is no reading of it;
    # it was 5.0, the comma dropped as an empty delimiter), said as a decimal comma
    notes: list[str] = []
    assert numbers(",5", 1, "SliceThickness", notes) == (0.5,)
    assert numbers("-,25", 1, "RescaleIntercept") == (-0.25,)
    assert notes == ["SliceThickness is written with a decimal comma (',5'), read as 0.5"]
    assert numbers("1,1", 2, "PixelSpacing") == (1.0, 1.0)  # a delimiter where two are wanted


def test_a_slash_delimits_numbers_too() -> None:
    notes: list[str] = []
    assert numbers("0.7/0.7", 2, "PixelSpacing", notes) == (0.7, 0.7)
    assert notes == ["PixelSpacing (0028,0030) uses a non-standard delimiter, read as (0.7, 0.7)"]


def test_a_clean_integer_past_the_maximum_is_refused() -> None:
    with pytest.raises(DicomError, match=r"in 1\.\.65535; got 70000"):
        integer({"Rows": 70000}, "Rows", minimum=1, maximum=65535)


def test_the_voi_function_is_read_in_any_case() -> None:
    assert voi_function({"VOILUTFunction": " sigmoid "}) == "SIGMOID"
    assert voi_function({}) == "LINEAR"
