"""The one reader of 'US or SS' values left as raw bytes (pipeline.dicom.unsigned_vr)."""

from __future__ import annotations

import pytest

from pipeline.dicom.unsigned_vr import us_or_ss


@pytest.mark.parametrize(
    ("value", "little", "signed", "first", "expected"),
    [
        (b"\x30\xf8", True, True, False, -2000),  # 0xF830 = 63536 = 65536 - 2000
        (b"\xf8\x30", False, True, False, -2000),  # the same, big endian
        (b"\x30\xf8", True, False, False, 63536),
        (b"\x05\x00\x06\x00", True, True, True, 5),  # two values: the first
        ([3, 1], True, True, True, 3),
        ([], True, True, True, None),
        (None, True, True, False, None),
        ("", True, True, False, None),
        (7, True, True, False, 7),
    ],
)
def test_us_or_ss_values(
    value: object, little: bool, signed: bool, first: bool, expected: object
) -> None:
    assert us_or_ss(value, little, signed=signed, first=first) == expected


@pytest.mark.parametrize("value", [b"\x01", b"\x01\x00\x02\x00", "abc", [1, 2]])
def test_us_or_ss_refuses_what_is_not_one_number(value: object) -> None:
    with pytest.raises(ValueError):
        us_or_ss(value, True)
