"""Colour images with an ICC Profile (0028,2000): 8-bit outputs are the colours a viewer shows.

A colour-managed viewer converts the samples through the file's profile to the display's
colour space; radpipe wrote them as they are, so a PNG (read as sRGB) of a device whose
profile is not sRGB showed other colours, unsaid (slim #165, cuCIM #370, pydicom #1244).
The profile used here is built by hand: sRGB's primaries with a linear tone curve (gamma
1.0), so a sample of 128 is half the light, which sRGB writes as 188 (IEC 61966-2-1:
1.055 x 0.502^(1/2.4) - 0.055 = 0.7354, x 255 = 187.5). Expected values come from pydicom's
``apply_icc_profile`` (littleCMS through Pillow), independently of radpipe.
"""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pydicom
from pydicom.pixels import apply_icc_profile
from pydicom.sequence import Sequence

from pipeline.dicom.read import read_instance, render
from pipeline.ops.voi import parse_window
from tests.pipeline.dicom.builders import convert_one, image_dataset, item

#: black, a half grey, white, and a red, each 2x2
SAMPLES = np.kron(
    np.array([[[0, 0, 0], [128, 128, 128]], [[255, 255, 255], [200, 30, 30]]], np.uint8),
    np.ones((2, 2, 1), np.uint8),
)


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _tag(kind: bytes, body: bytes) -> bytes:
    data = kind + b"\0\0\0\0" + body
    return data + b"\0" * (-len(data) % 4)


def linear_profile(name: str = "Linear RGB") -> bytes:
    """An ICC v2 input profile: sRGB's D50 primaries, a gamma 1.0 curve per channel."""
    text = name.encode() + b"\0"
    desc = struct.pack(">I", len(text)) + text + b"\0" * 8 + b"\0" * 3 + b"\0" * 67
    curve = struct.pack(">IH", 1, 0x0100)  # one entry: gamma 1.0 (u8Fixed8)

    def xyz(x: float, y: float, z: float) -> bytes:
        return _tag(b"XYZ ", _s15(x) + _s15(y) + _s15(z))

    tags = [(b"desc", _tag(b"desc", desc)), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
            (b"rXYZ", xyz(0.4361, 0.2225, 0.0139)), (b"gXYZ", xyz(0.3851, 0.7169, 0.0971)),
            (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)), (b"rTRC", _tag(b"curv", curve)),
            (b"gTRC", _tag(b"curv", curve)), (b"bTRC", _tag(b"curv", curve)),
            (b"cprt", _tag(b"text", b"none\0"))]  # fmt: skip
    offset, table, body = 128 + 4 + 12 * len(tags), b"", b""
    for signature, data in tags:
        table += signature + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"scnr" + b"RGB "
              + b"XYZ " + struct.pack(">6H", 2020, 1, 1, 0, 0, 0) + b"acsp" + b"\0" * 24
              + struct.pack(">I", 0) + _s15(0.9642) + _s15(1.0) + _s15(0.8249))  # fmt: skip
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + body


def _rgb_file(path: Path, profile: bytes | None, *, slide: bool = False) -> pydicom.Dataset:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.77.1.4", "XC", 4, 4, bits=8, samples=3,
                       photometric="RGB")  # fmt: skip
    ds.PlanarConfiguration = 0
    if profile is not None and slide:
        ds.OpticalPathSequence = Sequence([item(ICCProfile=profile)])
    elif profile is not None:
        ds.ICCProfile = profile
    ds.PixelData = SAMPLES.tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return ds


