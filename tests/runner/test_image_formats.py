"""An images list naming a JPEG or TIFF (image or mask) is refused before the run directory is
made, every such file with its line (exit 2). It stopped the run once its directory had been
made, naming the file's base name alone, with advice to resume that could not work."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image

from tests.runner.conftest import images_refusal


def test_images_and_masks_of_no_readable_format_are_listed_before_the_run(
    tmp_path: Path,
) -> None:
    (tmp_path / "img").mkdir()
    rows = []
    for i, (image, mask) in enumerate([("png", "png"), ("JPG", "png"), ("png", "tif"),
                                       ("nii.gz", "npy")]):  # fmt: skip
        rows.append({"image": f"img/{i}.{image}", "mask": f"img/{i}_m.{mask}"})
        for name in rows[-1].values():
            if name.endswith((".png", ".JPG", ".tif")):
                Image.fromarray(np.zeros((8, 8), np.uint8)).save(tmp_path / name, format="PNG")
            else:
                (tmp_path / name).write_bytes(b"")  # there, empty: an image loaded up front
    assert images_refusal(tmp_path, rows, segmentation=True) == (
        "data.labels: 2 files named in l.csv are of no format radpipe reads (.png, .npy, .nii, "
        ".nii.gz; save JPEG and TIFF files as PNG first): img/1.JPG (line 3), img/2_m.tif "
        "(line 4); data.labels: 1 of 4 images named in l.csv is not loadable (nothing was "
        "run): img/3.nii.gz (line 5): cannot be read as nii.gz (Empty file: '3.nii.gz'); "
        "data.labels: 1 of 4 masks named in l.csv cannot be read as class indices (nothing was "
        "run): img/3_m.npy (line 5): cannot be read as npy (No data left in file)"
    )  # the empty mask too, before the run (it was found once the run directory was made)
