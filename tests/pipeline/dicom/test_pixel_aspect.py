"""Non-square pixels said only by Pixel Aspect Ratio (0028,0034) (PS3.3 C.7.6.3.1.7).

It is required when the aspect is not 1:1 and no spacing attribute is present (dwv #952,
fo-dicom #766); outputs hold the stored grid, which shown with square pixels is stretched.
It was unsaid. Expected: 2:1 (row height : column width) stretches 2x in height.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.dicom.read import read_instance
from tests.pipeline.dicom.builders import image_dataset

US = "1.2.840.10008.5.1.4.1.1.6.1"


@pytest.mark.parametrize(
    ("ratio", "spacing", "said"),
    [
        ([2, 1], None, "is 2:1 (row:column height) and no spacing is given"),
        ([4, 3], None, "stretched 1.333x in height"),
        ([21, 20], None, "stretched 1.05x in height"),  # 5 % off square is said
        ([1, 1], None, ""),  # square: nothing to say
        ([2, 1], [0.2, 0.1], ""),  # the spacing says it all (and is in the manifest)
    ],
    ids=["2:1", "4:3", "21:20", "1:1", "with-spacing"],
)
def test_non_square_pixels_without_spacing_are_said(
    tmp_path: Path, ratio: list[int], spacing: list[float] | None, said: str
) -> None:
    ds = image_dataset(US, "US", 4, 8, bits=8)
    ds.PixelAspectRatio = ratio
    if spacing:
        ds.PixelSpacing = spacing
    ds.PixelData = bytes(range(32))
    ds.save_as(tmp_path / "us.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "us.dcm", "us.dcm")
    found = [p for p in image.problems if "PixelAspectRatio" in p]
    assert bool(found) == bool(said)
    if said:
        assert said in found[0] and "; " not in found[0]
