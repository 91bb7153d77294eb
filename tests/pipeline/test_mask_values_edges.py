"""Mask values at the class-count limit, and mask shapes read from file headers alone.

Expected values by hand; PNG files written with Pillow, NPY with numpy.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data.masks import mask_classes, stored_mask_shape
from pipeline.errors import RadpipeError


def test_indices_up_to_max_classes_minus_one_are_classes() -> None:
    got = mask_classes(np.array([[0, 3]], np.uint8), "m.png", max_classes=4)
    assert got.tolist() == [[0, 3]]
    with pytest.raises(RadpipeError, match=r"neither class indices 0\.\.3"):
        mask_classes(np.array([[0, 4]], np.uint8), "m.png", max_classes=4)


def test_stored_shape_is_rows_then_columns(tmp_path: Path) -> None:
    Image.fromarray(np.zeros((3, 5), np.uint8)).save(tmp_path / "m.png")
    np.save(tmp_path / "m.npy", np.zeros((3, 5), np.uint8))
    assert stored_mask_shape(tmp_path / "m.png") == (3, 5)
    assert stored_mask_shape(tmp_path / "m.npy") == (3, 5)
