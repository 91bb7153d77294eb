"""Masks of another size than their image are named by their path in the masks CSV: masks
kept one folder per patient under one file name (``p1/m0.png``, ``p2/m0.png``) were all
named ``m0.png``, so which to fix could not be told."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from pipeline.errors import RadpipeError
from workflows.run.mask_rows import check_mask_rows


def test_masks_of_another_size_are_named_by_their_path_in_the_csv(tmp_path: Path) -> None:
    manifest = []
    with (tmp_path / "masks.csv").open("w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["instance_key", "frame", "mask"])
        for p in ("p1", "p2"):
            (tmp_path / p).mkdir()
            Image.fromarray(np.zeros((4, 6), np.uint8)).save(tmp_path / p / "m0.png")
            writer.writerow([f"{p}key", 0, f"{p}/m0.png"])
            row = {"instance_key": f"{p}key", "frame": 0, "series_key": f"{p}s"}
            manifest.append({**row, "slice_index": 0, "shape": "8x8", "source": f"{p}/im0.dcm"})
    with pytest.raises(RadpipeError) as err:
        check_mask_rows(tmp_path / "masks.csv", manifest, ["p1s", "p2s"])
    assert str(err.value).endswith(
        "\n  p1/m0.png is 4x6, its image p1/im0.dcm frame 0 8x8"
        "\n  p2/m0.png is 4x6, its image p2/im0.dcm frame 0 8x8"
    )
