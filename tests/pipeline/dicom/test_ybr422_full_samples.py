"""Native YBR_FULL_422 data of three samples a pixel: a decompressed stream, not relabelled.

pydicom #1133 and pydicom/deid #240: ultrasound cines decompressed from JPEG and written back
natively kept YBR_FULL_422 over ``Rows x Columns x 3`` bytes a frame (the term holds 2).
``convert`` failed with pydicom's "a third larger than expected" and ``inspect`` called the
extra bytes ignored. The frames built here are an ultrasound's: black, a grey ramp and a red
and a blue patch, written as RGB or as YBR_FULL (PS3.3 C.7.6.3.1.2's equations, by hand).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.cli import main

US_MULTIFRAME = "1.2.840.10008.5.1.4.1.1.3.1"


def _frames() -> np.ndarray:
    """Two 4 x 6 RGB frames: black, greys 40..200, a red and a blue pixel."""
    rgb = np.zeros((2, 4, 6, 3), np.uint8)
    rgb[:, 1:3, :, :] = np.arange(40, 201, 160 // 11, dtype=np.uint8)[:12].reshape(2, 6)[..., None]
    rgb[0, 3, 0], rgb[1, 3, 5] = (200, 30, 30), (30, 30, 200)
    return rgb


def _as_ybr_full(rgb: np.ndarray, bits: int = 8) -> np.ndarray:
    """PS3.3 C.7.6.3.1.2: Y = .299R + .587G + .114B, CB = -.1687R - .3313G + .5B + 128,
    CR = .5R - .4187G - .0813B + 128, rounded (for ``bits`` other than 8: centred on
    ``2**(bits - 1)``, as pydicom PR #2212 extends them)."""
    r, g, b = (rgb[..., k].astype(float) for k in range(3))
    centre = 2 ** (bits - 1)
    y = 0.299 * r + 0.587 * g + 0.114 * b
    cb = -0.1687 * r - 0.3313 * g + 0.5 * b + centre
    cr = 0.5 * r - 0.4187 * g - 0.0813 * b + centre
    found = np.clip(np.rint(np.stack([y, cb, cr], axis=-1)), 0, 2**bits - 1)
    return found.astype(np.uint8 if bits == 8 else np.uint16)


def _cine(samples: np.ndarray, stored: int = 8) -> Dataset:
    bits = 8 * samples.dtype.itemsize
    ds = image_dataset(US_MULTIFRAME, "US", 4, 6, bits=bits, stored=stored, samples=3,
                       photometric="YBR_FULL_422")  # fmt: skip
    ds.PlanarConfiguration, ds.NumberOfFrames = 0, samples.shape[0]
    ds.PixelData = samples.astype(samples.dtype.newbyteorder("<")).tobytes()
    return ds


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "manifest.csv").open() as fh:
        return {(row["source"], row["frame"]): row for row in csv.DictReader(fh)}


_MASKED = (
    "stored values use bits above BitsStored (0028,0101) 12: 3 of 144 values have bits "
    "12-15 set (read whole: 61440), so bits 12-15 were cleared (masked to 12 bits)"
)


@pytest.mark.parametrize(("stored", "size", "centre"), [(8, 144, 128), (12, 288, 2048)])
def test_full_samples_read_as_the_grey_pixels_say(
    tmp_path: Path, stored: int, size: int, centre: int
) -> None:
    """8-bit cells, and 16-bit ones of 12 bits stored (a 12-bit lossy JPEG decompressed: refused
    in pydicom's words, "a third larger than expected", until 2026-12-04), read by the grey
    pixels in their range (Cb and Cr centred on 2048 for 12 bits), bits above BitsStored
    masked and said."""
    rgb = _frames() if stored == 8 else _frames().astype(np.uint16) * 16  # greys 640..3200
    junk = rgb.copy()
    if stored == 12:
        junk[0, 0, 0] = (0xF000, 0xF000, 0xF000)  # black, with bits 12-15 set
    ybr = _cine(_as_ybr_full(rgb, stored), stored)
    src = write_folder(tmp_path / "src", rgb=_cine(junk, stored), ybr=ybr)
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "npy", "--quiet"]) == 0
    rows = _rows(out)
    header = (
        "YBR_FULL_422 over 3 samples per pixel: PhotometricInterpretation (0028,0004) is "
        f"YBR_FULL_422, but PixelData (7FE0,0010) holds 3 samples per pixel ({size} bytes, "
        f"where YBR_FULL_422 holds {size * 2 // 3}), a decompressed stream whose term was "
        "not updated (pydicom #1133), read as RGB or YBR_FULL as its grey pixels say"
    )
    # 48 pixels: 24 black and 24 grey are grey both ways, but black is (0, 128, 128) in YBR_FULL
    said = {
        "rgb.dcm": "YBR_FULL_422 over 3 samples per pixel read as RGB: 46 of 48 pixels have "
        f"three equal samples (grey in RGB), 0 have Cb and Cr at {centre} (grey in YBR_FULL)",
        "ybr.dcm": "YBR_FULL_422 over 3 samples per pixel read as YBR_FULL: 0 of 48 pixels have "
        f"three equal samples (grey in RGB), 46 have Cb and Cr at {centre} (grey in YBR_FULL)",
    }
    for name in ("rgb.dcm", "ybr.dcm"):
        for frame in (0, 1):
            row = rows[(name, str(frame))]
            problems = row["problems"].split("; ")
            assert problems[0] == header and said[name] in problems
            masked = [p for p in problems if p.startswith(_MASKED)]
            assert len(masked) == (stored == 12 and name == "rgb.dcm")
            got = np.load(out / row["output"])
            assert got.shape == (4, 6, 3)
            # YBR_FULL rounds each sample: back to RGB within 1; greys and black exactly
            assert np.abs(got - rgb[frame]).max() <= (0 if name == "rgb.dcm" else 1)
            assert (got[:3] == rgb[frame, :3]).all()
    problems = index_folder(src).all_problems()
    inspected = {p.where: p.reason for p in problems if p.where.endswith(".dcm")}
    assert inspected == {"rgb.dcm": f"note: {header}", "ybr.dcm": f"note: {header}"}


def test_full_samples_that_do_not_say_are_refused(tmp_path: Path) -> None:
    colours = np.array([[200, 30, 30], [30, 200, 30], [30, 30, 200], [250, 250, 10]], np.uint8)
    vivid = np.resize(colours, (1, 4, 6, 3))  # no grey pixel either way
    src = write_folder(tmp_path / "src", vivid=_cine(vivid), good=_cine(_frames()))
    out = tmp_path / "out"
    assert main(["convert", str(src), str(out), "--format", "png", "--quiet"]) == 1
    with (out / "errors.csv").open() as fh:
        (error,) = list(csv.DictReader(fh))
    assert error["source"] == "vivid.dcm"
    assert error["reason"] == (
        "YBR_FULL_422 over 3 samples per pixel: PhotometricInterpretation (0028,0004) is "
        "YBR_FULL_422, but PixelData (7FE0,0010) holds 3 samples per pixel (72 bytes, where "
        "YBR_FULL_422 holds 48), a decompressed stream whose term was not updated (pydicom "
        "#1133), and whether its samples are RGB or "
        "YBR_FULL is unknown: 0 of 24 pixels have three equal samples (grey in RGB), 0 have Cb "
        "and Cr at 128 (grey in YBR_FULL), neither twice the other (and 1% of all)."
    )
    assert {source for source, _ in _rows(out)} == {"good.dcm"}  # the batch went on
