"""A ``spacing`` column in an image list (``data.kind: images``): the pixel size in mm.

HC18 gives each ultrasound PNG's pixel size in a CSV, but a PNG carries none, so a run on it
measured surface distances in pixels of the resized grid (``hd95_mean_voxel``), anisotropic
after a resize from 800x540, with no way to give the size. Expected values by hand."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.data import FolderDataset
from pipeline.errors import RadpipeError
from pipeline.metrics import hausdorff_distance
from pipeline.stages import Pipeline, Resize


def _folder(tmp_path: Path, spacing: str) -> Path:
    image = np.zeros((20, 40), np.uint8)
    mask = np.zeros((20, 40), np.uint8)
    mask[4:8, 8:16] = 255
    Image.fromarray(image).save(tmp_path / "a.png")
    Image.fromarray(mask).save(tmp_path / "a_mask.png")
    (tmp_path / "list.csv").write_text(f"image,mask,spacing\na.png,a_mask.png,{spacing}\n")
    return tmp_path / "list.csv"


def test_the_spacing_column_gives_the_pixel_size_and_follows_a_resize(tmp_path: Path) -> None:
    """0.1 mm pixels on a 20x40 image resized to 10x10: 0.2 mm rows, 0.4 mm columns."""
    listed = _folder(tmp_path, "0.1")
    assert FolderDataset(tmp_path, listed).raw_sample(0).meta["spacing"] == (0.1, 0.1)
    pipe = Pipeline([("resize", Resize(shape=[10, 10]))])
    sample = pipe(FolderDataset(tmp_path, listed).raw_sample(0), np.random.default_rng(0))
    assert sample.meta["spacing"] == pytest.approx((0.2, 0.4))
    listed = _folder(tmp_path, "0.3x0.2")  # rows x columns, as convert's manifest
    assert FolderDataset(tmp_path, listed).raw_sample(0).meta["spacing"] == (0.3, 0.2)
    # a 2-pixel shift along the columns of 0.2 mm pixels: HD95 0.4 mm
    a = np.zeros((20, 40), bool)
    a[4:8, 8:16] = True
    assert hausdorff_distance(a, np.roll(a, 2, axis=1), spacing=(0.3, 0.2)) == pytest.approx(0.4)


@pytest.mark.parametrize("cell", ["0", "-0.1", "abc", "0.1x0.1x0.1", "inf"])
def test_a_spacing_that_is_no_pixel_size_is_refused_naming_the_line(
    tmp_path: Path, cell: str
) -> None:
    listed = _folder(tmp_path, cell)
    with pytest.raises(RadpipeError, match=rf"list.csv line 2: spacing '{cell}' is not a pixel"):
        FolderDataset(tmp_path, listed).raw_sample(0)