def test_png_colours_go_through_the_profile_to_srgb(tmp_path: Path) -> None:
    ds = _rgb_file(tmp_path / "in" / "photo.dcm", linear_profile())
    expected = apply_icc_profile(SAMPLES.copy(), ds)  # pydicom: littleCMS to sRGB
    assert expected[0, 2].tolist() == [188, 188, 188]  # the half grey, as worked out above
    assert expected[0, 0].tolist() == [0, 0, 0] and expected[2, 0].tolist() == [255, 255, 255]
    row, png = convert_one(tmp_path / "in", tmp_path / "png")
    assert np.array_equal(png, expected)  # not the samples: 128 was written as 128
    assert row["problems"] == (
        "ICCProfile (0028,2000) 'Linear RGB' applied: PNG and other 8-bit colour outputs "
        "converted from it to sRGB (littleCMS, its rendering intent), as a colour-managed "
        "viewer shows them (PS3.3 C.11.15), while NPY per instance holds the samples as stored"
    )
    _, npy = convert_one(tmp_path / "in", tmp_path / "npy", "--format", "npy")
    assert np.array_equal(npy, SAMPLES)  # the samples as stored


def test_a_slide_profile_in_its_optical_path_is_applied(tmp_path: Path) -> None:
    ds = _rgb_file(tmp_path / "slide.dcm", linear_profile(), slide=True)
    expected = apply_icc_profile(SAMPLES.copy(), transform=None, ds=_top_level(ds))
    image = read_instance(tmp_path / "slide.dcm", "slide.dcm")
    png, _ = render(image, 0, parse_window("none"), "uint8")
    assert np.array_equal(png, expected)
    assert image.problems[0].startswith("OpticalPathSequence (0048,0105) ICCProfile (0028,2000)")


def _top_level(ds: pydicom.Dataset) -> pydicom.Dataset:
    found = pydicom.Dataset()
    found.ICCProfile = ds.OpticalPathSequence[0].ICCProfile
    return found


def test_srgb_profiles_and_grey_images_are_as_before(tmp_path: Path) -> None:
    from PIL import ImageCms

    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    for name, profile in (("srgb.dcm", srgb), ("none.dcm", None)):
        _rgb_file(tmp_path / name, profile)
        image = read_instance(tmp_path / name, name)
        png, _ = render(image, 0, parse_window("none"), "uint8")
        assert np.array_equal(png, SAMPLES) and image.problems == ()
    named = _rgb_file(tmp_path / "space.dcm", linear_profile())
    named.ColorSpace = "SRGB"  # the header says the profile is sRGB's: taken at its word
    named.save_as(tmp_path / "space.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "space.dcm", "space.dcm")
    assert np.array_equal(render(image, 0, parse_window("none"), "uint8")[0], SAMPLES)


def test_an_unusable_profile_leaves_the_samples_and_says_so(tmp_path: Path) -> None:
    """dcm4che #1552: an ICCProfile of four bytes failed the whole image there."""
    _rgb_file(tmp_path / "bad.dcm", b"\x02\x03\x04\x05")
    image = read_instance(tmp_path / "bad.dcm", "bad.dcm")
    assert np.array_equal(render(image, 0, parse_window("none"), "uint8")[0], SAMPLES)
    assert len(image.problems) == 1
    assert image.problems[0].startswith("ICCProfile (0028,2000) is unusable (4 bytes, littleCMS: ")
    assert image.problems[0].endswith("colours written as stored, not colour-managed")


def test_several_optical_path_profiles_are_said_not_applied(tmp_path: Path) -> None:
    """Which frame each optical path's profile belongs to is not worked out: said, not guessed."""
    ds = _rgb_file(tmp_path / "two.dcm", None)
    ds.OpticalPathSequence = Sequence(
        [item(ICCProfile=linear_profile("A")), item(ICCProfile=linear_profile("B"))]
    )
    ds.save_as(tmp_path / "two.dcm", enforce_file_format=True)
    image = read_instance(tmp_path / "two.dcm", "two.dcm")
    assert np.array_equal(render(image, 0, parse_window("none"), "uint8")[0], SAMPLES)
    assert image.problems == (
        "2 different OpticalPathSequence (0048,0105) ICCProfile (0028,2000)s (one per optical "
        "path): not applied, colours written as stored, not colour-managed",
    )
