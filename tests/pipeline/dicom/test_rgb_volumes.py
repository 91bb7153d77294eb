"""Colour series per series: an RGB volume, placed like a grey one.

dcm2niix writes a colour series (ultrasound 3-D, photographs of slices, fused PET/CT
secondary captures) as one RGB24 NIfTI volume (datatype 128); radpipe refused it ('colour
images cannot be stacked into a volume'). Expected values are built by hand: each voxel is
its file's RGB triple, slices sorted along the normal, and the affine that of a grey series
with the same geometry (PS3.3 C.7.6.2.1.1, LPS to RAS by hand).
"""

from __future__ import annotations

import csv
from pathlib import Path

import nibabel as nib
import numpy as np
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


def _rgb_slice(z: float, series: str, colour: tuple[int, int, int]) -> object:
    ds = G.plane((10.0, 20.0, z), series=series, value=0, spacing=0.5)
    pixels = np.zeros((8, 8, 3), np.uint8)
    pixels[:] = colour
    pixels[0, 1] = (255, 0, 0)  # row 0, column 1: red on every slice
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.PlanarConfiguration = 3, "RGB", 0
    ds.BitsAllocated = ds.BitsStored = 8
    ds.HighBit = 7
    ds.PixelData = pixels.tobytes()
    return ds


def _convert(src: Path, out: Path, fmt: str) -> dict[str, str]:
    opts = ConvertOptions(format=fmt, per="series")  # type: ignore[arg-type]
    assert convert_folder(src, out, opts, progress=False).exit_code == 0
    with (out / "manifest.csv").open() as fh:
        (row,) = list(csv.DictReader(fh))
    return row


def test_a_colour_series_is_one_rgb_nifti_placed_like_grey(tmp_path: Path) -> None:
    series = generate_uid()
    colours = {4.0: (0, 0, 200), 0.0: (10, 20, 30), 2.0: (40, 50, 60)}  # files out of order
    src = G.save(tmp_path / "in", [_rgb_slice(z, series, c) for z, c in colours.items()])
    row = _convert(src, tmp_path / "out", "nifti")
    image = nib.load(tmp_path / "out" / row["output"])
    assert int(image.header["datatype"]) == 128  # NIFTI_TYPE_RGB24
    data = np.asanyarray(image.dataobj)
    assert data.shape == (8, 8, 3)  # (i column, j row, k slice)
    got = [tuple(int(v) for v in data[5, 5, k]) for k in range(3)]
    assert got == [(10, 20, 30), (40, 50, 60), (0, 0, 200)]  # sorted by z
    assert tuple(int(v) for v in data[1, 0, 2]) == (255, 0, 0)  # column 1, row 0
    want = np.array([[-0.5, 0, 0, -10], [0, -0.5, 0, -20], [0, 0, 2, 0], [0, 0, 0, 1]])
    assert np.allclose(image.affine, want)
    assert row["num_slices"] == "3" and row["shape"] == "3x8x8x3"


def test_a_colour_series_as_npy_is_slices_rows_columns_samples(tmp_path: Path) -> None:
    # z = 4 missing: resampled as a grey series is, each sample alike (4, 8, 12 by hand)
    series = generate_uid()
    slices = [_rgb_slice(z, series, (z, 2 * z, 3 * z)) for z in (3, 1, 5, 2)]
    row = _convert(G.save(tmp_path / "in", slices), tmp_path / "out", "npy")
    data = np.load(tmp_path / "out" / row["output"])
    assert data.shape == (5, 8, 8, 3)  # float32, as every NPY radpipe writes
    assert data[:, 5, 5].tolist() == [[1, 2, 3], [2, 4, 6], [3, 6, 9], [4, 8, 12], [5, 10, 15]]
    assert row["problems"].startswith("resampled: missing slices")


def test_a_resampled_rgb_slice_is_rounded_to_whole_values(tmp_path: Path) -> None:
    """z = 1 missing from 0, 2, 3: halfway between (1, 3, 5) and (2, 4, 6) is (1.5, 3.5, 5.5),
    rounded half to even as numpy.rint does: (2, 4, 6), not cut to (1, 3, 5)."""
    series = generate_uid()
    colours = {0.0: (1, 3, 5), 2.0: (2, 4, 6), 3.0: (2, 4, 6)}
    src = G.save(tmp_path / "in", [_rgb_slice(z, series, c) for z, c in colours.items()])
    row = _convert(src, tmp_path / "out", "npy")
    data = np.load(tmp_path / "out" / row["output"])
    assert data[:, 4, 4].tolist() == [[1, 3, 5], [2, 4, 6], [2, 4, 6], [2, 4, 6]]


def _volume_and_notes(src: Path, out: Path) -> tuple[np.ndarray, str]:
    row = _convert(src, out, "npy")
    return np.load(out / row["output"]), row["problems"]


def test_samples_of_fewer_than_8_bits_scaled_up_are_said(tmp_path: Path) -> None:
    # found by benchmarks/fuzz_oracle.py: a 7-bit RGB series' 127 became 255 in the volume,
    # unsaid, where more than 8 bits scaled down were noted
    series = generate_uid()
    slices = [_rgb_slice(z, series, (127, 20, 0)) for z in (0.0, 2.0)]
    for ds in slices:
        ds.BitsStored, ds.HighBit = 7, 6
        ds.PixelData = np.full((8, 8, 3), (127, 20, 0), np.uint8).tobytes()
    volume, problems = _volume_and_notes(G.save(tmp_path / "in", slices), tmp_path / "out")
    # scaled from 0..127 to 0..255: 127 -> 255, 20 -> round(20 x 255 / 127) = 40, by hand
    assert volume[0, 3, 3].tolist() == [255, 40, 0]
    assert ("RGB samples of 7 bits scaled to 8 bits for the volume (NIfTI's RGB holds 8 bits "
            "per sample), as PNG writes them") in problems  # fmt: skip


def test_palette_entries_of_16_bits_scaled_down_are_said(tmp_path: Path) -> None:
    # 8-bit indices into 16-bit LUT entries: the entries were scaled from 16 bits, unsaid
    series = generate_uid()
    slices = []
    for z in (0.0, 2.0):
        ds = G.plane((10.0, 20.0, z), series=series, value=0, spacing=0.5)
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "PALETTE COLOR"
        ds.BitsAllocated = ds.BitsStored = 8
        ds.HighBit, ds.PixelRepresentation = 7, 0
        ramp = (np.arange(256, dtype="<u2") * 257).tobytes()  # entry k = 257 k: 8-bit k
        for colour in ("Red", "Green", "Blue"):
            setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, 16])
            setattr(ds, f"{colour}PaletteColorLookupTableData", ramp)
        ds.PixelData = np.full((8, 8), 200, np.uint8).tobytes()
        slices.append(ds)
    volume, problems = _volume_and_notes(G.save(tmp_path / "in", slices), tmp_path / "out")
    assert volume[1, 2, 2].tolist() == [200, 200, 200]  # 51400 of 65535 -> 200 of 255
    assert "RGB samples of 16 bits scaled to 8 bits for the volume" in problems
