"""Dataset edges a mutation sweep of ``pipeline.data`` found untested: a series' assembled
volumes kept apart in series mode (grouping by series alone passed), two images in no volume
refused (only three or more were), and a NIfTI whose qform and sform codes are 0 read as
unplaced whatever its affine (NIfTI-1: code 0 is "unknown")."""

from __future__ import annotations

from pathlib import Path

import nibabel as nib
import numpy as np
import pytest

from pipeline.data.datasets import _group_series
from pipeline.data.orient import placed
from pipeline.errors import RadpipeError


def _row(
    volume: str, slice_index: int | None, source: str, problems: str = ""
) -> dict[str, object]:
    return {"series_key": "s1", "volume": volume, "slice_index": slice_index, "frame": 0,
            "source": source, "output": source + ".npy", "problems": problems}  # fmt: skip


def test_a_series_of_two_volumes_gives_two_stacks_each_in_slice_order() -> None:
    """A localizer's two planes (volume 0 and 1, two slices each, listed out of order): two
    groups, each by slice index."""
    rows = [_row("1", 1, "d"), _row("0", 1, "b"), _row("1", 0, "c"), _row("0", 0, "a")]
    groups = _group_series(rows)
    assert [[r["source"] for r in g] for g in groups] == [["c", "d"], ["a", "b"]]


def test_two_images_in_no_volume_are_not_stacked() -> None:
    rows = [
        _row("", None, "a", "refused: mixed sizes"),
        _row("", None, "b", "refused: mixed sizes"),
    ]
    rows = [{**r, "slice_index": 0} for r in rows]
    with pytest.raises(RadpipeError, match="2 images in no volume"):
        _group_series(rows)


@pytest.mark.parametrize("note", [
    "Siemens mosaic written whole, its slices tiled in one image (--per series cuts it into "
    "its slices)",
    "mosaic written undivided (--per series demosaics it)",  # a manifest of radpipe < 12-03
], ids=["today", "earlier"])  # fmt: skip
def test_mosaics_written_whole_are_images_in_no_volume(note: str) -> None:
    rows = [{**_row("", None, s, note), "slice_index": 0} for s in ("a", "b")]
    with pytest.raises(RadpipeError, match="2 images in no volume"):
        _group_series(rows)


def test_codes_zero_mean_no_place_whatever_the_affine(tmp_path: Path) -> None:
    """An oblique affine stored with sform and qform codes 0 is no placement; the same with
    sform code 1 is."""
    c, s = np.cos(0.3), np.sin(0.3)
    affine = np.array([[c, -s, 0, -90.0], [s, c, 0, 12.0], [0, 0, 2.5, -40.0], [0, 0, 0, 1]])
    image = nib.Nifti1Image(np.zeros((3, 3, 3), np.uint8), affine)
    image.set_sform(affine, code=0)
    image.set_qform(affine, code=0)
    nib.save(image, tmp_path / "m.nii")
    assert placed(nib.load(tmp_path / "m.nii")) is False
    image.set_sform(affine, code=1)
    nib.save(image, tmp_path / "p.nii")
    assert placed(nib.load(tmp_path / "p.nii")) is True
