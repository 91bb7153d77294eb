"""Diffusion tables and sidecar directions, by hand: GE's scaled b-values, FSL's bvec signs.

dcm2niix's rule for GE (b x |g|**2, rounded to a multiple of 5 s/mm2 when 0.03 < |g| < 0.97)
and FSL's bvec convention (components along the voxel axes, i negated when det > 0).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom.diffusion import _scaled_b, diffusion_table, fsl_bvecs, write_sidecars
from pipeline.dicom.frames import FrameRef
from pipeline.dicom.stack_keys import DIRECTION, STACK_KEYS


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


def _frame(k: int, b: float, direction: str) -> FrameRef:
    values = [None] * len(STACK_KEYS)
    values[STACK_KEYS.index("DiffusionBValue")] = b
    values[STACK_KEYS.index(DIRECTION)] = direction
    return FrameRef(f"{k}.dcm", 0, f"1.{k}", 2, 2, None, None, None, stack_values=tuple(values))


def test_a_stack_whose_frames_disagree_has_no_table() -> None:
    x, y = "1\\0\\0", "0\\1\\0"
    frames = [_frame(0, 0.0, x), _frame(1, 0.0, x), _frame(2, 1000.0, x), _frame(3, 1000.0, y)]
    assert diffusion_table(frames, [[0, 1], [2, 3]]) is None  # stack 1: two directions
    frames[3] = _frame(3, 1000.0, x)
    assert diffusion_table(frames, [[0, 1], [2, 3]]) == ((0.0, (1.0, 0.0, 0.0)),
                                                         (1000.0, (1.0, 0.0, 0.0)))  # fmt: skip


def test_bvecs_are_unit_vectors_whatever_the_voxel_size(tmp_path: Path) -> None:
    # voxels of 2 x 2 x 3 mm: a gradient along LPS z is (0, 0, 1) along k, not 3
    affine = np.diag([-2.0, -2.0, 3.0, 1.0])
    assert fsl_bvecs(((1000.0, (0.0, 0.0, 1.0)),), affine)[:, 0].tolist() == [0.0, 0.0, 1.0]


def test_a_table_without_known_gradients_removes_an_older_bvec(tmp_path: Path) -> None:
    affine = np.diag([-1.0, -1.0, 2.0, 1.0])
    known = ((0.0, (0.0, 0.0, 0.0)), (1000.0, (1.0, 0.0, 0.0)))
    assert len(write_sidecars(tmp_path / "d.nii.gz", known, affine)) == 2
    assert write_sidecars(tmp_path / "d.nii.gz", ((0.0, None), (500.0, None)), affine) == [
        tmp_path / "d.bval"
    ]
    assert not (tmp_path / "d.bvec").exists()
    assert (tmp_path / "d.bval").read_text() == "0 500\n"
