"""Diffusion tables and sidecar directions, by hand: GE's scaled b-values, FSL's bvec signs.

dcm2niix's rule for GE (b x |g|**2, rounded to a multiple of 5 s/mm2 when 0.03 < |g| < 0.97)
and FSL's bvec convention (components along the voxel axes, i negated when det > 0).
"""

from __future__ import annotations

import math

import pytest

from pipeline.dicom.diffusion import _scaled_b


@pytest.mark.parametrize(
    ("length", "expected"),
    [
        (0.98, 1000.0),  # |g| >= 0.97: the shell's b-value as stored
        (0.02, 1000.0),  # |g| <= 0.03: as stored too
        (0.5, 250.0),  # 1000 x 0.25
        (math.sqrt(0.4976), 500.0),  # 497.6 rounds to the nearest multiple of 5
        (0.05, 5.0),  # 2.5: at least 5
    ],
    ids=["long", "short", "half", "rounded", "at-least-5"],
)
def test_ge_b_value_of_a_shortened_gradient(length: float, expected: float) -> None:
    assert _scaled_b(1000.0, length) == expected
