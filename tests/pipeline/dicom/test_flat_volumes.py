"""Series without geometry (no ImagePositionPatient/Orientation): the volume's spacing is a
convention, and the manifest says which part of it is not read from the files."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder


def _one_volume(src: Path, out: Path) -> dict[str, str]:
    """Convert ``src`` per series to NIfTI; the manifest row of its one volume."""
    result = convert_folder(src, out, ConvertOptions(format="nifti", per="series"),
                            progress=False)  # fmt: skip
    assert result.exit_code == 0
    with (out / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    return row


@pytest.mark.parametrize(
    ("count", "spacing", "expected"),
    [
        # one 2-D image (CR, DX, US) without a pixel spacing: its volume is written 1 x 1 x 1,
        # which the manifest's spacing claimed as mm, unsaid (the rule: empty means unknown)
        (1, None, ["no pixel spacing: one image written with spacing 1 x 1 x 1 (pixels, not mm)"]),
        (1, [0.5, 0.5], []),
        (
            2,
            [0.5, 0.5],
            [
                "no geometry: images without ImagePositionPatient/ImageOrientationPatient, "
                "affine unknown, stacked in acquisition order (AcquisitionTime or ContentTime, "
                "then InstanceNumber)"
            ],
        ),
        (
            2,
            None,
            [
                "no geometry: images without ImagePositionPatient/ImageOrientationPatient/"
                "PixelSpacing, affine unknown, stacked in acquisition order (AcquisitionTime or "
                "ContentTime, then InstanceNumber)",
                "PixelSpacing absent or unreadable: a volume of this series has spacing 1 x 1 "
                "(pixels, not mm)",
            ],
        ),
    ],
)
def test_a_spacing_not_read_from_the_files_is_said(
    tmp_path: Path, count: int, spacing: list[float] | None, expected: list[str]
) -> None:
    series = generate_uid()
    extra = {"PixelSpacing": spacing} if spacing else {}
    images = [G.image(np.full((4, 5), 10 * k, np.uint16), G.MR, series, InstanceNumber=k + 1,
                      **extra) for k in range(count)]  # fmt: skip
    src = G.save(tmp_path / "in", images)
    row = _one_volume(src, tmp_path / "out")
    assert [p for p in row["problems"].split("; ") if p] == expected
    ps = spacing or [1.0, 1.0]
    assert row["spacing"] == f"1x{ps[0]:g}x{ps[1]:g}"


@pytest.mark.parametrize("placed", [False, True])
def test_pixel_spacing_with_commas_is_the_volumes_spacing(tmp_path: Path, placed: bool) -> None:
    """``0.7,0.7`` (pydicom #173) is read as the reader reads it, so the per-series volume has
    0.7 mm pixels (and, with positions, its geometry), not 1 x 1 or no geometry."""
    series = generate_uid()
    images = []
    for k in range(3):
        ds = G.image(np.full((4, 5), k, np.uint16), G.CT, series, InstanceNumber=k + 1,
                     PixelSpacing=[0.7, 0.7])  # fmt: skip
        if placed:
            ds.ImagePositionPatient = [0.0, 0.0, 2.0 * k]
            ds.ImageOrientationPatient = list(G.AXIAL)
        images.append(ds)
    src = G.save(tmp_path / "in", images)
    for path in src.iterdir():  # one DS value holding both numbers, as pydicom #173's writer
        raw = path.read_bytes()
        assert raw.count(b"0.7\\0.7 ") == 1
        path.write_bytes(raw.replace(b"0.7\\0.7 ", b"0.7,0.7 "))
    row = _one_volume(src, tmp_path / "out")
    assert row["spacing"] == ("2x0.7x0.7" if placed else "1x0.7x0.7")
    assert "absent" not in row["problems"]
    assert ("no geometry" in row["problems"]) is not placed


def test_identical_images_without_a_position_are_not_said_to_share_one(tmp_path: Path) -> None:
    """Three US-like images without geometry, the third a copy of the first's pixels (a frozen
    frame saved twice): the volume keeps two, and the note does not claim a shared position."""
    series = generate_uid()
    pixels = [np.full((4, 5), v, np.uint16) for v in (10, 20, 10)]
    images = [G.image(p, G.MR, series, InstanceNumber=k + 1, PixelSpacing=[0.5, 0.5])
              for k, p in enumerate(pixels)]  # fmt: skip
    row = _one_volume(G.save(tmp_path / "in", images), tmp_path / "out")
    assert row["shape"] == "2x4x5"
    assert [p for p in row["problems"].split("; ") if p] == [
        "duplicates dropped: 1 image without a position repeating another image's pixels or "
        "SOPInstanceUID (IM05831.dcm as IM00000.dcm)",  # images 2 and 0 (G.save's names)
        "no geometry: images without ImagePositionPatient/ImageOrientationPatient, affine "
        "unknown, stacked in acquisition order (AcquisitionTime or ContentTime, then "
        "InstanceNumber)",
    ]


@pytest.mark.parametrize(
    ("sizes", "spacings"),
    [([(6, 4), (4, 6)], [0.1, 0.1]), ([(4, 4), (4, 4)], [0.1, 0.15])],
    ids=["portrait-and-landscape", "two-magnifications"],
)
def test_radiograph_views_of_other_sizes_or_spacings_are_volumes_of_their_own(
    tmp_path: Path, sizes: list[tuple[int, int]], spacings: list[float]
) -> None:
    """A DX series of a PA view (portrait) and a lateral (landscape) was refused per series
    ("frames of one volume differ in size"); two views of one size but other spacings were
    stacked with the first one's spacing (0.1 mm claimed for the 0.15 mm view)."""
    series = generate_uid()
    views = []
    for k, ((rows, columns), spacing) in enumerate(zip(sizes, spacings, strict=True)):
        ds = G.image(np.full((rows, columns), 100 * (k + 1), np.uint16), series=series,
                     ImagerPixelSpacing=[spacing, spacing], InstanceNumber=k + 1)  # fmt: skip
        ds.Modality, ds.SOPClassUID = "DX", "1.2.840.10008.5.1.4.1.1.1.1"
        ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
        views.append(ds)
    src = G.save(tmp_path / "src", views, names=["v0", "v1"])
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 0
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["output"])
    shown = [f"1x{r}x{c}" for r, c in sizes]
    assert [(r["source"], r["shape"], r["spacing"]) for r in rows] == [
        ("v0.dcm", shown[0], f"1x{spacings[0]:g}x{spacings[0]:g}"),
        ("v1.dcm", shown[1], f"1x{spacings[1]:g}x{spacings[1]:g}"),
    ]
    split = "split: 2 image sizes or pixel spacings among images without slice geometry"
    # (with the detector spacing's note: no magnification factor)
    assert all(any(p.startswith(split) for p in r["problems"].split("; ")) for r in rows)


def test_identical_pixels_at_another_spacing_are_no_duplicate(tmp_path: Path) -> None:
    """Two US-like images without geometry, one frame's pixels saved at two calibrations
    (0.1 and 0.2 mm): two images of other sizes, not one repeated; the second was dropped as
    a duplicate of the first, so its 0.2 mm was lost unsaid."""
    series = generate_uid()
    images = [G.image(np.full((4, 5), 10, np.uint16), G.MR, series, InstanceNumber=k + 1,
                      PixelSpacing=[s, s]) for k, s in enumerate((0.1, 0.2))]  # fmt: skip
    src = G.save(tmp_path / "in", images, names=["a", "b"])
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    assert result.exit_code == 0
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["source"])
    assert [(r["source"], r["spacing"]) for r in rows] == [("a.dcm", "1x0.1x0.1"),
                                                          ("b.dcm", "1x0.2x0.2")]  # fmt: skip
    assert not any("duplicates dropped" in r["problems"] for r in rows)
